// Jinja2-compatible templating on nunjucks: autoescape off, undefined is an error naming the
// variable, Ansible's filters/tests/lookups, bare expressions for when/changed_when/failed_when.
// The Jinja semantics (Undefined, Python truthiness and operators, str/dict methods) live in jinja.ts.
import path from 'node:path';
import nunjucks from 'nunjucks';
import { EXIT, ObiamError, type SourceLocation } from '../errors.js';
import { VaultedValue } from '../load/yaml.js';
import { registerSecret } from '../redact.js';
import type { Vars } from '../types.js';
import type { VaultDecrypter } from '../vault/types.js';
import { ANSIBLE_FILTERS } from './filters-ansible.js';
import { FILTERS, FilterError, UNDEFINED_AWARE_FILTERS, type FilterFn } from './filters.js';
import { JinjaRuntimeError, Undefined, UndefinedError, assertDefined, compileJinja, type BackslashMode, createJinjaRuntime, isUndefined, jinjaTruthy, makeNamespace, makeSlice } from './jinja.js';
import { LookupError, runLookup } from './lookups.js';
import { literalEval, nativeFromText } from './literal.js';
import { PyTypeError, isMapping, pyStr } from './python.js';
import { TESTS, TestError, UNDEFINED_AWARE_TESTS } from './tests.js';
import { UnsafeText, isUnsafe, markUnsafe, unwrapUnsafe } from './unsafe.js';

export interface RenderOptions {
  /**
   * The text is a template file (template module): Jinja2's own backslash rules. Otherwise it is a
   * playbook string, where backslashes inside `{{ }}` string literals are literal, as in Ansible.
   */
  file?: boolean;
}

export interface RenderValueOptions {
  /**
   * Keep the unsafe marking: output that read unsafe data (registered results, `!unsafe`) comes back
   * as UnsafeText / a marked list or dict, so storing it (set_fact, a variable) never templates it
   * again. Without it the result is plain (what modules are given).
   */
  keepUnsafe?: boolean;
}

export interface Templater {
  /** Renders a template string to a string. */
  render(template: string, vars: Vars, source?: SourceLocation | string, opts?: RenderOptions): string;
  /** Renders strings inside any JSON-like value; a string that is exactly one `{{ expr }}` keeps the expression's native type. */
  renderValue<T = unknown>(value: T, vars: Vars, source?: SourceLocation | string, opts?: RenderValueOptions): unknown;
  /** Evaluates a bare Jinja expression (as in `when:`) to its value. */
  evaluate(expr: string, vars: Vars, source?: SourceLocation | string): unknown;
  /** Evaluates a list of conditions with Ansible truthiness; all must hold. */
  evalConditions(conds: ReadonlyArray<string | boolean>, vars: Vars, source?: SourceLocation | string): boolean;
}

export interface TemplaterOptions {
  /** Directories for `{% include %}` / `{% import %}` / `{% extends %}`. */
  searchPaths?: string[];
  /** Directories lookup('file', rel) searches (each dir's files/ first, then the dir); default: searchPaths, else cwd. A `role_path` variable is searched first. */
  lookupDirs?: string[];
  /** Decrypts `!vault` values (VaultedValue) that reach a template. */
  vault?: VaultDecrypter;
}

/** Per-template Jinja settings: a `#jinja2:` first line, or the template lookup's options. */
export interface JinjaOverrides {
  variable_start_string?: string;
  variable_end_string?: string;
  block_start_string?: string;
  block_end_string?: string;
  comment_start_string?: string;
  comment_end_string?: string;
  trim_blocks?: boolean;
  lstrip_blocks?: boolean;
}
const OVERRIDE_KEYS = new Set(['variable_start_string', 'variable_end_string', 'block_start_string', 'block_end_string', 'comment_start_string', 'comment_end_string', 'trim_blocks', 'lstrip_blocks']);
const JINJA2_HEADER = '#jinja2:';

