// Ansible's and Jinja2's filters with their Python results (to_json spacing, bool strings, int parsing).
import { createHash } from 'node:crypto';
import path from 'node:path';
import { Document, isCollection, isMap, isSeq, visit } from 'yaml';
import { parseYaml, VaultedValue } from '../load/yaml.js';
import { Undefined, UndefinedError, isUndefined } from './jinja.js';
import { PyTypeError, assertFinite, isMapping, pyBool, pyEq, pyRepr, pySortCompare, pyStr, pyType, splitKwargs } from './python.js';
import { pyExpand, pyRegex } from './regex.js';

export type FilterFn = (this: FilterContext, value: unknown, ...args: unknown[]) => unknown;

/** What a filter sees as `this` (nunjucks' Context): the environment, to run other filters and tests by name. */
export interface FilterContext {
  env: {
    getFilter(name: string): FilterFn;
    getTest(name: string): (this: unknown, value: unknown, ...args: unknown[]) => unknown;
  };
}

export class FilterError extends Error {}

function fail(msg: string): never {
  throw new FilterError(msg);
}

function kwargs(args: unknown[], names: string[]): Record<string, unknown> {
  const { pos, kw } = splitKwargs(args);
  const out: Record<string, unknown> = { ...kw };
  names.forEach((n, i) => {
    if (i < pos.length && !(n in kw)) out[n] = pos[i];
  });
  return out;
}

function seq(v: unknown, filter: string): unknown[] {
  if (Array.isArray(v)) return v;
  if (typeof v === 'string') return [...v];
  if (isMapping(v)) return Object.keys(v);
  if (v instanceof Set || v instanceof Map) return [...v.keys()];
  return fail(`${filter}: expected a list, got ${pyType(v)}`);
}

/** Dotted attribute lookup used by map/selectattr/sort(attribute=): `a.b`, numeric parts index lists. */
export function getAttrPath(item: unknown, attr: string): unknown {
  let cur: unknown = item;
  for (const part of String(attr).split('.')) {
    if (cur === null || cur === undefined) return undefined;
    if (Array.isArray(cur) && /^-?\d+$/.test(part)) cur = cur[Number(part)];
    else if (typeof cur === 'object' && Object.hasOwn(cur, part)) cur = (cur as Record<string, unknown>)[part];
    else return undefined;
  }
  return cur;
}

export function toBool(v: unknown): boolean | null {
  if (typeof v === 'boolean') return v;
  if (v === null || v === undefined) return null; // Ansible: None | bool is None
  const s = typeof v === 'string' ? v.toLowerCase() : v;
  return s === 'yes' || s === 'on' || s === '1' || s === 'true' || s === 1;
}

function toInt(v: unknown, def: unknown = 0, base: unknown = 10): unknown {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number') return Number.isFinite(v) ? Math.trunc(v) : def;
  if (typeof v === 'string') {
    const s = v.trim().replace(/_/g, '');
    const b = Number(base);
    const prefixed = /^([+-]?)0([xob])([0-9a-f]+)$/i.exec(s);
    if (prefixed && b !== 10) {
      const pb = { x: 16, o: 8, b: 2 }[prefixed[2]!.toLowerCase() as 'x' | 'o' | 'b'];
      if (pb === b) return Number.parseInt(prefixed[1]! + prefixed[3]!, b);
    }
    const digits = '0123456789abcdefghijklmnopqrstuvwxyz'.slice(0, b);
    if (new RegExp(`^[+-]?[${digits}]+$`, 'i').test(s)) return Number.parseInt(s, b);
    // Jinja falls back to int(float(value)): "3.7" | int is 3.
    if (/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(s)) return Math.trunc(Number(s));
  }
  return def;
}

function toFloat(v: unknown, def: unknown = 0): unknown {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    const s = v.trim().toLowerCase();
    if (/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/.test(s)) return Number(s);
    if (/^[+-]?(inf|infinity)$/.test(s)) return s.startsWith('-') ? -Infinity : Infinity;
    if (s === 'nan') return NaN;
  }
  return def;
}

