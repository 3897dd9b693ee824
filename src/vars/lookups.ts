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
