// ROLL SUMMARY: for plays with `serial`, how long each batch (node) took and how it ended, plus the
// numbers of any http_probe that watched the service meanwhile. Printed just before the recap.
import type { ProbeReport, RunEvent } from '../events/types.js';
import { banner, formatDuration, painter } from './style.js';

interface BatchRow {
  play: string;
  hosts: string[];
  failed: string[];
  durationMs?: number;
}

export interface RollSummary {
  onEvent(e: RunEvent): void;
  /** The summary block, or '' when the run had no serial play and no probe. */
  format(opts: { color?: boolean; width?: number }): string;
}

export function formatProbe(r: ProbeReport): string {
  const kinds = Object.entries(r.failures).map(([k, n]) => `${k} x${n}`);
  const nodes = Object.entries(r.perNode)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([n, c]) => `${n} ${c}`);
  return [
    `${r.requests} requests through ${r.url} in ${formatDuration(r.durationMs)}: ${r.failed} failed${kinds.length ? ` (${kinds.join(', ')})` : ''}`,
    `${r.sessionsMoved} sticky session${r.sessionsMoved === 1 ? '' : 's'} moved to another node${nodes.length ? `; answered per node: ${nodes.join(', ')}` : ''}`,
  ].join('\n');
}

export function createRollSummary(): RollSummary {
  const rows: BatchRow[] = [];
  const probes: ProbeReport[] = [];
  const open = new Map<string, BatchRow>();
  let serialPlay: string | undefined;
  return {
    onEvent(e) {
      if (e.event === 'play-start') serialPlay = e.serial ? e.play : undefined;
      else if (e.event === 'batch-start' && serialPlay === e.play) {
        const row: BatchRow = { play: e.play, hosts: e.hosts, failed: [] };
        rows.push(row);
        open.set(`${e.play}#${e.batch}`, row);
      } else if (e.event === 'batch-end') {
        const row = open.get(`${e.play}#${e.batch}`);
        if (row) {
          row.durationMs = e.durationMs;
          row.failed = e.failed;
        }
      } else if (e.event === 'probe-report') probes.push(e.report);
    },
    format({ color = false, width = 80 }) {
      if (rows.length === 0 && probes.length === 0) return '';
      const paint = painter(color);
      const lines: string[] = [banner('ROLL SUMMARY', width)];
      const nameWidth = Math.max(10, ...rows.map((r) => r.hosts.join(', ').length));
      let play: string | undefined;
      for (const r of rows) {
        if (r.play !== play) {
          play = r.play;
          lines.push(`${play}:`);
        }
        const state = r.durationMs === undefined ? paint('magenta', 'not finished') : r.failed.length ? paint('red', `failed: ${r.failed.join(', ')}`) : paint('green', 'done');
        const took = r.durationMs === undefined ? '' : formatDuration(r.durationMs).padStart(8);
        lines.push(`  ${r.hosts.join(', ').padEnd(nameWidth)} ${took}  ${state}`);
      }
      for (const p of probes) lines.push(...formatProbe(p).split('\n').map((l) => (p.failed > 0 ? paint('red', l) : l)));
      return lines.join('\n');
    },
  };
}