function jsonString(s: string, ensureAscii: boolean): string {
  const j = JSON.stringify(s);
  return ensureAscii ? j.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`) : j;
}

/** Python json.dumps: `, ` and `: ` separators inline, `,` + newline with indent, ensure_ascii. */
export function pyJsonDumps(v: unknown, opts: { indent?: number; sortKeys?: boolean; ensureAscii?: boolean } = {}, level = 0): string {
  const ensureAscii = opts.ensureAscii ?? true;
  if (level === 0) assertFinite(v);
  if (isUndefined(v)) throw v.error();
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') return Number.isNaN(v) ? 'NaN' : v === Infinity ? 'Infinity' : v === -Infinity ? '-Infinity' : String(v);
  if (typeof v === 'string') return jsonString(v, ensureAscii);
  const nl = opts.indent !== undefined ? `\n${' '.repeat(opts.indent * (level + 1))}` : '';
  const end = opts.indent !== undefined ? `\n${' '.repeat(opts.indent * level)}` : '';
  const sep = opts.indent !== undefined ? ',' : ', ';
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]';
    return `[${nl}${v.map((x) => pyJsonDumps(x, opts, level + 1)).join(sep + nl)}${end}]`;
  }
  if (isMapping(v)) {
    let keys = Object.keys(v);
    if (opts.sortKeys) keys = keys.sort();
    if (keys.length === 0) return '{}';
    return `{${nl}${keys.map((k) => `${jsonString(k, ensureAscii)}: ${pyJsonDumps(v[k], opts, level + 1)}`).join(sep + nl)}${end}}`;
  }
  if (v instanceof VaultedValue) return jsonString(String(v), ensureAscii);
  return jsonString(String(v), ensureAscii);
}

/** PyYAML-like dump: sorted keys; leaf collections inline unless `nice` (block style, indent 4). */
export function pyYamlDump(v: unknown, nice: boolean, indent = nice ? 4 : 2): string {
  assertFinite(v);
  const doc = new Document(v, { sortMapEntries: true, aliasDuplicateObjects: false });
  if (!nice) {
    visit(doc, {
      Collection(_k, node) {
        const items = (node as { items: Array<unknown> }).items;
        const leaf = items.every((it) => {
          const val = isMap(node) ? (it as { value: unknown }).value : it;
          return !isCollection(val);
        });
        if (leaf && (isMap(node) || isSeq(node))) node.flow = true;
      },
    });
  }
  return doc.toString({ indent, indentSeq: false, lineWidth: 0, flowCollectionPadding: false });
}

function combine(values: unknown[], recursive: boolean, listMerge: string): Record<string, unknown> {
  const mergeLists = (a: unknown[], b: unknown[]): unknown[] => {
    switch (listMerge) {
      case 'keep':
        return a;
      case 'append':
        return [...a, ...b];
      case 'prepend':
        return [...b, ...a];
      case 'append_rp':
        return [...a.filter((x) => !b.some((y) => pyEq(x, y))), ...b];
      case 'prepend_rp':
        return [...b, ...a.filter((x) => !b.some((y) => pyEq(x, y)))];
      default:
        return b;
    }
  };
  const merge = (a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> => {
    const out: Record<string, unknown> = { ...a };
    for (const [k, bv] of Object.entries(b)) {
      const av = out[k];
      if (recursive && isMapping(av) && isMapping(bv)) out[k] = merge(av, bv);
      else if (Array.isArray(av) && Array.isArray(bv)) out[k] = mergeLists(av, bv);
      else out[k] = bv;
    }
    return out;
  };
  let acc: Record<string, unknown> = {};
  for (const v of values.flatMap((x) => (Array.isArray(x) ? x : [x]))) {
    if (!isMapping(v)) fail(`combine: expected dicts, got ${pyType(v)}`);
    acc = merge(acc, v);
  }
  return acc;
}

/** POSIX shell quoting like Python's shlex.quote. */
export function shellQuote(s: string): string {
  if (s === '') return "''";
  if (/^[\w@%+=:,./-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'"'"'`)}'`;
}

