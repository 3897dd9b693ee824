// Value coercion for keywords: conditions, tag and handler lists, environment values, counts,
// serial.
import type { Condition } from './model.js';

export type Map_ = Record<string, unknown>;
export const isMap = (v: unknown): v is Map_ => v !== null && typeof v === 'object' && !Array.isArray(v);
const PREFIXES = ['ansible.builtin.', 'ansible.legacy.'];
/** A module or action name without its `ansible.builtin.` / `ansible.legacy.` prefix. */
export const bare = (k: string): string => PREFIXES.reduce((s, p) => (s.startsWith(p) ? s.slice(p.length) : s), k);

export function conditions(v: unknown): Condition[] {
  if (v === undefined || v === null) return [];
  if (Array.isArray(v)) return v.map((x) => (typeof x === 'boolean' ? x : String(x)));
  return [typeof v === 'boolean' ? v : String(v)];
}

export function toStrings(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  if (Array.isArray(v)) return v.map(String);
  return String(v)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** notify / listen: a string is one handler name (commas included), a list is several. */
export function handlerNames(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  return (Array.isArray(v) ? v : [v]).map(String);
}

export function stringValues(m: Map_): Record<string, string> {
  return Object.fromEntries(Object.entries(m).map(([k, v]) => [k, v === null || v === undefined ? '' : typeof v === 'boolean' ? (v ? 'True' : 'False') : String(v)]));
}

export function toInt(v: unknown): number {
  // A float stays one (`delay: 0.5`); the runner rounds what must be whole.
  return typeof v === 'number' ? v : Number(String(v).trim());
}

/** `retries: 3` or `retries: "{{ n }}"`: a template is kept for the runner to render per host. */
export function intOrTemplate(v: unknown): number | string {
  return typeof v === 'string' && v.includes('{{') ? v : toInt(v);
}

export function serialList(v: unknown): (number | string)[] {
  if (v === undefined || v === null) return [];
  const list = Array.isArray(v) ? v : [v];
  return list.map((x) => (typeof x === 'number' ? x : /^\s*\d+\s*$/.test(String(x)) ? Number(x) : String(x).trim()));
}
