// toml: edits of a TOML file (WSO2 deployment.toml) that keep every other byte. The probe round trip
// returns the file's text; the controller parses it, applies the edits to the parsed value, and
// has @decimalturn/toml-patch write only what differs back into the text (comments, order, spacing,
// dotted keys and multi-line arrays stay). The result is parsed again with smol-toml and must hold
// exactly the intended value before it is written (atomically, mode/owner kept, backup), in one
// more exec and only when the text differs.
import { createRequire } from 'node:module';
import type * as TomlPatch from '@decimalturn/toml-patch';
import type * as SmolToml from 'smol-toml';
import { ObiamError, EXIT } from '../errors.js';
import { editRemoteText } from './lineinfile.js';
import { ATTR_PROPS, type FileAttrs } from './lib/file-attrs.js';
import type { ModuleDef, ModuleResult } from './types.js';
import { fail } from './lib/fail.js';

// Loaded at the first TOML edit, not at start-up: most runs edit no TOML.
const requireHere = createRequire(import.meta.url);
let patchLib: typeof TomlPatch | undefined;
let smolLib: typeof SmolToml | undefined;
const tomlPatch = (): typeof TomlPatch => (patchLib ??= requireHere('@decimalturn/toml-patch') as typeof TomlPatch);
const smol = (): typeof SmolToml => (smolLib ??= requireHere('smol-toml') as typeof SmolToml);

export interface TomlArgs extends FileAttrs {
  path: string;
  /** Dotted key (`database.identity_db.url`), relative to table when given. */
  key?: string;
  /** A table prefix for key and settings (`database.identity_db`, `datasource`). */
  table?: string;
  /** Selects the element of the array of tables named by table (or the key's first segment) by its keys. */
  match?: Record<string, string | number | boolean>;
  value?: unknown;
  state?: 'present' | 'absent';
  /** Batched: many dotted keys -> values in one task (relative to table when given). */
  settings?: Record<string, unknown>;
  /** Batched: dotted keys to remove (relative to table when given). */
  remove?: string[];
  /** Dotted key -> host name: the host of every URL in that key's value (a string or a list of them) is replaced; scheme, port and path stay. Keys the file lacks are left alone. */
  url_hosts?: Record<string, string>;
  backup?: boolean;
}

/** A user error of the toml module: bad key, a value TOML cannot hold, a file that does not parse. */
export class TomlEditError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly remedy?: string,
  ) {
    super(message);
  }
}

// ---- keys ----------------------------------------------------------------------------------------

/** One step of a key path: a table key, optionally selecting one element of an array of tables. */
export interface KeyStep {
  key: string;
  /** `name[k=v]`: the element whose key k equals v; `name[2]`: the element at that index. */
  select?: { match: Record<string, string> } | { index: number };
}

const BARE = /[A-Za-z0-9_-]/;

/**
 * Parses `a.b."c.d"[id=WSO2UM_DB].e`: bare and quoted segments joined by dots, each optionally
 * followed by `[key=value,...]` or `[index]`. Whitespace around dots is allowed, as in TOML.
 */
