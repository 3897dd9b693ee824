// Shared pieces of the property-based fuzzing (fast-check): run counts and seed, the corpus of real
// files to mutate, text mutations, generated playbooks and templates, and the oracle that an input
// ends in a result or a coded error (never a JavaScript error such as a TypeError or a stack overflow).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { ObiamError, ObiamErrors } from '../../src/errors.js';
import { PLAY_KEYWORDS, TASK_KEYWORDS } from '../../src/load/schemas.js';
import { moduleNames } from '../../src/modules/registry.js';
import { FILTERS } from '../../src/vars/filters.js';
import { TESTS } from '../../src/vars/tests.js';

/** CI runs a bounded number of cases with a fixed seed; `npm run fuzz -- --runs N --seed S` runs more. */
export const FUZZ_SEED = Number(process.env.OBIAM_FUZZ_SEED ?? 1919);
export function fuzzRuns(ciRuns: number): number {
  const n = Number(process.env.OBIAM_FUZZ_RUNS);
  return Number.isFinite(n) && n > 0 ? n : ciRuns;
}
export function fuzzParams(ciRuns: number): fc.Parameters<unknown> {
  return { seed: FUZZ_SEED, numRuns: fuzzRuns(ciRuns), endOnFailure: false };
}
/** A test's time limit: generous, and scaled for long runs. */
export function fuzzTimeout(ciRuns: number, msPerRun = 40): number {
  return Math.max(60_000, fuzzRuns(ciRuns) * msPerRun);
}

/** Messages that are JavaScript's, not ours: an internal error wrapped in a coded one is still a bug. */
const INTERNAL_WORDS =
  /Maximum call stack|Cannot read propert|Cannot set propert|is not a constructor|undefined \(reading|Cannot convert (undefined|null|object)|Invalid (string|array) length|out of memory|\[object Object\]|object null is not iterable|(^|[^'\w.$])(?!object\b)[\w.$]+ is not (iterable|a function)/;

export interface CodedOptions {
  /** Every error must name a file:line:col. */
  located?: boolean;
}

/** Checks one coded error: a stable code, a message in our words, a location where required. */
function checkCoded(e: ObiamError, opts: CodedOptions): void {
  if (!/^E_[A-Z0-9_]+$/.test(e.code)) throw new Error(`error code ${JSON.stringify(e.code)} is not an E_ code: ${e.message}`);
  if (INTERNAL_WORDS.test(e.message)) throw new Error(`an internal error surfaced as ${e.code}: ${e.message}`);
  if (opts.located && !(e.location && e.location.line >= 1 && e.location.col >= 1 && e.location.file)) {
    throw new Error(`${e.code} has no file:line:col: ${e.message}`);
  }
}

/**
 * Runs fn and passes when it returns or throws coded errors; anything else (a TypeError, a RangeError,
 * an internal error dressed as a coded one) fails the property with the thrown value's stack.
 */
export function endsCoded<T>(fn: () => T, opts: CodedOptions = {}): T | undefined {
  try {
    return fn();
  } catch (e) {
    if (e instanceof ObiamErrors) {
      if (e.errors.length === 0) throw new Error('ObiamErrors with no error');
      for (const one of e.errors) checkCoded(one, opts);
      return undefined;
    }
    if (e instanceof ObiamError) {
      checkCoded(e, opts);
      return undefined;
    }
    throw e;
  }
}

// ---- the corpus ----

/** Every .yml/.yaml/.j2 file under the given directories (sorted, so seeds are stable). */
export function corpusFiles(dirs: string[], ext = /\.(ya?ml|j2)$/): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = path.join(d, name);
      const st = statSync(p, { throwIfNoEntry: false });
      if (!st) continue;
      if (st.isDirectory()) walk(p);
      else if (st.isFile() && ext.test(name)) out.push(p);
    }
  };
  for (const d of dirs) walk(path.resolve(d));
  return out;
}

