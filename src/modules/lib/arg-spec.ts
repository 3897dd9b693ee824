// A module's arguments declared once, as Ansible's argument_spec: from one table come the JSON
// schema the loader checks (additionalProperties: false, choices as enums, aliases accepted), the
// TypeScript type of the arguments `run` gets (ArgsOf), and the run-time step that folds aliases
// into their option, fills defaults and applies mutually_exclusive / required_together /
// required_one_of with Ansible's messages.
import type { JsonSchema, ModuleContext, ModuleResult } from '../types.js';
import { fail } from './fail.js';
import { MODE_SCHEMA, type ModeArg } from './file-attrs.js';

/** One option: its schema, and (as a type only) the TypeScript type of its value. */
export interface Opt<T, R extends boolean = false> {
  schema: JsonSchema;
  required?: R;
  aliases?: readonly string[];
  default?: T;
  /** Phantom: carries T for ArgsOf. */
  readonly __type?: T;
}

interface OptExtra<T, R extends boolean> {
  required?: R;
  aliases?: readonly string[];
  default?: T;
}

const opt = <T, R extends boolean>(schema: JsonSchema, x: OptExtra<T, R> = {}): Opt<T, R> => ({ schema, ...x });

/** A non-empty string (names, paths). */
export const str = <const R extends boolean = false>(x?: OptExtra<string, R>) => opt<string, R>({ type: 'string', minLength: 1 }, x);
/** Any string, the empty one too. */
export const text = <const R extends boolean = false>(x?: OptExtra<string, R>) => opt<string, R>({ type: 'string' }, x);
export const bool = <const R extends boolean = false>(x?: OptExtra<boolean, R>) => opt<boolean, R>({ type: 'boolean' }, x);
export const int = <const R extends boolean = false>(x?: OptExtra<number, R> & { minimum?: number }) => {
  const { minimum, ...rest } = x ?? {};
  return opt<number, R>({ type: 'integer', ...(minimum !== undefined ? { minimum } : {}) }, rest);
};
/** One of the choices (an enum in the schema, a union in the type). */
export const choice = <const C extends readonly (string | number | boolean)[], const R extends boolean = false>(choices: C, x?: OptExtra<C[number], R>) =>
  opt<C[number], R>({ enum: [...choices] }, x);
/** A permission mode: octal integer or octal/symbolic string. */
export const mode = <const R extends boolean = false>(x?: OptExtra<ModeArg, R>) => opt<ModeArg, R>(MODE_SCHEMA, x);
/** Any other shape: the schema given as is, the type named by the caller. */
export const raw = <T, const R extends boolean = false>(schema: JsonSchema, x?: OptExtra<T, R>) => opt<T, R>(schema, x);

/** mode/owner/group, the file attributes of lib/file-attrs.ts, as options to spread into a spec. */
export const attrOptions = () => ({ mode: mode(), owner: str(), group: str() });

export type Options = Record<string, Opt<any, boolean>>;

type TypeOf<O> = O extends Opt<infer T, boolean> ? T : never;
type RequiredKeys<S extends Options> = { [K in keyof S]: S[K] extends Opt<any, true> ? K : never }[keyof S];
type OptionalKeys<S extends Options> = Exclude<keyof S, RequiredKeys<S>>;

/** The arguments `run` gets: required options present, the rest optional; aliases already folded in. */
export type ArgsOf<S extends Options> = { [K in RequiredKeys<S>]: TypeOf<S[K]> } & { [K in OptionalKeys<S>]?: TypeOf<S[K]> };

export interface Rules {
  /** Groups of options of which at most one may be given. */
  mutuallyExclusive?: readonly (readonly string[])[];
  /** Groups of options given all together or not at all. */
  requiredTogether?: readonly (readonly string[])[];
  /** Groups of options of which at least one must be given. */
  requiredOneOf?: readonly (readonly string[])[];
}

export interface ArgSpec<S extends Options> {
  options: S;
  rules: Rules;
  /** The JSON schema the loader checks the task's arguments with. */
  schema: JsonSchema;
  /** Aliases folded, defaults filled, rules checked: the arguments, or the failed result. */
  normalize(args: Record<string, unknown>): { args: ArgsOf<S> } | { failure: ModuleResult };
  /** `run` on normalized arguments (what a ModuleDef's run is made from). */
  run(body: (args: ArgsOf<S>, ctx: ModuleContext) => Promise<ModuleResult>): (args: Record<string, unknown>, ctx: ModuleContext) => Promise<ModuleResult>;
}

const given = (a: Record<string, unknown>, k: string): boolean => a[k] !== undefined;

export function argSpec<S extends Options>(options: S, rules: Rules = {}): ArgSpec<S> {
  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  for (const [name, o] of Object.entries(options)) {
    properties[name] = o.schema;
    for (const a of o.aliases ?? []) properties[a] = o.schema;
    // A required option with aliases is checked after folding (any of its names will do).
    if (o.required && !o.aliases?.length) required.push(name);
  }
  const schema: JsonSchema = { type: 'object', properties, ...(required.length ? { required } : {}), additionalProperties: false };

  const normalize = (input: Record<string, unknown>): { args: ArgsOf<S> } | { failure: ModuleResult } => {
    const out: Record<string, unknown> = { ...input };
    for (const [name, o] of Object.entries(options)) {
      for (const a of o.aliases ?? []) {
        if (out[name] === undefined && out[a] !== undefined) out[name] = out[a];
        delete out[a];
      }
      if (out[name] === undefined && o.default !== undefined) out[name] = o.default;
      if (o.required && out[name] === undefined) return failure(`${name} is required`);
    }
    for (const g of rules.mutuallyExclusive ?? []) {
      if (g.filter((k) => given(out, k)).length > 1) return failure(`parameters are mutually exclusive: ${g.join('|')}`);
    }
    for (const g of rules.requiredTogether ?? []) {
      const n = g.filter((k) => given(out, k)).length;
      if (n > 0 && n < g.length) return failure(`parameters are required together: ${g.join(', ')}`);
    }
    for (const g of rules.requiredOneOf ?? []) {
      if (!g.some((k) => given(out, k))) return failure(`one of the following is required: ${g.join(', ')}`);
    }
    return { args: out as ArgsOf<S> };
  };

  return {
    options,
    rules,
    schema,
    normalize,
    run: (body) => async (args, ctx) => {
      const n = normalize(args);
      return 'failure' in n ? n.failure : body(n.args, ctx);
    },
  };
}

const failure = (msg: string): { failure: ModuleResult } => ({ failure: fail(msg) });
