// The loader's diagnostics: collecting every problem of a run (file:line:col, remedy), reading YAML
// files with their errors kept, and the order errors are reported in. LoaderBase is the first floor
// of the loader (roles.ts, tasks.ts and playbook.ts build on it).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { EXIT, ObiamError, ObiamErrors, type SourceLocation } from '../errors.js';
import type { JsonSchema } from '../modules/types.js';
import type { VaultDecrypter } from '../vault/types.js';
import type { Inventory } from '../inventory/model.js';
import { noopKeyword } from './keywords.js';
import { UNSUPPORTED_KEYWORDS } from './schemas.js';
import { parseError, shortValue, suggest, isTemplated, type Where } from './validate.js';
import type { Map_ } from './values.js';
import { loadYamlFile, type LoadedYaml } from './yaml.js';

export interface LoadWarning {
  message: string;
  location?: SourceLocation;
}

export interface LoadPlaybookOptions {
  vault?: VaultDecrypter;
  /** When given, plays whose `hosts` name no group or host get Ansible's warning. */
  inventory?: Inventory;
  /** Extra role directories, searched after `roles/` beside the playbook (OBIAM_ROLES_PATH). */
  rolesPath?: string[];
}

export class LoaderBase {
  readonly errors: ObiamError[] = [];
  readonly warnings: LoadWarning[] = [];
  private readonly warned = new Set<string>();
  constructor(
    readonly opts: LoadPlaybookOptions,
    readonly playbookDir: string,
  ) {}

  /** Reads a YAML file; errors are collected and undefined returned. */
  read(file: string, at?: SourceLocation): LoadedYaml | undefined {
    try {
      return loadYamlFile(file, { vault: this.opts.vault });
    } catch (e) {
      if (e instanceof ObiamErrors) {
        // After the first syntax error the parser's further complaints mostly follow from it: keep
        // that one (duplicate keys are independent mistakes and all stay).
        const firstSyntax = e.errors.find((x) => x.code === 'E_YAML_SYNTAX');
        this.errors.push(...e.errors.filter((x) => x.code !== 'E_YAML_SYNTAX' || x === firstSyntax));
      } else if (e instanceof ObiamError) {
        // A file that cannot be read at all (missing, vault-encrypted without a password) is named
        // where the playbook refers to it; errors inside a file keep their own position.
        const whole = e.code === 'E_FILE_NOT_FOUND' || e.code === 'E_VAULT_NO_PASSWORD';
        this.errors.push(new ObiamError(e.code, e.message, { location: whole ? (at ?? e.location) : (e.location ?? at), remedy: e.remedy, exitCode: at || !whole ? EXIT.PARSE : EXIT.ERROR }));
      } else throw e;
      return undefined;
    }
  }

  err(code: string, message: string, where: Where, sub: (string | number)[], remedy: string, which: 'key' | 'value' = 'key'): void {
    this.errors.push(parseError(code, message, where, sub, remedy, which));
  }


  bool(v: unknown, where: Where, key: string): boolean {
    if (typeof v === 'boolean') return v;
    const s = String(v).trim().toLowerCase();
    if (['yes', 'true', 'on', '1', 'y'].includes(s)) return true;
    if (['no', 'false', 'off', '0', 'n', ''].includes(s)) return false;
    this.err('E_BAD_VALUE', `\`${key}\` must be true or false here; got ${shortValue(v)}`, where, [key], isTemplated(v) ? `a templated ${key} is not supported; use a fixed true/false${key === 'ignore_errors' ? ' or failed_when:' : ''}` : 'use true or false', 'value');
    return false;
  }

  /** A warning once per load for the same text. */
  warn(message: string, location?: SourceLocation): void {
    if (this.warned.has(message)) return;
    this.warned.add(message);
    this.warnings.push({ message, location });
  }

  /** Reports keys of `d` that are not in `allowed`; returns the keywords they look like typos of. */
  unknownKeys(d: Map_, allowed: Record<string, JsonSchema>, where: Where, what: string, extraHint?: (k: string) => string | undefined): string[] {
    const meant: string[] = [];
    for (const k of Object.keys(d)) {
      if (k in allowed) {
        const noop = noopKeyword(k);
        if (noop) this.warn(noop, where.y.locate([...where.path, k]));
        continue;
      }
      if (k in UNSUPPORTED_KEYWORDS) {
        this.err('E_UNSUPPORTED_KEYWORD', `\`${k}\` is not supported by obiam-run`, where, [k], UNSUPPORTED_KEYWORDS[k]!);
        continue;
      }
      const hint = extraHint?.(k);
      if (hint) {
        this.err('E_UNKNOWN_KEYWORD', `\`${k}\` is not a ${what} keyword`, where, [k], hint);
        continue;
      }
      const guess = suggest(k, Object.keys(allowed));
      if (guess !== undefined) meant.push(guess);
      this.err(
        'E_UNKNOWN_KEYWORD',
        `unknown ${what} keyword \`${k}\`${guess ? `; did you mean \`${guess}\`?` : ''}`,
        where,
        [k],
        `${what} keywords: ${Object.keys(allowed).sort().join(', ')}`,
      );
    }
    return meant;
  }
}

/**
 * A vars file that is not a mapping. A file holding nothing but the path of an existing file is a
 * symbolic link that was copied (or checked out with git's core.symlinks off) as a plain file: say so.
 */
export function notVarsError(y: LoadedYaml): ObiamError {
  const target = typeof y.data === 'string' && !y.data.includes('\n') ? path.resolve(path.dirname(y.file), y.data.trim()) : undefined;
  if (target !== undefined && target !== y.file && existsSync(target)) {
    return new ObiamError('E_VARS_SHAPE', `this vars file holds only the path ${JSON.stringify(y.data)}: a symbolic link saved as a plain file`, {
      location: y.locate([]),
      remedy: `make it a link again: ln -sf ${String(y.data).trim()} ${y.file} (git: core.symlinks=true)`,
      exitCode: EXIT.PARSE,
    });
  }
  return new ObiamError('E_VARS_SHAPE', `a vars file must hold a mapping of variables; got ${shortValue(y.data)}`, { location: y.locate([]), remedy: 'write `name: value` lines', exitCode: EXIT.PARSE });
}

/** Drops repeats and puts the errors of each file in the order they appear in it (files in the order first met). */
export function dedupe(errors: ObiamError[]): ObiamError[] {
  const seen = new Set<string>();
  const unique = errors.filter((e) => {
    const k = `${e.code}\0${e.message}\0${e.location?.file}:${e.location?.line}:${e.location?.col}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
  const fileOrder = new Map<string, number>();
  for (const e of unique) if (!fileOrder.has(e.location?.file ?? '')) fileOrder.set(e.location?.file ?? '', fileOrder.size);
  const rank = (e: ObiamError): number[] => [fileOrder.get(e.location?.file ?? '')!, e.location?.line ?? 0, e.location?.col ?? 0];
  return unique
    .map((e, i) => ({ e, i, r: rank(e) }))
    .sort((a, b) => a.r[0]! - b.r[0]! || a.r[1]! - b.r[1]! || a.r[2]! - b.r[2]! || a.i - b.i)
    .map((x) => x.e);
}