export function corpusTexts(dirs: string[], ext?: RegExp): string[] {
  return corpusFiles(dirs, ext).map((f) => readFileSync(f, 'utf8'));
}

/** The `{{ ... }}` and `{% ... %}` pieces of the repository's playbooks and templates. */
export function templateSeeds(dirs: string[]): string[] {
  const seeds = new Set<string>();
  for (const text of corpusTexts(dirs)) {
    for (const m of text.matchAll(/\{\{.*?\}\}|\{%.*?%\}/g)) seeds.add(m[0]);
  }
  return [...seeds].sort();
}

// ---- text mutations ----

type Mutation =
  | { kind: 'insert'; at: number; text: string }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'duplicate-line'; at: number }
  | { kind: 'drop-line'; at: number }
  | { kind: 'swap-lines'; at: number; with: number }
  | { kind: 'indent'; at: number; by: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'splice'; at: number; line: string };

const YAML_TOKENS = [
  '[', ']', '{', '}', ':', ': ', '- ', ',', '"', "'", '!', '!vault ', '&a ', '*a', '<<: *a', '|', '>', '#', '%', '@', '`', '?', '\t', '\n', ' ',
  '  ', '{{', '}}', '{%', '%}', '~', 'null', 'yes', 'no', '0644', '1e999', '-1', '.inf', '.nan', '---\n', '...\n', '\\', '\u00e9', '\u0000', '\ufeff',
];

const JINJA_TOKENS = [
  '{{', '}}', '{%', '%}', '{#', '#}', '(', ')', '[', ']', '{', '}', '|', '.', ',', ':', "'", '"', '~', '+', '-', '*', '/', '//', '%', '**', '==', '!=',
  '<', '>', ' is ', ' not ', ' in ', ' and ', ' or ', ' if ', ' else ', 'for ', 'endfor', 'if ', 'endif', 'set ', 'endset', 'macro ', 'endmacro',
  'namespace()', 'none', 'None', 'True', 'undefined_var', 'hostvars', 'item', 'loop.index', '\\', '\n', '-}}', '{{-', '0', '-1', '1.5', '1e308',
];

function mutation(lineSeeds: string[], tokens: string[]): fc.Arbitrary<Mutation> {
  return fc.oneof(
    fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: fc.oneof(fc.constantFrom(...tokens), fc.string({ maxLength: 4 })) }),
    fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 12 }) }),
    fc.record({ kind: fc.constant('duplicate-line' as const), at: fc.nat() }),
    fc.record({ kind: fc.constant('drop-line' as const), at: fc.nat() }),
    fc.record({ kind: fc.constant('swap-lines' as const), at: fc.nat(), with: fc.nat() }),
    fc.record({ kind: fc.constant('indent' as const), at: fc.nat(), by: fc.integer({ min: -4, max: 4 }) }),
    fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
    fc.record({ kind: fc.constant('splice' as const), at: fc.nat(), line: lineSeeds.length ? fc.constantFrom(...lineSeeds) : fc.string() }),
  );
}

function applyMutation(text: string, m: Mutation): string {
  const lines = text.split('\n');
  const li = (n: number): number => (lines.length === 0 ? 0 : n % lines.length);
  switch (m.kind) {
    case 'insert': {
      const at = text.length === 0 ? 0 : m.at % (text.length + 1);
      return text.slice(0, at) + m.text + text.slice(at);
    }
    case 'delete': {
      const at = text.length === 0 ? 0 : m.at % text.length;
      return text.slice(0, at) + text.slice(at + m.length);
    }
    case 'duplicate-line':
      lines.splice(li(m.at), 0, lines[li(m.at)] ?? '');
      return lines.join('\n');
    case 'drop-line':
      lines.splice(li(m.at), 1);
      return lines.join('\n');
    case 'swap-lines': {
      const a = li(m.at);
      const b = li(m.with);
      [lines[a], lines[b]] = [lines[b] ?? '', lines[a] ?? ''];
      return lines.join('\n');
    }
    case 'indent': {
      const i = li(m.at);
      const l = lines[i] ?? '';
      lines[i] = m.by >= 0 ? ' '.repeat(m.by) + l : l.replace(new RegExp(`^ {0,${-m.by}}`), '');
      return lines.join('\n');
    }
    case 'truncate':
      return text.slice(0, text.length === 0 ? 0 : m.at % (text.length + 1));
    case 'splice':
      lines.splice(li(m.at), 0, m.line);
      return lines.join('\n');
  }
}

