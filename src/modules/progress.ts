// Progress lines for long steps of a module, sent through ctx.progress (the live view's host row;
// the plain log shows a finished upload, an unpack and a wait).
import path from 'node:path';
import type { ModuleContext } from './types.js';

/** 512 B, 3.4 KiB, 120.0 MiB, 1.25 GiB. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v >= 100 || u === 3 ? v.toFixed(1) : v.toFixed(v >= 10 ? 1 : 2)} ${units[u]}`;
}

/**
 * An onProgress for putFile: `wso2.zip 120.0/512.0 MiB, 40.1 MiB/s`, at most every `everyMs` while it
 * runs (the --json log gets each one), and always once at the end with the whole size and mean rate.
 */
export function uploadProgress(ctx: Pick<ModuleContext, 'progress'>, localPath: string, everyMs = 500): ((sent: number, total: number) => void) | undefined {
  const report = ctx.progress;
  if (!report) return undefined;
  const name = path.basename(localPath);
  const started = Date.now();
  let last = 0;
  return (sent, total) => {
    const now = Date.now();
    const done = sent >= total;
    if (!done && now - last < everyMs) return;
    last = now;
    const secs = Math.max(0.001, (now - started) / 1000);
    const rate = `${formatBytes(Math.round(sent / secs))}/s`;
    const message = done ? `${name} ${formatBytes(total)} uploaded in ${secs.toFixed(1)}s, ${rate}` : `uploading ${name} ${formatBytes(sent)} of ${formatBytes(total)}, ${rate}`;
    report('upload', message, { bytes: sent, totalBytes: total });
  };
}
