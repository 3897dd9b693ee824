// Every keyword of the playbook language, declared once: its YAML name, the model field it fills, where
// it may appear (play, role entry, block, task, handler) and how its value passes down
// play -> role -> block -> task. The schemas (schemas.ts), the loader (reading a node's keywords) and
// the runner (inheritance, in play-iterator.ts `inherit`, its one stage) all read this table.
import type { JsonSchema } from '../modules/types.js';

export type Level = 'play' | 'role' | 'block' | 'task' | 'handler';
/**
 * How a value passes down: `override` (the innermost one set wins; an empty list is not set), `append` (outer values first:
 * when, tags), `layer` (each level's value is kept as a layer: vars, environment), `none` (not passed).
 */
export type Merge = 'none' | 'override' | 'append' | 'layer';
/** How the loader reads the value into the model field. */
export type Reader = 'string' | 'bool' | 'conditions' | 'strings' | 'names' | 'vars' | 'environment';

export interface KeywordDef {
  yaml: string;
  /** The model field (load/model.ts) the loader fills; none for keywords read by hand (sections, loops). */
  field?: string;
  on: readonly Level[];
  merge: Merge;
  read?: Reader;
  schema: JsonSchema;
  /** Accepted but without effect in obiam-run: the loader warns once with this text. */
  noop?: string;
}

const str = (description: string): JsonSchema => ({ type: 'string', description });
const condition: JsonSchema = {
  description: 'a condition (a Jinja expression without {{ }}), true/false, or a list of them',
  anyOf: [{ type: ['string', 'boolean'] }, { type: 'array', items: { type: ['string', 'boolean'] } }],
};
const stringList = (what: string): JsonSchema => ({
  description: `${what}: a string or a list of strings`,
  anyOf: [{ type: ['string', 'number'] }, { type: 'array', items: { type: ['string', 'number'] } }],
});
const boolish = (what: string): JsonSchema => ({ type: ['boolean', 'string'], description: `${what}: true/false (or a template)` });
const mapping = (what: string): JsonSchema => ({ type: 'object', description: `${what}: a mapping` });
const varsSchema: JsonSchema = {
  description: 'vars: a mapping of variables (or a list of mappings)',
  anyOf: [{ type: 'object' }, { type: 'array', items: { type: 'object' } }],
};
const countish = (what: string, float: boolean): JsonSchema => ({
  description: `${what}: a ${float ? 'number' : 'whole number'} (or a template)`,
  anyOf: [{ type: float ? 'number' : 'integer', minimum: 0 }, { type: 'string', pattern: float ? '^\\s*(\\d+(\\.\\d+)?|\\{\\{.*\\}\\})\\s*$' : '^\\s*(\\d+|\\{\\{.*\\}\\})\\s*$' }],
});
const list = (what: string): JsonSchema => ({ type: ['array', 'null'], description: `${what}: a list of tasks` });
const loopValue = (k: string): JsonSchema => ({ description: `${k}: a list, a mapping or a template that gives one` });
const serialItem = { anyOf: [{ type: 'integer', minimum: 1 }, { type: 'string', pattern: '^\\s*(\\d+%?|\\{\\{.*\\}\\})\\s*$' }] };

const ALL: readonly Level[] = ['play', 'role', 'block', 'task', 'handler'];
const TASKS: readonly Level[] = ['task', 'handler'];
const PLAY: readonly Level[] = ['play'];

/** The `with_<lookup>` loops Ansible 2.14 maps to lookups; with_items/with_list/with_dict and the rest. */
export const WITH_LOOPS = ['items', 'list', 'dict', 'fileglob', 'nested', 'sequence', 'subelements', 'together', 'indexed_items', 'random_choice', 'first_found', 'lines', 'file', 'env', 'inventory_hostnames', 'template', 'varnames'] as const;