/** A seed text with a few mutations applied (shrinks towards the seed itself). */
export function mutatedText(seeds: string[], kind: 'yaml' | 'jinja', maxMutations = 5): fc.Arbitrary<string> {
  const lineSeeds = [...new Set(seeds.flatMap((s) => s.split('\n')).filter((l) => l.trim().length > 0))].slice(0, 2000);
  const tokens = kind === 'yaml' ? YAML_TOKENS : JINJA_TOKENS;
  return fc
    .tuple(fc.constantFrom(...seeds), fc.array(mutation(lineSeeds, tokens), { maxLength: maxMutations }))
    .map(([seed, ms]) => ms.reduce(applyMutation, seed));
}

// ---- generated playbooks ----

const scalar = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.constantFrom('{{ x }}', '{{ undefined_thing }}', '{{ item }}', "{{ 'a' ~ 1 }}", 'yes', 'no', '0644', 'all', 'localhost', 'restart', '/tmp/x'),
  fc.integer({ min: -5, max: 100_000 }),
  fc.boolean(),
  fc.constant(null),
  fc.double({ noNaN: false }),
);
const value: fc.Arbitrary<unknown> = fc.letrec<{ v: unknown }>((tie) => ({
  v: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalar, fc.array(tie('v'), { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 8 }), tie('v'), { maxKeys: 3 })),
})).v;

const keyed = (keys: string[]): fc.Arbitrary<Record<string, unknown>> =>
  fc.array(fc.tuple(fc.constantFrom(...keys), value), { maxLength: 4 }).map((pairs) => Object.fromEntries(pairs));

/** A playbook built from the language's own keywords and modules with random values, as YAML text. */
export function generatedPlaybook(): fc.Arbitrary<string> {
  const modules = [...moduleNames(), 'include_tasks', 'import_tasks', 'meta', 'block', 'import_role', 'include_role'];
  const task = fc
    .tuple(fc.constantFrom(...modules), value, keyed(Object.keys(TASK_KEYWORDS)), fc.option(fc.string({ maxLength: 10 }), { nil: undefined }))
    .map(([mod, args, kws, name]) => ({ ...(name === undefined ? {} : { name }), [mod]: args, ...kws }));
  const play = fc
    .tuple(keyed(Object.keys(PLAY_KEYWORDS)), fc.array(task, { maxLength: 4 }), fc.array(task, { maxLength: 2 }), fc.constantFrom('all', 'web', '{{ g }}', 'localhost'))
    .map(([kws, tasks, handlers, hosts]) => ({ hosts, gather_facts: false, ...kws, tasks, ...(handlers.length ? { handlers } : {}) }));
  return fc.array(play, { minLength: 1, maxLength: 2 }).map((plays) => stringify(plays));
}

// ---- generated templates ----

const NAMES = ['s', 'n', 'f', 'b', 'none', 'l', 'd', 'empty', 'nested', 'missing', 'item', 'groups', 'hostvars', 'inventory_hostname'];
const SAFE_FILTERS = Object.keys(FILTERS).filter((f) => !/^(?:password_hash)$/.test(f));
const SAFE_TESTS = Object.keys(TESTS);
const REGEXES = ["'a'", "'^(\\\\w+)$'", "'[0-9]+'", "'('", "'x*'"];

