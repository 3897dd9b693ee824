// The SSH transport against real OpenSSH sshd processes on 127.0.0.1 that this suite starts and
// controls (host keys, known_hosts variants, killing the server), plus a bastion hop.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, openSync, writeSync, closeSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ObiamError, UnreachableError } from '../../../src/errors.js';
import { createSshTransport, type SshTransportOptions } from '../../../src/transport/ssh.js';
import type { Connection, ConnectionSpec } from '../../../src/transport/types.js';
import { startSshd, type Sshd } from './sshd-fixture.js';

let work: string;
let sshd: Sshd;
let kh: string;
const noConfig = () => path.join(work, 'no-ssh-config');

function spec(s: Sshd, over: Partial<ConnectionSpec> = {}): ConnectionSpec {
  return { name: `loop${s.port}`, connection: 'ssh', host: '127.0.0.1', port: s.port, user: 'root', privateKeyFile: s.clientKey, vars: {}, ...over };
}
function transport(o: SshTransportOptions = {}) {
  return createSshTransport({ knownHostsFiles: [kh], sshConfigFile: noConfig(), connectRetries: 0, ...o });
}
async function refused(p: Promise<unknown>): Promise<UnreachableError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(UnreachableError);
  return e as UnreachableError;
}

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'obr-sshtest-'));
  sshd = await startSshd();
  kh = path.join(work, 'known_hosts');
  writeFileSync(kh, `# lab\n${sshd.knownHostsLine('ed25519')}\n`);
});
afterAll(async () => {
  await sshd?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('exec over the persistent shell', () => {
  let c: Connection;
  beforeAll(async () => {
    c = await transport().connect(spec(sshd));
  });
  afterAll(() => c?.close());

  it('returns stdout, stderr and exit code separately', async () => {
    const r = await c.exec('echo out; echo err >&2; exit 3');
    expect(r).toMatchObject({ stdout: 'out\n', stderr: 'err\n', exitCode: 3, timedOut: false });
    expect((await c.exec('id -un')).stdout).toBe('root\n');
  });

  it('200 sequential execs on one connection (time printed)', async () => {
    const t0 = performance.now();
    for (let i = 0; i < 200; i++) {
      const r = await c.exec(`echo ${i}`);
      expect(r.stdout).toBe(`${i}\n`);
    }
    const per = (performance.now() - t0) / 200;
    console.log(`[ssh transport] 200 sequential execs: ${per.toFixed(2)} ms per exec`);
    // Per-request output files are removed in batches, not left to pile up.
    const files = Number((await c.exec('ls "$__obr_d" | wc -l')).stdout.trim());
    expect(files).toBeLessThan(70);
  });

  it('feeds stdin, exports env, fails on a bad cwd', async () => {
    expect((await c.exec('tr a-z A-Z', { stdin: 'hello\nworld' })).stdout).toBe('HELLO\nWORLD');
    expect((await c.exec('cat', { stdin: Buffer.from([0xe2, 0x82, 0xac]) })).stdout).toBe('€');
    const e = await c.exec('echo "$GREETING"; pwd', { env: { GREETING: "it's $HOME" }, cwd: '/tmp' });
    expect(e.stdout).toBe("it's $HOME\n/tmp\n");
    const bad = await c.exec('echo should-not-run', { cwd: '/no/such/dir' });
    expect(bad.exitCode).not.toBe(0);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toMatch(/no\/such\/dir/);
  });

  it('decodes UTF-8 split across packets', async () => {
    // 200k multi-byte characters cross many SSH packets and channel chunks.
    const r = await c.exec(`i=0; while [ $i -lt 2000 ]; do printf 'ü€𝄞日本語ß%.0s' 1 2 3 4 5 6 7 8 9 10; i=$((i+1)); done`);
    expect(r.stdout).toBe('ü€𝄞日本語ß'.repeat(20000));
    expect(r.stdout).not.toContain('\uFFFD');
  });

  it('a per-command timeout kills the command', async () => {
    const t0 = Date.now();
    const r = await c.exec('sleep 60; echo never', { timeoutMs: 400 });
    expect(r.timedOut).toBe(true);
    expect(r.stdout).toBe('');
    expect(Date.now() - t0).toBeLessThan(8000);
    const ps = await c.exec('ps -e -o args=');
    expect(ps.stdout).not.toMatch(/^sleep 60$/m);
    expect((await c.exec('echo after')).stdout).toBe('after\n');
  });

  it('runs parallel execs with several shells under the channel limit', async () => {
    const c2 = await transport({ shellsPerHost: 4 }).connect(spec(sshd));
    try {
      const rs = await Promise.all(Array.from({ length: 40 }, (_, i) => c2.exec(`sleep 0.05; echo ${i}`)));
      expect(rs.map((r) => r.stdout)).toEqual(Array.from({ length: 40 }, (_, i) => `${i}\n`));
    } finally {
      await c2.close();
    }
  });

  it('removes its private temp dir at close', async () => {
    const c2 = await transport().connect(spec(sshd));
    const dirs = (await c.exec('ls -d /tmp/obr.* 2>/dev/null | wc -l')).stdout.trim();
    await c2.close();
    await new Promise((r) => setTimeout(r, 200));
    const after = (await c.exec('ls -d /tmp/obr.* 2>/dev/null | wc -l')).stdout.trim();
    expect(Number(after)).toBe(Number(dirs) - 1);
  });
});

describe('files', () => {
  it('putFile 64 MiB atomically with mode, checksum verified remotely; getFile back', async () => {
    const c = await transport().connect(spec(sshd));
    try {
      const local = path.join(work, 'big.bin');
      const fd = openSync(local, 'w');
      const block = Buffer.alloc(1 << 20);
      for (let i = 0; i < 64; i++) {
        block.fill(i);
        block.write(`block ${i} ü`, 0);
        writeSync(fd, block);
      }
      closeSync(fd);
      const sum = createHash('sha256').update(readFileSync(local)).digest('hex');
      const remote = path.join(work, 'remote dir', "big 'file'.bin");
      await c.exec(`mkdir -p '${path.dirname(remote)}'`);
      const t0 = performance.now();
      await c.putFile(local, remote, { mode: 0o640 });
      console.log(`[ssh transport] putFile 64 MiB: ${(performance.now() - t0).toFixed(0)} ms`);
      const r = await c.exec(`sha256sum < "$F"; stat -c %a "$F"; ls -a "$(dirname "$F")" | grep -c obr- || true`, { env: { F: remote } });
      expect(r.stdout).toBe(`${sum}  -\n640\n0\n`);
      const back = path.join(work, 'back.bin');
      await c.getFile(remote, back);
      expect(createHash('sha256').update(readFileSync(back)).digest('hex')).toBe(sum);
      // Replacing keeps the existing mode when none is given.
      writeFileSync(path.join(work, 'small'), 'v2\n');
      await c.putFile(path.join(work, 'small'), remote);
      expect(statSync(remote).mode & 0o777).toBe(0o640);
      expect(readFileSync(remote, 'utf8')).toBe('v2\n');
      await expect(c.putFile(path.join(work, 'small'), '/no/such/dir/x')).rejects.toMatchObject({ code: 'E_FILE_TRANSFER' });
    } finally {
      await c.close();
    }
  });

  it('putFile to a caller-owned temp name writes it in place with its mode and nothing beside it', async () => {
    const c = await transport().connect(spec(sshd));
    try {
      const dir = path.join(work, 'temp-put');
      await c.exec(`mkdir -p '${dir}'; chmod 0755 '${dir}'`);
      const local = path.join(work, 'temp-src');
      writeFileSync(local, Buffer.alloc(3 << 20, 7));
      await c.putFile(local, path.join(dir, '.app.jar.obr-tmp'), { mode: 0o600, temp: true });
      expect(readdirSync(dir)).toEqual(['.app.jar.obr-tmp']);
      expect(statSync(path.join(dir, '.app.jar.obr-tmp')).mode & 0o7777).toBe(0o600);
      expect(readFileSync(path.join(dir, '.app.jar.obr-tmp')).equals(readFileSync(local))).toBe(true);
      await expect(c.putFile(local, path.join(dir, 'no-such-dir', 'x'), { mode: 0o600, temp: true })).rejects.toMatchObject({ code: 'E_FILE_TRANSFER' });
    } finally {
      await c.close();
    }
  });
});

describe('bulk uploads through the system ssh (files of BULK_MIN_BYTES and more)', () => {
  const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
  /** Uploads with the built transport in a Node whose heap is capped at 64 MB, so the file cannot be held in memory. */
  function putInSmallHeap(local: string, remote: string, env: NodeJS.ProcessEnv): string {
    const script = `
      const { createSshTransport } = await import(${JSON.stringify(pathToFileURL(path.join(repo, 'dist/transport/ssh.js')).href)});
      const t = createSshTransport({ knownHostsFiles: [${JSON.stringify(kh)}], sshConfigFile: ${JSON.stringify(noConfig())}, connectRetries: 0 });
      const c = await t.connect(${JSON.stringify(spec(sshd))});
      let last = 0;
      await c.putFile(${JSON.stringify(local)}, ${JSON.stringify(remote)}, { mode: 0o600, onProgress: (sent) => { last = sent; } });
      await c.close();
      console.log(JSON.stringify({ last, heapMb: Math.round(process.memoryUsage().rss / 1e6) }));`;
    return execFileSync(process.execPath, ['--max-old-space-size=64', '--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, ...env } });
  }

  it('a 256 MiB file under node --max-old-space-size=64, on the bulk path and over the open connection, checksum checked on the host', () => {
    expect(existsSync(path.join(repo, 'dist/transport/ssh.js')), 'run npm run build first').toBe(true);
    const local = path.join(work, 'heap-256m');
    execFileSync('truncate', ['-s', '256M', local]);
    // Not all zeros: a marked block every 16 MiB, so a shifted or short copy changes the checksum.
    const fd = openSync(local, 'r+');
    for (let i = 0; i < 16; i++) writeSync(fd, Buffer.from(`block ${i} ${'x'.repeat(i)}`), 0, undefined, i * (16 << 20) + i);
    closeSync(fd);
    const sum = execFileSync('sha256sum', [local], { encoding: 'utf8' }).split(' ')[0];
    for (const [what, env] of [['bulk ssh', {}], ['ssh2 stream', { OBIAM_BULK_SSH: '0' }]] as const) {
      const remote = path.join(work, `heap-dest-${env.OBIAM_BULK_SSH ?? '1'}`);
      const out = JSON.parse(putInSmallHeap(local, remote, env)) as { last: number };
      expect(out.last, what).toBe(256 << 20);
      expect(execFileSync('sha256sum', [remote], { encoding: 'utf8' }).split(' ')[0], what).toBe(sum);
      expect(statSync(remote).mode & 0o777, what).toBe(0o600);
      rmSync(remote);
    }
    rmSync(local);
  });

  it('a wrong host key is refused on the bulk path (E_HOST_KEY_CHANGED), nothing installed; a small file still goes over the verified connection', async () => {
    const own = path.join(work, 'known_hosts-bulk');
    writeFileSync(own, `${sshd.knownHostsLine('ed25519')}\n`);
    const c = await transport({ knownHostsFiles: [own] }).connect(spec(sshd));
    try {
      // After the connection was verified, the entry changes: the bulk connection must check it again.
      const other = path.join(work, 'other_host_key');
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', other]);
      const wrong = readFileSync(`${other}.pub`, 'utf8').trim().split(' ').slice(0, 2).join(' ');
      writeFileSync(own, `[127.0.0.1]:${sshd.port} ${wrong}\n`);
      const big = path.join(work, 'bulk-16m');
      writeFileSync(big, Buffer.alloc(16 << 20, 3));
      const dir = mkdtempSync(path.join(work, 'bulk-key-'));
      const e = await c.putFile(big, path.join(dir, 'a.bin')).then(() => undefined, (x: unknown) => x);
      expect(e).toBeInstanceOf(ObiamError);
      expect((e as ObiamError).code).toBe('E_HOST_KEY_CHANGED');
      expect((e as ObiamError).message).toMatch(/bulk upload to .* through \/usr\/bin\/ssh failed: .*host key/i);
      expect(readdirSync(dir)).toEqual([]);
      const small = path.join(work, 'bulk-small');
      writeFileSync(small, 'small\n');
      await c.putFile(small, path.join(dir, 's.txt'));
      expect(readFileSync(path.join(dir, 's.txt'), 'utf8')).toBe('small\n');
    } finally {
      await c.close();
    }
  });
});

describe('system limits name themselves (E_SYS_LIMIT)', () => {
  const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

  it("the host's MaxSessions: a channel the host refuses is E_SYS_LIMIT naming MaxSessions and the remedy", async () => {
    const tight = await startSshd({ extraConfig: ['MaxSessions 1'] });
    try {
      writeFileSync(kh, readFileSync(kh, 'utf8') + tight.knownHostsLine() + '\n');
      const c = await transport().connect(spec(tight));
      try {
        // The persistent shell holds the one session; an upload needs a second channel.
        writeFileSync(path.join(work, 'one-line'), 'x\n');
        const e = (await c.putFile(path.join(work, 'one-line'), path.join(work, 'never')).then(() => undefined, (x: unknown) => x)) as ObiamError;
        expect(e).toBeInstanceOf(ObiamError);
        expect(e.code).toBe('E_SYS_LIMIT');
        expect(e.message).toMatch(/MaxSessions/);
        expect(e.remedy).toMatch(/raise MaxSessions in the host's sshd_config/);
        expect((await c.exec('echo still')).stdout).toBe('still\n');
      } finally {
        await c.close();
      }
    } finally {
      await tight.stop();
    }
  });

  it('the controller\'s open-file limit: under ulimit -n 40, connecting many hosts stops with E_SYS_LIMIT naming ulimit -n and its value', () => {
    expect(existsSync(path.join(repo, 'dist/transport/ssh.js')), 'run npm run build first').toBe(true);
    const script = `
      const { createSshTransport } = await import(${JSON.stringify(pathToFileURL(path.join(repo, 'dist/transport/ssh.js')).href)});
      const t = createSshTransport({ knownHostsFiles: [${JSON.stringify(kh)}], sshConfigFile: ${JSON.stringify(noConfig())}, connectRetries: 0 });
      const conns = [];
      let err;
      for (let i = 0; i < 60 && !err; i++) {
        try { conns.push(await t.connect(${JSON.stringify(spec(sshd))})); } catch (e) { err = e; }
      }
      for (const c of conns) await c.close();
      console.log(JSON.stringify(err ? { code: err.code, message: err.message, remedy: err.remedy } : { connected: conns.length }));`;
    const out = execFileSync('sh', ['-c', 'ulimit -n 40 && exec "$0" --input-type=module -e "$1"', process.execPath, script], { encoding: 'utf8' });
    const r = JSON.parse(out) as { code?: string; message?: string; remedy?: string; connected?: number };
    expect(r.connected, 'every connect succeeded under ulimit -n 40').toBeUndefined();
    expect(r.code).toBe('E_SYS_LIMIT');
    expect(r.message).toMatch(/too many open files on the controller: the open-file limit \(ulimit -n\) \(now 40/);
    expect(r.remedy).toMatch(/ulimit -n 4096/);
    expect(r.remedy).toMatch(/--forks/);
  });
});

describe('host key verification', () => {
  it('unknown host: refused with the exact remedy', async () => {
    const empty = path.join(work, 'kh-empty');
    writeFileSync(empty, '');
    const e = await refused(transport({ knownHostsFiles: [empty] }).connect(spec(sshd)));
    expect(e.code).toBe('E_HOST_KEY_UNKNOWN');
    expect(e.exitCode).toBe(3);
    expect(e.remedy).toContain(`ssh-keyscan -p ${sshd.port} -t ed25519 127.0.0.1 >> ${empty}`);
    expect(e.remedy).toContain('--host-key-policy accept-new');
    const fp = execFileSync('ssh-keygen', ['-l', '-f', path.join(sshd.dir, 'host_ed25519.pub')], { encoding: 'utf8' }).split(' ')[1];
    expect(e.message).toContain(fp);
    // The remedy works: run it, then the connection is accepted.
    execFileSync('sh', ['-c', e.remedy!.split(' -- ')[0].replace(/^.*then record it: /, '')]);
    const c = await transport({ knownHostsFiles: [empty] }).connect(spec(sshd));
    await c.close();
  });

  it('an entry for port 22 does not vouch for another port ([host]:port)', async () => {
    const f = path.join(work, 'kh-port22');
    writeFileSync(f, `127.0.0.1 ${sshd.hostKeys.ed25519.type} ${sshd.hostKeys.ed25519.b64}\n`);
    expect((await refused(transport({ knownHostsFiles: [f] }).connect(spec(sshd)))).code).toBe('E_HOST_KEY_UNKNOWN');
  });

  it('changed key: refused naming file:line, also under accept-new', async () => {
    const other = await startSshd({ keyTypes: ['ed25519'] });
    try {
      const f = path.join(work, 'kh-changed');
      // The old key of `other`'s port is sshd's key: line 3 is the one that no longer matches.
      writeFileSync(f, `# a\n\n[127.0.0.1]:${other.port} ${sshd.hostKeys.ed25519.type} ${sshd.hostKeys.ed25519.b64}\n`);
      for (const policy of ['strict', 'accept-new'] as const) {
        const e = await refused(transport({ knownHostsFiles: [f], hostKeyPolicy: policy }).connect(spec(other)));
        expect(e.code).toBe('E_HOST_KEY_CHANGED');
        expect(e.message).toContain(`${f}:3`);
        expect(e.remedy).toContain(`ssh-keygen -R '[127.0.0.1]:${other.port}' -f ${f}`);
      }
      expect(readFileSync(f, 'utf8').split('\n').filter(Boolean)).toHaveLength(2);
    } finally {
      await other.stop();
    }
  });

  it('a known key of another type only: the server must present that type', async () => {
    const f = path.join(work, 'kh-ecdsa');
    writeFileSync(f, sshd.knownHostsLine('ecdsa') + '\n');
    const c = await transport({ knownHostsFiles: [f] }).connect(spec(sshd));
    expect((await c.exec('echo ok')).stdout).toBe('ok\n');
    await c.close();
  });

  it('accept-new records the key once and later connects use it', async () => {
    const f = path.join(work, 'sub', 'kh-new');
    const t = transport({ knownHostsFiles: [f], hostKeyPolicy: 'accept-new' });
    const [c1, c2] = await Promise.all([t.connect(spec(sshd)), t.connect(spec(sshd))]);
    await Promise.all([c1.close(), c2.close()]);
    const c3 = await t.connect(spec(sshd));
    await c3.close();
    const lines = readFileSync(f, 'utf8').split('\n').filter(Boolean);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^\\[127\\.0\\.0\\.1\\]:${sshd.port} (ssh-ed25519|ecdsa-sha2-nistp256) `));
    // And strict mode now accepts it.
    const c4 = await transport({ knownHostsFiles: [f] }).connect(spec(sshd));
    await c4.close();
  });

  it('hashed known_hosts entries work', async () => {
    const f = path.join(work, 'kh-hashed');
    writeFileSync(f, sshd.knownHostsLine() + '\n');
    execFileSync('ssh-keygen', ['-q', '-H', '-f', f], { stdio: 'ignore' });
    expect(readFileSync(f, 'utf8')).toMatch(/^\|1\|/);
    const c = await transport({ knownHostsFiles: [f] }).connect(spec(sshd));
    await c.close();
  });

  it('@revoked key is refused even if also listed as known', async () => {
    const f = path.join(work, 'kh-revoked');
    writeFileSync(f, `${sshd.knownHostsLine()}\n@revoked * ${sshd.hostKeys.ed25519.type} ${sshd.hostKeys.ed25519.b64}\n`);
    const e = await refused(transport({ knownHostsFiles: [f] }).connect(spec(sshd)));
    expect(e.code).toBe('E_HOST_KEY_REVOKED');
    expect(e.message).toContain(`${f}:2`);
  });

  it('known_hosts from the inventory (ansible_ssh_known_hosts_file) and ssh config', async () => {
    const empty = path.join(work, 'kh-empty2');
    writeFileSync(empty, '');
    const c = await transport({ knownHostsFiles: [empty] }).connect(spec(sshd, { vars: { ansible_ssh_known_hosts_file: kh } }));
    await c.close();
    const cfg = path.join(work, 'ssh_config');
    writeFileSync(cfg, `Host lab1\n  HostName 127.0.0.1\n  Port ${sshd.port}\n  User root\n  IdentityFile ${sshd.clientKey}\n  UserKnownHostsFile ${kh}\n`);
    const c2 = await createSshTransport({ knownHostsFiles: [empty], sshConfigFile: cfg }).connect({ name: 'lab1', connection: 'ssh', host: 'lab1', port: 22, vars: {} });
    expect((await c2.exec('echo via-config')).stdout).toBe('via-config\n');
    await c2.close();
  });
});

describe('auth and connection failures', () => {
  it('an encrypted key with its passphrase from vars or askPassphrase', async () => {
    const enc = path.join(work, 'enc_key');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'sekrit pass', '-f', enc]);
    const s2 = await startSshd({ clientKey: enc });
    try {
      writeFileSync(kh, readFileSync(kh, 'utf8') + s2.knownHostsLine() + '\n');
      const c = await transport().connect(spec(s2, { vars: { ansible_ssh_private_key_passphrase: 'sekrit pass' } }));
      await c.close();
      const asked: string[] = [];
      const c2 = await transport({
        askPassphrase: async (f) => {
          asked.push(f);
          return 'sekrit pass';
        },
      }).connect(spec(s2));
      await c2.close();
      expect(asked).toEqual([enc]);
      const e = await refused(transport().connect(spec(s2)));
      expect(e.code).toBe('E_SSH_KEY');
      const wrong = await refused(transport().connect(spec(s2, { vars: { ansible_ssh_private_key_passphrase: 'nope' } })));
      expect(wrong.message).toMatch(/cannot decrypt/);
    } finally {
      await s2.stop();
    }
  });

  it('a key the server does not accept: E_SSH_AUTH listing what was tried', async () => {
    const other = path.join(work, 'other_key');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', other]);
    const e = await refused(transport().connect(spec(sshd, { privateKeyFile: other })));
    expect(e.code).toBe('E_SSH_AUTH');
    expect(e.message).toContain(other);
  });

  it('connection refused: unreachable after the retries, with backoff', async () => {
    const dead = await startSshd();
    const port = dead.port;
    await dead.stop();
    const t0 = Date.now();
    const e = await refused(transport({ connectRetries: 2 }).connect({ ...spec(sshd), port }));
    expect(e.code).toBe('E_UNREACHABLE');
    expect(e.message).toMatch(/ECONNREFUSED/);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(700); // 250 + 500 ms of backoff
  });
});

describe('jump host', () => {
  it('connects through a bastion with forwardOut, verifying both host keys', async () => {
    // Same client key on both (the hop falls back to the target's key when ssh config names none).
    const target = await startSshd({ clientKey: sshd.clientKey });
    try {
      const f = path.join(work, 'kh-jump');
      writeFileSync(f, `${sshd.knownHostsLine()}\n${target.knownHostsLine()}\n`);
      const t = createSshTransport({ knownHostsFiles: [f], sshConfigFile: noConfig() });
      const jump = `-o ProxyJump=root@127.0.0.1:${sshd.port}`;
      const c = await t.connect(spec(target, { commonArgs: jump }));
      // sshd sees the session coming from the bastion's forwarded connection.
      const r = await c.exec('echo "$SSH_CONNECTION"');
      expect(r.stdout.split(' ')[2]).toBe('127.0.0.1');
      await c.close();
      // The bastion's key is verified too: an unknown bastion is refused by name.
      writeFileSync(f, `${target.knownHostsLine()}\n`);
      const e = await refused(t.connect(spec(target, { commonArgs: jump })));
      expect(e.code).toBe('E_HOST_KEY_UNKNOWN');
      expect(e.message).toContain(`jump host [127.0.0.1]:${sshd.port}`);
    } finally {
      await target.stop();
    }
  });
});

describe('connection death', () => {
  it('killing sshd mid-exec rejects pending and later execs with UnreachableError; other hosts carry on', async () => {
    const victim = await startSshd();
    try {
      writeFileSync(kh, readFileSync(kh, 'utf8') + victim.knownHostsLine() + '\n');
      const c = await transport({ keepaliveIntervalMs: 1000 }).connect(spec(victim));
      const survivor = await transport().connect(spec(sshd));
      // SIGKILL below skips the shell's EXIT trap: remember its private dir to clean up.
      const shellDir = (await c.exec('echo "$__obr_d"')).stdout.trim();
      expect(shellDir).toMatch(/^\/tmp\/obr\./);
      const pending = c.exec('sleep 30');
      const queued = c.exec('echo queued');
      queued.catch(() => undefined); // awaited below; no unhandled rejection if an earlier expect fails
      await new Promise((r) => setTimeout(r, 300));
      victim.kill();
      const e1 = await refused(pending);
      await refused(queued);
      expect(e1.exitCode).toBe(3);
      await refused(c.exec('echo later'));
      await expect(c.putFile(kh, '/tmp/x')).rejects.toBeInstanceOf(UnreachableError);
      expect((await survivor.exec('echo alive')).stdout).toBe('alive\n');
      await c.close();
      await survivor.close();
      rmSync(shellDir, { recursive: true, force: true });
    } finally {
      await victim.stop();
    }
  });

  it('a connection lost in the middle of putFile installs nothing (no short file at the destination)', async () => {
    const victim = await startSshd();
    try {
      writeFileSync(kh, readFileSync(kh, 'utf8') + victim.knownHostsLine() + '\n');
      const c = await transport().connect(spec(victim));
      const shellDir = (await c.exec('echo "$__obr_d"')).stdout.trim();
      const big = path.join(work, 'sparse-512m');
      execFileSync('truncate', ['-s', '512M', big]);
      const dir = mkdtempSync(path.join(work, 'cut-'));
      const dest = path.join(dir, 'app.jar');
      const put = c.putFile(big, dest, { mode: 0o644 });
      // Kill once the temp file is growing.
      const end = Date.now() + 10_000;
      while (Date.now() < end && !readdirSync(dir).some((f) => f.includes('.obr-') && statSync(path.join(dir, f)).size > 1 << 20)) await new Promise((r) => setTimeout(r, 5));
      victim.kill();
      await expect(put).rejects.toBeInstanceOf(UnreachableError);
      await new Promise((r) => setTimeout(r, 300));
      expect(existsSync(dest)).toBe(false);
      await c.close();
      rmSync(shellDir, { recursive: true, force: true });
    } finally {
      await victim.stop();
    }
  });

  it('su is reported as unsupported, not attempted', async () => {
    const c = await transport().connect(spec(sshd, { user: 'root' }));
    try {
      const e = await c.exec('id', { become: { method: 'su', user: 'nobody' } }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(ObiamError);
      expect((e as ObiamError).code).toBe('E_BECOME_UNSUPPORTED');
      // root becoming root needs no sudo at all; becoming another user uses sudo without a password.
      expect((await c.exec('id -un', { become: { method: 'sudo', user: 'root' } })).stdout).toBe('root\n');
      const n = await c.exec('id -un; cat', { become: { method: 'sudo', user: 'nobody' }, stdin: 'in\n' });
      expect(n.stdout).toBe('nobody\nin\n');
    } finally {
      await c.close();
    }
  });
});

describe('become with sudo (a private sudo user in a mount namespace)', () => {
  const pw = "s3cr3t 'quoted' $pw";
  let s: Sshd;
  let c: Connection;
  beforeAll(async () => {
    s = await startSshd({ sudoUser: { name: 'obrdeploy', password: pw }, clientKey: sshd.clientKey });
    writeFileSync(kh, readFileSync(kh, 'utf8') + s.knownHostsLine() + '\n');
    c = await transport().connect(spec(s, { user: 'obrdeploy' }));
  });
  afterAll(async () => {
    await c?.close();
    await s?.stop();
  });

  it('runs as root with the password, stdin intact, the password never on a command line or in the env', async () => {
    expect((await c.exec('id -un')).stdout).toBe('obrdeploy\n');
    const become = { method: 'sudo' as const, user: 'root', password: pw };
    const r = await c.exec('id -un; cat; env | grep -c OBR_BP; ps -e -o args= | grep -c "s3cr[3]t"', { become, stdin: 'payload\n' });
    // grep -c prints 0 and exits 1 when nothing matches: the last count is the ps check.
    expect(r.stdout).toBe('root\npayload\n0\n0\n');
    const n = await c.exec('id -un; cat', { become: { ...become, user: 'nobody' }, stdin: 'x' });
    expect(n.stdout).toBe('nobody\nx');
    expect(n.exitCode).toBe(0);
  });

  it('a wrong password fails fast with E_BECOME_PASSWORD; the connection stays usable', async () => {
    // sudo caches a successful authentication per parent process: drop all records so it asks again.
    await c.exec('sudo -K');
    const t0 = Date.now();
    const e = await c.exec('id -un', { become: { method: 'sudo', user: 'root', password: 'wrong' } }).catch((x: unknown) => x);
    const ms = Date.now() - t0;
    console.log(`[ssh transport] wrong sudo password detected in ${ms} ms`);
    expect(e).toBeInstanceOf(ObiamError);
    expect(e).not.toBeInstanceOf(UnreachableError);
    expect((e as ObiamError).code).toBe('E_BECOME_PASSWORD');
    expect((e as ObiamError).exitCode).toBe(2);
    expect(ms).toBeLessThan(6000);
    await c.exec('sudo -K');
    const none = await c.exec('id -un', { become: { method: 'sudo', user: 'root' } }).catch((x: unknown) => x);
    expect((none as ObiamError).code).toBe('E_BECOME_PASSWORD');
    expect((none as ObiamError).message).toMatch(/requires a password/);
    expect((await c.exec('echo fine')).stdout).toBe('fine\n');
  });

  it('putFile with become installs a root-owned file where the login user cannot write', async () => {
    const target = path.join(s.dir, 'rootonly');
    await c.exec(`mkdir -m 700 ${target}`, { become: { method: 'sudo', user: 'root', password: pw } });
    const local = path.join(work, 'conf.txt');
    writeFileSync(local, 'key=value\n');
    await c.putFile(local, `${target}/app.conf`, { mode: 0o600, become: { method: 'sudo', user: 'root', password: pw } });
    expect(readFileSync(`${target}/app.conf`, 'utf8')).toBe('key=value\n');
    const st = statSync(`${target}/app.conf`);
    expect([st.uid, st.mode & 0o777]).toEqual([0, 0o600]);
    await expect(c.putFile(local, `${target}/denied.conf`)).rejects.toMatchObject({ code: 'E_FILE_TRANSFER' });
  });
});
