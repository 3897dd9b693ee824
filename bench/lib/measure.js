// Child processes of the benchmark: timed tool runs (under /usr/bin/time) and helper commands.
// Every child starts in its own process group so an interrupt can end its whole tree, and only it.
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs';

export const TIME_BIN = '/usr/bin/time';

/** Children still running: their process-group ids (= their pids). */
const running = new Set();

/** SIGTERM to the process group of every child we started that is still running. */
export function killRunning(signal = 'SIGTERM') {
  for (const pid of running) {
    try { process.kill(-pid, signal); } catch { /* already gone */ }
  }
}

function track(child) {
  running.add(child.pid);
  child.once('exit', () => running.delete(child.pid));
}

/**
 * Runs `cmd args` under `/usr/bin/time -f '%e %U %S %M'`, stdout+stderr into logFile.
 * user/sys cover the child and every descendant it waited for (GNU time reads wait4's rusage);
 * maxRss is the largest single process of that tree (ru_maxrss of the children), in KiB.
 * Wall time is taken here with a monotonic clock (time's %e has only 10 ms resolution).
 */
export function runTimed({ cmd, args, env = process.env, cwd = process.cwd(), logFile }) {
  const timeFile = `${logFile}.time`;
  const fd = openSync(logFile, 'w');
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(TIME_BIN, ['-o', timeFile, '-f', '%e %U %S %M', cmd, ...args], {
      cwd, env, stdio: ['ignore', fd, fd], detached: true,
    });
    track(child);
    child.once('error', (e) => { closeSync(fd); reject(e); });
    child.once('exit', (code, sig) => {
      const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
      closeSync(fd);
      let userS = NaN; let sysS = NaN; let maxRssKb = NaN;
      try {
        // time writes "Command exited with non-zero status N" before the format line on failure.
        const last = readFileSync(timeFile, 'utf8').trim().split('\n').pop() ?? '';
        const [, u, s, m] = last.split(/\s+/).map(Number);
        userS = u; sysS = s; maxRssKb = m;
        rmSync(timeFile, { force: true });
      } catch { /* killed before time wrote its line */ }
      resolve({ exitCode: code ?? (sig ? 128 : 1), signal: sig, wallS, userS, sysS, maxRssKb, logFile });
    });
  });
}

/** Runs a helper command, collecting its output (not timed); rejects when it exits non-zero unless allowFail. */
export function runCmd(cmd, args, { env = process.env, cwd = process.cwd(), input, allowFail = false } = {}) {
  return new Promise((resolve, reject) => {
    const stdin = input === undefined ? 'ignore' : 'pipe';
    const child = spawn(cmd, args, { cwd, env, detached: true, stdio: [stdin, 'pipe', 'pipe'] });
    track(child);
    child.stdin?.on('error', () => { /* EPIPE: the command exited without reading its input */ });
    let out = ''; let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    child.once('error', reject);
    if (stdin === 'pipe') child.stdin.end(input);
    child.once('close', (code, sig) => {
      const res = { code: code ?? 128, signal: sig, stdout: out, stderr: err };
      if (res.code !== 0 && !allowFail) {
        const tail = (err || out).trim().split('\n').slice(-5).join('\n');
        reject(new Error(`${cmd} ${args.join(' ')} exited ${sig ?? res.code}\n${tail}`));
      } else resolve(res);
    });
  });
}

/** Runs fn over items with at most `limit` in flight; results in item order. */
export async function mapLimit(items, limit, fn) {
  const out = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

export function median(values) {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const m = Math.floor(v.length / 2);
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}
