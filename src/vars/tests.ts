// Jinja2 and Ansible tests (`x is defined`, `result is failed`, `v is version('11', '>=')`).
import { existsSync, lstatSync, statSync } from 'node:fs';
import path from 'node:path';
import { isUndefined } from './jinja.js';
import { isMapping, pyBool, pyCmp, pyEq, pyType, splitKwargs } from './python.js';
import { pyRegex } from './regex.js';

export type TestFn = (value: unknown, ...args: unknown[]) => boolean;

export class TestError extends Error {}

function result(v: unknown, test: string): Record<string, unknown> {
  if (!isMapping(v)) throw new TestError(`The '${test}' test expects a dictionary (a registered result), got ${pyType(v)}`);
  return v;
}

function changed(v: unknown): boolean {
  const r = result(v, 'changed');
  if ('changed' in r) return pyBool(r.changed);
  // A loop's registered result: changed when any item changed.
  return Array.isArray(r.results) && r.results.some((x) => isMapping(x) && pyBool(x.changed));
}

function failed(v: unknown): boolean {
  return pyBool(result(v, 'failed').failed);
}

function skipped(v: unknown): boolean {
  return pyBool(result(v, 'skipped').skipped);
}

/** LooseVersion components: numbers as numbers, letter runs as strings, dots dropped. */
function looseParts(v: string): Array<number | string> {
  return v
    .split(/(\d+|[a-z]+|\.)/i)
    .filter((p) => p !== '' && p !== '.')
    .map((p) => (/^\d+$/.test(p) ? Number(p) : p));
}

/** Compares like LooseVersion; where Python would raise on int vs str, a number sorts before text. */
export function compareVersions(a: string, b: string): number {
  const x = looseParts(a);
  const y = looseParts(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const p = x[i]!;
    const q = y[i]!;
    if (p === q) continue;
    if (typeof p === typeof q) return p < q ? -1 : 1;
    return typeof p === 'number' ? -1 : 1;
  }
  return x.length - y.length;
}

const VERSION_OPS: Record<string, (c: number) => boolean> = {
  '<': (c) => c < 0,
  lt: (c) => c < 0,
  '<=': (c) => c <= 0,
  le: (c) => c <= 0,
  '>': (c) => c > 0,
  gt: (c) => c > 0,
  '>=': (c) => c >= 0,
  ge: (c) => c >= 0,
  '==': (c) => c === 0,
  '=': (c) => c === 0,
  eq: (c) => c === 0,
  '!=': (c) => c !== 0,
  '<>': (c) => c !== 0,
  ne: (c) => c !== 0,
};

function version(value: unknown, ...args: unknown[]): boolean {
  const { pos, kw } = splitKwargs(args);
  const other = pos[0] ?? kw.version;
  const op = String(pos[1] ?? kw.operator ?? 'eq');
  const f = VERSION_OPS[op];
  if (!f) throw new TestError(`version: invalid operator '${op}' (use <, <=, >, >=, ==, != or lt, le, gt, ge, eq, ne)`);
  if (other === undefined || other === null || other === '') throw new TestError('version: a version to compare with is required');
  return f(compareVersions(String(value), String(other)));
}

function regexTest(value: unknown, pattern: unknown, args: unknown[], matchType: 'match' | 'search' | 'fullmatch'): boolean {
  const { pos, kw } = splitKwargs(args);
  const ignorecase = Boolean(pos[0] ?? kw.ignorecase);
  const multiline = Boolean(pos[1] ?? kw.multiline);
  const type = String(kw.match_type ?? matchType);
  let src = String(pattern);
  if (type === 'match') src = `^(?:${src})`;
  else if (type === 'fullmatch') src = `^(?:${src})$`;
  // `^` of match is the string start even with multiline: anchor with a lookbehind instead.
  const re = pyRegex(type === 'search' ? src : src.replace(/^\^/, '(?<![\\s\\S])').replace(/\$$/, '(?![\\s\\S])'), { ignorecase, multiline });
  return re.test(String(value));
}

