// Small system helpers for the lab: run a command, check preconditions, and identify processes
// by PID *and* start time so a recycled PID is never signalled.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { EXIT, ObiamError } from '../errors.js';

export interface CmdResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<CmdResult> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { encoding: 'utf8', timeout: opts.timeoutMs ?? 30_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 127) : 0;
      resolve({ code, stdout, stderr: stderr || (err && code === 127 ? String(err.message) : '') });
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** Runs a command that must succeed; a failure is an E_LAB_COMMAND error naming the command. */
export async function must(cmd: string, args: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<string> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) {
    throw new ObiamError('E_LAB_COMMAND', `${cmd} ${args.join(' ')} failed (exit ${r.code}): ${r.stderr.trim() || r.stdout.trim()}`, {
      remedy: 'see the message; `obiam-run lab down` removes whatever was created',
      exitCode: EXIT.ERROR,
    });
  }
  return r.stdout;
}

/** Binaries the lab runs, and the Debian package that provides each. */
const NEEDED: { bin: string; pkg: string; systemdOnly?: boolean }[] = [
  { bin: 'ip', pkg: 'iproute2' },
  { bin: 'unshare', pkg: 'util-linux' },
  { bin: 'nsenter', pkg: 'util-linux' },
  { bin: 'pivot_root', pkg: 'util-linux' },
  { bin: 'sshd', pkg: 'openssh-server' },
  { bin: 'ssh-keygen', pkg: 'openssh-client' },
  { bin: 'setfattr', pkg: 'attr' },
  { bin: 'sshfs', pkg: 'sshfs' },
  { bin: 'fusermount3', pkg: 'fuse3' },
  { bin: 'sudo', pkg: 'sudo' },
  { bin: 'openssl', pkg: 'openssl' },
  { bin: 'systemd-nspawn', pkg: 'systemd-container', systemdOnly: true },
];
const PATH_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

export function which(bin: string): string | undefined {
  const dirs = [...new Set([...(process.env.PATH ?? '').split(':').filter(Boolean), ...PATH_DIRS])];
  for (const d of dirs) if (existsSync(`${d}/${bin}`)) return `${d}/${bin}`;
  return undefined;
}

/** Linux, root, and every package present; each failure says exactly what to do. */
export function preflight(systemd: boolean, find: (bin: string) => string | undefined = which): void {
  if (process.platform !== 'linux') {
    throw new ObiamError('E_LAB_NOT_LINUX', `the lab needs Linux namespaces; this is ${process.platform}`, {
      remedy: 'run `obiam-run lab` on a Linux machine or VM (as root)',
    });
  }
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new ObiamError('E_LAB_NOT_ROOT', 'the lab creates network namespaces, bridges and mounts: it must run as root', {
      remedy: 'run it as root, e.g. `sudo obiam-run lab up`',
    });
  }
  const missing = [...new Set(NEEDED.filter((n) => (!n.systemdOnly || systemd) && !find(n.bin)).map((n) => n.pkg))];
  if (missing.length > 0) {
    throw new ObiamError('E_LAB_MISSING_PACKAGE', `missing package${missing.length > 1 ? 's' : ''} for the lab: ${missing.join(', ')}`, {
      remedy: `apt-get install -y ${missing.join(' ')}`,
    });
  }
}

/** Field 22 of /proc/PID/stat (start time in clock ticks); undefined if the process is gone. */
export function startTimeOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may contain spaces and parentheses: fields start after the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

export interface RecordedPid {
  pid: number;
  start: string;
  what: string;
}

export function isAlive(p: RecordedPid): boolean {
  const st = startTimeOf(p.pid);
  if (st === undefined || st !== p.start) return false;
  // A zombie is dead for our purposes (its parent has not reaped it yet).
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${p.pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

export function signal(p: RecordedPid, sig: NodeJS.Signals): boolean {
  if (!isAlive(p)) return false;
  try {
    process.kill(p.pid, sig);
    return true;
  } catch {
    return false;
  }
}

function childrenOf(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((t) =>
      readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number),
    );
  } catch {
    return [];
  }
}

/** The descendant of `pid` that is PID 1 of a new pid namespace (the host's init), if any yet. */
export function findNamespaceInit(pid: number): number | undefined {
  const queue = [pid];
  for (let guard = 0; queue.length > 0 && guard < 200; guard++) {
    const p = queue.shift()!;
    try {
      const m = /^NSpid:\s+(.*)$/m.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
      const ids = m ? m[1].trim().split(/\s+/) : [];
      if (ids.length > 1 && ids[ids.length - 1] === '1') return p;
    } catch {
      continue;
    }
    queue.push(...childrenOf(p));
  }
  return undefined;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Mount points at or below `dir` in our mount namespace (decoded from /proc/self/mountinfo). */
export function mountsUnder(dir: string): string[] {
  const text = readFileSync('/proc/self/mountinfo', 'utf8');
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const mp = line.split(' ')[4];
    if (!mp) continue;
    const decoded = mp.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    if (decoded === dir || decoded.startsWith(`${dir}/`)) out.push(decoded);
  }
  return out;
}
