// The rest of ansible-core's filters (core, mathstuff, urls, urlsplit) and Jinja builtins nunjucks
// lacks: dates, math, sets of lists, random with a seed, paths, URLs, comments, uuids.
import { createHash, randomInt } from 'node:crypto';
import { realpathSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { FilterError, getAttrPath, pyJsonDumps, type FilterFn } from './filters.js';
import { PyRandom } from './pyrandom.js';
import { localTime, strftime, strptime } from './pytime.js';
import { isMapping, pyMod, pyRepr, pyStr, pyType, splitKwargs } from './python.js';

function fail(msg: string): never {
  throw new FilterError(msg);
}

function list(v: unknown, filter: string): unknown[] {
  if (Array.isArray(v)) return v;
  if (typeof v === 'string') return [...v];
  if (isMapping(v)) return Object.keys(v);
  return fail(`${filter}: expected a list, got ${pyType(v)}`);
}

function num(v: unknown, filter: string): number {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  if (typeof n === 'boolean') return n ? 1 : 0;
  if (typeof n !== 'number' || Number.isNaN(n)) return fail(`${filter}: can only be used on numbers, got ${pyType(v)}`);
  return n;
}

function product(lists: unknown[][]): unknown[][] {
  return lists.reduce<unknown[][]>((acc, xs) => acc.flatMap((a) => xs.map((x) => [...a, x])), [[]]);
}

function permutations(xs: unknown[], r: number): unknown[][] {
  if (r === 0) return [[]];
  return xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)], r - 1).map((p) => [x, ...p]));
}

function combinations(xs: unknown[], r: number): unknown[][] {
  if (r === 0) return [[]];
  return xs.flatMap((x, i) => combinations(xs.slice(i + 1), r - 1).map((c) => [x, ...c]));
}

const SIZE_RANGES: Array<[string, number]> = [
  ['Y', 2 ** 80],
  ['Z', 2 ** 70],
  ['E', 2 ** 60],
  ['P', 2 ** 50],
  ['T', 2 ** 40],
  ['G', 2 ** 30],
  ['M', 2 ** 20],
  ['K', 2 ** 10],
  ['B', 1],
];

function humanReadable(size: number, isbits: boolean, unit: unknown): string {
  const base = isbits ? 'bits' : 'Bytes';
  let suffix = 'B';
  let limit = 1;
  for ([suffix, limit] of SIZE_RANGES) {
    if ((unit === undefined || unit === null ? size >= limit : String(unit).toUpperCase() === suffix)) break;
  }
  return `${(size / limit).toFixed(2)} ${limit !== 1 ? suffix + base[0] : base}`;
}

function humanToBytes(value: unknown, defaultUnit: unknown, isbits: boolean): number {
  const m = /^\s*(\d*\.?\d*)\s*([A-Za-z]+)?/.exec(pyStr(value));
  if (!m || m[1] === '' || m[1] === '.') return fail(`human_to_bytes() can't interpret following string: ${pyStr(value)}`);
  const n = Number(m[1]);
  const unit = m[2] ?? (defaultUnit === undefined || defaultUnit === null ? undefined : String(defaultUnit));
  if (unit === undefined) return Math.round(n);
  const key = unit[0]!.toUpperCase();
  const range = SIZE_RANGES.find(([k]) => k === key);
  if (!range) return fail(`human_to_bytes() failed to convert ${pyStr(value)} (unit = ${unit}). The suffix must be one of ${SIZE_RANGES.map(([k]) => k).reverse().join(', ')}`);
  const cls = isbits ? 'b' : 'B';
  if (unit.length > 1 || key === 'B') {
    const rest = key === 'B' ? unit : unit.slice(1);
    const ok = isbits ? /^(b|bits?)$/.test(key === 'B' ? unit : rest) : rest === 'B' || (key === 'B' && /^(B|bytes?)$/i.test(unit) && unit[0] === 'B');
    if (!ok) return fail(`human_to_bytes() failed to convert ${pyStr(value)}. Value is not a valid string (expect ${cls === 'b' ? 'bits' : 'bytes'} suffix, e.g. 1${key === 'B' ? '' : key}${cls})`);
  }
  return Math.round(n * range[1]);
}

/** Python urllib.parse.quote: unreserved characters and `safe` stay, the rest %-encoded as UTF-8. */
function urlQuote(s: string, safe: string): string {
  return [...Buffer.from(s, 'utf8')]
    .map((b) => {
      const c = String.fromCharCode(b);
      return /[A-Za-z0-9_.~-]/.test(c) || (b < 128 && safe.includes(c)) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
    })
    .join('');
}