/** Variables the generated templates read: one of each kind of value. */
export const TEMPLATE_VARS = {
  s: 'some text',
  n: 3,
  f: 1.5,
  b: true,
  none: null,
  l: [1, 'two', [3, 4], { k: 'v' }],
  d: { a: 1, b: { c: 'deep' }, 'with space': [1] },
  empty: '',
  nested: { list: [{ name: 'x', port: 80 }, { name: 'y', port: 443 }] },
  item: { key: 'k', value: 'v' },
  groups: { all: ['h1', 'h2'], web: ['h1'] },
  inventory_hostname: 'h1',
  hostvars: { h1: { s: 'one' }, h2: { s: 'two' } },
};

/** Jinja expressions and statements from a small grammar: names, literals, filters, tests, operators. */
export function generatedTemplate(): fc.Arbitrary<string> {
  const lit = fc.oneof(
    fc.integer({ min: -3, max: 20 }).map(String),
    fc.constantFrom('1.5', 'true', 'false', 'none', 'None', "''", "'a'", "'x,y'", "'%s-%d'", '[]', '{}', '[1, 2]', "{'k': 'v'}", ...REGEXES),
  );
  const { expr } = fc.letrec<{ expr: string }>((tie) => ({
    expr: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      lit,
      fc.constantFrom(...NAMES),
      fc.tuple(tie('expr'), fc.constantFrom('a', 'b', 'c', 'list', 'name', '0', 'keys()', 'items()', 'split(",")', 'upper()', 'get("a")')).map(([e, a]) => `${e}.${a}`),
      fc.tuple(tie('expr'), tie('expr')).map(([e, i]) => `${e}[${i}]`),
      fc
        .tuple(tie('expr'), fc.constantFrom(...SAFE_FILTERS), fc.array(tie('expr'), { maxLength: 2 }))
        .map(([e, f, args]) => `(${e}) | ${f}${args.length ? `(${args.join(', ')})` : ''}`),
      fc.tuple(tie('expr'), fc.constantFrom(...SAFE_TESTS), fc.boolean()).map(([e, t, neg]) => `(${e}) is ${neg ? 'not ' : ''}${t}`),
      fc.tuple(tie('expr'), fc.constantFrom('+', '-', '*', '/', '//', '%', '~', '==', '!=', '<', '>=', 'and', 'or', 'in', 'not in'), tie('expr')).map(([a, op, b]) => `(${a} ${op} ${b})`),
      fc.tuple(tie('expr'), tie('expr'), tie('expr')).map(([a, c, b]) => `(${a} if ${c} else ${b})`),
      tie('expr').map((e) => `not ${e}`),
      fc.array(tie('expr'), { maxLength: 3 }).map((xs) => `[${xs.join(', ')}]`),
      fc.tuple(fc.constantFrom('range', 'namespace', 'dict', 'lookup'), fc.array(tie('expr'), { maxLength: 2 })).map(([fn, args]) =>
        fn === 'lookup' ? `lookup('env', ${args[0] ?? "'HOME'"})` : fn === 'range' ? `range(${args.slice(0, 1).map((a) => `(${a}) | int % 20`).join('')})` : `${fn}(${args.join(', ')})`,
      ),
    ),
  }));
  const stmt = fc.oneof(
    expr.map((e) => `{{ ${e} }}`),
    fc.tuple(expr, expr).map(([c, e]) => `{% if ${c} %}{{ ${e} }}{% else %}-{% endif %}`),
    fc.tuple(expr, expr).map(([xs, e]) => `{% for x in ${xs} %}{{ ${e} }}{{ loop.index }}{% endfor %}`),
    fc.tuple(expr, expr).map(([v, e]) => `{% set ns = namespace(v=${v}) %}{% set ns.v = ${e} %}{{ ns.v }}`),
    fc.tuple(expr, expr).map(([v, e]) => `{% set t = ${v} %}{{ t }}{{ ${e} }}`),
    fc.constantFrom('plain text', '{# a comment #}x', '{% raw %}{{ x }}{% endraw %}'),
  );
  return fc.array(stmt, { minLength: 1, maxLength: 3 }).map((parts) => parts.join(' '));
}
