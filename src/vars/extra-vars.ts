// `-e` / `--extra-vars` like ansible-playbook: `k=v k2='quoted v'` (string values), an inline
// JSON/YAML mapping, or `@file.yml` / `@file.json` (vault-encrypted files work). Later ones win (shallow).
import path from 'node:path';
import { EXIT, ObiamError, ObiamErrors } from '../errors.js';
import { loadYamlFile, parseYaml } from '../load/yaml.js';
import type { Vars } from '../types.js';
import type { VaultDecrypter } from '../vault/types.js';
import { isMapping } from './python.js';

export interface ExtraVarsOptions {
  cwd: string;
  vault?: VaultDecrypter;
}

function bad(spec: string, why: string, remedy = "use -e 'key=value', -e '{\"key\": 1}' or -e @vars.yml"): ObiamError {
  return new ObiamError('E_EXTRA_VARS', `bad --extra-vars ${JSON.stringify(spec)}: ${why}`, { remedy, exitCode: EXIT.BAD_OPTIONS });
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Splits `a=1 b='x y' c="z"` like Python's shlex (quotes removed, backslash escapes outside single quotes). */
export function splitKeyValues(spec: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inToken = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < spec.length; i++) {
    const c = spec[i]!;
    if (quote) {
      if (c === quote) quote = null;
      else if (c === '\\' && quote === '"' && i + 1 < spec.length && '"\\$`'.includes(spec[i + 1]!)) cur += spec[++i];
      else cur += c;
      continue;
    }
    if (c === "'" || c === '"') {
      quote = c;
      inToken = true;
    } else if (c === '\\' && i + 1 < spec.length) {
      cur += spec[++i];
      inToken = true;
    } else if (/\s/.test(c)) {
      if (inToken) out.push(cur);
      cur = '';
      inToken = false;
    } else {
      cur += c;
      inToken = true;
    }
  }
  if (quote) throw new Error(`unterminated ${quote} quote`);
  if (inToken) out.push(cur);
  return out;
}

function parseKeyValues(spec: string): Vars {
  let tokens: string[];
  try {
    tokens = splitKeyValues(spec);
  } catch (e) {
    throw bad(spec, (e as Error).message);
  }
  const out: Vars = {};
  for (const t of tokens) {
    const eq = t.indexOf('=');
    if (eq <= 0) throw bad(spec, `${JSON.stringify(t)} is not key=value`);
    const key = t.slice(0, eq);
    if (!NAME.test(key)) throw bad(spec, `${JSON.stringify(key)} is not a valid variable name`);
    out[key] = t.slice(eq + 1);
  }
  return out;
}

function parseOne(spec: string, opts: ExtraVarsOptions): Vars {
  const s = spec.trim();
  if (s === '') throw bad(spec, 'empty value');
  if (s.startsWith('@')) {
    const rel = s.slice(1);
    if (!rel) throw bad(spec, 'no file name after @');
    const file = path.resolve(opts.cwd, rel);
    let data: unknown;
    try {
      data = loadYamlFile(file, { vault: opts.vault }).data;
    } catch (e) {
      if (e instanceof ObiamError && e.code === 'E_FILE_NOT_FOUND') throw bad(spec, `cannot read ${file}`, 'check the path after @ (relative to the current directory)');
      throw e instanceof ObiamErrors || e instanceof ObiamError ? e : bad(spec, String(e));
    }
    if (data === null || data === undefined) return {};
    if (!isMapping(data)) throw bad(spec, `${file} must hold a mapping of variables`);
    return data;
  }
  if (s.startsWith('{') || s.startsWith('---')) {
    let data: unknown;
    try {
      // JSON is YAML; the YAML 1.1 loader also gives Ansible's yes/no booleans.
      data = parseYaml(s, '<extra-vars>', { vault: opts.vault }).data;
    } catch (e) {
      const msg = e instanceof ObiamErrors ? e.errors.map((x) => x.message).join('; ') : (e as Error).message;
      throw bad(spec, `not valid JSON/YAML: ${msg}`);
    }
    if (!isMapping(data)) throw bad(spec, 'must be a mapping');
    return data;
  }
  return parseKeyValues(s);
}

/** Parses every `-e` in order; later ones override earlier keys (shallow, like Ansible). */
export function parseExtraVars(specs: readonly string[], opts: ExtraVarsOptions): Vars {
  const out: Vars = {};
  for (const spec of specs) Object.assign(out, parseOne(spec, opts));
  return out;
}
