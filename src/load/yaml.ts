// YAML with Ansible's semantics (YAML 1.1: `yes` is true, `0644` is octal, `<<` merges) and source
// positions for every node, so validation errors can name file:line:col.
import { readFileSync } from 'node:fs';
import { LineCounter, Parser, parseDocument, isScalar, YAMLMap, YAMLSeq, type CollectionTag, type Document, type Node as YamlNode, type ScalarTag, type Tags } from 'yaml';
import { EXIT, ObiamError, ObiamErrors, type SourceLocation } from '../errors.js';
import { registerSecret } from '../redact.js';
import { isVaultPayload, type VaultDecrypter } from '../vault/types.js';
import { UnsafeText, markUnsafe } from '../vars/unsafe.js';

export type YamlPath = ReadonlyArray<string | number>;

export interface LoadedYaml {
  file: string;
  data: unknown;
  doc: Document.Parsed | null;
  /** Location of the node at `path` (or the nearest existing parent); start of file when unknown. */
  locate(path: YamlPath, which?: 'key' | 'value'): SourceLocation;
}

export interface YamlOptions {
  vault?: VaultDecrypter;
}

/** Marker wrapping a `!vault` value until it is decrypted (no vault password given yet). */
export class VaultedValue {
  /** `source`: the file the value was read from (named when a run needs it and has no password). */
  constructor(
    readonly payload: string,
    readonly source?: string,
  ) {}
  toString(): string {
    return '********';
  }
  toJSON(): string {
    return '********';
  }
}

const BOOL_TAG = 'tag:yaml.org,2002:bool';
const ansibleBools: ScalarTag[] = [
  { tag: BOOL_TAG, default: true, test: /^(?:yes|Yes|YES|true|True|TRUE|on|On|ON)$/, resolve: () => true, stringify: () => 'true' },
  { tag: BOOL_TAG, default: true, test: /^(?:no|No|NO|false|False|FALSE|off|Off|OFF)$/, resolve: () => false, stringify: () => 'false' },
];

