// JSON Schemas for the playbook language, by where a keyword may appear: views of the one keyword
// table (keywords.ts). Module arguments have their own schema in each module file. `description`
// holds the allowed values in words; validate.ts prints it when a value does not fit.
import type { JsonSchema } from '../modules/types.js';
import { keywordsAt } from './keywords.js';

export const TASK_KEYWORDS: Record<string, JsonSchema> = keywordsAt('task');
export const HANDLER_KEYWORDS: Record<string, JsonSchema> = keywordsAt('handler');
export const BLOCK_KEYWORDS: Record<string, JsonSchema> = keywordsAt('block');
export const PLAY_KEYWORDS: Record<string, JsonSchema> = keywordsAt('play');
export const ROLE_ENTRY_KEYWORDS: Record<string, JsonSchema> = keywordsAt('role');

/** Task-level actions that are keywords of the language rather than modules. */
export const INCLUDE_ACTIONS = ['include_tasks', 'import_tasks', 'import_role', 'include_role', 'include', 'meta'];
export const META_ACTIONS = ['flush_handlers', 'end_play', 'end_host', 'end_batch', 'clear_host_errors', 'clear_facts', 'reset_connection', 'refresh_inventory', 'noop'] as const;

/** Keywords Ansible has that obiam-run refuses with a remedy, rather than calling them typos. */
export const UNSUPPORTED_KEYWORDS: Record<string, string> = {
  vars_prompt: 'pass the values with -e, or keep secrets in a vault-encrypted vars file',
  async: 'run the command in the background with `shell: nohup ... &` and wait with wait_for',
  poll: 'run the command in the background with `shell: nohup ... &` and wait with wait_for',
  throttle: 'use serial: on the play, or --forks',
  remote_user: 'set ansible_user in the inventory (or -u)',
  local_action: 'use `delegate_to: localhost` with the module',
  module_defaults: 'give the arguments on each task',
  collections: 'use the module names without a collection prefix or with ansible.builtin.',
};