function flatten(v: unknown[], levels: number | null, skipNulls: boolean): unknown[] {
  const out: unknown[] = [];
  for (const x of v) {
    if (skipNulls && (x === null || x === 'None' || x === 'null')) continue;
    if (Array.isArray(x) && (levels === null || levels > 0)) out.push(...flatten(x, levels === null ? null : levels - 1, skipNulls));
    else out.push(x);
  }
  return out;
}

/** A filter or test named by a string argument (`map('upper')`, `select('odd')`); anything else is a FilterError. */
function byName<T>(kind: 'filter' | 'test', name: unknown, get: (n: string) => T): T {
  if (typeof name !== 'string') return fail(`a ${kind} name must be a string, got ${pyRepr(name)}`);
  try {
    return get(name);
  } catch {
    return fail(`no ${kind} named '${name}'`);
  }
}

function runTest(ctx: FilterContext, name: unknown, value: unknown, args: unknown[]): boolean {
  if (name === undefined) return pyBool(value);
  return byName('test', name, (n) => ctx.env.getTest(n)).call(ctx, value, ...args) === true;
}

function hashOf(v: unknown, algo: string): string {
  const a = algo.toLowerCase().replace(/^sha-?/, 'sha');
  try {
    return createHash(a).update(pyStr(v), 'utf8').digest('hex');
  } catch {
    return fail(`hash: unknown algorithm '${algo}'`);
  }
}

function uniqueList(v: unknown[]): unknown[] {
  const out: unknown[] = [];
  for (const x of v) if (!out.some((y) => pyEq(x, y))) out.push(x);
  return out;
}

function minMax(v: unknown, args: unknown[], sign: 1 | -1, name: string): unknown {
  const o = kwargs(args, ['attribute']);
  const items = seq(v, name);
  if (items.length === 0) return new Undefined(name, `${name}: the sequence is empty`);
  const key = (x: unknown): unknown => (o.attribute ? getAttrPath(x, String(o.attribute)) : x);
  return items.reduce((best, x) => (sign * pySortCompare(key(x), key(best), Boolean(o.case_sensitive)) < 0 ? x : best));
}

/** Filters that look at an undefined value themselves (the rest raise "'x' is undefined" first). */
export const UNDEFINED_AWARE_FILTERS = new Set(['default', 'd', 'mandatory']);

