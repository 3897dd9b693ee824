// Lookups run on the controller: lookup('env', 'HOME'), lookup('file', 'x.pem'), query(...) for lists.
import { spawnSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { registerSecret } from '../redact.js';
import { isUndefined } from './jinja.js';
import { globFiles } from './filters-ansible.js';
import { nativeFromText } from './literal.js';
import { isMapping, pyBool, pyMod, pyStr, splitKwargs } from './python.js';

export class LookupError extends Error {}

export interface LookupContext {
  /** The template's variables (for `role_path` and lookup('vars', ...)). */
  vars: Record<string, unknown>;
  /** Directories searched by lookup('file') for a relative path, in order. */
  baseDirs: readonly string[];
  /** Renders template text (the template lookup) with the given variables and Jinja overrides. */
  render?: (text: string, vars: Record<string, unknown>, name: string, overrides?: Record<string, unknown>) => string;
  /** Marks text that stays text when a template's result is typed (template lookup with convert_data=False). */
  keepText?: (text: string) => void;
}

export type LookupFn = (terms: unknown[], kw: Record<string, unknown>, ctx: LookupContext) => unknown[];

/** Candidate files for a relative path: each base dir's files/ first, then the dir itself (as Ansible searches). */
export function lookupFileCandidates(name: string, ctx: LookupContext, subdir = 'files'): string[] {
  if (path.isAbsolute(name)) return [name];
  const bases = [...(typeof ctx.vars.role_path === 'string' ? [ctx.vars.role_path] : []), ...ctx.baseDirs];
  return bases.flatMap((b) => [path.join(b, subdir, name), path.join(b, name)]);
}

/** Runs a shell command on the controller in the playbook's directory (pipe, lines). */
function runShell(cmd: string, ctx: LookupContext, lookup: string): string {
  const r = spawnSync('/bin/sh', ['-c', cmd], { cwd: ctx.baseDirs[0] ?? process.cwd(), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw new LookupError(`lookup_plugin.${lookup}(${cmd}) failed: ${r.error.message}`);
  if (r.status !== 0) throw new LookupError(`lookup_plugin.${lookup}(${cmd}) returned ${r.status ?? 'a signal'}`);
  return r.stdout;
}

const PASSWORD_CHARSETS: Record<string, string> = {
  ascii_letters: 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ',
  ascii_lowercase: 'abcdefghijklmnopqrstuvwxyz',
  ascii_uppercase: 'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
  digits: '0123456789',
  hexdigits: '0123456789abcdefABCDEF',
  octdigits: '01234567',
  punctuation: '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~',
};

/** lookup('password', 'path length=N chars=...'): the file's password, or a new one written there (/dev/null: not kept). */
function passwordLookup(term: string, kw: Record<string, unknown>, ctx: LookupContext): string {
  const words = term.trim().split(/\s+/);
  const file = words.shift() ?? '';
  const opts: Record<string, unknown> = { ...kw };
  for (const w of words) {
    const i = w.indexOf('=');
    if (i < 0) throw new LookupError(`password: unrecognized parameter '${w}' (use name=value: length, chars, encrypt, seed)`);
    opts[w.slice(0, i)] = w.slice(i + 1);
  }
  const length = Number(opts.length ?? 20);
  if (!Number.isInteger(length) || length <= 0) throw new LookupError(`password: length must be a positive integer, got ${String(opts.length)}`);
  const charNames = Array.isArray(opts.chars) ? opts.chars.map(String) : String(opts.chars ?? 'ascii_letters,digits,.,:-_').split(/,(?!,)/);
  const chars = [...new Set(charNames.flatMap((c) => [...(PASSWORD_CHARSETS[c] ?? c)]))].join('');
  const abs = path.isAbsolute(file) ? file : path.join(ctx.baseDirs[0] ?? process.cwd(), file);
  if (abs !== '/dev/null' && isFile(abs)) return readFileSync(abs, 'utf8').split('\n')[0]!.replace(/ salt=\S+$/, '');
  const pw = Array.from({ length }, () => chars[randomInt(chars.length)]!).join('');
  if (abs !== '/dev/null') {
    mkdirSync(path.dirname(abs), { recursive: true, mode: 0o700 });
    writeFileSync(abs, `${pw}\n`, { mode: 0o600 });
  }
  registerSecret(pw);
  return pw;
}

/** with_sequence / lookup('sequence'): `start=1 end=10 stride=2 format=x%02d`, `count=`, or `[start-]end[/stride][:format]`. */
function sequenceLookup(term: string, kw: Record<string, unknown>): string[] {
  const o: Record<string, string> = {};
  for (const [k, v] of Object.entries(kw)) o[k] = String(v);
  const t = term.trim();
  const short = /^(?:(0x[0-9a-f]+|0o?[0-7]+|-?\d+)-)?(0x[0-9a-f]+|0o?[0-7]+|-?\d+)(?:\/(-?\d+))?(?::(.+))?$/i.exec(t);
  if (t && short && !t.includes('=')) {
    if (short[1] !== undefined) o.start = short[1];
    o.end = short[2]!;
    if (short[3] !== undefined) o.stride = short[3];
    if (short[4] !== undefined) o.format = short[4];
  } else if (t) {
    for (const w of t.split(/\s+/)) {
      const i = w.indexOf('=');
      if (i < 0) throw new LookupError(`unrecognized arguments to with_sequence: ${w}`);
      o[w.slice(0, i)] = w.slice(i + 1);
    }
  }
  const int = (v: string | undefined, d: number): number => (v === undefined ? d : Number.parseInt(v, v.startsWith('0x') ? 16 : /^0o?[0-7]+$/.test(v) && v !== '0' ? 8 : 10));
  const start = int(o.start, 1);
  const stride = int(o.stride, 1);
  let end: number;
  if (o.count !== undefined) {
    if (o.end !== undefined) throw new LookupError("can't specify both count and end in with_sequence");
    const count = int(o.count, 0);
    end = start + (count - 1) * stride;
    if (count === 0) return [];
  } else if (o.end !== undefined) end = int(o.end, 0);
  else throw new LookupError("must specify count or end in with_sequence");
  if (stride === 0) return [];
  if ((stride > 0 && end < start) || (stride < 0 && end > start)) throw new LookupError('to count backwards make stride negative');
  const fmt = o.format ?? '%d';
  const out: string[] = [];
  for (let i = start; stride > 0 ? i <= end : i >= end; i += stride) out.push(String(pyMod(fmt, [i])));
  return out;
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

export const LOOKUPS: Record<string, LookupFn> = {
  env(terms, kw) {
    return terms.map((t) => {
      const v = process.env[String(t)];
      return v !== undefined ? v : kw.default !== undefined ? kw.default : '';
    });
  },
  file(terms, kw, ctx) {
    return terms.map((t) => {
      const name = String(t);
      const found = lookupFileCandidates(name, ctx).find(isFile);
      if (!found) throw new LookupError(`could not locate file in lookup: ${name} (searched ${lookupFileCandidates(name, ctx).join(', ')})`);
      let text = readFileSync(found, 'utf8');
      if (kw.rstrip !== false) text = text.replace(/\s+$/, '');
      if (kw.lstrip === true) text = text.replace(/^\s+/, '');
      return text;
    });
  },
  vars(terms, kw, ctx) {
    return terms.map((t) => {
      const name = String(t);
      if (Object.hasOwn(ctx.vars, name) && ctx.vars[name] !== undefined) return ctx.vars[name];
      if (kw.default !== undefined) return kw.default;
      throw new LookupError(`No variable found with this name: ${name}`);
    });
  },
  // The names of the variables a regular expression finds (Python re.search: anywhere in the name).
  varnames(terms, _kw, ctx) {
    const names = Object.keys(ctx.vars).filter((n) => ctx.vars[n] !== undefined);
    return terms.flatMap((t) => {
      if (typeof t !== 'string') throw new LookupError(`Invalid setting identifier, "${pyStr(t)}" is not a string, it is a ${typeof t}`);
      let re: RegExp;
      try {
        re = new RegExp(t);
      } catch (e) {
        // Worded as Ansible's (its tests look for these words); /^\*/ is "nothing to repeat".
        throw new LookupError(`Unable to use "${t}" as a search parameter: ${e instanceof Error && /nothing to repeat/i.test(e.message) ? 'nothing to repeat' : e instanceof Error ? e.message : String(e)}`);
      }
      return names.filter((n) => re.test(n));
    });
  },
  // The first file that exists, searched like lookup('file'); terms are names or {files, paths} dicts.
  first_found(terms, kw, ctx) {
    const names: string[] = [];
    const add = (files: unknown, paths: unknown): void => {
      const fs = (Array.isArray(files) ? files : [files]).flatMap((f) => String(f).split(/[,;]/)).filter(Boolean);
      const ps = paths === undefined ? [''] : (Array.isArray(paths) ? paths : [paths]).flatMap((p) => String(p).split(/[,:;]/));
      for (const p of ps) for (const f of fs) names.push(p ? `${p.replace(/\/$/, '')}/${f}` : f);
    };
    for (const t of terms) {
      if (isMapping(t)) add(t.files ?? [], t.paths);
      else add(t, kw.paths);
    }
    if (kw.files !== undefined) add(kw.files, kw.paths);
    for (const n of names) {
      const found = lookupFileCandidates(n, ctx).find(isFile);
      if (found) return [found];
    }
    if (kw.skip === true) return [];
    throw new LookupError(`No file was found when using first_found (tried ${names.join(', ')})`);
  },
  template(terms, kw, ctx) {
    if (!ctx.render) throw new LookupError('the template lookup needs a templater');
    const extra = isMapping(kw.template_vars) ? kw.template_vars : {};
    const over: Record<string, unknown> = {};
    for (const k of ['variable_start_string', 'variable_end_string', 'comment_start_string', 'comment_end_string', 'block_start_string', 'block_end_string', 'trim_blocks', 'lstrip_blocks']) if (kw[k] !== undefined) over[k] = kw[k];
    return terms.map((t) => {
      const name = String(t);
      const found = lookupFileCandidates(name, ctx, 'templates').find(isFile);
      if (!found) throw new LookupError(`the template file ${name} could not be found for the lookup`);
      const vars = { ...ctx.vars, ...extra, template_path: found, template_fullpath: found, template_basename: path.basename(found) };
      const out = ctx.render!(readFileSync(found, 'utf8'), vars, found, Object.keys(over).length ? over : undefined);
      if (kw.convert_data !== false) return nativeFromText(out);
      ctx.keepText?.(out);
      return out;
    });
  },
  pipe: (terms, _kw, ctx) => terms.map((t) => runShell(String(t), ctx, 'pipe').replace(/\s+$/, '')),
  lines: (terms, _kw, ctx) => terms.flatMap((t) => runShell(String(t), ctx, 'lines').split(/\r?\n/).filter((l, i, a) => i < a.length - 1 || l !== '')),
  fileglob(terms, _kw, ctx) {
    return terms.flatMap((t) => {
      const term = String(t);
      const dirs = path.isAbsolute(term) ? [path.dirname(term)] : lookupFileCandidates(path.dirname(term), ctx).filter((d) => existsSync(d));
      for (const d of dirs) {
        const hits = globFiles(path.join(d, path.basename(term))).filter(isFile);
        if (hits.length) return hits;
      }
      return [];
    });
  },
  password: (terms, kw, ctx) => terms.map((t) => passwordLookup(String(t), kw, ctx)),
  sequence: (terms, kw) => (terms.length ? terms : ['']).flatMap((t) => sequenceLookup(String(t), kw)),
  indexed_items: (terms) => terms.flatMap((t) => (Array.isArray(t) ? t : [t])).map((x, i) => [i, x]),
  nested(terms) {
    const lists = terms.map((t) => (Array.isArray(t) ? t : [t]));
    if (lists.length === 0) throw new LookupError('with_nested requires at least one element in the nested list');
    return lists.reduce<unknown[][]>((acc, xs) => acc.flatMap((a) => xs.map((x) => [...a, x])), [[]]);
  },
  together(terms) {
    const lists = terms.map((t) => (Array.isArray(t) ? t : [t]));
    if (lists.length === 0) throw new LookupError('with_together requires at least one element in each list');
    const n = Math.max(...lists.map((l) => l.length));
    return Array.from({ length: n }, (_, i) => lists.map((l) => (i < l.length ? l[i] : null)));
  },
  subelements(terms) {
    const [items, key, flags] = terms;
    if (typeof key !== 'string') throw new LookupError('subelements lookup expects a list of two or three items, the second a key name');
    const skip = isMapping(flags) && pyBool(flags.skip_missing);
    const list = isMapping(items) ? Object.values(items) : Array.isArray(items) ? items : [];
    const out: unknown[] = [];
    for (const item of list) {
      if (isMapping(item) && pyBool(item.skipped)) continue;
      let sub: unknown = item;
      for (const part of key.split('.')) {
        if (!isMapping(sub) || !Object.hasOwn(sub, part)) {
          if (skip) {
            sub = [];
            break;
          }
          throw new LookupError(`could not find '${part}' key in iterated item '${pyStr(sub)}'`);
        }
        sub = sub[part];
      }
      if (!Array.isArray(sub)) throw new LookupError(`the key ${key} should point to a list, got '${pyStr(sub)}'`);
      for (const s of sub) out.push([item, s]);
    }
    return out;
  },
  random_choice: (terms) => (terms.length ? [terms[randomInt(terms.length)]] : []),
  items: (terms) => terms.flatMap((t) => (Array.isArray(t) ? t : [t])),
  list: (terms) => terms,
  dict(terms) {
    return terms.flatMap((t) => {
      if (!isMapping(t)) throw new LookupError('with_dict / lookup(\'dict\') expects a dict');
      return Object.entries(t).map(([key, value]) => ({ key, value }));
    });
  },
};

// Lookups that take their terms as given (a list of lists, or [list, key, flags]).
const RAW_TERMS = new Set(['nested', 'together', 'subelements']);

/** Runs a lookup: `lookup()` joins string results with ',' (wantlist=False); `query()` returns the list. */
export function runLookup(name: unknown, args: unknown[], ctx: LookupContext, wantList: boolean): unknown {
  if (isUndefined(name)) throw name.error();
  for (const a of args) if (isUndefined(a)) throw a.error();
  const fn = LOOKUPS[String(name)];
  if (!fn) throw new LookupError(`lookup plugin '${String(name)}' not found (available: ${Object.keys(LOOKUPS).join(', ')})`);
  const { pos, kw } = splitKwargs(args);
  const terms = RAW_TERMS.has(String(name)) ? pos : pos.flatMap((t) => (Array.isArray(t) && name !== 'items' && name !== 'list' ? t : [t]));
  let out: unknown[];
  try {
    out = fn(terms, kw, ctx);
  } catch (e) {
    if (kw.errors === 'ignore') return wantList || kw.wantlist ? [] : null;
    throw e;
  }
  if (name === 'file') for (const s of out) registerSecretIfKey(s);
  if (wantList || kw.wantlist === true) return out;
  if (out.length === 1) return out[0];
  return out.every((x) => typeof x === 'string') ? out.map(pyStr).join(',') : out;
}

// A private key read with lookup('file') must not show up in logs.
function registerSecretIfKey(s: unknown): void {
  if (typeof s === 'string' && /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(s)) registerSecret(s);
}
