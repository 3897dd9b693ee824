#!/usr/bin/env node
// Summarizes a V8 .cpuprofile (from `node --cpu-prof ./bin/obiam-run.js ...`): self time by file and by
// function, so hot spots can be named with their share of the profile. Usage:
//   node bench/profile-summary.js PROFILE.cpuprofile [--top N]
import { readFileSync } from 'node:fs';
import path from 'node:path';

const [file, ...rest] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: node bench/profile-summary.js PROFILE.cpuprofile [--top N]\n');
  process.exit(5);
}
const top = Number(rest[rest.indexOf('--top') + 1]) || 25;
const prof = JSON.parse(readFileSync(file, 'utf8'));

// Self time per node: each sample is one node; the gap to the next sample is its duration.
const selfUs = new Map();
for (let i = 0; i < prof.samples.length; i++) {
  const dt = prof.timeDeltas[i + 1] ?? 0;
  selfUs.set(prof.samples[i], (selfUs.get(prof.samples[i]) ?? 0) + dt);
}
const total = [...selfUs.values()].reduce((s, x) => s + x, 0);

/** Where a frame lives: the repo-relative path, a package name, or the engine's own buckets. */
function where(cf) {
  const url = cf.url ?? '';
  if (!url) return cf.functionName ? `(${cf.functionName})` : '(native)';
  const p = url.replace(/^file:\/\//, '');
  const nm = p.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const parts = p.slice(nm + 14).split('/');
    return `node_modules/${parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]}`;
  }
  if (p.startsWith('node:')) return p;
  return path.relative(process.cwd(), p);
}

const byFile = new Map();
const byFn = new Map();
for (const n of prof.nodes) {
  const us = selfUs.get(n.id) ?? 0;
  if (!us) continue;
  const w = where(n.callFrame);
  byFile.set(w, (byFile.get(w) ?? 0) + us);
  const fn = `${n.callFrame.functionName || '(anonymous)'}  ${w}:${n.callFrame.lineNumber + 1}`;
  byFn.set(fn, (byFn.get(fn) ?? 0) + us);
}

const show = (title, m) => {
  process.stdout.write(`${title}\n`);
  for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    process.stdout.write(`  ${(us / 1000).toFixed(0).padStart(7)} ms  ${((us / total) * 100).toFixed(1).padStart(5)} %  ${k}\n`);
  }
};
process.stdout.write(`profile ${file}: ${(total / 1000).toFixed(0)} ms sampled (${((prof.endTime - prof.startTime) / 1000).toFixed(0)} ms wall)\n\n`);
show('self time by file', byFile);
process.stdout.write('\n');
show('self time by function', byFn);
