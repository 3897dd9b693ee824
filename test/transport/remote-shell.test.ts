// The framed remote-shell protocol against a real local /bin/sh (the same bytes ssh would carry).
import { spawn, execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { FrameReader, RemoteShell, buildKillScript, buildScript, sq, type ShellStream } from '../../src/transport/remote-shell.js';
import { commandLog } from '../support/command-log.js';

const shells: RemoteShell[] = [];
afterEach(() => {
  for (const s of shells.splice(0)) s.close();
});

function localStream(env?: Record<string, string>): ShellStream {
  const cp = spawn('/bin/sh', [], { stdio: ['pipe', 'pipe', 'pipe'], ...(env ? { env: { ...process.env, ...env } } : {}) });
  return {
    stdin: cp.stdin,
    stdout: cp.stdout,
    stderr: cp.stderr,
    onClose: (cb) => cp.on('close', cb),
    destroy: () => cp.kill('SIGKILL'),
  };
}

async function start(env?: Record<string, string>): Promise<RemoteShell> {
  const sh = await RemoteShell.start(localStream(env), {
    kill: async (pid) => {
      execFileSync('/bin/sh', ['-c', buildKillScript(pid)]);
    },
    deathError: async (d) => new Error(`dead: ${d}`),
  });
  shells.push(sh);
  return sh;
}

describe('sq and buildScript', () => {
  it('quotes anything for sh', () => {
    const nasty = `a'b"c$d\`e\\f\n g`;
    expect(execFileSync('/bin/sh', ['-c', `printf %s ${sq(nasty)}`], { encoding: 'utf8' })).toBe(nasty);
  });
  it('rejects bad env names', () => {
    expect(() => buildScript({ script: 'true', env: { 'A-B': '1' } })).toThrow(/invalid environment/);
  });
});

describe('FrameReader', () => {
  it('reassembles frames split at every byte, with marker-like text in the output', () => {
    const tok = 'abc';
    const wire = Buffer.concat([
      Buffer.from(`noise\nOBR${tok}S /tmp/x\nOBR${tok}P 1 42\nOBR${tok}R 1 3 -\n`),
      Buffer.from(`héllo wörld\nOBR${tok}\nOBRabcE no\n`, 'utf8'),
      Buffer.from(`\nOBR${tok}E\nERR\nOBR${tok}Z\n`),
      Buffer.from(`OBR${tok}R 2 0 W\n\nOBR${tok}E\n\nOBR${tok}Z\n`),
    ]);
    for (const split of [1, 3, 7, 1000]) {
      const frames: unknown[] = [];
      const r = new FrameReader(tok, (f) => frames.push(f.kind === 'R' ? { ...f, out: f.out.toString(), err: f.err.toString() } : f));
      for (let i = 0; i < wire.length; i += split) r.push(wire.subarray(i, i + split));
      expect(frames).toEqual([
        { kind: 'S', dir: '/tmp/x' },
        { kind: 'P', id: 1, pid: 42 },
        { kind: 'R', id: 1, rc: 3, out: `héllo wörld\nOBR${tok}\nOBRabcE no\n`, err: 'ERR', flags: '-' },
        { kind: 'R', id: 2, rc: 0, out: '', err: '', flags: 'W' },
      ]);
    }
  });

  it('reads a direct stdout (D) before its R frame, split at every byte', () => {
    const tok = 'abc';
    const wire = Buffer.from(`OBR${tok}D 4\nline OBR${tok}R 9\n\nOBR${tok}E\nOBR${tok}R 4 1 -\n\nOBR${tok}E\nerr\nOBR${tok}Z\nOBR${tok}P 5 7\n`);
    for (const split of [1, 2, 5, 1000]) {
      const frames: unknown[] = [];
      const r = new FrameReader(tok, (f) => frames.push('out' in f ? { ...f, out: f.out.toString(), ...('err' in f ? { err: f.err.toString() } : {}) } : f));
      for (let i = 0; i < wire.length; i += split) r.push(wire.subarray(i, i + split));
      expect(frames).toEqual([
        { kind: 'D', id: 4, out: `line OBR${tok}R 9\n` },
        { kind: 'R', id: 4, rc: 1, out: '', err: 'err', flags: '-' },
        { kind: 'P', id: 5, pid: 7 },
      ]);
    }
  });
});

describe('RemoteShell over a local sh', () => {
  it('separates stdout, stderr and exit code; keeps state out of later requests', async () => {
    const sh = await start();
    expect(sh.dir).toMatch(/obr\./);
    const r = await sh.run({ script: 'echo out; echo err >&2; x=1; exit 7' });
    expect(r.stdout.toString()).toBe('out\n');
    expect(r.stderr.toString()).toBe('err\n');
    expect(r.exitCode).toBe(7);
    const r2 = await sh.run({ script: 'echo "x=${x-unset}"' });
    expect(r2.stdout.toString()).toBe('x=unset\n');
  });

  it('handles quotes, heredocs, syntax errors and stdin', async () => {
    const sh = await start();
    const script = `cat <<'EOF'\nit's "quoted" $HOME \`x\`\nEOF\nprintf '%s' "$(cat)"`;
    const bin = Buffer.from([0, 1, 2, 255, 10, 0x27]);
    const r = await sh.run({ script, stdin: bin });
    expect(r.stdout.subarray(0, r.stdout.indexOf('\n') + 1).toString()).toBe(`it's "quoted" $HOME \`x\`\n`);
    expect(r.exitCode).toBe(0);
    const bad = await sh.run({ script: 'if then fi (' });
    expect(bad.exitCode).not.toBe(0);
    const after = await sh.run({ script: 'echo still-alive' });
    expect(after.stdout.toString()).toBe('still-alive\n');
    const raw = await sh.run({ script: 'od -An -tx1', stdin: bin });
    expect(raw.stdout.toString().trim().split(/\s+/)).toEqual(['00', '01', '02', 'ff', '0a', '27']);
  });

  it('cwd failure is a failure; env is exported', async () => {
    const sh = await start();
    const r = await sh.run({ script: 'echo ran', cwd: '/nonexistent/dir' });
    expect(r.exitCode).not.toBe(0);
    expect(r.stdout.toString()).toBe('');
    const e = await sh.run({ script: 'pwd; echo "$A|$B"; sh -c \'echo "$A"\'', cwd: '/tmp', env: { A: "it's", B: 'x y' } });
    expect(e.stdout.toString()).toBe("/tmp\nit's|x y\nit's\n");
  });

  it('a timeout kills the whole command tree and reports timedOut', async () => {
    const sh = await start();
    const t0 = Date.now();
    const r = await sh.run({ script: 'sleep 30 & sleep 31; echo never', timeoutMs: 300 });
    expect(r.timedOut).toBe(true);
    expect(r.exitCode).not.toBe(0);
    expect(r.stdout.toString()).toBe('');
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(execFileSync('ps', ['-e', '-o', 'args='], { encoding: 'utf8' })).not.toMatch(/^sleep 3[01]$/m);
    const ok = await sh.run({ script: 'echo next' });
    expect(ok).toMatchObject({ timedOut: false, exitCode: 0 });
  });

  it('direct requests (the engine\'s own scripts): stdout straight back, no output file or cat; state still kept out', async () => {
    const sh = await start();
    const r = await sh.run({ script: 'printf "a\\nb\\n\\n"; echo err >&2; x=1; cd /; exit 4', engine: 'write' });
    expect(r).toMatchObject({ exitCode: 4, timedOut: false });
    expect(r.stdout.toString()).toBe('a\nb\n\n');
    expect(r.stderr.toString()).toBe('err\n');
    const next = await sh.run({ script: 'echo "${x-unset} $PWD"', cwd: '/tmp', engine: 'write' });
    expect(next.stdout.toString()).toBe('unset /tmp\n');
    // Mixed with file-mode requests in one queue.
    const rs = await Promise.all(Array.from({ length: 10 }, (_, i) => sh.run({ script: `echo ${i}`, engine: i % 2 === 0 ? 'write' : undefined })));
    expect(rs.map((x) => x.stdout.toString())).toEqual(Array.from({ length: 10 }, (_, i) => `${i}\n`));
  });

  it('read-only engine scripts (probes) run in the shell itself: no subshell, so what they set stays', async () => {
    const sh = await start();
    const r = await sh.run({ script: 'printf "probe\\n"; __obr_probe_x=1; echo err >&2; false', engine: 'read' });
    expect(r).toMatchObject({ exitCode: 1 });
    expect(r.stdout.toString()).toBe('probe\n');
    expect(r.stderr.toString()).toBe('err\n');
    expect((await sh.run({ script: 'echo "${__obr_probe_x-unset}"' })).stdout.toString()).toBe('1\n');
    // With cwd or env (which would stay set) or a timeout, it gets its subshell as any request.
    await sh.run({ script: '__obr_probe_y=1', cwd: '/', engine: 'read' });
    await sh.run({ script: '__obr_probe_y=2', env: { A: 'b' }, engine: 'read' });
    await sh.run({ script: '__obr_probe_y=3', engine: 'read', timeoutMs: 5000 });
    expect((await sh.run({ script: 'echo "${__obr_probe_y-unset} ${A-unset} $PWD"', cwd: '/tmp' })).stdout.toString()).toBe('unset unset /tmp\n');
  });

  it('starts no process for a request but the subshell: no cat for direct output, no base64 for text stdin', async () => {
    const tools = commandLog(['mktemp', 'chmod', 'rm', 'cat', 'base64']);
    const sh = await start({ PATH: tools.dir });
    tools.take(); // the shell's start-up (mktemp, chmod)
    const text = Buffer.from("it's ünïcode, \\ $x `y`\nno newline at the end");
    const d = await sh.run({ script: 'while IFS= read -r l; do printf "%s|" "$l"; done; printf "%s" "$l"', stdin: text, engine: 'write' });
    expect(d.stdout.toString()).toBe("it's ünïcode, \\ $x `y`|no newline at the end");
    expect(tools.take()).toEqual([]);
    // Output in a file comes back with cat; stderr too (only when there is some); bytes that are not text need base64.
    expect((await sh.run({ script: 'echo out' })).stdout.toString()).toBe('out\n');
    expect(tools.take()).toEqual(['cat']);
    expect((await sh.run({ script: 'echo err >&2', engine: 'write' })).stderr.toString()).toBe('err\n');
    expect(tools.take()).toEqual(['cat']);
    const bin = await sh.run({ script: 'read -r l; printf "%s" "$l"', stdin: Buffer.from([0x61, 0xff, 0x0a]), engine: 'write' });
    expect(bin.stdout).toEqual(Buffer.from([0x61, 0xff]));
    expect(tools.take()).toEqual(['base64']);
    // A timeout needs the pid frame: such a request uses the output file even when direct.
    expect((await sh.run({ script: 'echo t', engine: 'write', timeoutMs: 5000 })).stdout.toString()).toBe('t\n');
    expect(tools.take()).toEqual(['cat']);
  });

  it('serializes concurrent requests and reports a dead shell to pending ones', async () => {
    const sh = await start();
    const rs = await Promise.all(Array.from({ length: 20 }, (_, i) => sh.run({ script: `echo ${i}` })));
    expect(rs.map((r) => r.stdout.toString().trim())).toEqual(Array.from({ length: 20 }, (_, i) => String(i)));
    const pending = sh.run({ script: 'kill -9 $$; sleep 5' });
    const queued = sh.run({ script: 'echo queued' });
    await expect(pending).rejects.toThrow(/dead/);
    await expect(queued).rejects.toThrow(/dead/);
    await expect(sh.run({ script: 'true' })).rejects.toThrow(/dead/);
    rmSync(sh.dir, { recursive: true, force: true }); // SIGKILL skipped the EXIT trap
  });
});