/** Ansible's uri tests over urlparse(): any text is a uri (of the given schemes), a url needs a netloc or file:. */
function uriTest(v: unknown, schemes: unknown, kind: 'uri' | 'url'): boolean {
  if (typeof v !== 'string') return false;
  const m = /^([a-z][a-z0-9+.-]*):(\/\/([^/?#]*))?/i.exec(v);
  const scheme = m ? m[1]!.toLowerCase() : '';
  if (Array.isArray(schemes) && schemes.length > 0 && !schemes.map(String).includes(scheme)) return false;
  return kind === 'uri' || !!m?.[3] || scheme === 'file';
}

function seqOf(v: unknown, test: string): unknown[] {
  if (Array.isArray(v)) return v;
  if (typeof v === 'string') return [...v];
  if (isMapping(v)) return Object.keys(v);
  throw new TestError(`The '${test}' test expects a list, got ${pyType(v)}`);
}

/** Tests that look at an undefined value themselves (the rest raise "'x' is undefined"). */
export const UNDEFINED_AWARE_TESTS = new Set(['defined', 'undefined']);

export const TESTS: Record<string, TestFn> = {
  defined: (v) => !isUndefined(v) && v !== undefined,
  undefined: (v) => isUndefined(v) || v === undefined,
  none: (v) => v === null,
  true: (v) => v === true,
  false: (v) => v === false,
  succeeded: (v) => !failed(v),
  unreachable: (v) => pyBool(result(v, 'unreachable').unreachable ?? false),
  reachable: (v) => !pyBool(result(v, 'unreachable').unreachable ?? false),
  failed,
  changed,
  skipped,
  finished: (v) => pyBool(result(v, 'finished').finished ?? true),
  match: (v, p, ...a) => regexTest(v, p, a, 'match'),
  search: (v, p, ...a) => regexTest(v, p, a, 'search'),
  regex: (v, p, ...a) => regexTest(v, p, a, 'search'),
  version,
  string: (v) => typeof v === 'string',
  number: (v) => typeof v === 'number',
  integer: (v) => typeof v === 'number' && Number.isInteger(v),
  float: (v) => typeof v === 'number' && !Number.isInteger(v),
  boolean: (v) => typeof v === 'boolean',
  mapping: (v) => isMapping(v),
  sequence: (v) => typeof v === 'string' || Array.isArray(v) || isMapping(v),
  iterable: (v) => typeof v === 'string' || Array.isArray(v) || isMapping(v),
  callable: (v) => typeof v === 'function',
  in: (v, seq) => (typeof seq === 'string' ? typeof v === 'string' && seq.includes(v) : Array.isArray(seq) ? seq.some((x) => pyEq(x, v)) : isMapping(seq) ? Object.hasOwn(seq, String(v)) : false),
  contains: (seq, v) => TESTS.in!(v, seq),
  subset: (a, b) => Array.isArray(a) && Array.isArray(b) && a.every((x) => b.some((y) => pyEq(x, y))),
  superset: (a, b) => Array.isArray(a) && Array.isArray(b) && b.every((x) => a.some((y) => pyEq(x, y))),
  truthy: (v, ...args) => {
    const { kw } = splitKwargs(args);
    return kw.convert_bool === true && typeof v === 'string' ? ['yes', 'on', '1', 'true'].includes(v.toLowerCase()) : pyBool(v);
  },
  falsy: (v, ...args) => !TESTS.truthy!(v, ...args),
  equalto: (a, b) => pyEq(a, b),
  eq: (a, b) => pyEq(a, b),
  ne: (a, b) => !pyEq(a, b),
  lt: (a, b) => pyCmp(a, b, '<') < 0,
  le: (a, b) => pyCmp(a, b, '<=') <= 0,
  gt: (a, b) => pyCmp(a, b, '>') > 0,
  ge: (a, b) => pyCmp(a, b, '>=') >= 0,
  even: (v) => Number(v) % 2 === 0,
  odd: (v) => Math.abs(Number(v) % 2) === 1,
  divisibleby: (v, n) => Number(v) % Number(n) === 0,
  lower: (v) => typeof v === 'string' && v === v.toLowerCase(),
  upper: (v) => typeof v === 'string' && v === v.toUpperCase(),
  // Path tests run on the controller, as in Ansible.
  exists: (v) => existsSync(String(v)),
  file: (v) => existsSync(String(v)) && statSync(String(v)).isFile(),
  directory: (v) => existsSync(String(v)) && statSync(String(v)).isDirectory(),
  link: (v) => {
    try {
      return lstatSync(String(v)).isSymbolicLink();
    } catch {
      return false;
    }
  },
  abs: (v) => path.posix.isAbsolute(String(v)),
  same_file: (a, b) => {
    try {
      const x = statSync(String(a));
      const y = statSync(String(b));
      return x.dev === y.dev && x.ino === y.ino;
    } catch {
      return false;
    }
  },
  // os.path.ismount: a directory whose device differs from its parent's (or the root itself).
  mount: (v) => {
    try {
      const p = path.resolve(String(v));
      const st = lstatSync(p);
      if (!st.isDirectory()) return false;
      const parent = lstatSync(path.join(p, '..'));
      return st.dev !== parent.dev || st.ino === parent.ino;
    } catch {
      return false;
    }
  },
  link_exists: (v) => {
    try {
      lstatSync(String(v));
      return true;
    } catch {
      return false;
    }
  },
  // Ansible's uri tests: urlparse() with a scheme (and for `url` a netloc, `urn` the urn: scheme).
  uri: (v, schemes) => uriTest(v, schemes, 'uri'),
  url: (v, schemes) => uriTest(v, schemes, 'url'),
  urn: (v) => uriTest(v, ['urn'], 'uri'),
  nan: (v) => typeof v === 'number' && Number.isNaN(v),
  // Python's any()/all() over a list (Jinja's `all`/`any` tests from Ansible's mathstuff).
  any: (v) => seqOf(v, 'any').some((x) => pyBool(x)),
  all: (v) => seqOf(v, 'all').every((x) => pyBool(x)),
  started: (v) => pyBool(result(v, 'started').started ?? true),
  // A string or AnsibleVaultEncryptedUnicode holding an encrypted vault payload.
  vault_encrypted: (v) => (v !== null && typeof v === 'object' && v.constructor?.name === 'VaultedValue') || (typeof v === 'string' && v.startsWith('$ANSIBLE_VAULT;')),
};
TESTS.success = TESTS.succeeded!;
TESTS.failure = TESTS.failed!;
TESTS.change = TESTS.changed!;
TESTS.skip = TESTS.skipped!;
TESTS.version_compare = TESTS.version!;
TESTS['=='] = TESTS.eq!;
TESTS['!='] = TESTS.ne!;
TESTS['<'] = TESTS.lt!;
TESTS['<='] = TESTS.le!;
TESTS['>'] = TESTS.gt!;
TESTS['>='] = TESTS.ge!;
TESTS.sameas = (a, b) => a === b;
TESTS.successful = TESTS.succeeded!;
TESTS.issubset = TESTS.subset!;
TESTS.issuperset = TESTS.superset!;
TESTS.is_dir = TESTS.directory!;
TESTS.is_file = TESTS.file!;
TESTS.is_link = TESTS.link!;
TESTS.is_abs = TESTS.abs!;
TESTS.is_mount = TESTS.mount!;
TESTS.is_same_file = TESTS.same_file!;
TESTS.isnan = TESTS.nan!;

