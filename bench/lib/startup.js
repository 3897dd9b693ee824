// Workload e: start-up. `obiam-run --version`, and a one-task play on one lab host: time from spawn
// to the first byte of output (stdout or stderr) and to the exit, monotonic clock, median of N samples.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { median } from './measure.js';

/** One run: ms to the first output byte and to the exit, and the exit code. */
function timeOnce(cmd, args, cwd) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const ms = () => Number(process.hrtime.bigint() - t0) / 1e6;
    let firstByteMs = NaN;
    let out = '';
    const child = spawn(cmd, args, { cwd, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    const onData = (d) => {
      if (Number.isNaN(firstByteMs)) firstByteMs = ms();
      out += d;
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('error', reject);
    child.once('close', (code) => resolve({ firstByteMs, totalMs: ms(), code, out }));
  });
}

async function sample(n, cmd, args, cwd, check) {
  const rs = [];
  for (let i = 0; i < n; i++) {
    const r = await timeOnce(cmd, args, cwd);
    if (r.code !== 0 || !check(r.out)) throw new Error(`start-up run failed (exit ${r.code}): ${args.join(' ')}\n${r.out.trim().split('\n').slice(-5).join('\n')}`);
    rs.push(r);
  }
  return { firstByteMs: median(rs.map((r) => r.firstByteMs)), totalMs: median(rs.map((r) => r.totalMs)), all: rs.map((r) => [+r.firstByteMs.toFixed(1), +r.totalMs.toFixed(1)]) };
}

export async function measureStartup({ repo, tmp, inventory, samples, log }) {
  const cli = path.join(repo, 'bin/obiam-run.js');
  const play = path.join(tmp, 'e-one-task.yml');
  writeFileSync(play, '- hosts: bench\n  gather_facts: false\n  tasks:\n    - name: one command\n      command: cat /etc/hostname\n      changed_when: false\n');
  const loadBefore = os.loadavg()[0];
  const version = await sample(samples, process.execPath, [cli, '--version'], repo, (o) => /\d+\.\d+/.test(o));
  const playR = await sample(samples, process.execPath, [cli, play, '-i', inventory, '-f', '1'], repo, (o) => /ok=1 .*failed=0/.test(o));
  const res = { samples, loadAvg: [+loadBefore.toFixed(2), +os.loadavg()[0].toFixed(2)], version, play: playR };
  log(`  obiam-run --version:          first byte ${version.firstByteMs.toFixed(0)} ms, total ${version.totalMs.toFixed(0)} ms (median of ${samples})`);
  log(`  one-task play on one host:    first byte ${playR.firstByteMs.toFixed(0)} ms, total ${playR.totalMs.toFixed(0)} ms (median of ${samples})`);
  log(`  load average ${res.loadAvg.join(' -> ')}`);
  return res;
}
