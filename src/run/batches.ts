// Serial batches (`serial:`), as Ansible computes them: a number, a percentage of the play's hosts
// (floored, at least 1), or a list whose last value repeats until every host is placed.
import { EXIT, ObiamError } from '../errors.js';

function batchSize(value: number | string, total: number): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw badSerial(value);
    return value === 0 ? total : Math.floor(value);
  }
  const s = value.trim();
  const pct = /^(\d+(?:\.\d+)?)\s*%$/.exec(s);
  if (pct) return Math.max(1, Math.floor((Number(pct[1]) * total) / 100));
  if (/^\d+$/.test(s)) return Number(s) === 0 ? total : Number(s);
  throw badSerial(value);
}

function badSerial(value: unknown): ObiamError {
  return new ObiamError('E_SERIAL', `invalid serial value ${JSON.stringify(value)}`, {
    exitCode: EXIT.PARSE,
    remedy: 'use a number, a percentage like "30%", or a list of them',
  });
}

/** Splits the play's hosts into batches; `[]` (no serial) is one batch with every host. */
export function computeBatches(hosts: string[], serial: (number | string)[]): string[][] {
  if (hosts.length === 0) return [];
  if (serial.length === 0) return [[...hosts]];
  const out: string[][] = [];
  let i = 0;
  let step = 0;
  while (i < hosts.length) {
    const spec = serial[Math.min(step, serial.length - 1)]!;
    const size = Math.max(1, Math.min(batchSize(spec, hosts.length), hosts.length - i));
    out.push(hosts.slice(i, i + size));
    i += size;
    step++;
  }
  return out;
}