export const FILTERS: Record<string, FilterFn> = {
  default(value, ...args) {
    const o = kwargs(args, ['default_value', 'boolean']);
    const def = o.default_value === undefined ? '' : o.default_value;
    if (isUndefined(value) || value === undefined) return def;
    if (o.boolean === true && !pyBool(value)) return def;
    return value;
  },
  mandatory(value, ...args) {
    const o = kwargs(args, ['msg']);
    if (isUndefined(value) || value === undefined) {
      const name = isUndefined(value) ? value.name : 'value';
      throw new UndefinedError(o.msg ? String(o.msg) : `Mandatory variable '${name}' not defined.`, name, isUndefined(value) ? value.line : undefined);
    }
    return value;
  },
  bool: (value) => toBool(value),
  int: (value, ...args) => {
    const o = kwargs(args, ['default', 'base']);
    return toInt(value, o.default ?? 0, o.base ?? 10);
  },
  float: (value, ...args) => toFloat(value, kwargs(args, ['default']).default ?? 0),
  string: (value) => (value === null ? 'None' : pyStr(value)),
  lower: (value) => pyStr(value).toLowerCase(),
  upper: (value) => pyStr(value).toUpperCase(),
  capitalize: (value) => {
    const s = pyStr(value);
    return s.charAt(0).toUpperCase() + s.slice(1).toLowerCase();
  },
  title: (value) => pyStr(value).toLowerCase().replace(/(^|[^a-zA-Z])([a-z])/g, (_m, a: string, b: string) => a + b.toUpperCase()),
  trim: (value, chars?: unknown) => {
    const s = pyStr(value);
    if (chars === undefined || chars === null) return s.trim();
    const set = new Set(String(chars));
    let a = 0;
    let b = s.length;
    while (a < b && set.has(s[a]!)) a++;
    while (b > a && set.has(s[b - 1]!)) b--;
    return s.slice(a, b);
  },
  length: (value) => {
    if (typeof value === 'string' || Array.isArray(value)) return value.length;
    if (isMapping(value)) return Object.keys(value).length;
    if (value instanceof Set || value instanceof Map) return value.size;
    return fail(`object of type '${pyType(value)}' has no len()`);
  },
  first: (value) => {
    const s = seq(value, 'first');
    return s.length ? s[0] : new Undefined('first', 'No first item, sequence was empty.');
  },
  last: (value) => {
    const s = seq(value, 'last');
    return s.length ? s[s.length - 1] : new Undefined('last', 'No last item, sequence was empty.');
  },
  unique: (value) => uniqueList(seq(value, 'unique')),
  sort(value, ...args) {
    const o = kwargs(args, ['reverse', 'case_sensitive', 'attribute']);
    const key = (x: unknown): unknown => (o.attribute ? getAttrPath(x, String(o.attribute)) : x);
    const out = [...seq(value, 'sort')].sort((a, b) => pySortCompare(key(a), key(b), Boolean(o.case_sensitive)));
    return o.reverse ? out.reverse() : out;
  },
  reverse: (value) => (typeof value === 'string' ? [...value].reverse().join('') : [...seq(value, 'reverse')].reverse()),
  to_json(value, ...args) {
    const o = kwargs(args, ['indent', 'sort_keys']);
    return pyJsonDumps(value, { indent: o.indent === undefined || o.indent === null ? undefined : Number(o.indent), sortKeys: Boolean(o.sort_keys), ensureAscii: o.ensure_ascii !== false });
  },
  to_nice_json(value, ...args) {
    const o = kwargs(args, ['indent', 'sort_keys']);
    return pyJsonDumps(value, { indent: o.indent === undefined ? 4 : Number(o.indent), sortKeys: o.sort_keys !== false, ensureAscii: o.ensure_ascii !== false });
  },
  to_yaml: (value) => pyYamlDump(value, false),
  to_nice_yaml: (value, ...args) => pyYamlDump(value, true, Number(kwargs(args, ['indent']).indent ?? 4)),
  from_json(value) {
    // Text that spelled a dict or list is one already (jinja2_native off turns it into one): keep it.
    if (Array.isArray(value) || isMapping(value)) return value;
    try {
      return JSON.parse(pyStr(value)) as unknown;
    } catch (e) {
      return fail(`from_json: ${(e as Error).message}`);
    }
  },
  from_yaml(value) {
    if (typeof value !== 'string') return value;
    try {
      return parseYaml(value, '<from_yaml>').data;
    } catch (e) {
      return fail(`from_yaml: ${(e as Error).message}`);
    }
  },
  regex_replace(value, ...args) {
    const o = kwargs(args, ['pattern', 'replacement', 'ignorecase', 'multiline', 'count']);
    const re = pyRegex(String(o.pattern ?? ''), { ignorecase: Boolean(o.ignorecase), multiline: Boolean(o.multiline) }, true);
    let n = 0;
    const max = Number(o.count ?? 0);
    const repl = String(o.replacement ?? '');
    return pyStr(value).replace(re, (...m: unknown[]) => {
      const groups = typeof m[m.length - 1] === 'object' ? (m[m.length - 1] as Record<string, string>) : undefined;
      const arr = m.slice(0, typeof groups === 'object' ? -3 : -2) as string[] & { groups?: Record<string, string> };
      arr.groups = groups;
      if (max > 0 && n >= max) return arr[0]!;
      n++;
      return pyExpand(repl, arr as unknown as RegExpMatchArray);
    });
  },
  regex_search(value, pattern, ...args) {
    const { pos, kw } = splitKwargs(args);
    const re = pyRegex(String(pattern), { ignorecase: Boolean(kw.ignorecase), multiline: Boolean(kw.multiline) });
    const m = re.exec(pyStr(value));
    if (!m) return null;
    if (pos.length === 0) return m[0];
    return pos.map((g) => {
      const s = String(g);
      const num = /^\\(\d+)$/.exec(s);
      if (num) return m[Number(num[1])] ?? null;
      const named = /^\\g<(\w+)>$/.exec(s);
      if (named) return (/^\d+$/.test(named[1]!) ? m[Number(named[1])] : m.groups?.[named[1]!]) ?? null;
      return fail(`regex_search: unknown argument ${s}`);
    });
  },
  regex_findall(value, pattern, ...args) {
    const o = kwargs(args, ['multiline', 'ignorecase']);
    const re = pyRegex(String(pattern), { ignorecase: Boolean(o.ignorecase), multiline: Boolean(o.multiline) }, true);
    const out: unknown[] = [];
    for (const m of pyStr(value).matchAll(re)) {
      if (m.length === 1) out.push(m[0]);
      else if (m.length === 2) out.push(m[1] ?? '');
      else out.push(m.slice(1).map((x) => x ?? ''));
    }
    return out;
  },
  regex_escape: (value) => pyStr(value).replace(/[^A-Za-z0-9_]/g, (c) => `\\${c}`),
  b64encode: (value) => Buffer.from(pyStr(value), 'utf8').toString('base64'),
  b64decode: (value) => Buffer.from(pyStr(value), 'base64').toString('utf8'),
  join(value, ...args) {
    const o = kwargs(args, ['d', 'attribute']);
    const items = seq(value, 'join').map((x) => (o.attribute ? getAttrPath(x, String(o.attribute)) : x));
    return items.map(pyStr).join(o.d === undefined ? '' : pyStr(o.d));
  },
  split: (value, sep?: unknown, max?: unknown) => {
    const s = pyStr(value);
    if (sep === undefined || sep === null) return s.split(/\s+/).filter((x) => x !== '');
    const parts = s.split(String(sep));
    const n = max === undefined ? -1 : Number(max);
    return n < 0 || parts.length <= n + 1 ? parts : [...parts.slice(0, n), parts.slice(n).join(String(sep))];
  },
  replace: (value, old: unknown, repl: unknown, count?: unknown) => {
    const parts = pyStr(value).split(pyStr(old));
    const n = count === undefined || count === null ? parts.length : Number(count) + 1;
    return [parts.slice(0, n).join(pyStr(repl)), ...parts.slice(n)].join(pyStr(old));
  },
  map(value, ...args) {
    const items = seq(value, 'map');
    const { pos, kw } = splitKwargs(args);
    if (kw.attribute !== undefined) {
      return items.map((x) => {
        const v = getAttrPath(x, String(kw.attribute));
        if (v === undefined) return 'default' in kw ? kw.default : new Undefined(pyStr(kw.attribute), `'${pyType(x)} object' has no attribute '${pyStr(kw.attribute)}'`);
        return v;
      });
    }
    if (pos.length === 0) return fail('map: give a filter name or attribute=');
    const f = byName('filter', pos[0], (n) => this.env.getFilter(n));
    const rest = pos.slice(1);
    const hasKw = Object.keys(kw).length > 0;
    return items.map((x) => f.call(this, x, ...rest, ...(hasKw ? [{ ...kw, __keywords: true }] : [])));
  },
  select(value, test?: unknown, ...args) {
    return seq(value, 'select').filter((x) => runTest(this, test, x, args));
  },
  reject(value, test?: unknown, ...args) {
    return seq(value, 'reject').filter((x) => !runTest(this, test, x, args));
  },
  selectattr(value, attr: unknown, test?: unknown, ...args) {
    return seq(value, 'selectattr').filter((x) => {
      const v = getAttrPath(x, String(attr));
      if (v === undefined) return test === 'undefined';
      return runTest(this, test, v, args);
    });
  },
  rejectattr(value, attr: unknown, test?: unknown, ...args) {
    return seq(value, 'rejectattr').filter((x) => {
      const v = getAttrPath(x, String(attr));
      if (v === undefined) return test !== 'undefined';
      return !runTest(this, test, v, args);
    });
  },
  ternary(value, trueVal: unknown, falseVal: unknown, noneVal: unknown = null) {
    if ((value === null || value === undefined) && noneVal !== null) return noneVal;
    return pyBool(value) ? trueVal : falseVal;
  },
  dict2items(value, ...args) {
    const o = kwargs(args, ['key_name', 'value_name']);
    if (!isMapping(value)) return fail(`dict2items requires a dictionary, got ${pyType(value)} instead.`);
    return Object.entries(value).map(([k, v]) => ({ [String(o.key_name ?? 'key')]: k, [String(o.value_name ?? 'value')]: v }));
  },
  items2dict(value, ...args) {
    const o = kwargs(args, ['key_name', 'value_name']);
    const kn = String(o.key_name ?? 'key');
    const vn = String(o.value_name ?? 'value');
    const out: Record<string, unknown> = {};
    for (const it of seq(value, 'items2dict')) {
      if (!isMapping(it) || !(kn in it) || !(vn in it)) return fail(`items2dict: each item needs '${kn}' and '${vn}' keys`);
      out[pyStr(it[kn])] = it[vn];
    }
    return out;
  },
  combine(value, ...args) {
    const { pos, kw } = splitKwargs(args);
    return combine([value, ...pos], Boolean(kw.recursive), String(kw.list_merge ?? 'replace'));
  },
  // Python's os.path: basename('a/b/') is '', dirname('file') is ''.
  basename: (value) => {
    const s = pyStr(value);
    return s.slice(s.lastIndexOf('/') + 1);
  },
  dirname: (value) => {
    const s = pyStr(value);
    const head = s.slice(0, s.lastIndexOf('/') + 1);
    return head && !/^\/+$/.test(head) ? head.replace(/\/+$/, '') : head;
  },
  splitext: (value) => {
    const s = pyStr(value);
    const ext = path.posix.extname(s);
    return [s.slice(0, s.length - ext.length), ext];
  },
  path_join: (value) => path.posix.join(...seq(value, 'path_join').map(pyStr)),
  hash: (value, algo: unknown = 'sha1') => (typeof algo === 'string' ? hashOf(value, algo) : fail(`hash: the algorithm must be a name such as 'sha256', got ${pyRepr(algo)}`)),
  checksum: (value) => hashOf(value, 'sha1'),
  md5: (value) => hashOf(value, 'md5'),
  sha1: (value) => hashOf(value, 'sha1'),
  quote: (value) => shellQuote(pyStr(value)),
  zip: (value, ...others) => {
    const lists = [seq(value, 'zip'), ...others.map((o) => seq(o, 'zip'))];
    const n = Math.min(...lists.map((l) => l.length));
    return Array.from({ length: n }, (_x, i) => lists.map((l) => l[i]));
  },
  zip_longest: (value, ...args) => {
    const { pos, kw } = splitKwargs(args);
    const lists = [seq(value, 'zip_longest'), ...pos.map((o) => seq(o, 'zip_longest'))];
    const n = Math.max(...lists.map((l) => l.length));
    return Array.from({ length: n }, (_x, i) => lists.map((l) => (i < l.length ? l[i] : (kw.fillvalue ?? null))));
  },
  flatten(value, ...args) {
    const o = kwargs(args, ['levels', 'skip_nulls']);
    return flatten(seq(value, 'flatten'), o.levels === undefined || o.levels === null ? null : Number(o.levels), o.skip_nulls !== false);
  },
  min(value, ...args) {
    return minMax(value, args, 1, 'min');
  },
  max(value, ...args) {
    return minMax(value, args, -1, 'max');
  },
  sum(value, ...args) {
    const o = kwargs(args, ['attribute', 'start']);
    let acc: unknown = o.start ?? 0;
    for (const x of seq(value, 'sum')) {
      const v = o.attribute ? getAttrPath(x, String(o.attribute)) : x;
      if (Array.isArray(acc) && Array.isArray(v)) acc = [...acc, ...v];
      else if (typeof acc === 'number' && (typeof v === 'number' || typeof v === 'boolean')) acc = acc + Number(v);
      else throw new PyTypeError(`unsupported operand type(s) for +: '${pyType(acc)}' and '${pyType(v)}'`);
    }
    return acc;
  },
  list: (value) => [...seq(value, 'list')],
  abs: (value) => Math.abs(Number(toFloat(value, NaN))),
  round(value, ...args) {
    const o = kwargs(args, ['precision', 'method']);
    const p = 10 ** Number(o.precision ?? 0);
    const n = Number(value) * p;
    const r = o.method === 'floor' ? Math.floor(n) : o.method === 'ceil' ? Math.ceil(n) : Math.sign(n) * Math.round(Math.abs(n));
    return r / p;
  },
  difference: (a, b) => seq(a, 'difference').filter((x, i, arr) => !seq(b, 'difference').some((y) => pyEq(x, y)) && arr.findIndex((y) => pyEq(x, y)) === i),
  intersect: (a, b) => uniqueList(seq(a, 'intersect').filter((x) => seq(b, 'intersect').some((y) => pyEq(x, y)))),
  union: (a, b) => uniqueList([...seq(a, 'union'), ...seq(b, 'union')]),
  symmetric_difference: (a, b) => {
    const x = seq(a, 'symmetric_difference');
    const y = seq(b, 'symmetric_difference');
    return uniqueList([...x.filter((v) => !y.some((w) => pyEq(v, w))), ...y.filter((v) => !x.some((w) => pyEq(v, w)))]);
  },
  dictsort(value) {
    if (!isMapping(value)) return fail('dictsort: expected a dict');
    return Object.entries(value).sort((a, b) => pySortCompare(a[0], b[0]));
  },
  indent(value, ...args) {
    const o = kwargs(args, ['width', 'first', 'blank']);
    const pad = typeof o.width === 'string' ? o.width : ' '.repeat(Number(o.width ?? 4));
    const lines = pyStr(value).split('\n');
    return lines.map((l, i) => ((i === 0 && !o.first) || (l.trim() === '' && !o.blank) ? l : pad + l)).join('\n');
  },
  // `key | extract(container, morekeys)`: container[key], then each of morekeys in turn.
  extract(value, container?: unknown, morekeys?: unknown) {
    const keys = morekeys === undefined || morekeys === null ? [] : Array.isArray(morekeys) ? morekeys : [morekeys];
    let cur: unknown = container;
    for (const k of [value, ...keys]) {
      const key = typeof k === 'string' || typeof k === 'number' ? String(k) : pyRepr(k);
      const next = cur !== null && typeof cur === 'object' && (typeof k === 'string' || typeof k === 'number') ? (cur as Record<string, unknown>)[key] : undefined;
      if (next === undefined) return new Undefined(key, `'${pyType(cur)} object' has no attribute '${key}'`);
      cur = next;
    }
    return cur;
  },
  type_debug: (value) => pyType(value),
  repr: (value) => pyRepr(value),
  version_compare(value, ...args) {
    return runTest(this, 'version', value, args);
  },
};
FILTERS.d = FILTERS.default!;
FILTERS.count = FILTERS.length!;
