// The local connection: `ansible_connection: local` and `delegate_to: localhost` run on the
// controller through /bin/sh, with the same Connection contract the SSH transport implements.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { userInfo } from 'node:os';
import path from 'node:path';
import { EXIT, ObiamError } from '../errors.js';
import { registerSecret } from '../redact.js';
import type { BecomeOptions } from '../types.js';
import type { Connection, ExecOptions, ExecResult, PutFileOptions, Transport } from './types.js';
import { withExecTail } from './remote-shell.js';

const sq = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** Wraps the script so a failed `cd` fails the command and env is exported before it runs. */
function buildLocalScript(script: string, opts: ExecOptions): string {
  const lines: string[] = [];
  for (const [k, v] of Object.entries(opts.env ?? {})) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new ObiamError('E_ENV_NAME', `invalid environment variable name '${k}'`, { exitCode: EXIT.ERROR, remedy: 'use letters, digits and _ only' });
    lines.push(`export ${k}=${sq(v)}`);
  }
  if (opts.cwd) lines.push(`cd ${sq(opts.cwd)} || exit 1`);
  lines.push(script);
  return lines.join('\n');
}

function becomeArgv(become: BecomeOptions | undefined, inner: string): { cmd: string; args: string[]; stdinPrefix?: string } {
  const me = userInfo().username;
  if (!become || (become.user || 'root') === me) return { cmd: '/bin/sh', args: ['-c', inner] };
  if (become.method !== 'sudo') {
    throw new ObiamError('E_BECOME_UNSUPPORTED', `become method '${become.method}' is not supported on the local connection`, {
      exitCode: EXIT.ERROR,
      remedy: 'use become_method: sudo',
    });
  }
  if (become.password !== undefined) {
    registerSecret(become.password);
    // -S reads the password from the first stdin line; -p '' keeps the prompt out of stderr.
    return { cmd: 'sudo', args: ['-S', '-p', '', '-H', '-u', become.user, '--', '/bin/sh', '-c', inner], stdinPrefix: `${become.password}\n` };
  }
  return { cmd: 'sudo', args: ['-n', '-H', '-u', become.user, '--', '/bin/sh', '-c', inner] };
}

class LocalConnection implements Connection {
  readonly host: string;
  constructor(host: string) {
    this.host = host;
  }

  exec(script: string, opts: ExecOptions = {}): Promise<ExecResult> {
    const start = Date.now();
    const { cmd, args, stdinPrefix } = becomeArgv(opts.become, buildLocalScript(withExecTail(script, opts.execTail), opts));
    return new Promise((resolve, reject) => {
      const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let timedOut = false;
      let timer: NodeJS.Timeout | undefined;
      if (opts.timeoutMs && opts.timeoutMs > 0) {
        timer = setTimeout(() => {
          timedOut = true;
          // The whole process group: a shell's children must not outlive the timeout.
          try {
            if (child.pid) process.kill(-child.pid, 'SIGKILL');
          } catch {
            child.kill('SIGKILL');
          }
        }, opts.timeoutMs);
      }
      child.stdout.on('data', (b: Buffer) => out.push(b));
      child.stderr.on('data', (b: Buffer) => err.push(b));
      child.on('error', (e) => {
        if (timer) clearTimeout(timer);
        reject(new ObiamError('E_LOCAL_EXEC', `cannot start ${cmd}: ${e.message}`, { exitCode: EXIT.ERROR, host: this.host }));
      });
      child.on('close', (code, sig) => {
        if (timer) clearTimeout(timer);
        resolve({
          // Decode once at the end so multi-byte characters split across chunks stay intact.
          stdout: Buffer.concat(out).toString('utf8'),
          stderr: Buffer.concat(err).toString('utf8'),
          exitCode: code ?? (sig ? 128 + (sig === 'SIGKILL' ? 9 : 15) : 1),
          durationMs: Date.now() - start,
          timedOut,
        });
      });
      child.stdin.on('error', () => undefined); // the command may exit without reading stdin
      if (stdinPrefix) child.stdin.write(stdinPrefix);
      if (opts.stdin !== undefined) child.stdin.write(opts.stdin);
      child.stdin.end();
    });
  }

  async putFile(localPath: string, remotePath: string, opts: PutFileOptions = {}): Promise<void> {
    const tmp = opts.temp ? remotePath : path.join(path.dirname(remotePath), `.obiam-${randomBytes(6).toString('hex')}.tmp`);
    const modeArg = opts.mode !== undefined ? ` && chmod ${(opts.mode & 0o7777).toString(8)} ${sq(tmp)}` : '';
    const rename = opts.temp ? '' : ` && mv -f ${sq(tmp)} ${sq(remotePath)}`;
    const r = await this.exec(`cat ${sq(localPath)} > ${sq(tmp)}${modeArg}${rename} || { rm -f ${sq(tmp)}; exit 1; }`, {
      become: opts.become,
    });
    if (r.exitCode !== 0) {
      throw new ObiamError('E_PUT_FILE', `cannot write ${remotePath}: ${r.stderr.trim()}`, { exitCode: EXIT.ERROR, host: this.host });
    }
    if (opts.onProgress) {
      const size = (await fsp.stat(localPath)).size;
      opts.onProgress(size, size);
    }
  }

  async getFile(remotePath: string, localPath: string): Promise<void> {
    try {
      await fsp.copyFile(remotePath, localPath);
    } catch (e) {
      throw new ObiamError('E_GET_FILE', `cannot read ${remotePath}: ${(e as Error).message}`, { exitCode: EXIT.ERROR, host: this.host });
    }
  }

  async close(): Promise<void> {
    // Nothing persistent: each exec is its own process.
  }
}

export function createLocalTransport(): Transport {
  return {
    name: 'local',
    connect: async (spec) => new LocalConnection(spec.name),
  };
}
