// PLAY RECAP: per-host counters aligned like ansible-playbook's (`host : ok=N    changed=N ...`).
import type { HostCounts } from '../events/types.js';
import { banner, painter, type Color } from './style.js';

export interface RecapOptions {
  color?: boolean;
  /** Banner width (stars fill up to it). */
  width?: number;
}

const COLUMNS: { key: keyof HostCounts; color: Color }[] = [
  { key: 'ok', color: 'green' },
  { key: 'changed', color: 'yellow' },
  { key: 'unreachable', color: 'brightRed' },
  { key: 'failed', color: 'red' },
  { key: 'skipped', color: 'cyan' },
  { key: 'rescued', color: 'magenta' },
  { key: 'ignored', color: 'blue' },
];

/** Ansible pads host names to 26 columns; longer names widen the column so every row still lines up. */
const HOST_WIDTH = 26;

function hostColor(c: HostCounts): Color {
  if (c.failed > 0 || c.unreachable > 0) return 'red';
  if (c.changed > 0) return 'yellow';
  return 'green';
}

/** The whole recap block: banner line, one row per host (in the given order), no trailing newline. */
export function formatRecap(hosts: Record<string, HostCounts>, opts: RecapOptions = {}): string {
  const paint = painter(opts.color ?? false);
  const names = Object.keys(hosts);
  const width = Math.max(HOST_WIDTH, ...names.map((n) => n.length));
  const rows = names.map((name) => {
    const c = hosts[name]!;
    // Counters are `key=N` padded to 4 digits, as Ansible's `%s=%-4s`; zero counts stay uncolored.
    const cells = COLUMNS.map(({ key, color }, i) => {
      const n = String(c[key]);
      const cell = `${key}=${i === COLUMNS.length - 1 ? n : n.padEnd(4)}`;
      return c[key] > 0 ? paint(color, cell) : cell;
    });
    return `${paint(hostColor(c), name)}${' '.repeat(width - name.length)} : ${cells.join(' ')}`;
  });
  return [banner('PLAY RECAP', opts.width), ...rows].join('\n');
}
