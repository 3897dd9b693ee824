// `with_<name>:` loops, as ansible-core 2.14 runs them: the terms are templated and made a list
// (a string or a single value becomes a one-item list), then handed to the lookup `<name>` with
// wantlist. The lookups only loops use (nested, together, sequence, subelements, indexed_items,
// random_choice, lines) are here; the rest (items, list, dict, fileglob, first_found, file, env,
// template, varnames ...) are the templater's lookups, called through query().
import { execSync } from 'node:child_process';
import { ObiamError, type SourceLocation } from '../errors.js';
import type { VarScope } from './vars.js';

type LoopLookup = (terms: unknown[], scope: VarScope, at: SourceLocation) => unknown[];

const fail = (message: string, at: SourceLocation): never => {
  throw new ObiamError('E_LOOP', message, { location: at, remedy: 'see docs/playbook-language.md, Loops' });
};

const isMap = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Ansible's listify_lookup_plugin_terms: templated, and a string or a scalar made a one-item list. */
function listify(terms: unknown, scope: VarScope, at: SourceLocation): unknown[] {
  const v = scope.renderValue(typeof terms === 'string' ? terms.trim() : terms, at, { keepUnsafe: true });
  if (Array.isArray(v)) return v;
  return [v];
}

/** LookupBase._flatten: one level. */
const flatten1 = (terms: unknown[]): unknown[] => terms.flatMap((t) => (Array.isArray(t) ? t : [t]));

function sequence(term: unknown, at: SourceLocation): string[] {
  const s = String(term).trim();
  let start = 1;
  let end: number | undefined;
  let count: number | undefined;
  let stride = 1;
  let format = '%d';
  const int = (name: string, raw: string): number => {
    const n = /^0x/i.test(raw) ? Number.parseInt(raw, 16) : /^0\d/.test(raw) ? Number.parseInt(raw, 8) : /^-?\d+$/.test(raw) ? Number(raw) : Number.NaN;
    if (Number.isNaN(n)) fail(`can't parse ${name}=${raw} as integer`, at);
    return n;
  };
  const NUM = '(0?x?[0-9a-f]+)';
  const short = new RegExp(`^(${NUM}-)?${NUM}(/${NUM})?(:(.+))?$`, 'i').exec(s);
  if (short) {
    if (short[2] !== undefined) start = int('start', short[2]);
    end = int('end', short[3]!);
    if (short[5] !== undefined) stride = int('stride', short[5]);
    if (short[7] !== undefined) format = short[7];
  } else {
    for (const word of s.split(/\s+/).filter(Boolean)) {
      const m = /^([a-z_]+)=(.*)$/.exec(word);
      if (!m) fail(`unrecognized arguments to with_sequence: ${JSON.stringify(word)}`, at);
      const [, k, v] = m!;
      if (k === 'start') start = int(k, v!);
      else if (k === 'end') end = int(k, v!);
      else if (k === 'count') count = int(k, v!);
      else if (k === 'stride') stride = int(k, v!);
      else if (k === 'format') format = v!;
      else fail(`unrecognized arguments to with_sequence: ['${k}']`, at);
    }
  }
  if (count === undefined && end === undefined) fail('must specify count or end in with_sequence', at);
  if (count !== undefined && end !== undefined) fail("can't specify both count and end in with_sequence", at);
  if (count !== undefined) {
    if (count !== 0) end = start + count * stride - 1;
    else [start, end, stride] = [0, 0, 0];
  }
  if (stride > 0 && end! < start) fail('to count backwards make stride negative', at);
  if (stride < 0 && end! > start) fail("to count forward don't make stride negative", at);
  if ((format.match(/%/g) ?? []).length !== 1) fail(`bad formatting string: ${format}`, at);
  const out: string[] = [];
  if (stride === 0) return out;
  const adjust = stride >= 0 ? 1 : -1;
  for (let i = start; stride > 0 ? i < end! + adjust : i > end! + adjust; i += stride) out.push(printf(format, i));
  return out;
}

