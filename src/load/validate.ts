// ajv-backed checks for keyword values and module arguments, mapped to one clear message per
// problem: the file:line:col of the key or value, what is allowed, and "did you mean" for typos.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { EXIT, ObiamError } from '../errors.js';
import type { JsonSchema, ModuleDef } from '../modules/types.js';
import { didYouMean } from './did-you-mean.js';
import type { LoadedYaml, YamlPath } from './yaml.js';

const ajv = new Ajv({ allErrors: true, strict: false, allowUnionTypes: true });
const compiled = new WeakMap<JsonSchema, ValidateFunction>();

function compile(schema: JsonSchema): ValidateFunction {
  let fn = compiled.get(schema);
  if (!fn) {
    fn = ajv.compile(schema);
    compiled.set(schema, fn);
  }
  return fn;
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
    const fn = compile(schema);
    if (fn(value)) continue;
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
  const fn = compile(schema);
  return fn(value) || (fn.errors ?? []).every((e) => templatedAlong(value, e.instancePath));
}

/** Validates module arguments; `argsPath` is where the arguments are written (for locations). */
export function checkModuleArgs(def: ModuleDef, args: Record<string, unknown>, where: Where, argsPath: YamlPath, fromFreeForm: boolean): ObiamError[] {
  const fn = compile(def.schema);
  if (fn(args)) return [];
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
