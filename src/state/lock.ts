// The environment lock: one roll at a time per inventory. A file created with O_EXCL holds who runs;
// a lock left by a process that is gone (same machine) is taken over with a warning.
import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EXIT, ObiamError } from '../errors.js';

export interface LockInfo {
  pid: number;
  hostname: string;
  user: string;
  startedAt: string;
  command: string;
}

export interface HeldLock {
  file: string;
  /** Set when a stale lock was taken over: what it said. */
  tookOver?: LockInfo;
  release(): void;
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readLock(file: string): LockInfo | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as LockInfo;
  } catch {
    return undefined;
  }
}

/** Takes `<dir>/lock` or throws E_LOCKED naming the run that holds it. */
export function acquireLock(dir: string, command: string, environment: string): HeldLock {
  // The state dir holds the journal and the lock: owner-only.
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, 'lock');
  const me: LockInfo = { pid: process.pid, hostname: os.hostname(), user: os.userInfo().username, startedAt: new Date().toISOString(), command };
  let tookOver: LockInfo | undefined;
  for (let attempt = 0; attempt < 2; attempt++) {
    let fd: number;
    try {
      fd = openSync(file, 'wx', 0o600);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const other = readLock(file);
      // Only a lock of this machine can be proven stale; one written half (no JSON) is stale too.
      const stale = !other || (other.hostname === me.hostname && !pidAlive(other.pid));
      if (stale && attempt === 0) {
        tookOver = other;
        unlinkSync(file);
        continue;
      }
      throw new ObiamError(
        'E_LOCKED',
        `another run against ${environment} is going on: pid ${other?.pid} (${other?.user}@${other?.hostname}), started ${other?.startedAt}: ${other?.command}`,
        {
          exitCode: EXIT.ERROR,
          remedy: `wait for it to finish. If that run is gone (its machine crashed), remove ${file} and run again (with --resume to continue it)`,
        },
      );
    }
    writeSync(fd, `${JSON.stringify(me, null, 2)}\n`);
    closeSync(fd);
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      process.off('exit', release);
      // Never remove a lock some other run has taken since.
      if (readLock(file)?.pid === me.pid) unlinkSync(file);
    };
    // A hard exit (third Ctrl-C) still leaves no lock behind.
    process.on('exit', release);
    return { file, tookOver, release };
  }
  throw new Error('unreachable');
}