function urlsplit(url: string): Record<string, unknown> {
  const m = /^(?:([A-Za-z][A-Za-z0-9+.-]*):)?(?:\/\/([^/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#(.*))?$/.exec(url)!;
  const netloc = m[2] ?? '';
  const at = netloc.lastIndexOf('@');
  const userinfo = at >= 0 ? netloc.slice(0, at) : '';
  const hostport = at >= 0 ? netloc.slice(at + 1) : netloc;
  const hp = /^(\[[^\]]*\]|[^:]*)(?::(\d*))?$/.exec(hostport);
  const host = hp ? hp[1]!.replace(/^\[|\]$/g, '') : hostport;
  const colon = userinfo.indexOf(':');
  return {
    fragment: m[5] ?? '',
    hostname: host ? host.toLowerCase() : null,
    netloc,
    password: at >= 0 && colon >= 0 ? userinfo.slice(colon + 1) : null,
    path: m[3] ?? '',
    port: hp && hp[2] ? Number(hp[2]) : null,
    query: m[4] ?? '',
    scheme: (m[1] ?? '').toLowerCase(),
    username: at >= 0 ? (colon >= 0 ? userinfo.slice(0, colon) : userinfo) : null,
  };
}

/** uuid.uuid5(namespace, name). */
function uuid5(namespace: string, name: string): string {
  const ns = Buffer.from(namespace.replace(/[{}-]/g, ''), 'hex');
  const h = createHash('sha1').update(Buffer.concat([ns, Buffer.from(name, 'utf8')])).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

const COMMENT_STYLES: Record<string, Record<string, string>> = {
  plain: { decoration: '# ' },
  erlang: { decoration: '% ' },
  c: { decoration: '// ' },
  cblock: { beginning: '/*', decoration: ' * ', end: ' */' },
  xml: { beginning: '<!--', decoration: ' - ', end: '-->' },
};

function comment(text: string, style: string, kw: Record<string, unknown>): string {
  const st = COMMENT_STYLES[style];
  if (!st) return fail(`comment: unknown style '${style}' (plain, erlang, c, cblock, xml)`);
  const p: Record<string, unknown> = { newline: '\n', beginning: '', prefix: null, prefix_count: 1, decoration: '', postfix: null, postfix_count: 1, end: '', ...st, ...kw };
  const nl = String(p.newline);
  const deco = String(p.decoration);
  if (p.prefix === null) p.prefix = deco.replace(/\s+$/, '');
  if (p.postfix === null) p.postfix = deco.replace(/\s+$/, '');
  const begin = p.beginning ? `${String(p.beginning)}${nl}` : '';
  const prefix = p.prefix ? (p.prefix !== nl ? `${String(p.prefix)}${nl}` : nl).repeat(Number(p.prefix_count)) : '';
  const body = text
    .split(nl)
    .map((l) => (deco + l).replace(/\s+$/, '') || deco)
    .join(nl);
  const postfix = p.postfix ? Array.from({ length: Number(p.postfix_count) }, () => nl + (p.postfix !== nl ? String(p.postfix) : '')).join('') : '';
  const end = p.end ? `${nl}${String(p.end)}` : '';
  return begin + prefix + body + postfix + end;
}

/** fnmatch-style glob of one pattern on the controller (`*`, `?`, `[...]` within path parts). */
export function globFiles(pattern: string): string[] {
  const abs = path.resolve(pattern);
  const parts = abs.split('/').filter(Boolean);
  let found = ['/'];
  parts.forEach((part, i) => {
    const last = i === parts.length - 1;
    const next: string[] = [];
    for (const dir of found) {
      if (!/[*?[]/.test(part)) {
        next.push(path.join(dir, part));
        continue;
      }
      const re = new RegExp(`^${part.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.').replace(/\[!/g, '[^')}$`);
      try {
        for (const e of readdirSync(dir, { withFileTypes: true })) {
          if (e.name.startsWith('.') && !part.startsWith('.')) continue;
          if (re.test(e.name) && (!last || true)) next.push(path.join(dir, e.name));
        }
      } catch {
        /* not a directory: nothing matches under it */
      }
    }
    found = next;
  });
  return found.filter((f) => {
    try {
      realpathSync(f);
      return true;
    } catch {
      return false;
    }
  });
}

export const ANSIBLE_FILTERS: Record<string, FilterFn> = {
  // Jinja's format: printf-style with the filter arguments.
  format: (value, ...args) => {
    const { pos, kw } = splitKwargs(args);
    return pyMod(pyStr(value), pos.length === 0 && Object.keys(kw).length > 0 ? [kw] : pos);
  },
  attr: (value, name) => (isMapping(value) || Array.isArray(value) ? getAttrPath(value, String(name)) : undefined),
  items: (value) => (isMapping(value) ? Object.entries(value) : fail(`items: expected a dict, got ${pyType(value)}`)),
  tojson: (value, indent?: unknown) =>
    pyJsonDumps(value, { sortKeys: true, indent: typeof indent === 'number' ? indent : undefined }).replace(/[<>&']/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`),
  pprint: (value) => pyRepr(value),
  product: (value, ...args) => {
    const { pos, kw } = splitKwargs(args);
    const lists = [list(value, 'product'), ...pos.map((p) => list(p, 'product'))];
    const repeat = Number(kw.repeat ?? 1);
    return product(Array.from({ length: repeat }, () => lists).flat(1));
  },
  permutations: (value, r?: unknown) => {
    const xs = list(value, 'permutations');
    return permutations(xs, r === undefined || r === null ? xs.length : Number(r));
  },
  combinations: (value, r: unknown) => combinations(list(value, 'combinations'), Number(r)),
  subelements(value, subelement: unknown, skipMissing: unknown = false) {
    const { pos, kw } = splitKwargs([subelement, skipMissing]);
    const sub = pos[0];
    const skip = Boolean(kw.skip_missing ?? pos[1] ?? false);
    const items = isMapping(value) ? Object.values(value) : Array.isArray(value) ? value : fail('obj must be a list of dicts or a nested dict');
    if (typeof sub !== 'string') return fail('subelements must be a list or a string');
    const out: unknown[] = [];
    for (const item of items) {
      let values: unknown = item;
      for (const part of sub.split('.')) {
        if (!isMapping(values) || !Object.hasOwn(values, part)) {
          if (skip) {
            values = [];
            break;
          }
          return fail(`could not find '${part}' key in iterated item '${pyRepr(values)}'`);
        }
        values = values[part];
      }
      if (!Array.isArray(values)) return fail(`the key ${sub} should point to a list, got '${pyRepr(values)}'`);
      for (const v of values) out.push([item, v]);
    }
    return out;
  },
  to_datetime: (value, format: unknown = '%Y-%m-%d %H:%M:%S') => strptime(pyStr(value), String(format)),
  strftime: (value, second?: unknown, utc?: unknown) => {
    const { pos, kw } = splitKwargs([second, utc].filter((x) => x !== undefined));
    const sec = kw.second ?? pos[0];
    return strftime(pyStr(value), localTime(sec === undefined || sec === null ? null : Number(sec), Boolean(kw.utc ?? pos[1] ?? false)));
  },
  human_readable: (value, ...args) => {
    const { pos, kw } = splitKwargs(args);
    return humanReadable(num(value, 'human_readable'), Boolean(kw.isbits ?? pos[0] ?? false), kw.unit ?? pos[1]);
  },
  human_to_bytes: (value, ...args) => {
    const { pos, kw } = splitKwargs(args);
    return humanToBytes(value, kw.default_unit ?? pos[0], Boolean(kw.isbits ?? pos[1] ?? false));
  },
  log: (value, base?: unknown) => {
    const x = num(value, 'log');
    return base === undefined || base === null ? Math.log(x) : base === 10 ? Math.log10(x) : Math.log(x) / Math.log(num(base, 'log'));
  },
  pow: (value, y: unknown) => Math.pow(num(value, 'pow'), num(y, 'pow')),
  root: (value, base: unknown = 2) => (Number(base) === 2 ? Math.sqrt(num(value, 'root')) : Math.pow(num(value, 'root'), 1 / num(base, 'root'))),
  random(value, ...args) {
    const { pos, kw } = splitKwargs(args);
    const seed = kw.seed;
    const below = (n: number): number => (seed === undefined || seed === null ? randomInt(n) : new PyRandom(seed).randbelow(n));
    if (typeof value === 'number' && Number.isInteger(value)) {
      const start = Number(kw.start ?? pos[0] ?? 0) || 0;
      const step = Number(kw.step ?? pos[1] ?? 1) || 1;
      const n = Math.max(0, Math.ceil((value - start) / step));
      if (n === 0) return fail('random: empty range for randrange()');
      return start + step * below(n);
    }
    const xs = list(value, 'random');
    if (xs.length === 0) return fail('random: cannot choose from an empty sequence');
    return xs[below(xs.length)];
  },
  shuffle(value, ...args) {
    const { kw } = splitKwargs(args);
    const xs = [...list(value, 'shuffle')];
    if (kw.seed === undefined || kw.seed === null) {
      for (let i = xs.length - 1; i > 0; i--) {
        const j = randomInt(i + 1);
        [xs[i], xs[j]] = [xs[j], xs[i]];
      }
      return xs;
    }
    return new PyRandom(kw.seed).shuffle(xs);
  },
  comment: (value, ...args) => {
    const { pos, kw } = splitKwargs(args);
    return comment(pyStr(value), String(kw.style ?? pos[0] ?? 'plain'), kw);
  },
  to_uuid: (value, namespace: unknown = '361E6D51-FAEC-444A-9079-341386DA8E2E') => uuid5(String(namespace), pyStr(value)),
  from_yaml_all: (value) => (typeof value === 'string' ? parseAllDocuments(value).map((d) => d.toJS() as unknown) : value),
  expanduser: (value) => pyStr(value).replace(/^~(?=$|\/)/, os.homedir()),
  expandvars: (value) => pyStr(value).replace(/\$(\w+)|\$\{(\w+)\}/g, (m, a: string | undefined, b: string | undefined) => process.env[(a ?? b)!] ?? m),
  realpath: (value) => {
    try {
      return realpathSync(pyStr(value));
    } catch {
      return path.resolve(pyStr(value));
    }
  },
  relpath: (value, start?: unknown) => path.relative(start === undefined || start === null ? process.cwd() : pyStr(start), pyStr(value)) || '.',
  win_basename: (value) => pyStr(value).split(/[\\/]/).pop() ?? '',
  win_dirname: (value) => {
    const s = pyStr(value);
    const i = Math.max(s.lastIndexOf('\\'), s.lastIndexOf('/'));
    return i < 0 ? (/^[A-Za-z]:/.test(s) ? s.slice(0, 2) : '') : s.slice(0, i).replace(/[\\/]+$/, '') || s.slice(0, i + 1);
  },
  win_splitdrive: (value) => {
    const s = pyStr(value);
    const m = /^([A-Za-z]:|\\\\[^\\]+\\[^\\]+)(.*)$/.exec(s);
    return m ? [m[1], m[2]] : ['', s];
  },
  fileglob: (value) => globFiles(pyStr(value)).filter((f) => !f.endsWith('/')),
  urldecode: (value) => decodeURIComponent(pyStr(value).replace(/\+/g, ' ')),
  // Jinja's urlencode: a string keeps '/', a dict or list of pairs becomes a query string.
  urlencode: (value) => {
    const qs = (s: unknown): string => urlQuote(pyStr(s), '').replace(/%20/g, '+');
    if (isMapping(value)) return Object.entries(value).map(([k, v]) => `${qs(k)}=${qs(v)}`).join('&');
    if (Array.isArray(value)) return value.map((p) => (Array.isArray(p) ? `${qs(p[0])}=${qs(p[1])}` : qs(p))).join('&');
    return urlQuote(pyStr(value), '/');
  },
  urlsplit: (value, query: unknown = '') => {
    const parts = urlsplit(pyStr(value));
    if (!query) return parts;
    if (!Object.hasOwn(parts, String(query))) return fail(`urlsplit: unknown URL component: ${pyStr(query)}`);
    return parts[String(query)];
  },
  rekey_on_member: (value, key: unknown, duplicates: unknown = 'error') => {
    const items = isMapping(value) ? Object.values(value) : Array.isArray(value) ? value : fail('Type is not a valid list, set, or dict');
    const out: Record<string, unknown> = {};
    for (const item of items) {
      if (!isMapping(item)) return fail(`List item is not a valid dict`);
      if (!Object.hasOwn(item, String(key))) return fail(`Key ${pyStr(key)} was not found`);
      const k = pyStr(item[String(key)]);
      if (Object.hasOwn(out, k) && duplicates === 'error') return fail(`Key ${k} is not unique, cannot correctly turn into dict`);
      if (!Object.hasOwn(out, k) || duplicates === 'overwrite') out[k] = item;
    }
    return out;
  },
};
