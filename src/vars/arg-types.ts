// Module arguments after templating, converted to the types the module's schema declares, as
// Ansible's argument spec does: with jinja2_native off a template yields text ("8080", "True") or a
// list/dict made from text, and a module's int/bool/str options take it from there.
import { pyJsonDumps } from './filters.js';
import { isMapping, pyStr } from './python.js';

interface PropSchema {
  type?: string | string[];
}

function typesOf(p: PropSchema | undefined): string[] {
  const t = p?.type;
  return Array.isArray(t) ? t : t === undefined ? [] : [t];
}

/** Converts top-level args to the scalar types their schema properties take; the rest is left as it is. */
export function coerceArgs(args: Record<string, unknown>, props: Record<string, PropSchema> | undefined, jsonKeys: readonly string[] = []): Record<string, unknown> {
  if (!props) return args;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(args)) out[k] = coerceOne(v, typesOf(props[k]), jsonKeys.includes(k));
  return out;
}

function coerceOne(v: unknown, types: string[], json: boolean): unknown {
  if (types.length === 0) return v;
  const has = (t: string): boolean => types.includes(t);
  if (typeof v === 'string') {
    if (has('string')) return v;
    const s = v.trim();
    if (has('boolean') && /^(yes|no|true|false|on|off|1|0|y|n)$/i.test(s)) return /^(yes|true|on|1|y)$/i.test(s);
    if (has('integer') && /^[+-]?\d+$/.test(s)) return Number(s);
    if (has('number') && /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(s)) return Number(s);
    return v;
  }
  if (v === null || v === undefined) return v;
  if (has('string') && !has(typeOf(v))) {
    // copy's content: a dict or list is written as JSON (Ansible's copy action does the same).
    if (json && (Array.isArray(v) || isMapping(v))) return pyJsonDumps(v);
    if (Array.isArray(v) || isMapping(v) || typeof v === 'number' || typeof v === 'boolean') return pyStr(v);
  }
  return v;
}

function typeOf(v: unknown): string {
  if (typeof v === 'boolean') return 'boolean';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  if (Array.isArray(v)) return 'array';
  if (isMapping(v)) return 'object';
  return typeof v;
}
