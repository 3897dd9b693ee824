// Shared text helpers for the human reporters: Ansible-like banners, colors and durations.

export type Color = 'green' | 'yellow' | 'red' | 'brightRed' | 'cyan' | 'magenta' | 'blue' | 'bold';

const CODES: Record<Color, string> = {
  green: '32',
  yellow: '33',
  red: '31',
  brightRed: '91',
  cyan: '36',
  magenta: '95',
  blue: '34',
  bold: '1',
};

/** A painter that is a no-op when color is off, so callers never branch on it. */
export type Paint = (c: Color, s: string) => string;

export function painter(enabled: boolean): Paint {
  return enabled ? (c, s) => (s === '' ? s : `\x1b[${CODES[c]}m${s}\x1b[0m`) : (_c, s) => s;
}

/**
 * `TASK [x] ****` exactly `width` columns wide (title, a space, stars), at least 3 stars, as Ansible's
 * banner does: one column more and a terminal of that width wraps a lone `*` onto the next line.
 */
export function banner(title: string, width = 80): string {
  const msg = title.trim();
  return `${msg} ${'*'.repeat(Math.max(3, width - msg.length - 1))}`;
}

/** 340ms, 2.05s, 1m02s: short enough for every host line. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)}s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}
