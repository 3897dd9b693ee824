// group_by: puts the host into a group named by a key (often a template such as
// `os_{{ ansible_facts.os_family }}`), for the plays that follow. The runner applies the `add_group`
// the result carries (run-state.ts addGroup).
import type { ModuleDef } from './types.js';

export const groupByModule: ModuleDef<{ key: string; parents?: string[] | string }> = {
  name: 'group_by',
  aliases: ['ansible.builtin.group_by'],
  controllerOnly: true,
  supportsCheck: true,
  schema: { type: 'object', properties: { key: { type: 'string' }, parents: { type: ['array', 'string'] } }, required: ['key'], additionalProperties: false },
  async run(args) {
    const parents = args.parents === undefined ? ['all'] : typeof args.parents === 'string' ? [args.parents] : args.parents.map(String);
    return { changed: false, add_group: String(args.key).replaceAll(' ', '-'), parent_groups: parents.map((p) => p.replaceAll(' ', '-')) };
  },
};
