// Lookups run on the controller: lookup('env', 'HOME'), lookup('file', 'x.pem'), query(...) for lists.
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { registerSecret } from '../redact.js';
import { isUndefined } from './jinja.js';
import { isMapping, pyStr, splitKwargs } from './python.js';

export class LookupError extends Error {}

export interface LookupContext {
  /** The template's variables (for `role_path` and lookup('vars', ...)). */
  vars: Record<string, unknown>;
  /** Directories searched by lookup('file') for a relative path, in order. */
  baseDirs: readonly string[];
}

export type LookupFn = (terms: unknown[], kw: Record<string, unknown>, ctx: LookupContext) => unknown[];

/** Candidate files for a relative path: each base dir's files/ first, then the dir itself (as Ansible searches). */
export function lookupFileCandidates(name: string, ctx: LookupContext): string[] {
  if (path.isAbsolute(name)) return [name];
  const bases = [...(typeof ctx.vars.role_path === 'string' ? [ctx.vars.role_path] : []), ...ctx.baseDirs];
  return bases.flatMap((b) => [path.join(b, 'files', name), path.join(b, name)]);
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
  items: (terms) => terms.flatMap((t) => (Array.isArray(t) ? t : [t])),
  list: (terms) => terms,
  dict(terms) {
    return terms.flatMap((t) => {
      if (!isMapping(t)) throw new LookupError('with_dict / lookup(\'dict\') expects a dict');
      return Object.entries(t).map(([key, value]) => ({ key, value }));
    });
  },
};

/** Runs a lookup: `lookup()` joins string results with ',' (wantlist=False); `query()` returns the list. */
export function runLookup(name: unknown, args: unknown[], ctx: LookupContext, wantList: boolean): unknown {
  if (isUndefined(name)) throw name.error();
  for (const a of args) if (isUndefined(a)) throw a.error();
  const fn = LOOKUPS[String(name)];
  if (!fn) throw new LookupError(`lookup plugin '${String(name)}' not found (available: ${Object.keys(LOOKUPS).join(', ')})`);
  const { pos, kw } = splitKwargs(args);
  const terms = pos.flatMap((t) => (Array.isArray(t) && name !== 'items' && name !== 'list' ? t : [t]));
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
