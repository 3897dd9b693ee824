// Pure option parsers for the playbook command: commander calls them per value, tests call them directly.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError } from 'commander';
import { EXIT, ObiamError } from '../errors.js';

export type HostKeyPolicy = 'strict' | 'accept-new';
export const HOST_KEY_POLICIES: readonly HostKeyPolicy[] = ['strict', 'accept-new'];

/** The default inventory when no -i is given (relative to the working directory). */
export const DEFAULT_INVENTORY = path.join('inventory', 'hosts.yml');

/** commander reducer for repeatable options (`-e a -e b`). */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** commander reducer for `-v`: each occurrence (also inside `-vvv`) adds one level. */
export function increaseVerbosity(_value: string, previous: number | undefined): number {
  return (previous ?? 0) + 1;
}

/** `-t a,b -t c` -> [a, b, c]: comma lists, repeatable, blanks dropped, first occurrence kept. */
export function parseTags(values: readonly string[] | undefined): string[] {
  const out: string[] = [];
  for (const v of values ?? []) {
    for (const t of v.split(',')) {
      const tag = t.trim();
      if (tag && !out.includes(tag)) out.push(tag);
    }
  }
  return out;
}

/** Verbosity from a `-v` count or a `-vvv`-style word (also used for OBIAM_VERBOSITY). */
export function parseVerbosity(value: number | string | undefined): number {
  if (value === undefined || value === '') return 0;
  if (typeof value === 'number') return Math.max(0, Math.min(Math.trunc(value), 4));
  if (/^v+$/.test(value)) return Math.min(value.length, 4);
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`verbosity must be a count of v or a number, got '${value}'`);
  return Math.min(n, 4);
}

/** --host-key-policy: anything but the two policies is a usage error naming them. */
export function validateHostKeyPolicy(value: string): HostKeyPolicy {
  if ((HOST_KEY_POLICIES as readonly string[]).includes(value)) return value as HostKeyPolicy;
  throw new InvalidArgumentError(`'${value}' is not a host key policy; allowed values: ${HOST_KEY_POLICIES.join(', ')}.`);
}

/** A whole number >= 1 (forks). */
export function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError(`expected a whole number of at least 1, got '${value}'.`);
  return n;
}

/** Seconds, fractions allowed (timeouts); returns milliseconds. */
export function parseSecondsToMs(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`expected a number of seconds above 0, got '${value}'.`);
  return Math.round(n * 1000);
}

/** The -i sources, or inventory/hosts.yml when it exists; otherwise a usage error. */
export function resolveInventorySources(given: readonly string[] | undefined, cwd: string): string[] {
  if (given && given.length > 0) return [...given];
  const fallback = path.resolve(cwd, DEFAULT_INVENTORY);
  if (existsSync(fallback)) return [fallback];
  throw new ObiamError('E_NO_INVENTORY', `no inventory given and ${DEFAULT_INVENTORY} does not exist`, {
    remedy: 'pass -i FILE (a YAML or INI inventory, a directory, or `host1,host2,`), or set inventory in ansible.cfg',
    exitCode: EXIT.BAD_OPTIONS,
  });
}

/** Is this a usage error commander raised while parsing (not help or version)? */
export function isCommanderUsageCode(code: string): boolean {
  return code.startsWith('commander.') && !['commander.helpDisplayed', 'commander.help', 'commander.version'].includes(code);
}