// PyYAML's YAML 1.1 floats: a dot is required and an exponent needs its sign, so `.`, `1e3` and
// `1.5e3` stay strings (the yaml package's 1.1 floats would read `.` as NaN and `1.5e3` as 1500).
const FLOAT_TAG = 'tag:yaml.org,2002:float';
const PY_FLOAT = /^(?:[-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/;
const pyFloat: ScalarTag = {
  tag: FLOAT_TAG,
  default: true,
  identify: (v) => typeof v === 'number' && !Number.isInteger(v),
  test: PY_FLOAT,
  resolve(str: string): number {
    const t = str.replace(/_/g, '');
    if (/nan$/i.test(t)) return NaN;
    if (/inf$/i.test(t)) return t.startsWith('-') ? -Infinity : Infinity;
    return Number(t);
  },
  stringify: ({ value }) => String(value),
};

/**
 * `!vault` values. A value that cannot be decrypted (wrong password, damaged payload) is kept in
 * `failures` and thrown after parsing with its own code: the yaml package would report it as a
 * syntax error.
 */
function vaultTag(vault: VaultDecrypter | undefined, file: string, failures: ObiamError[]): ScalarTag {
  return {
    tag: '!vault',
    identify: () => false,
    resolve(str: string, onError: (msg: string) => void): unknown {
      if (!vault || !vault.hasSecrets) return new VaultedValue(str, file);
      try {
        const plain = vault.decrypt(str, file);
        registerSecret(plain);
        return plain;
      } catch (e) {
        if (e instanceof ObiamError) failures.push(e);
        else onError(e instanceof Error ? e.message : String(e));
        return '';
      }
    },
  };
}

// `!unsafe`: text that is never templated (src/vars/unsafe.ts); on a list or dict, all of it.
const unsafeScalar: ScalarTag = { tag: '!unsafe', identify: () => false, resolve: (str: string) => new UnsafeText(str) };
class UnsafeSeq extends YAMLSeq {
  override toJSON(...a: Parameters<YAMLSeq['toJSON']>): unknown[] {
    return markUnsafe(super.toJSON(...a)) as unknown[];
  }
}
class UnsafeMap extends YAMLMap {
  override toJSON(...a: Parameters<YAMLMap['toJSON']>): ReturnType<YAMLMap['toJSON']> {
    return markUnsafe(super.toJSON(...a)) as ReturnType<YAMLMap['toJSON']>;
  }
}
const unsafeTags: Tags = [
  unsafeScalar,
  { tag: '!unsafe', collection: 'seq', nodeClass: UnsafeSeq } as CollectionTag,
  { tag: '!unsafe', collection: 'map', nodeClass: UnsafeMap } as CollectionTag,
];

/** Parses YAML text; throws ObiamErrors with file:line:col for syntax errors and duplicate keys. */
export function parseYaml(text: string, file: string, opts: YamlOptions = {}): LoadedYaml {
  if (isVaultPayload(text)) {
    if (!opts.vault || !opts.vault.hasSecrets) {
      throw new ObiamError('E_VAULT_NO_PASSWORD', `${file} is vault-encrypted and no vault password was given`, {
        location: { file, line: 1, col: 1 },
        remedy: 'pass --vault-password-file FILE, --ask-vault-pass, or set OBIAM_VAULT_PASSWORD_FILE',
        exitCode: EXIT.ERROR,
      });
    }
    text = opts.vault.decrypt(text, file);
  }
  const deep = tooDeep(text);
  if (deep !== undefined) {
    const before = text.slice(0, deep);
    const pos = { line: before.split('\n').length, col: deep - before.lastIndexOf('\n') };
    throw new ObiamErrors([
      new ObiamError('E_YAML_TOO_DEEP', `the YAML nests more than ${MAX_YAML_DEPTH} levels deep here`, {
        location: { file, line: pos.line, col: pos.col },
        remedy: 'flatten the structure; no playbook, inventory or vars file needs that depth',
        exitCode: EXIT.PARSE,
      }),
    ]);
  }
  const lineCounter = new LineCounter();
  const vaultFailures: ObiamError[] = [];
  const doc = parseDocument(text, {
    version: '1.1',
    merge: true,
    uniqueKeys: true,
    prettyErrors: false,
    lineCounter,
    // PyYAML (Ansible) reads only yes/no/true/false/on/off as booleans; `y` and `n` stay strings.
    customTags: (tags) => [...tags.filter((t) => typeof t === 'string' || (t.tag !== BOOL_TAG && t.tag !== FLOAT_TAG)), ...ansibleBools, pyFloat, vaultTag(opts.vault, file, vaultFailures), ...unsafeTags],
  });
  if (vaultFailures.length) throw vaultFailures.length === 1 ? vaultFailures[0]! : new ObiamErrors(vaultFailures, vaultFailures[0]!.exitCode);
  const errors = doc.errors.map((err) => {
    let pos = err.linePos?.[0] ?? lineCounter.linePos(err.pos[0]);
    const dup = err.code === 'DUPLICATE_KEY';
    let msg = dup ? 'duplicate key in mapping' : err.message.split('\n')[0]!;
    // An unclosed `[` or `{` is reported where the parser gave up (often the end of the file): point at the opener.
    const flow = /^Flow (sequence|map) in block collection/.exec(msg);
    const opener = flow ? unclosedFlowStart(text, flow[1] === 'sequence' ? '[' : '{', err.pos[0]) : undefined;
    if (flow && opener !== undefined) {
      pos = lineCounter.linePos(opener);
      const [open, close] = flow[1] === 'sequence' ? ['[', ']'] : ['{', '}'];
      msg = `this ${open} is never closed: a flow ${flow[1] === 'sequence' ? 'sequence' : 'mapping'} must end with ${close}`;
    }
    return new ObiamError(dup ? 'E_YAML_DUPLICATE_KEY' : 'E_YAML_SYNTAX', msg, {
      location: { file, line: pos.line, col: pos.col },
      remedy: dup ? 'remove or rename one of the keys: YAML keeps only one' : 'fix the YAML syntax (indentation, quoting, a missing colon)',
      exitCode: EXIT.PARSE,
    });
  });
  if (errors.length) throw new ObiamErrors(errors.map((e) => fixDuplicateKeyPosition(e, text)), EXIT.PARSE);
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 10_000 });
  } catch (e) {
    // Errors the yaml package raises only when building values: a bad `<<` merge, an alias bomb.
    const msg = e instanceof Error ? e.message : String(e);
    const at = /merge/i.test(msg) ? Math.max(0, text.indexOf('<<')) : 0;
    const before = text.slice(0, at);
    throw new ObiamErrors([
      new ObiamError('E_YAML_SYNTAX', msg.split('\n')[0]!, {
        location: { file, line: before.split('\n').length, col: at - before.lastIndexOf('\n') },
        remedy: /merge/i.test(msg) ? 'merge keys (<<) take a mapping or an alias of one (<<: *defaults)' : 'fix the YAML (anchors and aliases)',
        exitCode: EXIT.PARSE,
      }),
    ]);
  }

  const locate = (path: YamlPath, which: 'key' | 'value' = 'key'): SourceLocation => {
    let p = [...path];
    while (p.length > 0) {
      const found = nodeRange(doc, p, which);
      if (found !== undefined) {
        const lp = lineCounter.linePos(found);
        return { file, line: lp.line, col: lp.col };
      }
      p = p.slice(0, -1);
    }
    const start = (doc.contents as YamlNode | null)?.range?.[0] ?? 0;
    const lp = lineCounter.linePos(start);
    return { file, line: lp.line, col: lp.col };
  };
  return { file, data, doc, locate };
}

