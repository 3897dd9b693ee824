// fail: fails the host with a message (usually guarded by `when:`).
import type { ModuleDef } from './types.js';
import { fail } from './lib/fail.js';

export const failModule: ModuleDef<{ msg?: unknown }> = {
  name: 'fail',
  aliases: ['ansible.builtin.fail'],
  controllerOnly: true,
  supportsCheck: true,
  schema: { type: 'object', properties: { msg: {} }, additionalProperties: false },
  async run(args) {
    return fail(args.msg ?? 'Failed as requested from task');
  },
};
