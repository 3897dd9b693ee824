// ajv-backed checks for keyword values and module arguments, mapped to one clear message per
// problem: the file:line:col of the key or value, what is allowed, and "did you mean" for typos.
import { createRequire } from 'node:module';
import type { Ajv as AjvT, ErrorObject, ValidateFunction } from 'ajv';
import { EXIT, ObiamError } from '../errors.js';
import type { JsonSchema, ModuleDef } from '../modules/types.js';
import { didYouMean } from './did-you-mean.js';
import type { LoadedYaml, YamlPath } from './yaml.js';

// ajv (about 60 files, and a code generation per schema) is loaded only when a value does not pass
// the quick check below: a valid playbook of plain keywords and modules never needs it (start-up time).
let ajvInstance: AjvT | undefined;
function ajv(): AjvT {
  if (!ajvInstance) {
    const { Ajv } = createRequire(import.meta.url)('ajv') as typeof import('ajv');
    ajvInstance = new Ajv({ allErrors: true, strict: false, allowUnionTypes: true });
  }
  return ajvInstance;
}
const compiled = new WeakMap<JsonSchema, ValidateFunction>();

function compile(schema: JsonSchema): ValidateFunction {
  let fn = compiled.get(schema);
  if (!fn) {
    fn = ajv().compile(schema);
    compiled.set(schema, fn);
  }
  return fn;
}

/** Annotations and the keywords `quickFits` decides itself; any other keyword sends the value to ajv. */
const QUICK_KEYWORDS = new Set(['type', 'enum', 'anyOf', 'properties', 'required', 'additionalProperties', 'items', 'minItems', 'minProperties', 'minLength', 'maxLength', 'pattern', 'minimum', 'maximum', 'description', 'title', 'default', 'examples', '$comment']);
const quickable = new WeakMap<JsonSchema, boolean>();

function isQuickable(schema: JsonSchema): boolean {
  let q = quickable.get(schema);
  if (q === undefined) {
    q = Object.keys(schema).every((k) => QUICK_KEYWORDS.has(k));
    if (q && schema.properties) q = Object.values(schema.properties as Record<string, JsonSchema>).every((p) => typeof p === 'object' && p !== null && isQuickable(p));
    if (q && schema.items !== undefined) q = typeof schema.items === 'object' && schema.items !== null && !Array.isArray(schema.items) && isQuickable(schema.items as JsonSchema);
    if (q && schema.anyOf !== undefined) q = Array.isArray(schema.anyOf) && (schema.anyOf as unknown[]).every((a) => typeof a === 'object' && a !== null && isQuickable(a as JsonSchema));
    if (q && schema.additionalProperties !== undefined && typeof schema.additionalProperties !== 'boolean') q = isQuickable(schema.additionalProperties as JsonSchema);
    quickable.set(schema, q);
  }
  return q;
}

const patterns = new Map<string, RegExp>();
function patternOf(p: string): RegExp {
  let re = patterns.get(p);
  if (!re) {
    try {
      re = new RegExp(p, 'u');
    } catch {
      re = /(?!)/; // never matches: ajv decides (and reports the bad pattern as before)
    }
    patterns.set(p, re);
  }
  return re;
}

function typeFits(t: unknown, v: unknown): boolean {
  switch (t) {
    case 'string': return typeof v === 'string';
    case 'boolean': return typeof v === 'boolean';
    case 'number': return typeof v === 'number' && Number.isFinite(v);
    case 'integer': return typeof v === 'number' && Number.isInteger(v);
    case 'null': return v === null;
    case 'array': return Array.isArray(v);
    case 'object': return typeof v === 'object' && v !== null && !Array.isArray(v);
    default: return false;
  }
}