/** `#jinja2:key: 'value', key2: True` on the first line (as Ansible reads it: pairs split on `,`, values Python literals). */
export function parseJinjaHeader(template: string): { text: string; overrides: JinjaOverrides } {
  const eol = template.indexOf('\n');
  const line = template.slice(JINJA2_HEADER.length, eol < 0 ? undefined : eol);
  const overrides: Record<string, unknown> = {};
  for (const pair of line.split(',')) {
    const i = pair.indexOf(':');
    if (i < 0) throw new JinjaRuntimeError(`failed to parse jinja2 override '${line}'. Did you use something different from colon as key-value separator?`, 1);
    const key = pair.slice(0, i).trim();
    const val = literalEval(pair.slice(i + 1).trim());
    if (val === undefined) throw new JinjaRuntimeError(`failed to parse jinja2 override '${line}': ${pair.slice(i + 1).trim()} is not a Python literal`, 1);
    if (OVERRIDE_KEYS.has(key)) overrides[key] = val;
  }
  return { text: eol < 0 ? '' : template.slice(eol + 1), overrides: overrides as JinjaOverrides };
}

/** The lexer options nunjucks reads (tags, trim/lstrip) with the overrides applied. */
function lexerOpts(base: Record<string, unknown>, over?: JinjaOverrides): Record<string, unknown> {
  if (!over) return base;
  const tags = {
    blockStart: over.block_start_string ?? '{%',
    blockEnd: over.block_end_string ?? '%}',
    variableStart: over.variable_start_string ?? '{{',
    variableEnd: over.variable_end_string ?? '}}',
    commentStart: over.comment_start_string ?? '{#',
    commentEnd: over.comment_end_string ?? '#}',
  };
  return { ...base, tags, trimBlocks: over.trim_blocks ?? base.trimBlocks, lstripBlocks: over.lstrip_blocks ?? base.lstripBlocks };
}

const SINGLE_EXPR = /^\{\{\s*([\s\S]*?)\s*\}\}$/;
const CACHE_MAX = 4000;

export function hasTemplate(s: string): boolean {
  return s.includes('{{') || s.includes('{%') || s.includes('{#');
}

interface TemplateProps {
  root: (env: unknown, ctx: unknown, frame: unknown, runtime: unknown, cb: unknown) => void;
  [k: string]: unknown;
}
type NjTemplate = { render(ctx: object): string };
type NjTemplateCtor = new (src: { type: 'code'; obj: TemplateProps }, env: nunjucks.Environment, path: string) => NjTemplate;

function vaultError(): ObiamError {
  return new ObiamError('E_VAULT_NO_PASSWORD', 'a template uses a !vault encrypted value and no vault password was given', {
    remedy: 'pass --vault-password-file FILE, --ask-vault-pass, or set OBIAM_VAULT_PASSWORD_FILE',
    exitCode: EXIT.ERROR,
  });
}