/** Deeper YAML than this is refused before parsing: the parser and every walk over the data recurse per level. */
export const MAX_YAML_DEPTH = 200;

/**
 * The offset where flow brackets or block indentation first nest deeper than MAX_YAML_DEPTH, if anywhere.
 * Brackets are counted outside comments only (quoted ones too, which can only over-count balanced text).
 */
function tooDeep(text: string): number | undefined {
  let depth = 0;
  let lineStart = true;
  let indent = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\n') {
      lineStart = true;
      indent = 0;
      continue;
    }
    if (lineStart) {
      if (c === ' ' || c === '-') {
        // Each block level costs at least one column of indentation (or a `- `).
        if (++indent > MAX_YAML_DEPTH * 2) return i;
        continue;
      }
      lineStart = false;
    }
    if (c === '#' && (i === 0 || /\s/.test(text[i - 1]!))) {
      const nl = text.indexOf('\n', i);
      if (nl < 0) break;
      i = nl - 1;
    } else if (c === '[' || c === '{') {
      if (++depth > MAX_YAML_DEPTH) return i;
    } else if ((c === ']' || c === '}') && depth > 0) depth--;
  }
  return undefined;
}

/** The offset of the innermost flow collection opened with `open` before `before` that has no closing bracket. */
function unclosedFlowStart(text: string, open: '[' | '{', before: number): number | undefined {
  const close = open === '[' ? ']' : '}';
  let best: number | undefined;
  const walk = (node: unknown, depth: number): void => {
    if (depth > 200 || node === null || typeof node !== 'object') return;
    const t = node as { type?: string; start?: { offset?: number; source?: string }; end?: Array<{ source?: string }> };
    if (t.type === 'flow-collection' && t.start?.source === open && typeof t.start.offset === 'number' && t.start.offset < before) {
      if (!(t.end ?? []).some((e) => e.source === close) && (best === undefined || t.start.offset > best)) best = t.start.offset;
    }
    for (const v of Object.values(node)) walk(v, depth + 1);
  };
  for (const tok of new Parser().parse(text)) walk(tok, 0);
  return best;
}

/**
 * The yaml package places a duplicate key at the end of the previous line when the pair before it has
 * an empty value (`web1:` then `web1:` again); move such a position forward to the key itself.
 */
function fixDuplicateKeyPosition(err: ObiamError, text: string): ObiamError {
  const loc = err.location;
  if (err.code !== 'E_YAML_DUPLICATE_KEY' || !loc) return err;
  const lines = text.split('\n');
  let line = loc.line;
  let col = loc.col;
  while (line <= lines.length && (lines[line - 1] ?? '').slice(col - 1).trim() === '') {
    line++;
    col = 1;
  }
  if (line > lines.length) return err;
  col += (lines[line - 1] ?? '').slice(col - 1).search(/\S/);
  if (line === loc.line && col === loc.col) return err;
  return new ObiamError(err.code, err.message, { location: { ...loc, line, col }, remedy: err.remedy, exitCode: err.exitCode });
}

function nodeRange(doc: Document.Parsed, path: (string | number)[], which: 'key' | 'value'): number | undefined {
  if (which === 'key' && typeof path[path.length - 1] === 'string') {
    const parent = path.length === 1 ? doc.contents : doc.getIn(path.slice(0, -1), true);
    const key = path[path.length - 1];
    const items = (parent as { items?: Array<{ key: unknown }> } | null)?.items;
    if (Array.isArray(items)) {
      for (const pair of items) {
        const k = pair.key as YamlNode | null;
        if (k && isScalar(k) && String(k.value) === key && k.range) return k.range[0];
      }
    }
  }
  const node = (path.length === 0 ? doc.contents : doc.getIn(path, true)) as YamlNode | undefined | null;
  return node?.range?.[0];
}

export function loadYamlFile(file: string, opts: YamlOptions = {}): LoadedYaml {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ObiamError('E_FILE_NOT_FOUND', `cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : code}`, {
      remedy: 'check the path (relative paths are relative to the current directory or the playbook)',
      exitCode: EXIT.ERROR,
    });
  }
  return parseYaml(text, file, opts);
}