/** A value that plainly fits a schema of the common keywords: true. false means "ask ajv" (it may still fit). */
export function quickFits(schema: JsonSchema, v: unknown): boolean {
  if (!isQuickable(schema)) return false;
  if (schema.type !== undefined && !(Array.isArray(schema.type) ? schema.type.some((t) => typeFits(t, v)) : typeFits(schema.type, v))) return false;
  if (Array.isArray(schema.enum) && !schema.enum.some((e) => e === v)) return false;
  if (Array.isArray(schema.anyOf) && !(schema.anyOf as JsonSchema[]).some((a) => quickFits(a, v))) return false;
  if (typeof v === 'string') {
    // ajv counts code points and compiles patterns with the u flag.
    if (typeof schema.minLength === 'number' && [...v].length < schema.minLength) return false;
    if (typeof schema.maxLength === 'number' && [...v].length > schema.maxLength) return false;
    if (typeof schema.pattern === 'string' && !patternOf(schema.pattern).test(v)) return false;
  }
  if (typeof v === 'number') {
    if (typeof schema.minimum === 'number' && !(v >= schema.minimum)) return false;
    if (typeof schema.maximum === 'number' && !(v <= schema.maximum)) return false;
  }
  if (Array.isArray(v)) {
    if (typeof schema.minItems === 'number' && v.length < schema.minItems) return false;
    if (schema.items !== undefined && !v.every((x) => quickFits(schema.items as JsonSchema, x))) return false;
  } else if (typeof v === 'object' && v !== null) {
    const o = v as Record<string, unknown>;
    const props = (schema.properties ?? {}) as Record<string, JsonSchema>;
    if (typeof schema.minProperties === 'number' && Object.keys(o).length < schema.minProperties) return false;
    if (Array.isArray(schema.required) && !schema.required.every((k) => Object.prototype.hasOwnProperty.call(o, String(k)))) return false;
    for (const [k, x] of Object.entries(o)) {
      const p = Object.prototype.hasOwnProperty.call(props, k) ? props[k] : undefined;
      if (p !== undefined) {
        if (!quickFits(p, x)) return false;
      } else if (schema.additionalProperties === false) return false;
      else if (typeof schema.additionalProperties === 'object' && !quickFits(schema.additionalProperties as JsonSchema, x)) return false;
    }
  }
  return true;
}

/** The ajv check, skipped (and ajv never loaded) when the quick check already says the value fits. */
function fits(schema: JsonSchema, value: unknown): { ok: true } | { ok: false; fn: ValidateFunction } {
  if (quickFits(schema, value)) return { ok: true };
  const fn = compile(schema);
  return fn(value) ? { ok: true } : { ok: false, fn };
}

/** A value that is (or contains) a Jinja template: its type is only known at run time. */
export function isTemplated(v: unknown): boolean {
  return typeof v === 'string' && (v.includes('{{') || v.includes('{%'));
}

/** Where a node sits: the YAML file and the path of the mapping inside it. */
export interface Where {
  y: LoadedYaml;
  path: YamlPath;
}

/**
 * "Did you mean": the shared edit-distance guess, and failing that a candidate that differs by one
 * swap of neighbouring letters (`hsots` / `hosts`, `whne` / `when`, `dset` / `dest`), the commonest typo.
 */
export function suggest(word: string, candidates: string[]): string | undefined {
  const guess = didYouMean(word, candidates);
  if (guess !== undefined) return guess;
  const w = word.toLowerCase();
  return candidates.find((c) => {
    const l = c.toLowerCase();
    if (l.length !== w.length) return false;
    const diff = [...l].flatMap((ch, i) => (ch === w[i] ? [] : [i]));
    return diff.length === 2 && diff[1] === diff[0]! + 1 && l[diff[0]!] === w[diff[1]!] && l[diff[1]!] === w[diff[0]!];
  });
}

const didYouMeanText = (guess: string | undefined): string => (guess === undefined ? '' : `; did you mean \`${guess}\`?`);

/** The `did you mean` for a value outside an enum (`presnt` -> `present`), or ''. */
function enumGuess(schema: JsonSchema | undefined, value: unknown): string {
  if (!schema || !Array.isArray(schema.enum) || typeof value !== 'string') return '';
  return didYouMeanText(suggest(value, schema.enum.filter((v): v is string => typeof v === 'string')));
}

