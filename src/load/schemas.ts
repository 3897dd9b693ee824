// JSON Schemas for the playbook language: plays, generic task keywords, blocks, handlers and role
// entries. Module arguments have their own schema in each module file. `description` holds the
// allowed values in words; validate.ts prints it when a value does not fit.
import type { JsonSchema } from '../modules/types.js';

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
const intish = (what: string): JsonSchema => ({
  description: `${what}: a whole number (or a template)`,
  anyOf: [{ type: 'integer', minimum: 0 }, { type: 'string', pattern: '^\\s*(\\d+|\\{\\{.*\\}\\})\\s*$' }],
});

/** Keywords every task, block and handler may carry (Ansible's names). */
export const COMMON_KEYWORDS: Record<string, JsonSchema> = {
  name: str('name: a string'),
  when: condition,
  tags: stringList('tags'),
  vars: mapping('vars'),
  become: boolish('become'),
  become_user: str('become_user: a user name'),
  become_method: { enum: ['sudo', 'su'], description: 'become_method: sudo or su' },
  ignore_errors: boolish('ignore_errors'),
  delegate_to: str('delegate_to: a host name'),
  run_once: boolish('run_once'),
  no_log: boolish('no_log'),
  check_mode: boolish('check_mode'),
  diff: boolish('diff'),
  environment: { type: ['object', 'string'], description: 'environment: a mapping of variable names to values' },
  any_errors_fatal: boolish('any_errors_fatal'),
};

export const TASK_KEYWORDS: Record<string, JsonSchema> = {
  ...COMMON_KEYWORDS,
  args: mapping('args'),
  loop: { type: ['array', 'string'], description: 'loop: a list or a template that gives one' },
  with_items: { type: ['array', 'string'], description: 'with_items: a list or a template that gives one' },
  with_list: { type: ['array', 'string'], description: 'with_list: a list or a template that gives one' },
  with_dict: { type: ['object', 'string'], description: 'with_dict: a mapping or a template that gives one' },
  loop_control: {
    type: 'object',
    description: 'loop_control: a mapping with loop_var, index_var, label, pause, extended',
    properties: {
      loop_var: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
      index_var: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
      label: {},
      pause: { type: 'number', minimum: 0 },
      extended: { type: 'boolean' },
    },
    additionalProperties: false,
  },
  register: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$', description: 'register: a variable name (letters, digits, _)' },
  ignore_unreachable: boolish('ignore_unreachable'),
  notify: stringList('notify'),
  changed_when: condition,
  failed_when: condition,
  until: condition,
  retries: intish('retries'),
  delay: intish('delay'),
};

export const HANDLER_KEYWORDS: Record<string, JsonSchema> = {
  ...TASK_KEYWORDS,
  listen: stringList('listen'),
};

export const BLOCK_KEYWORDS: Record<string, JsonSchema> = {
  ...COMMON_KEYWORDS,
  block: { type: 'array', description: 'block: a list of tasks' },
  rescue: { type: 'array', description: 'rescue: a list of tasks' },
  always: { type: 'array', description: 'always: a list of tasks' },
};

/** Task-level actions that are keywords of the language rather than modules. */
export const INCLUDE_ACTIONS = ['include_tasks', 'import_tasks', 'import_role', 'include_role', 'meta'];
export const META_ACTIONS = ['flush_handlers', 'end_play', 'end_host', 'clear_host_errors', 'noop'] as const;

const serialItem = { anyOf: [{ type: 'integer', minimum: 1 }, { type: 'string', pattern: '^\\s*(\\d+%?|\\{\\{.*\\}\\})\\s*$' }] };

export const PLAY_KEYWORDS: Record<string, JsonSchema> = {
  ...COMMON_KEYWORDS,
  hosts: { description: 'hosts: a host pattern (string) or a list of patterns', anyOf: [{ type: 'string', minLength: 1 }, { type: 'array', items: { type: 'string' }, minItems: 1 }] },
  vars_files: { type: ['array', 'string'], description: 'vars_files: a list of file names' },
  gather_facts: boolish('gather_facts'),
  pre_tasks: { type: ['array', 'null'], description: 'pre_tasks: a list of tasks' },
  roles: { type: ['array', 'null'], description: 'roles: a list of role names or {role: name, ...} mappings' },
  tasks: { type: ['array', 'null'], description: 'tasks: a list of tasks' },
  post_tasks: { type: ['array', 'null'], description: 'post_tasks: a list of tasks' },
  handlers: { type: ['array', 'null'], description: 'handlers: a list of tasks' },
  serial: {
    description: 'serial: a number (1), a percentage ("30%") or a list of them ([1, "50%"])',
    anyOf: [serialItem, { type: 'array', items: serialItem, minItems: 1 }],
  },
  max_fail_percentage: { description: 'max_fail_percentage: a number from 0 to 100', anyOf: [{ type: 'number', minimum: 0, maximum: 100 }, { type: 'string', pattern: '^\\s*\\d+(\\.\\d+)?%?\\s*$' }] },
  connection: { enum: ['ssh', 'local'], description: 'connection: ssh or local' },
  strategy: { enum: ['linear'], description: 'strategy: linear (the only strategy obiam-run has)' },
};

/** Keywords Ansible has that obiam-run refuses with a remedy, rather than calling them typos. */
export const UNSUPPORTED_KEYWORDS: Record<string, string> = {
  vars_prompt: 'pass the values with -e, or keep secrets in a vault-encrypted vars file',
  async: 'run the command in the background with `shell: nohup ... &` and wait with wait_for',
  poll: 'run the command in the background with `shell: nohup ... &` and wait with wait_for',
  throttle: 'use serial: on the play, or --forks',
  remote_user: 'set ansible_user in the inventory (or -u)',
  local_action: 'use `delegate_to: localhost` with the module',
  with_fileglob: 'use `loop: "{{ query(\'fileglob\', ...) }}"` or list the files',
  with_nested: 'use `loop: "{{ a | product(b) | list }}"`',
  with_together: 'use `loop: "{{ a | zip(b) | list }}"`',
  with_sequence: 'use `loop: "{{ range(...) | list }}"`',
  with_subelements: 'use `loop: "{{ x | subelements(\'key\') }}"`',
  include: 'use import_tasks (static) or include_tasks (dynamic)',
  module_defaults: 'give the arguments on each task',
  collections: 'use the module names without a collection prefix or with ansible.builtin.',
};

export const ROLE_ENTRY_KEYWORDS: Record<string, JsonSchema> = {
  role: str('role: a role name'),
  name: str('name: a role name'),
  when: condition,
  tags: stringList('tags'),
  vars: mapping('vars'),
  become: boolish('become'),
  become_user: str('become_user: a user name'),
  become_method: { enum: ['sudo', 'su'], description: 'become_method: sudo or su' },
  delegate_to: str('delegate_to: a host name'),
  environment: { type: ['object', 'string'], description: 'environment: a mapping' },
  ignore_errors: boolish('ignore_errors'),
  no_log: boolish('no_log'),
  check_mode: boolish('check_mode'),
};