export function createTemplater(opts: TemplaterOptions = {}): Templater {
  const decrypted = new Map<string, string>();
  // Counts reads of unsafe data: a render during which it grows read some, and its output is unsafe too.
  let unsafeReads = 0;
  const resolve = (v: unknown): unknown => {
    if (v instanceof UnsafeText) {
      unsafeReads++;
      return v.text;
    }
    if (isUnsafe(v)) unsafeReads++;
    if (!(v instanceof VaultedValue)) return v;
    if (!opts.vault?.hasSecrets) return v;
    let plain = decrypted.get(v.payload);
    if (plain === undefined) {
      plain = opts.vault.decrypt(v.payload, 'a !vault value');
      registerSecret(plain);
      decrypted.set(v.payload, plain);
    }
    return plain;
  };
  const runtime = createJinjaRuntime({
    resolve: (v) => {
      const r = resolve(v);
      return r;
    },
  });
  const baseSuppress = runtime.suppressValue as (v: unknown) => string;
  runtime.suppressValue = (v: unknown): string => {
    if (resolve(v) instanceof VaultedValue) throw vaultError();
    return baseSuppress(v);
  };

  const toProps = (src: string, name: string, env: nunjucks.Environment, mode: BackslashMode, over?: JinjaOverrides): TemplateProps => {
    const code = compileJinja(src, name, lexerOpts((env as unknown as { opts: Record<string, unknown> }).opts, over), mode);
    const props = new Function(code)() as TemplateProps;
    const root = props.root;
    // Hand our runtime to the compiled code (nunjucks passes its global one); blocks and macros inherit it.
    props.root = (e, c, f, _rt, cb) => root(e, c, f, runtime, cb);
    return props;
  };

  const fsLoader = new nunjucks.FileSystemLoader(opts.searchPaths ?? [], { noCache: true });
  class JinjaLoader extends nunjucks.Loader {
    getSource(name: string): nunjucks.LoaderSource | null {
      const info = fsLoader.getSource(name);
      if (!info) return null;
      // Jinja drops one trailing newline of a loaded template (keep_trailing_newline is off): `{% include %}` inlines without it.
      const text = (info.src as unknown as string).replace(/\r?\n$/, '');
      return { src: { type: 'code', obj: toProps(text, info.path, env, 'python') }, path: info.path, noCache: true } as unknown as nunjucks.LoaderSource;
    }
  }
  const env = new nunjucks.Environment(new JinjaLoader() as unknown as nunjucks.ILoaderAny, {
    autoescape: false,
    // Undefined handling is ours (jinja.ts): nunjucks' flag only checks printed values and cannot name them.
    throwOnUndefined: false,
    trimBlocks: true,
    lstripBlocks: true,
    dev: true, // keep the original error as `cause` so the undefined name and line survive
  });

  const guardFilter =
    (name: string, fn: FilterFn): FilterFn =>
    function (this, value, ...args) {
      if (!UNDEFINED_AWARE_FILTERS.has(name)) assertDefined([value]);
      assertDefined(args);
      const v = resolve(value);
      if (v instanceof VaultedValue) throw vaultError();
      return fn.call(this, v, ...args.map(resolve));
    };
  // nunjucks' own filters (indent, wordcount, urlencode ...) get the same undefined guard.
  const builtins = (env as unknown as { filters: Record<string, FilterFn> }).filters;
  for (const [name, fn] of Object.entries(builtins)) if (!(name in FILTERS)) env.addFilter(name, guardFilter(name, fn));
  for (const [name, fn] of Object.entries({ ...ANSIBLE_FILTERS, ...FILTERS })) env.addFilter(name, guardFilter(name, fn));

  const builtinTests = (env as unknown as { tests: Record<string, (...a: unknown[]) => unknown> }).tests;
  const addTest = (name: string, fn: (...a: unknown[]) => unknown): void => {
    (env as unknown as { addTest(n: string, f: (...a: unknown[]) => unknown): void }).addTest(name, function (this: unknown, value: unknown, ...args: unknown[]) {
      if (!UNDEFINED_AWARE_TESTS.has(name)) assertDefined([value]);
      assertDefined(args);
      return fn.call(this, resolve(value), ...args.map(resolve)) === true;
    });
  };
  for (const [name, fn] of Object.entries(builtinTests)) if (!(name in TESTS)) addTest(name, fn);
  for (const [name, fn] of Object.entries(TESTS)) addTest(name, fn as (...a: unknown[]) => unknown);

  // Hidden filters the compiler wraps around `if` conditions and `for` iterables.
  env.addFilter('__jinja_truth', (v: unknown) => jinjaTruthy(v));
  env.addFilter('__jinja_iter', (v: unknown) => {
    assertDefined([v]);
    const r = resolve(v);
    return isMapping(r) ? Object.keys(r) : r; // Python iterates a dict's keys
  });
  env.addFilter('__jinja_iter_pairs', (v: unknown) => {
    assertDefined([v]);
    return resolve(v);
  });
  const captures: unknown[][] = [];
  env.addFilter('__capture', (v: unknown) => {
    assertDefined([v]);
    captures[captures.length - 1]!.push(v);
    return '';
  });

  const lookupDirs = opts.lookupDirs ?? (opts.searchPaths?.length ? opts.searchPaths : [process.cwd()]);
  // Text a lookup gave as text for good (Ansible's NativeJinjaText): a template that is just it keeps it as text.
  const keptText = new Set<string>();
  const keepText = (s: string): void => {
    if (keptText.size > 1000) keptText.clear();
    keptText.add(s);
  };
  // A looked-up template's own directory is searched by its {% include %}s (as Ansible's template lookup does).
  const loaderPaths = (fsLoader as unknown as { searchPaths: string[] }).searchPaths;
  const renderFile = (text: string, vars: Vars, name: string, over?: JinjaOverrides): string => {
    const dir = path.dirname(name);
    const added = !loaderPaths.includes(dir);
    if (added) loaderPaths.push(dir);
    try {
      return renderMode(text, vars, name, 'python', over);
    } finally {
      if (added) loaderPaths.splice(loaderPaths.indexOf(dir), 1);
    }
  };
  const lookupGlobal = (wantList: boolean) =>
    function (this: { ctx?: Record<string, unknown> }, name: unknown, ...args: unknown[]): unknown {
      const out = runLookup(name, args, { vars: this?.ctx ?? {}, baseDirs: lookupDirs, render: renderFile, keepText }, wantList);
      // As in Ansible, what a lookup returns is data (a file, a command's output): never templated again.
      unsafeReads++;
      return out;
    };
  env.addGlobal('namespace', makeNamespace);
  env.addGlobal('__jinja_slice', makeSlice);
  env.addGlobal('lookup', lookupGlobal(false));
  env.addGlobal('query', lookupGlobal(true));
  env.addGlobal('q', lookupGlobal(true));

  const cache = new Map<string, NjTemplate>();
  const compiled = (src: string, mode: BackslashMode, over?: JinjaOverrides): NjTemplate => {
    const key = `${mode}\0${over ? JSON.stringify(over) : ''}\0${src}`;
    let t = cache.get(key);
    if (!t) {
      if (cache.size >= CACHE_MAX) cache.clear();
      t = new (nunjucks.Template as unknown as NjTemplateCtor)({ type: 'code', obj: toProps(src, '<template>', env, mode, over) }, env, '<template>');
      cache.set(key, t);
    }
    return t;
  };

  const renderMode = (template: string, vars: Vars, source: SourceLocation | string | undefined, mode: BackslashMode, given?: JinjaOverrides): string => {
    let text = template;
    let over = given;
    try {
      if (text.startsWith(JINJA2_HEADER)) {
        const h = parseJinjaHeader(text);
        text = h.text;
        over = { ...over, ...h.overrides };
      }
      if (!over && !hasTemplate(text)) return text;
      return compiled(text, mode, over).render(vars);
    } catch (e) {
      throw templateError(e, template, source);
    }
  };

  const render = (template: string, vars: Vars, source?: SourceLocation | string, ro: RenderOptions = {}): string =>
    renderMode(template, vars, source, ro.file ? 'python' : 'ansible');

  // `when:` expressions are Jinja inside `{% if %}` in Ansible, so Jinja2's backslash rules apply ('python').
  const evaluateMode = (expr: string, vars: Vars, source: SourceLocation | string | undefined, mode: BackslashMode): unknown => {
    // Capture the value through a filter so its native type (list, dict, number) survives.
    captures.push([]);
    try {
      renderMode(`{{ (${expr}) | __capture }}`, vars, source, mode);
      return plain(captures[captures.length - 1]![0], resolve);
    } catch (e) {
      // Name the expression the user wrote, not the wrapper around it.
      if (e instanceof ObiamError && e.code === 'E_TEMPLATE') throw templateError(e.cause, expr, source);
      throw e;
    } finally {
      captures.pop();
    }
  };
  const evaluate = (expr: string, vars: Vars, source?: SourceLocation | string): unknown => evaluateMode(expr, vars, source, 'python');

  const renderPlain = (value: unknown, vars: Vars, source?: SourceLocation | string): unknown => {
    if (value instanceof UnsafeText) {
      unsafeReads++;
      return value.text;
    }
    if (isUnsafe(value)) {
      unsafeReads++;
      return value; // data, never rendered
    }
    if (typeof value === 'string') {
      if (!hasTemplate(value)) return value;
      const m = SINGLE_EXPR.exec(value);
      if (m && !m[1]!.includes('}}') && !m[1]!.includes('{{')) {
        let v: unknown;
        try {
          v = evaluateMode(m[1]!, vars, source, 'ansible');
        } catch (e) {
          // Keep the message about the text the user wrote, not the wrapped expression.
          if (e instanceof ObiamError && e.code === 'E_TEMPLATE') throw templateError(e.cause, value, source);
          throw e;
        }
        // Ansible 2.14 hands a lone variable holding a number, bool or None back as it is.
        if (/^\w+$/.test(m[1]!) && m[1]! in vars && (v === null || typeof v === 'number' || typeof v === 'boolean')) return v;
        return typeof v === 'string' && keptText.has(v) ? v : nativeValue(v);
      }
      return nativeFromText(render(value, vars, source));
    }
    if (Array.isArray(value)) return value.map((v) => renderPlain(v, vars, source));
    if (isMapping(value)) {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[k] = renderPlain(v, vars, source);
      return out;
    }
    return value;
  };

  // Each template string of the structure is marked on its own: `{a: "{{ r.stdout }}", b: "{{ x }}"}`
  // keeps only `a` as data.
  const renderKeep = (value: unknown, vars: Vars, source?: SourceLocation | string): unknown => {
    if (!isUnsafe(value) && (Array.isArray(value) || isMapping(value))) {
      if (Array.isArray(value)) return value.map((v) => renderKeep(v, vars, source));
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[k] = renderKeep(v, vars, source);
      return out;
    }
    const before = unsafeReads;
    const out = renderPlain(value, vars, source);
    return unsafeReads > before ? markUnsafe(unwrapUnsafe(out)) : out;
  };

  const renderValue = (value: unknown, vars: Vars, source?: SourceLocation | string, ro: RenderValueOptions = {}): unknown =>
    ro.keepUnsafe ? renderKeep(value, vars, source) : unwrapUnsafe(renderPlain(value, vars, source));

  const evalConditions = (conds: ReadonlyArray<string | boolean>, vars: Vars, source?: SourceLocation | string): boolean => {
    for (const c of conds) {
      if (typeof c === 'boolean') {
        if (!c) return false;
        continue;
      }
      if (!conditionTruthy(evaluate(c, vars, source))) return false;
    }
    return true;
  };
  return { render, renderValue, evaluate, evalConditions };
}