export function parseError(code: string, message: string, where: Where, sub: YamlPath, remedy: string, which: 'key' | 'value' = 'key'): ObiamError {
  return new ObiamError(code, message, { location: where.y.locate([...where.path, ...sub], which), remedy, exitCode: EXIT.PARSE });
}

/** Allowed values of a schema in words. */
export function describeSchema(schema: JsonSchema | undefined): string {
  if (!schema) return 'a valid value';
  if (typeof schema.description === 'string') return schema.description.replace(/^[a-z_]+: /, '');
  if (Array.isArray(schema.enum)) return `one of ${schema.enum.map((v) => JSON.stringify(v)).join(', ')}`;
  const alts = (schema.anyOf ?? schema.oneOf) as JsonSchema[] | undefined;
  if (Array.isArray(alts)) return alts.map(describeSchema).join(' or ');
  const t = schema.type;
  const names: Record<string, string> = { string: 'a string', integer: 'a whole number', number: 'a number', boolean: 'true/false', array: 'a list', object: 'a mapping', null: 'empty' };
  if (Array.isArray(t)) return t.map((x) => names[String(x)] ?? String(x)).join(' or ');
  if (typeof t === 'string') {
    if (t === 'array' && schema.items && typeof schema.items === 'object') return `a list of ${describeSchema(schema.items as JsonSchema).replace(/^an? /, '')}s`;
    return names[t] ?? t;
  }
  return 'a valid value';
}

/** Validates each present keyword of `data` against its schema (unknown keys are the caller's job). */
export function checkKeywords(data: Record<string, unknown>, keywords: Record<string, JsonSchema>, where: Where): ObiamError[] {
  const out: ObiamError[] = [];
  for (const [key, value] of Object.entries(data)) {
    const schema = keywords[key];
    if (!schema || isTemplated(value)) continue;
    const r = fits(schema, value);
    if (r.ok) continue;
    const fn = r.fn;
    // Inside a list or mapping, a templated element may stand for anything: skip those.
    const errs = (fn.errors ?? []).filter((e) => !templatedAlong(value, e.instancePath));
    if (errs.length === 0) continue;
    // A misspelt key inside a keyword's mapping (loop_control: {loopvar: x}) is named at the key itself.
    const extras = errs.filter((e) => e.keyword === 'additionalProperties' && e.instancePath === '');
    if (extras.length > 0 && extras.length === errs.length) {
      const allowed = Object.keys((schema.properties ?? {}) as Record<string, unknown>);
      for (const e of extras) {
        const extra = String((e.params as { additionalProperty: string }).additionalProperty);
        out.push(parseError('E_BAD_VALUE', `unknown ${key} key \`${extra}\`${didYouMeanText(suggest(extra, allowed))} (${key} takes ${allowed.join(', ')})`, where, [key, extra], `give ${key} ${describeSchema(schema)}`, 'key'));
      }
      continue;
    }
    out.push(parseError('E_BAD_VALUE', `\`${key}\` must be ${describeSchema(schema)}; got ${shortValue(value)}${enumGuess(schema, value)}`, where, [key], `give ${key} ${describeSchema(schema)}`, 'value'));
  }
  return out;
}

/** Does `value` fit `schema`? Templated values (and templated parts) always do: they are known at run time only. */
export function valueFits(schema: JsonSchema, value: unknown): boolean {
  if (isTemplated(value)) return true;
  const r = fits(schema, value);
  return r.ok || (r.fn.errors ?? []).every((e) => templatedAlong(value, e.instancePath));
}

