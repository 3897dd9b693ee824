// Turns the measured runs into the per-workload tables, the target verdicts and the JSON document.
import { renameSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { median } from './measure.js';

const fmt = (x, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '-');
const MB = 1e6;

/** A plain aligned text table; numbers right-aligned. */
export function table(header, rows) {
  const all = [header, ...rows].map((r) => r.map((c) => String(c)));
  const w = header.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  const line = (r) => r.map((c, i) => (i === 0 || !/^[-\d.x%]/.test(c) ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ').trimEnd();
  return [line(all[0]), w.map((n) => '-'.repeat(n)).join('  '), ...all.slice(1).map(line)].join('\n');
}

/** Median figures of the runs of one tool/phase. */
export function summarize(runs) {
  return {
    runs: runs.length,
    wallS: median(runs.map((r) => r.wallS)),
    cpuS: median(runs.map((r) => r.cpuS)),
    hostCpuS: median(runs.map((r) => r.hostCpuS)),
    procsPerHostTask: median(runs.map((r) => (r.tasks ? r.hostProcs / (r.tasks * r.hosts) : NaN))),
    maxRssMb: median(runs.map((r) => r.maxRssKb / 1024)),
    overheadMs: median(runs.map((r) => r.overheadMs)),
    changed: median(runs.map((r) => r.recap?.changed ?? NaN)),
    sentMb: median(runs.map((r) => r.txBytes / MB)),
    throughputMBs: median(runs.map((r) => r.throughputMBs)),
  };
}

/** obiam-run wall / peer wall for each pair (same pair index), and the median speedup (peer / obiam-run). */
export function pairRatios(obiamRuns, peerRuns) {
  const ratios = [];
  for (const o of obiamRuns) {
    const p = peerRuns.find((r) => r.pair === o.pair);
    if (p) ratios.push(o.wallS / p.wallS);
  }
  return { ratios, speedup: 1 / median(ratios) };
}

/** The text block of one workload-and-host-count group. */
export function groupTable(group) {
  const header = ['tool', 'phase', 'runs', 'wall s', 'cpu s', 'host cpu s', 'peak RSS MB', 'ms/host-task', 'procs/host-task', 'changed', 'sent MB', 'obiam-run/peer per pair', 'speedup'];
  if (group.workload === 'b') header.splice(9, 0, 'MB/s');
  const rows = [];
  for (const s of group.summaries) {
    const ratio = s.ratio ? s.ratio.ratios.map((r) => fmt(r, 3)).join(' ') : '';
    const row = [s.tool, s.phase, s.runs, fmt(s.wallS), fmt(s.cpuS), fmt(s.hostCpuS), fmt(s.maxRssMb, 0), group.workload === 'b' ? '-' : fmt(s.overheadMs, 2), group.workload === 'b' ? '-' : fmt(s.procsPerHostTask, 1),
      fmt(s.changed, 0), fmt(s.sentMb, 1), ratio || '-', s.ratio ? `${fmt(s.ratio.speedup, 1)}x` : '-'];
    if (group.workload === 'b') row.splice(9, 0, fmt(s.throughputMBs, 0));
    rows.push(row);
  }
  return table(header, rows);
}

/** Writes the JSON through a .tmp file (ignored by git) renamed into place, so no half file is ever left. */
export function writeJson(repo, doc) {
  const dir = path.join(repo, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const stamp = doc.startedAt.replace(/[:.]/g, '-');
  const file = path.join(dir, `${stamp}.json`);
  writeFileSync(`${file}.tmp`, `${JSON.stringify(doc, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
  return file;
}

export { fmt };