/**
 * What one `{{ expr }}` gives with jinja2_native off, as in Ansible 2.14: the text of the value, turned
 * back into a list, dict or bool when it spells one (lists, dicts and bools therefore keep their value);
 * a number becomes its text, None the empty string.
 */
function nativeValue(v: unknown): unknown {
  if (v === null || v === undefined) return '';
  if (typeof v === 'boolean' || Array.isArray(v) || isMapping(v)) return v;
  if (typeof v === 'string') return nativeFromText(v);
  if (v instanceof UnsafeText) return v;
  return nativeFromText(pyStr(v));
}

/** A deep copy of a value's lists and dicts (callers may mutate results), vaulted values decrypted. */
function plain(v: unknown, resolve: (v: unknown) => unknown): unknown {
  const r = resolve(v);
  if (Array.isArray(r)) return r.map((x) => plain(x, resolve));
  if (isMapping(r)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(r)) out[k] = plain(x, resolve);
    return out;
  }
  return r;
}

function rootCause(e: unknown): unknown {
  let cur = e;
  for (let i = 0; i < 10 && cur instanceof Error; i++) {
    if (cur instanceof ObiamError || cur instanceof UndefinedError || cur instanceof JinjaRuntimeError) return cur;
    const next = (cur as { cause?: unknown }).cause;
    if (next === undefined) return cur;
    cur = next;
  }
  return cur;
}