/** Validates module arguments; `argsPath` is where the arguments are written (for locations). */
export function checkModuleArgs(def: ModuleDef, args: Record<string, unknown>, where: Where, argsPath: YamlPath, fromFreeForm: boolean): ObiamError[] {
  const r = fits(def.schema, args);
  if (r.ok) return [];
  const fn = r.fn;
  const props = (def.schema.properties ?? {}) as Record<string, JsonSchema>;
  const names = Object.keys(props).filter((n) => !n.startsWith('_'));
  const seen = new Set<string>();
  const out: ObiamError[] = [];
  const at = fromFreeForm ? argsPath : null;
  // `dset:` for `dest:` is one mistake, not two: no "missing dest" when an unknown argument is its typo.
  const meant = new Set(
    (fn.errors ?? []).flatMap((e) => (e.keyword === 'additionalProperties' && e.instancePath === '' ? [suggest(String((e.params as { additionalProperty: string }).additionalProperty), names)] : [])),
  );
  for (const e of fn.errors ?? []) {
    if (templatedAlong(args, e.instancePath)) continue;
    const top = e.instancePath.split('/')[1];
    const loc = (sub: string | undefined): YamlPath => at ?? (sub === undefined ? argsPath : [...argsPath, sub]);
    const report = (key: string, msg: string, remedy: string, sub: string | undefined, which: 'key' | 'value'): void => {
      if (seen.has(key)) return;
      seen.add(key);
      out.push(parseError('E_MODULE_ARGS', msg, where, loc(sub), remedy, which));
    };
    if (e.keyword === 'additionalProperties') {
      const extra = String((e.params as { additionalProperty: string }).additionalProperty);
      report(
        `extra:${extra}`,
        `${def.name}: unsupported argument \`${extra}\`${didYouMeanText(suggest(extra, names))}`,
        `${def.name} takes: ${names.join(', ')}`,
        e.instancePath ? top : extra,
        'key',
      );
    } else if (e.keyword === 'required' && e.instancePath === '') {
      const missing = String((e.params as { missingProperty: string }).missingProperty);
      if (meant.has(missing)) continue;
      report(`req:${missing}`, `${def.name}: missing required argument \`${missing}\``, `add \`${missing}:\` (${describeSchema(props[missing])})`, undefined, 'key');
    } else if (top !== undefined) {
      report(`val:${top}`, `${def.name}: \`${top}\` must be ${describeSchema(props[top])}; got ${shortValue(args[top])}${enumGuess(props[top], args[top])}`, `give ${top} ${describeSchema(props[top])}`, top, 'value');
    } else if (e.keyword === 'anyOf' || e.keyword === 'oneOf' || e.keyword === 'not' || e.keyword === 'required') {
      report(`shape:${e.schemaPath}`, `${def.name}: ${shapeMessage(def.schema, e)}`, `see the ${def.name} module in docs/modules.md`, undefined, 'key');
    } else {
      report(`other:${e.schemaPath}`, `${def.name}: arguments ${e.message ?? 'are invalid'}`, `see the ${def.name} module in docs/modules.md`, undefined, 'key');
    }
  }
  return out;
}

function shapeMessage(schema: JsonSchema, e: ErrorObject): string {
  const alts = (schema.anyOf ?? schema.oneOf) as JsonSchema[] | undefined;
  if (Array.isArray(alts) && alts.every((a) => Array.isArray(a.required))) {
    return `give one of ${alts.map((a) => (a.required as string[]).map((r) => `\`${r}\``).join(' + ')).join(' or ')}`;
  }
  if (e.keyword === 'not') return 'these arguments cannot be given together';
  return `arguments ${e.message ?? 'are invalid'}`;
}

function templatedAlong(value: unknown, pointer: string): boolean {
  let cur: unknown = value;
  if (isTemplated(cur)) return true;
  for (const part of pointer.split('/').slice(1)) {
    const k = part.replace(/~1/g, '/').replace(/~0/g, '~');
    if (cur === null || typeof cur !== 'object') return false;
    cur = (cur as Record<string, unknown>)[k];
    if (isTemplated(cur)) return true;
  }
  return false;
}

export function shortValue(v: unknown): string {
  let s: string;
  try {
    s = typeof v === 'string' ? JSON.stringify(v) : v === undefined ? 'nothing' : JSON.stringify(v);
  } catch {
    s = String(v);
  }
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