/** Python's `%` for one integer: %d %i %x %X %o with flags and width. */
function printf(format: string, n: number): string {
  return format.replace(/%([-0 +#]*)(\d*)([diuxXo])/, (_m, flags: string, width: string, conv: string) => {
    let s = conv === 'x' ? n.toString(16) : conv === 'X' ? n.toString(16).toUpperCase() : conv === 'o' ? n.toString(8) : String(n);
    const w = Number(width || 0);
    if (s.length < w) s = flags.includes('-') ? s.padEnd(w) : flags.includes('0') ? s.padStart(w, '0') : s.padStart(w);
    return s;
  });
}

function subelements(terms: unknown[], at: SourceLocation): unknown[] {
  const bad = (msg = ''): never => fail(`subelements lookup expects a list of two or three items, ${msg}`, at);
  if (terms.length < 2 || terms.length > 3) bad();
  const [first, key, flags] = terms;
  if ((!Array.isArray(first) && !isMap(first)) || typeof key !== 'string') bad('first a dict or a list, second a string pointing to the subkey');
  if (isMap(first) && first.skipped !== undefined && first.skipped !== false) return [];
  const elements = Array.isArray(first) ? first : Object.values(first as Record<string, unknown>);
  const skipMissing = isMap(flags) && (flags.skip_missing === true || /^(yes|true|1)$/i.test(String(flags.skip_missing)));
  const path = (key as string).split('.');
  const out: unknown[] = [];
  for (const raw of elements) {
    if (!isMap(raw)) fail(`subelements lookup expects a dictionary, got '${JSON.stringify(raw)}'`, at);
    if ((raw as Record<string, unknown>).skipped !== undefined && (raw as Record<string, unknown>).skipped !== false) continue;
    // Ansible pops the subkey out of the element it hands back: the element is copied along the path.
    const item0 = structuredClone(raw) as Record<string, unknown>;
    let sub: Record<string, unknown> = item0;
    let list: unknown[] = [];
    for (const [i, k] of path.entries()) {
      const last = i === path.length - 1;
      if (!(k in sub)) {
        if (skipMissing) break;
        fail(`could not find '${k}' key in iterated item '${JSON.stringify(sub)}'`, at);
      }
      if (!last) {
        if (!isMap(sub[k])) {
          if (skipMissing) break;
          fail(`the key ${k} should point to a dictionary, got '${JSON.stringify(sub[k])}'`, at);
        }
        sub = sub[k] as Record<string, unknown>;
      } else {
        if (!Array.isArray(sub[k])) fail(`the key ${k} should point to a list, got '${JSON.stringify(sub[k])}'`, at);
        list = sub[k] as unknown[];
        delete sub[k];
      }
    }
    for (const item1 of list) out.push([item0, item1]);
  }
  return out;
}

const LOOP_LOOKUPS: Record<string, LoopLookup> = {
  nested(terms, scope, at) {
    const lists = terms.map((t) => listify(t, scope, at));
    if (lists.length === 0) fail('with_nested requires at least one element in the nested list', at);
    let result: unknown[] = lists[0]!;
    for (const next of lists.slice(1)) result = result.flatMap((x) => next.map((y) => flatten1([x, y])));
    return result.map((x) => (Array.isArray(x) ? flatten1(x) : [x]));
  },
  together(terms, scope, at) {
    const lists = terms.map((t) => listify(t, scope, at));
    if (lists.length === 0) fail('with_together requires at least one element in each list', at);
    const n = Math.max(...lists.map((l) => l.length));
    return Array.from({ length: n }, (_, i) => flatten1(lists.map((l) => (i < l.length ? l[i] : null))));
  },
  sequence: (terms, _scope, at) => terms.flatMap((t) => sequence(t, at)),
  subelements: (terms, _scope, at) => subelements(terms, at),
  indexed_items: (terms) => flatten1(terms).map((x, i) => [i, x]),
  random_choice: (terms) => (terms.length ? [terms[Math.floor(Math.random() * terms.length)]] : []),
  lines: (terms, _scope, at) =>
    terms.flatMap((t) => {
      try {
        return execSync(String(t), { encoding: 'utf8', shell: '/bin/sh' }).split('\n').filter((l, i, a) => l !== '' || i < a.length - 1);
      } catch (e) {
        return fail(`lookup_plugin.lines(${String(t)}) returned ${(e as { status?: number }).status ?? 1}`, at);
      }
    }),
};

/** The items of `with_<name>: terms` on this host. */
export function withLoopItems(name: string, terms: unknown, scope: VarScope, at: SourceLocation): unknown[] {
  const list = listify(terms, scope, at);
  const own = LOOP_LOOKUPS[name];
  if (own) return own(list, scope, at);
  // The templater's lookups, with the terms as positional arguments (query: always a list).
  const args = list.map((_, i) => `__obiam_terms[${i}]`).join(', ');
  const v = scope.with({ __obiam_terms: list }).evaluate(`query('${name}'${args ? `, ${args}` : ''})`, at);
  return Array.isArray(v) ? v : v === null || v === undefined ? [] : [v];
}