export const KEYWORDS = [
  // -- common: every level
  { yaml: 'name', field: 'name', on: ALL, merge: 'none', read: 'string', schema: str('name: a string') },
  { yaml: 'when', field: 'when', on: ALL, merge: 'append', read: 'conditions', schema: condition },
  { yaml: 'tags', field: 'tags', on: ALL, merge: 'append', read: 'strings', schema: stringList('tags') },
  { yaml: 'vars', field: 'vars', on: ALL, merge: 'layer', read: 'vars', schema: varsSchema },
  { yaml: 'become', field: 'become', on: ALL, merge: 'override', read: 'bool', schema: boolish('become') },
  { yaml: 'become_user', field: 'becomeUser', on: ALL, merge: 'override', read: 'string', schema: str('become_user: a user name') },
  { yaml: 'become_method', field: 'becomeMethod', on: ALL, merge: 'override', read: 'string', schema: { enum: ['sudo', 'su'], description: 'become_method: sudo or su' } },
  { yaml: 'ignore_errors', field: 'ignoreErrors', on: ALL, merge: 'override', read: 'bool', schema: boolish('ignore_errors') },
  { yaml: 'delegate_to', field: 'delegateTo', on: ALL, merge: 'override', read: 'string', schema: str('delegate_to: a host name') },
  { yaml: 'run_once', field: 'runOnce', on: ALL, merge: 'override', read: 'bool', schema: boolish('run_once') },
  { yaml: 'no_log', field: 'noLog', on: ALL, merge: 'override', read: 'bool', schema: boolish('no_log') },
  { yaml: 'check_mode', field: 'checkMode', on: ALL, merge: 'override', read: 'bool', schema: boolish('check_mode') },
  { yaml: 'diff', field: 'diff', on: ALL, merge: 'override', read: 'bool', schema: boolish('diff') },
  { yaml: 'environment', field: 'environment', on: ALL, merge: 'layer', read: 'environment', schema: { type: ['object', 'string'], description: 'environment: a mapping of variable names to values' } },
  { yaml: 'any_errors_fatal', field: 'anyErrorsFatal', on: ALL, merge: 'override', read: 'bool', schema: boolish('any_errors_fatal') },
  { yaml: 'ignore_unreachable', field: 'ignoreUnreachable', on: ALL, merge: 'override', read: 'bool', schema: boolish('ignore_unreachable') },
  { yaml: 'debugger', on: ALL, merge: 'none', schema: str('debugger: always, never, on_failed, on_unreachable, on_skipped'), noop: 'the task debugger is interactive; obiam-run accepts `debugger:` and never starts it' },
  // -- tasks and handlers
  { yaml: 'args', on: TASKS, merge: 'none', schema: mapping('args') },
  { yaml: 'loop', on: TASKS, merge: 'none', schema: { type: ['array', 'string'], description: 'loop: a list or a template that gives one' } },
  ...WITH_LOOPS.map((l) => ({ yaml: `with_${l}`, on: TASKS, merge: 'none' as const, schema: loopValue(`with_${l}`) })),
  {
    yaml: 'loop_control',
    on: TASKS,
    merge: 'none',
    schema: {
      type: 'object',
      description: 'loop_control: a mapping with loop_var, index_var, label, pause, extended, extended_allitems',
      properties: {
        loop_var: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
        index_var: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
        label: {},
        pause: { type: 'number', minimum: 0 },
        extended: { type: ['boolean', 'string'] },
        extended_allitems: { type: ['boolean', 'string'] },
      },
      additionalProperties: false,
    },
  },
  { yaml: 'register', on: TASKS, merge: 'none', schema: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$', description: 'register: a variable name (letters, digits, _)' } },
  // On a block or an import, notify passes down to the tasks that set none (as Ansible 2.14).
  { yaml: 'notify', field: 'notify', on: ['block', 'task', 'handler'], merge: 'override', read: 'names', schema: stringList('notify') },
  { yaml: 'changed_when', on: TASKS, merge: 'none', schema: condition },
  { yaml: 'failed_when', on: TASKS, merge: 'none', schema: condition },
  { yaml: 'until', on: TASKS, merge: 'none', schema: condition },
  { yaml: 'retries', on: TASKS, merge: 'none', schema: countish('retries', false) },
  { yaml: 'delay', on: TASKS, merge: 'none', schema: countish('delay', true) },
  { yaml: 'listen', on: ['handler'], merge: 'none', schema: stringList('listen') },
  // -- blocks
  { yaml: 'block', on: ['block'], merge: 'none', schema: { type: 'array', description: 'block: a list of tasks' } },
  { yaml: 'rescue', on: ['block'], merge: 'none', schema: { type: 'array', description: 'rescue: a list of tasks' } },
  { yaml: 'always', on: ['block'], merge: 'none', schema: { type: 'array', description: 'always: a list of tasks' } },
  // -- role entries
  { yaml: 'role', on: ['role'], merge: 'none', schema: str('role: a role name') },
  // -- plays
  { yaml: 'hosts', on: PLAY, merge: 'none', schema: { description: 'hosts: a host pattern (string) or a list of patterns', anyOf: [{ type: 'string', minLength: 1 }, { type: 'array', items: { type: 'string' }, minItems: 1 }] } },
  { yaml: 'vars_files', on: PLAY, merge: 'none', schema: { type: ['array', 'string'], description: 'vars_files: a list of file names' } },
  { yaml: 'gather_facts', on: PLAY, merge: 'none', schema: boolish('gather_facts') },
  { yaml: 'pre_tasks', on: PLAY, merge: 'none', schema: list('pre_tasks') },
  { yaml: 'roles', on: PLAY, merge: 'none', schema: { type: ['array', 'null'], description: 'roles: a list of role names or {role: name, ...} mappings' } },
  { yaml: 'tasks', on: PLAY, merge: 'none', schema: list('tasks') },
  { yaml: 'post_tasks', on: PLAY, merge: 'none', schema: list('post_tasks') },
  { yaml: 'handlers', on: PLAY, merge: 'none', schema: list('handlers') },
  { yaml: 'serial', on: PLAY, merge: 'none', schema: { description: 'serial: a number (1), a percentage ("30%") or a list of them ([1, "50%"])', anyOf: [serialItem, { type: 'array', items: serialItem, minItems: 1 }] } },
  { yaml: 'max_fail_percentage', on: PLAY, merge: 'none', schema: { description: 'max_fail_percentage: a number from 0 to 100', anyOf: [{ type: 'number', minimum: 0, maximum: 100 }, { type: 'string', pattern: '^\\s*\\d+(\\.\\d+)?%?\\s*$' }] } },
  { yaml: 'connection', on: PLAY, merge: 'none', schema: { enum: ['ssh', 'local'], description: 'connection: ssh or local' } },
  { yaml: 'strategy', on: PLAY, merge: 'none', schema: { type: 'string', description: 'strategy: linear, or free / host_pinned / debug (run as linear)' } },
  { yaml: 'order', on: PLAY, merge: 'none', schema: { enum: ['inventory', 'reverse_inventory', 'sorted', 'reverse_sorted', 'shuffle'], description: 'order: inventory, reverse_inventory, sorted, reverse_sorted or shuffle' } },
  { yaml: 'force_handlers', on: PLAY, merge: 'none', schema: boolish('force_handlers') },
  { yaml: 'gather_subset', on: PLAY, merge: 'none', schema: stringList('gather_subset'), noop: 'obiam-run gathers one fixed set of facts; `gather_subset:` is accepted and not used' },
  { yaml: 'gather_timeout', on: PLAY, merge: 'none', schema: { type: ['integer', 'string'] }, noop: '`gather_timeout:` is accepted and not used' },
  { yaml: 'fact_path', on: PLAY, merge: 'none', schema: str('fact_path: a directory'), noop: 'local facts (fact_path) are not gathered; `fact_path:` is accepted and not used' },
] as const satisfies readonly KeywordDef[];

type Table = (typeof KEYWORDS)[number];
/** Model fields that pass down by override or append: the runner's Inherit carries them. */
export type PassedField = Extract<Table, { merge: 'override' | 'append' }>['field'];

/** The keywords allowed at a level, with their schemas (for checkKeywords and "did you mean"). */
export function keywordsAt(level: Level): Record<string, JsonSchema> {
  const out: Record<string, JsonSchema> = {};
  for (const k of KEYWORDS as readonly KeywordDef[]) if (k.on.includes(level)) out[k.yaml] = k.schema;
  return out;
}

/** Keywords read into a model field by a reader, allowed at the level. */
export function readKeywords(level: Level): readonly KeywordDef[] {
  return (KEYWORDS as readonly KeywordDef[]).filter((k) => k.field !== undefined && k.read !== undefined && k.on.includes(level));
}

/** Keywords that pass down, with how. */
export const PASSED: readonly (KeywordDef & { field: PassedField; merge: 'override' | 'append' })[] = (KEYWORDS as readonly KeywordDef[]).filter(
  (k): k is KeywordDef & { field: PassedField; merge: 'override' | 'append' } => k.merge === 'override' || k.merge === 'append',
);

/** Keywords accepted without effect, and what the warning says. */
export function noopKeyword(yaml: string): string | undefined {
  return (KEYWORDS as readonly KeywordDef[]).find((k) => k.yaml === yaml)?.noop;
}