export function parseKeyPath(src: string): KeyStep[] {
  const steps: KeyStep[] = [];
  let i = 0;
  const bad = (why: string): never => {
    throw new TomlEditError('E_TOML_KEY', `invalid key '${src}': ${why}`, 'write keys as dotted TOML keys, e.g. database.identity_db.url, "hazelcast.max.no.heartbeat.seconds" or datasource[id=WSO2UM_DB].url');
  };
  const ws = (): void => {
    while (src[i] === ' ' || src[i] === '\t') i++;
  };
  const quoted = (): string => {
    const q = src[i]!;
    let out = '';
    i++;
    while (i < src.length && src[i] !== q) {
      if (q === '"' && src[i] === '\\') {
        const n = src[i + 1];
        const esc: Record<string, string> = { '"': '"', '\\': '\\', n: '\n', t: '\t' };
        if (n === undefined || !(n in esc)) bad(`unsupported escape at column ${i + 1}`);
        out += esc[n!];
        i += 2;
        continue;
      }
      out += src[i++];
    }
    if (src[i] !== q) bad('unterminated quote');
    i++;
    return out;
  };
  const bare = (stop: RegExp): string => {
    const start = i;
    while (i < src.length && !stop.test(src[i]!)) i++;
    return src.slice(start, i).trim();
  };
  while (true) {
    ws();
    let key: string;
    if (src[i] === '"' || src[i] === "'") key = quoted();
    else {
      const start = i;
      while (i < src.length && BARE.test(src[i]!)) i++;
      key = src.slice(start, i);
      if (!key) bad(i < src.length ? `unexpected '${src[i]}' at column ${i + 1}` : 'empty segment');
    }
    const step: KeyStep = { key };
    ws();
    if (src[i] === '[') {
      i++;
      ws();
      if (/[0-9]/.test(src[i] ?? '')) {
        const n = bare(/\]/);
        if (!/^\d+$/.test(n)) bad(`index '${n}' is not a whole number`);
        step.select = { index: Number(n) };
      } else {
        const match: Record<string, string> = {};
        while (true) {
          ws();
          const k = src[i] === '"' || src[i] === "'" ? quoted() : bare(/[=\]]/);
          ws();
          if (src[i] !== '=' || !k) bad('a selector is [key=value] or [index]');
          i++;
          ws();
          match[k] = src[i] === '"' || src[i] === "'" ? quoted() : bare(/[,\]]/);
          ws();
          if (src[i] === ',') {
            i++;
            continue;
          }
          break;
        }
        step.select = { match };
      }
      if (src[i] !== ']') bad('unterminated [selector]');
      i++;
      ws();
    }
    steps.push(step);
    if (i >= src.length) break;
    if (src[i] !== '.') bad(`expected '.' at column ${i + 1}`);
    i++;
  }
  return steps;
}

const quoteKey = (k: string): string => (/^[A-Za-z0-9_-]+$/.test(k) ? k : JSON.stringify(k));

export function formatKeyPath(steps: KeyStep[]): string {
  return steps
    .map((s) => {
      const sel = !s.select ? '' : 'index' in s.select ? `[${s.select.index}]` : `[${Object.entries(s.select.match).map(([k, v]) => `${quoteKey(k)}=${v}`).join(',')}]`;
      return quoteKey(s.key) + sel;
    })
    .join('.');
}

// ---- values --------------------------------------------------------------------------------------

type Table = Record<string, unknown>;
const isTable = (v: unknown): v is Table => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
const isTableArray = (v: unknown): v is Table[] => Array.isArray(v) && v.length > 0 && v.every(isTable);

/** TOML holds strings, numbers, booleans, dates, arrays and tables; null and the like are refused. */
function checkValue(v: unknown, where: string): void {
  if (v === null || v === undefined) throw new TomlEditError('E_TOML_VALUE', `${where}: TOML has no null value`, 'give a string, number, boolean, array or mapping, or use state: absent to remove the key');
  if (Array.isArray(v)) v.forEach((x, i) => checkValue(x, `${where}[${i}]`));
  else if (isTable(v)) for (const [k, x] of Object.entries(v)) checkValue(x, `${where}.${quoteKey(k)}`);
  else if (!['string', 'number', 'boolean', 'bigint'].includes(typeof v) && !(v instanceof Date)) throw new TomlEditError('E_TOML_VALUE', `${where}: a ${typeof v} is not a TOML value`);
}

function clone<T>(v: T): T {
  if (Array.isArray(v)) return v.map(clone) as T;
  if (isTable(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, clone(x)])) as T;
  return v;
}

export function tomlEqual(a: unknown, b: unknown): boolean {
  if (a instanceof Date || b instanceof Date) return a instanceof Date && b instanceof Date && String(a) === String(b) && a.constructor === b.constructor;
  if (Array.isArray(a) || Array.isArray(b)) return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => tomlEqual(x, b[i]));
  if (isTable(a) || isTable(b)) {
    if (!isTable(a) || !isTable(b)) return false;
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => k in b && tomlEqual(a[k], b[k]));
  }
  // An integer and a float of the same value are the same setting.
  if ((typeof a === 'bigint' || typeof a === 'number') && (typeof b === 'bigint' || typeof b === 'number')) return Number(a) === Number(b);
  return a === b;
}

// ---- applying one edit to the parsed document --------------------------------------------------------

export interface TomlEdit {
  steps: KeyStep[];
  state: 'present' | 'absent';
  value?: unknown;
}

