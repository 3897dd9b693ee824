// The path argument and its aliases, declared once: Ansible's file modules take `path` also as
// `dest`, `name` (and lineinfile/blockinfile as `destfile`).
import { fail } from './fail.js';
import type { ModuleResult } from '../types.js';

export interface PathArgs {
  path?: string;
  dest?: string;
  destfile?: string;
  name?: string;
}

const PATH_SCHEMA = { type: 'string', minLength: 1 } as const;

/** The schema properties of path and the aliases a module accepts (stat/file: dest, name; lineinfile adds destfile). */
export function pathProps(withDestfile = false): Record<string, typeof PATH_SCHEMA> {
  return { path: PATH_SCHEMA, dest: PATH_SCHEMA, ...(withDestfile ? { destfile: PATH_SCHEMA } : {}), name: PATH_SCHEMA };
}

/** The path given under any of its names, or the failed result Ansible gives without one. */
export function pathOf(a: PathArgs): string | ModuleResult {
  const p = a.path ?? a.dest ?? a.destfile ?? a.name;
  return p ?? fail('path is required');
}
