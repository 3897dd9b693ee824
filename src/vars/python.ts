// Python value semantics that Jinja2 templates rely on and JavaScript lacks: truthiness ([] and {} are
// false), repr for output (True, None, ['a']), == on lists and dicts, + on lists, str methods.

/** A plain JSON-like mapping (what YAML, JSON and set_fact produce). */
export function isMapping(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

/** Python's type name, for error messages that match Ansible's wording. */
export function pyType(v: unknown): string {
  if (v === null || v === undefined) return 'NoneType';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (typeof v === 'string') return 'str';
  if (Array.isArray(v)) return 'list';
  if (isMapping(v)) return 'dict';
  return typeof v === 'object' ? ((v as object).constructor?.name ?? 'object') : typeof v;
}

/** Python truthiness (the caller handles undefined markers first). */
export function pyBool(v: unknown): boolean {
  if (v === null || v === undefined) return false;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0 && !Number.isNaN(v);
  if (typeof v === 'string') return v.length > 0;
  if (Array.isArray(v)) return v.length > 0;
  if (isMapping(v)) return Object.keys(v).length > 0;
  return true;
}

function quoteStr(s: string): string {
  const q = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = '';
  for (const ch of s) {
    if (ch === '\\') out += '\\\\';
    else if (ch === q) out += `\\${q}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else out += ch;
  }
  return q + out + q;
}

function numStr(n: number): string {
  if (Number.isNaN(n)) return 'nan';
  if (n === Infinity) return 'inf';
  if (n === -Infinity) return '-inf';
  return String(n);
}

/** Python repr() of a JSON-like value (how a list or dict prints inside a string template). */
export function pyRepr(v: unknown): string {
  if (v !== null && typeof v === 'object') assertFinite(v);
  return reprOf(v);
}

function reprOf(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') return numStr(v);
  if (typeof v === 'string') return quoteStr(v);
  if (Array.isArray(v)) return `[${v.map(reprOf).join(', ')}]`;
  if (isMapping(v)) return `{${Object.entries(v).map(([k, x]) => `${quoteStr(k)}: ${reprOf(x)}`).join(', ')}}`;
  return String(v);
}

/** Deepest nesting of lists and dicts that printing and serialising walk (deeper is refused, not a stack overflow). */
export const MAX_NESTING = 500;

/**
 * Refuses a value that contains itself or nests deeper than MAX_NESTING, before a recursive walk
 * (printing, to_json, to_yaml) would run out of stack. Python raises "Circular reference detected" too.
 */
export function assertFinite(v: unknown): void {
  const open = new Set<object>();
  const walk = (x: unknown, depth: number): void => {
    if (x === null || typeof x !== 'object') return;
    if (depth > MAX_NESTING) throw new PyTypeError(`ValueError: the value is nested more than ${MAX_NESTING} levels deep`);
    if (open.has(x)) throw new PyTypeError('ValueError: Circular reference detected (the value contains itself)');
    if (!Array.isArray(x) && !isMapping(x)) return;
    open.add(x);
    for (const c of Array.isArray(x) ? x : Object.values(x)) walk(c, depth + 1);
    open.delete(x);
  };
  walk(v, 0);
}

/** Python str(): what `{{ x }}` writes. None prints as '' like Ansible's finalize does. */
export function pyStr(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return numStr(v);
  return pyRepr(v);
}

/** Python ==: deep on lists and dicts, no string/number coercion, True == 1. */
export function pyEq(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || a === undefined || b === null || b === undefined) return (a ?? null) === (b ?? null);
  const na = typeof a === 'boolean' || typeof a === 'number';
  const nb = typeof b === 'boolean' || typeof b === 'number';
  if (na && nb) return Number(a) === Number(b);
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => pyEq(x, b[i]));
  if (isMapping(a) && isMapping(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && pyEq(a[k], b[k]));
  }
  if (typeof a === 'object' && typeof b === 'object') return false;
  return String(a) === String(b) && typeof a === typeof b;
}

export class PyTypeError extends Error {}

/** Python ordering (<, >): numbers with numbers, strings with strings, lists element-wise; else TypeError. */
export function pyCmp(a: unknown, b: unknown, op: string): number {
  const na = typeof a === 'boolean' || typeof a === 'number';
  const nb = typeof b === 'boolean' || typeof b === 'number';
  if (na && nb) return Number(a) - Number(b);
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      if (!pyEq(a[i], b[i])) return pyCmp(a[i], b[i], op);
    }
    return a.length - b.length;
  }
  throw new PyTypeError(`'${op}' not supported between instances of '${pyType(a)}' and '${pyType(b)}'`);
}

/** Sort key comparison used by sort/min/max/unique (Python ordering, strings optionally case-folded). */
export function pySortCompare(a: unknown, b: unknown, caseSensitive = false): number {
  if (!caseSensitive && typeof a === 'string' && typeof b === 'string') return pyCmp(a.toLowerCase(), b.toLowerCase(), '<');
  return pyCmp(a, b, '<');
}

export function pyAdd(a: unknown, b: unknown): unknown {
  const na = typeof a === 'boolean' || typeof a === 'number';
  const nb = typeof b === 'boolean' || typeof b === 'number';
  if (na && nb) return Number(a) + Number(b);
  if (typeof a === 'string' && typeof b === 'string') return a + b;
  if (Array.isArray(a) && Array.isArray(b)) return [...a, ...b];
  throw new PyTypeError(`unsupported operand type(s) for +: '${pyType(a)}' and '${pyType(b)}' (use ~ to join as text)`);
}

export function pyMul(a: unknown, b: unknown): unknown {
  const na = typeof a === 'boolean' || typeof a === 'number';
  const nb = typeof b === 'boolean' || typeof b === 'number';
  if (na && nb) return Number(a) * Number(b);
  if (typeof a === 'string' && nb) return a.repeat(Math.max(0, Number(b)));
  if (Array.isArray(a) && nb) return Array.from({ length: Math.max(0, Number(b)) }, () => a).flat(1);
  if (na && (typeof b === 'string' || Array.isArray(b))) return pyMul(b, a);
  throw new PyTypeError(`unsupported operand type(s) for *: '${pyType(a)}' and '${pyType(b)}'`);
}

/** `%`: Python modulo on numbers (sign of the divisor), printf-style formatting on a string. */
export function pyMod(a: unknown, b: unknown): unknown {
  if (typeof a === 'string') return pyFormatPercent(a, Array.isArray(b) ? b : [b]);
  if ((typeof a === 'number' || typeof a === 'boolean') && (typeof b === 'number' || typeof b === 'boolean')) {
    const x = Number(a);
    const y = Number(b);
    return x - y * Math.floor(x / y);
  }
  throw new PyTypeError(`unsupported operand type(s) for %: '${pyType(a)}' and '${pyType(b)}'`);
}

function pyFormatPercent(fmt: string, args: unknown[]): string {
  let i = 0;
  const out = fmt.replace(/%([-+ 0]*)(\d*)(?:\.(\d+))?([sdifr%])/g, (_m, flags: string, width: string, prec: string | undefined, conv: string) => {
    if (conv === '%') return '%';
    if (i >= args.length) throw new PyTypeError('not enough arguments for format string');
    const v = args[i++];
    let s: string;
    if (conv === 's') s = pyStr(v);
    else if (conv === 'r') s = pyRepr(v);
    else if (conv === 'f') s = Number(v).toFixed(prec === undefined ? 6 : Number(prec));
    else s = String(Math.trunc(Number(v)));
    const w = Number(width || 0);
    if (s.length < w) s = flags.includes('-') ? s.padEnd(w) : s.padStart(w, flags.includes('0') && conv !== 's' ? '0' : ' ');
    return s;
  });
  if (i < args.length) throw new PyTypeError('not all arguments converted during string formatting');
  return out;
}

/** Drops nunjucks' keyword-argument object (the last argument, marked `__keywords`) into its own record. */
export function splitKwargs(args: unknown[]): { pos: unknown[]; kw: Record<string, unknown> } {
  const last = args[args.length - 1];
  if (last && typeof last === 'object' && (last as { __keywords?: unknown }).__keywords === true) {
    const kw: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(last)) if (k !== '__keywords') kw[k] = v;
    return { pos: args.slice(0, -1), kw };
  }
  return { pos: args, kw: {} };
}

function stripChars(s: string, chars: unknown, left: boolean, right: boolean): string {
  const set = chars === undefined || chars === null ? null : new Set(String(chars));
  const strip = (c: string): boolean => (set ? set.has(c) : /\s/.test(c));
  let a = 0;
  let b = s.length;
  if (left) while (a < b && strip(s[a]!)) a++;
  if (right) while (b > a && strip(s[b - 1]!)) b--;
  return s.slice(a, b);
}

function pySplit(s: string, sep: unknown, maxsplit: unknown): string[] {
  const max = maxsplit === undefined || maxsplit === null ? -1 : Number(maxsplit);
  if (sep === undefined || sep === null) {
    const parts: string[] = [];
    let rest = s.replace(/^\s+/, '');
    while (rest.length > 0) {
      if (max >= 0 && parts.length === max) {
        parts.push(rest.replace(/\s+$/, ''));
        break;
      }
      const m = /\s+/.exec(rest);
      if (!m) {
        parts.push(rest);
        break;
      }
      parts.push(rest.slice(0, m.index));
      rest = rest.slice(m.index + m[0].length);
    }
    return parts;
  }
  const sp = String(sep);
  if (sp === '') throw new PyTypeError('empty separator');
  const all = s.split(sp);
  if (max < 0 || all.length <= max + 1) return all;
  return [...all.slice(0, max), all.slice(max).join(sp)];
}

function prefixes(p: unknown): string[] {
  return Array.isArray(p) ? p.map(String) : [String(p)];
}

type Method = (self: never, ...args: unknown[]) => unknown;

/** str methods Ansible templates use; Python semantics win over the JS ones of the same name (split, replace). */
export const STR_METHODS: Record<string, Method> = {
  startswith: (s: string, p: unknown) => prefixes(p).some((x) => s.startsWith(x)),
  endswith: (s: string, p: unknown) => prefixes(p).some((x) => s.endsWith(x)),
  split: (s: string, sep?: unknown, max?: unknown) => pySplit(s, sep, max),
  rsplit: (s: string, sep?: unknown, max?: unknown) => {
    if (max === undefined || max === null || Number(max) < 0) return pySplit(s, sep, max);
    const rev = (x: string): string => [...x].reverse().join('');
    return pySplit(rev(s), sep === undefined || sep === null ? sep : rev(String(sep)), max).map(rev).reverse();
  },
  splitlines: (s: string) => s.split(/\r\n|\r|\n/).filter((x, i, a) => i < a.length - 1 || x !== ''),
  upper: (s: string) => s.toUpperCase(),
  lower: (s: string) => s.toLowerCase(),
  strip: (s: string, c?: unknown) => stripChars(s, c, true, true),
  lstrip: (s: string, c?: unknown) => stripChars(s, c, true, false),
  rstrip: (s: string, c?: unknown) => stripChars(s, c, false, true),
  replace: (s: string, a: unknown, b: unknown, count?: unknown) => {
    const parts = s.split(String(a));
    const n = count === undefined || Number(count) < 0 ? parts.length : Number(count) + 1;
    return [parts.slice(0, n).join(String(b)), ...parts.slice(n)].join(String(a));
  },
  find: (s: string, x: unknown) => s.indexOf(String(x)),
  rfind: (s: string, x: unknown) => s.lastIndexOf(String(x)),
  index: (s: string, x: unknown) => {
    const i = s.indexOf(String(x));
    if (i < 0) throw new PyTypeError('substring not found');
    return i;
  },
  count: (s: string, x: unknown) => s.split(String(x)).length - 1,
  join: (s: string, it: unknown) => (Array.isArray(it) ? it.map(pyStr) : []).join(s),
  capitalize: (s: string) => s.charAt(0).toUpperCase() + s.slice(1).toLowerCase(),
  title: (s: string) => s.toLowerCase().replace(/(^|[^a-zA-Z])([a-z])/g, (_m, a: string, b: string) => a + b.toUpperCase()),
  isdigit: (s: string) => /^\d+$/.test(s),
  isalpha: (s: string) => /^[a-zA-Z]+$/.test(s),
  isalnum: (s: string) => /^[a-zA-Z0-9]+$/.test(s),
  isspace: (s: string) => /^\s+$/.test(s),
  islower: (s: string) => /[a-z]/.test(s) && s === s.toLowerCase(),
  isupper: (s: string) => /[A-Z]/.test(s) && s === s.toUpperCase(),
  zfill: (s: string, w: unknown) => (s.startsWith('-') ? `-${s.slice(1).padStart(Number(w) - 1, '0')}` : s.padStart(Number(w), '0')),
  ljust: (s: string, w: unknown, f?: unknown) => s.padEnd(Number(w), f === undefined ? ' ' : String(f)),
  rjust: (s: string, w: unknown, f?: unknown) => s.padStart(Number(w), f === undefined ? ' ' : String(f)),
  format: (s: string, ...args: unknown[]) => {
    let auto = 0;
    return s.replace(/\{\{|\}\}|\{(\d*)\}/g, (m, n: string | undefined) => {
      if (m === '{{') return '{';
      if (m === '}}') return '}';
      return pyStr(args[n ? Number(n) : auto++]);
    });
  },
};

export const LIST_METHODS: Record<string, Method> = {
  index: (a: unknown[], x: unknown) => {
    const i = a.findIndex((y) => pyEq(y, x));
    if (i < 0) throw new PyTypeError(`${pyRepr(x)} is not in list`);
    return i;
  },
  count: (a: unknown[], x: unknown) => a.filter((y) => pyEq(y, x)).length,
  append: (a: unknown[], x: unknown) => {
    a.push(x);
    return null;
  },
  extend: (a: unknown[], x: unknown) => {
    if (Array.isArray(x)) a.push(...(x as unknown[]));
    return null;
  },
  insert: (a: unknown[], i: unknown, x: unknown) => {
    a.splice(Number(i), 0, x);
    return null;
  },
  copy: (a: unknown[]) => [...a],
};

export const DICT_METHODS: Record<string, Method> = {
  keys: (d: Record<string, unknown>) => Object.keys(d),
  values: (d: Record<string, unknown>) => Object.values(d),
  items: (d: Record<string, unknown>) => Object.entries(d),
  get: (d: Record<string, unknown>, k: unknown, def: unknown = null) => (Object.hasOwn(d, String(k)) ? d[String(k)] : def),
  copy: (d: Record<string, unknown>) => ({ ...d }),
  update: (d: Record<string, unknown>, o: unknown) => {
    if (isMapping(o)) Object.assign(d, o);
    return null;
  },
};