function selectElement(arr: unknown[], step: KeyStep, create: boolean, at: string): Table | undefined {
  const sel = step.select!;
  if ('index' in sel) {
    const el = arr[sel.index];
    if (el === undefined) {
      if (!create) return undefined;
      throw new TomlEditError('E_TOML_KEY', `${at}: the array has ${arr.length} element(s), there is no index ${sel.index}`, 'select elements by a key instead, e.g. datasource[id=WSO2UM_DB]');
    }
    if (!isTable(el)) throw new TomlEditError('E_TOML_KEY', `${at} is not a table`);
    return el;
  }
  const hits = arr.filter((el) => isTable(el) && Object.entries(sel.match).every(([k, v]) => k in el && String(el[k]) === v)) as Table[];
  if (hits.length > 1) throw new TomlEditError('E_TOML_KEY', `${at} matches ${hits.length} elements`, 'add keys to the selector until it names one element: [id=x,name=y]');
  if (hits[0]) return hits[0];
  if (!create) return undefined;
  const el: Table = { ...sel.match };
  arr.push(el);
  return el;
}

/** Applies one edit to doc (in place). */
export function applyEdit(doc: Table, e: TomlEdit): void {
  const create = e.state === 'present';
  let cur: Table = doc;
  for (let n = 0; n < e.steps.length; n++) {
    const step = e.steps[n]!;
    const last = n === e.steps.length - 1;
    const at = formatKeyPath(e.steps.slice(0, n + 1));
    if (!step.select) {
      if (last) {
        if (create) cur[step.key] = clone(e.value);
        else delete cur[step.key];
        return;
      }
      let next = cur[step.key];
      if (next === undefined) {
        if (!create) return;
        next = cur[step.key] = {};
      }
      if (!isTable(next)) throw new TomlEditError('E_TOML_KEY', `${at} is ${Array.isArray(next) ? 'an array' : `the ${typeof next} ${JSON.stringify(next)}`}, not a table: cannot set ${formatKeyPath(e.steps)}`, Array.isArray(next) ? `select one element: ${quoteKey(step.key)}[key=value]` : undefined);
      cur = next;
      continue;
    }
    let arr = cur[step.key];
    if (arr === undefined) {
      if (!create) return;
      arr = cur[step.key] = [];
    }
    if (!Array.isArray(arr)) throw new TomlEditError('E_TOML_KEY', `${formatKeyPath([...e.steps.slice(0, n), { key: step.key }])} is not an array of tables`);
    const el = selectElement(arr, step, create, at);
    if (!el) return;
    if (last) {
      if (!create) arr.splice(arr.indexOf(el), 1);
      else {
        if (!isTable(e.value)) throw new TomlEditError('E_TOML_VALUE', `${at} is an element of an array of tables: its value must be a mapping`);
        const sel = step.select;
        const keep = 'match' in sel ? sel.match : {};
        for (const k of Object.keys(el)) delete el[k];
        Object.assign(el, keep, clone(e.value));
      }
      return;
    }
    cur = el;
  }
}

// ---- host names inside URLs --------------------------------------------------------------------