/** Maps whatever rendering threw to one ObiamError E_TEMPLATE naming the source, line and the undefined name. */
function templateError(e: unknown, written: string, source?: SourceLocation | string): ObiamError {
  // Messages name what the user wrote: an expression wrapped to capture its value (`{{ (x) | dump }}`) is shown bare.
  const template = WRAPPED.exec(written)?.[1] ?? written;
  const cause = rootCause(e);
  if (cause instanceof ObiamError && cause.code !== 'E_TEMPLATE') return cause; // vault, etc.
  let msg: string;
  let line: number | undefined;
  let remedy = 'check the filter or test arguments and the value types';
  if (cause instanceof ObiamError) return cause;
  if (cause instanceof UndefinedError) {
    msg = cause.message;
    line = cause.line;
    remedy = 'define the variable (inventory, vars, -e) or give a default: {{ x | default(...) }}';
  } else if (cause instanceof JinjaRuntimeError) {
    msg = cause.message;
    line = cause.line;
  } else if (cause instanceof FilterError || cause instanceof TestError || cause instanceof LookupError || cause instanceof PyTypeError) {
    msg = cause.message;
    line = lineOf(e);
  } else {
    const raw = cause instanceof Error ? cause.message : String(cause);
    msg = raw.replace(/^\([^)]*\)\s*(\[Line \d+, Column \d+\])?\s*/, '').replace(/^(Template render error|Error):\s*/, '').replace(/\s+/g, ' ').trim();
    line = lineOf(e);
    remedy = /unexpected|expected|unknown block tag|parse/i.test(msg) ? 'fix the Jinja syntax of the template' : remedy;
  }
  const multiLine = template.includes('\n');
  const where = typeof source === 'string' ? source : undefined;
  const at = line !== undefined && multiLine ? `line ${line}` : '';
  const head = [where, at].filter(Boolean).join(', ');
  const shown = multiLine ? '' : ` in ${JSON.stringify(template.length > 80 ? `${template.slice(0, 77)}...` : template)}`;
  return new ObiamError('E_TEMPLATE', `${head ? `${head}: ` : ''}${msg}${shown}`, {
    location: typeof source === 'object' ? source : undefined,
    remedy,
    exitCode: EXIT.ERROR,
    cause,
  });
}

const WRAPPED = /^\{\{ \(([\s\S]*)\) \| (?:dump|__capture) \}\}$/;

function lineOf(e: unknown): number | undefined {
  let cur = e;
  for (let i = 0; i < 10 && cur && typeof cur === 'object'; i++) {
    const ln = (cur as { lineno?: unknown }).lineno;
    if (typeof ln === 'number' && ln > 0) return ln;
    cur = (cur as { cause?: unknown }).cause;
  }
  const m = /\[Line (\d+)/.exec(e instanceof Error ? e.message : '');
  return m ? Number(m[1]) : undefined;
}

/** Ansible/Python truthiness; strings 'false', 'no', 'off', '0' count as false (as `| bool` would). */
export function truthy(v: unknown): boolean {
  if (v === null || v === undefined) return false;
  if (isUndefined(v)) throw (v as Undefined).error();
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'string') {
    const s = v.trim().toLowerCase();
    return !(s === '' || s === 'false' || s === 'no' || s === 'off' || s === '0' || s === 'n');
  }
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v).length > 0;
  return true;
}

/** A condition's truth (when, changed_when, failed_when, until, assert): Jinja/Python truthiness, undefined an error. */
export function conditionTruthy(v: unknown): boolean {
  if (v === undefined) return false;
  return jinjaTruthy(v);
}