/** scheme://host in a string (also several, as in `{tcp://a:7612},{tcp://b:7612}`); placeholders such as ${carbon.host} are not hosts. */
const URL_HOST = /([A-Za-z][A-Za-z0-9+.-]*:\/\/)(\[[^\]]*\]|[^/:?#{}\s,|\]"'$]+)(?=[/:?#{}\s,|\]"']|$)/g;

export function replaceUrlHosts(v: string, host: string): string {
  return v.replace(URL_HOST, (_m, scheme: string) => scheme + host);
}

/** The value at a key path, selectors included, without creating anything. */
function valueAt(doc: Table, steps: KeyStep[]): unknown {
  let cur: unknown = doc;
  for (const st of steps) {
    if (!isTable(cur)) return undefined;
    cur = cur[st.key];
    if (st.select) {
      if (!Array.isArray(cur)) return undefined;
      const sel = st.select;
      cur = 'index' in sel ? cur[sel.index] : cur.find((el) => isTable(el) && Object.entries(sel.match).every(([k, x]) => String(el[k]) === x));
    }
  }
  return cur;
}

/** Edits that put host into the URLs of each key that exists (its value a string or a list of strings). */
export function hostEdits(doc: Table, hosts: { steps: KeyStep[]; host: string }[]): { edits: TomlEdit[]; missing: string[] } {
  const edits: TomlEdit[] = [];
  const missing: string[] = [];
  for (const { steps, host } of hosts) {
    const v = valueAt(doc, steps);
    const where = formatKeyPath(steps);
    if (v === undefined) missing.push(where);
    else if (typeof v === 'string') edits.push({ steps, state: 'present', value: replaceUrlHosts(v, host) });
    else if (Array.isArray(v) && v.every((x) => typeof x === 'string')) edits.push({ steps, state: 'present', value: v.map((x: string) => replaceUrlHosts(x, host)) });
    else throw new TomlEditError('E_TOML_VALUE', `${where}: url_hosts needs a URL string or a list of them, the file has ${Array.isArray(v) ? 'a list' : `a ${typeof v}`}`);
  }
  return { edits, missing };
}

// ---- the text ---------------------------------------------------------------------------------------

function parseError(e: unknown, file: string, what: string): TomlEditError {
  const err = e as { line?: number; column?: number; message?: string };
  const at = err.line ? `:${err.line}:${err.column ?? 1}` : '';
  const msg = String(err.message ?? e).split('\n')[0]!.replace(/^Invalid TOML document: /, '');
  return new TomlEditError('E_TOML_PARSE', `${file}${at}: ${what} is not valid TOML: ${msg}`, 'fix the file by hand (or restore it from the pack); obiam-run edits only files that parse');
}

/** Header lines `[a.b]` / `[[a]]` of the text: the key path and the line index. */
function headers(lines: string[]): { path: string[]; line: number; array: boolean }[] {
  const out: { path: string[]; line: number; array: boolean }[] = [];
  lines.forEach((l, i) => {
    const m = /^\s*(\[\[?)(.*?)\]\]?\s*(#.*)?$/.exec(l);
    if (!m) return;
    try {
      const steps = parseKeyPath(m[2]!);
      if (steps.some((s) => s.select)) return;
      out.push({ path: steps.map((s) => s.key), line: i, array: m[1] === '[[' });
    } catch {
      // A line inside a multi-line string or array that only looks like a header.
    }
  });
  return out;
}

const samePath = (a: string[], b: string[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);
const startsWith = (a: string[], p: string[]): boolean => a.length > p.length && p.every((x, i) => x === a[i]);

/** `key = value` lines of a new table: nested tables as dotted keys (as the vendor files write
 * pool_options.*); arrays of tables are left to the library, which writes them as [[sections]]. */
function tableLines(t: Table, nl: string): string[] {
  const tp = tomlPatch();
  const out: string[] = [];
  const walk = (v: Table, prefix: string[]): void => {
    for (const [k, x] of Object.entries(v)) {
      if (isTableArray(x)) continue;
      if (isTable(x) && Object.keys(x).length) walk(x, [...prefix, k]);
      else out.push(`${[...prefix, k].map(quoteKey).join('.')} = ${tp.stringify({ x }).trim().replace(/^x = /, '')}${nl}`);
    }
  };
  walk(t, []);
  return out;
}

/**
 * New tables are written here, as a `[path]` section of dotted keys: after the last section of
 * their parent table (`[database.identity_db]` after the other `[database.*]`), or at the end of
 * the file for a new top-level table. The library would write the first kind as one dotted inline
 * table at the top of the file. Tables under a parent without sections of its own (dotted keys,
 * inline tables, array elements) are left to the library.
 */
function addTables(text: string, before: Table, after: Table): string {
  const newTables: { path: string[]; value: Table }[] = [];
  const newArrays: { key: string; value: Table[] }[] = [];
  const walk = (b: Table, a: Table, path: string[]): void => {
    for (const [k, v] of Object.entries(a)) {
      // A new top-level array of tables (datasource[id=X] in a file without [[datasource]]): the
      // library cannot add one, so its [[sections]] go at the end of the file.
      if (!path.length && !(k in b) && isTableArray(v)) newArrays.push({ key: k, value: v as Table[] });
      if (!isTable(v)) continue;
      const p = [...path, k];
      if (!(k in b)) newTables.push({ path: p, value: v });
      else if (isTable(b[k])) walk(b[k] as Table, v, p);
    }
  };
  walk(before, after, []);
  let lines = text.split('\n');
  const nl = text.includes('\r\n') ? '\r' : '';
  for (const { path: p, value } of newTables) {
    const parent = p.slice(0, -1);
    const hs = headers(lines);
    let at: number;
    if (!parent.length) {
      at = lines.length;
      if (lines[at - 1] === '') at--;
    } else {
      const related = hs.filter((h) => samePath(h.path, parent) || startsWith(h.path, parent));
      if (!related.length) continue;
      const last = related[related.length - 1]!;
      const next = hs.find((h) => h.line > last.line);
      at = next ? next.line : lines.length;
      if (!next && lines[at - 1] === '') at--;
      // Keep the comments and blank lines that introduce the next section with it.
      while (at > last.line + 1 && /^\s*(#.*)?\r?$/.test(lines[at - 1]!)) at--;
    }
    const block = [nl, `[${p.map(quoteKey).join('.')}]${nl}`, ...tableLines(value, nl).map((l) => l.replace(/\n$/, ''))];
    // A blank line before the section unless the text before it ends in one.
    if (at === 0 || /^\s*\r?$/.test(lines[at - 1]!)) block.shift();
    lines = [...lines.slice(0, at), ...block, ...lines.slice(at)];
  }
  for (const { key, value } of newArrays) {
    let at = lines.length;
    if (lines[at - 1] === '') at--;
    const block: string[] = [];
    for (const el of value) {
      if (at + block.length > 0 && !/^\s*\r?$/.test((block.length ? block[block.length - 1] : lines[at - 1]) ?? '')) block.push(nl);
      block.push(`[[${quoteKey(key)}]]${nl}`, ...tableLines(el, nl).map((l) => l.replace(/\n$/, '')));
    }
    lines = [...lines.slice(0, at), ...block, ...lines.slice(at)];
  }
  return lines.join('\n');
}

export interface TomlEditResult {
  after: string;
  changed: boolean;
  msg: string;
  /** Key paths set or removed (those that differed). */
  keys: string[];
  /** url_hosts keys the file does not have (left alone). */
  missing: string[];
}

/** Applies edits to TOML text; only what differs is rewritten. Throws TomlEditError. */
export function editToml(text: string, edits: TomlEdit[], file = 'the file', hosts: { steps: KeyStep[]; host: string }[] = []): TomlEditResult {
  try {
    smol().parse(text);
  } catch (e) {
    throw parseError(e, file, 'the file');
  }
  const tp = tomlPatch();
  let before: Table;
  try {
    before = tp.parse(text) as Table;
  } catch (e) {
    throw parseError(e, file, 'the file');
  }
  const want = clone(before);
  const keys: string[] = [];
  // URL hosts are read from the file as the other edits leave it.
  const applyAll = (list: TomlEdit[]): void => {
    for (const e of list) {
      if (e.state === 'present') checkValue(e.value, formatKeyPath(e.steps));
      const probe = clone(want);
      applyEdit(probe, e);
      if (!tomlEqual(probe, want)) keys.push(formatKeyPath(e.steps));
      applyEdit(want, e);
    }
  };
  applyAll(edits);
  const h = hostEdits(want, hosts);
  applyAll(h.edits);
  const missing = h.missing;
  if (tomlEqual(before, want)) return { after: text, changed: false, msg: 'nothing to change', keys: [], missing };
  const base = addTables(text, before, want);
  const format = tp.TomlFormat.autoDetectFormat(base);
  // New nested tables as [sections], as the vendor files write them (dotted keys in existing tables stay dotted).
  format.inlineTableStart = 100;
  let after: string;
  try {
    after = tp.patch(base, want, format);
  } catch (e) {
    throw new TomlEditError('E_TOML_PATCH', `${file}: cannot write ${keys.join(', ')}: ${(e as Error).message}`);
  }
  let check: unknown;
  try {
    smol().parse(after);
    check = tp.parse(after);
  } catch (e) {
    throw parseError(e, file, 'the edited text');
  }
  if (!tomlEqual(check, want)) throw new TomlEditError('E_TOML_PATCH', `${file}: the edited text would not hold the values asked for (${keys.join(', ')}); nothing was written`);
  return { after, changed: after !== text, msg: `${keys.length} key(s) changed: ${keys.join(', ')}`, keys, missing };
}

/** The module's arguments as a list of edits. */
/** url_hosts as key paths (relative to table when given). */
export function hostsFromArgs(a: TomlArgs): { steps: KeyStep[]; host: string }[] {
  const prefix = a.table ? parseKeyPath(a.table) : [];
  return Object.entries(a.url_hosts ?? {}).map(([k, host]) => {
    if (typeof host !== 'string' || !/^[^\s/:?#]+$|^\[[0-9a-fA-F:.]+\]$/.test(host)) throw new TomlEditError('E_TOML_VALUE', `url_hosts ${k}: '${String(host)}' is not a host name`);
    return { steps: [...prefix, ...parseKeyPath(k)], host };
  });
}

export function editsFromArgs(a: TomlArgs): TomlEdit[] {
  const state = a.state ?? 'present';
  const given = [a.key !== undefined, a.settings !== undefined, a.remove !== undefined, a.url_hosts !== undefined].filter(Boolean).length;
  if (given === 0 && !(a.table && a.state === 'absent')) throw new TomlEditError('E_TOML_ARGS', 'toml: give key (with value or state: absent), settings, remove or url_hosts', 'e.g. key: server.hostname, value: iam.example.com');
  if (a.key !== undefined && (a.settings !== undefined || a.remove !== undefined || a.url_hosts !== undefined)) throw new TomlEditError('E_TOML_ARGS', 'toml: key cannot be combined with settings, remove or url_hosts');
  if (a.settings !== undefined && a.value !== undefined) throw new TomlEditError('E_TOML_ARGS', 'toml: value belongs to key; settings carry their own values');
  if (a.key !== undefined && state === 'present' && a.value === undefined) throw new TomlEditError('E_TOML_ARGS', `toml: key ${a.key} needs a value (or state: absent)`);
  if (a.match && !a.table && a.key === undefined) throw new TomlEditError('E_TOML_ARGS', 'toml: match selects an element of the array of tables named by table');
  let prefix: KeyStep[] = a.table ? parseKeyPath(a.table) : [];
  if (a.match) {
    const match = Object.fromEntries(Object.entries(a.match).map(([k, v]) => [k, String(v)]));
    if (!prefix.length) {
      // match with key only: the key's first segment names the array of tables.
      const ks = parseKeyPath(a.key!);
      prefix = [{ key: ks[0]!.key, select: { match } }];
      a = { ...a, key: ks.length > 1 ? formatKeyPath(ks.slice(1)) : undefined };
    } else prefix[prefix.length - 1] = { ...prefix[prefix.length - 1]!, select: { match } };
  }
  const path = (k: string): KeyStep[] => [...prefix, ...parseKeyPath(k)];
  if (a.key !== undefined) return [{ steps: path(a.key), state, value: a.value }];
  const out: TomlEdit[] = [];
  for (const [k, v] of Object.entries(a.settings ?? {})) out.push({ steps: path(k), state: 'present', value: v });
  for (const k of a.remove ?? []) out.push({ steps: path(k), state: 'absent' });
  if (!out.length && a.table && state === 'absent') out.push({ steps: prefix, state: 'absent' });
  return out;
}

// ---- the module --------------------------------------------------------------------------------

export const tomlModule: ModuleDef<TomlArgs> = {
  name: 'toml',
  supportsCheck: true,
  schema: {
    type: 'object',
    properties: {
      path: { type: 'string', minLength: 1 },
      key: { type: 'string', minLength: 1 },
      table: { type: 'string', minLength: 1 },
      match: { type: 'object', minProperties: 1, additionalProperties: { type: ['string', 'number', 'boolean'] } },
      value: {},
      state: { enum: ['present', 'absent'] },
      settings: { type: 'object' },
      remove: { type: 'array', items: { type: 'string', minLength: 1 } },
      url_hosts: { type: 'object', additionalProperties: { type: 'string', minLength: 1 } },
      backup: { type: 'boolean' },
      ...ATTR_PROPS,
    },
    required: ['path'],
    additionalProperties: false,
  },
  async run(args, ctx) {
    const toError = (e: TomlEditError): ObiamError => new ObiamError(e.code, e.message, { host: ctx.host, exitCode: EXIT.HOST_FAILED, ...(e.remedy ? { remedy: e.remedy } : {}) });
    let edits: TomlEdit[];
    let hosts: { steps: KeyStep[]; host: string }[];
    try {
      edits = editsFromArgs(args);
      hosts = hostsFromArgs(args);
    } catch (e) {
      if (e instanceof TomlEditError) throw toError(e);
      throw e;
    }
    try {
      return await editRemoteText(
        ctx,
        {
          path: args.path,
          backup: args.backup,
          mode: args.mode,
          owner: args.owner,
          group: args.group,
          onMissing: (): ModuleResult => (fail(`The TOML file ${args.path} does not exist.`)),
        },
        (before) => {
          const r = editToml(before, edits, args.path, hosts);
          return { after: r.after, changed: r.changed, msg: r.msg, extra: { keys: r.keys, ...(args.url_hosts ? { url_hosts_missing: r.missing } : {}) } };
        },
      );
    } catch (e) {
      if (e instanceof TomlEditError) throw toError(e);
      throw e;
    }
  },
};
