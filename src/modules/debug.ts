// debug: prints a message or a variable's value (controller only).
import { ObiamError } from '../errors.js';
import type { ModuleDef } from './types.js';

interface DebugArgs {
  msg?: unknown;
  var?: string;
  verbosity?: number;
}

export const debugModule: ModuleDef<DebugArgs> = {
  name: 'debug',
  aliases: ['ansible.builtin.debug'],
  controllerOnly: true,
  supportsCheck: true,
  schema: {
    type: 'object',
    properties: {
      msg: {},
      var: { type: 'string' },
      verbosity: { type: 'integer', minimum: 0 },
    },
    additionalProperties: false,
    not: { required: ['msg', 'var'] },
  },
  async run(args, ctx) {
    // Above the run's -v level the task is skipped, as Ansible does (the recap counts it).
    const level = Number(ctx.vars.ansible_verbosity ?? 0);
    if (args.verbosity !== undefined && level < args.verbosity) return { changed: false, failed: false, skipped: true, skipped_reason: 'Verbosity threshold not met.' };
    if (args.var !== undefined) {
      let value: unknown;
      try {
        value = ctx.vars[args.var] !== undefined ? ctx.vars[args.var] : ctx.render(`{{ ${args.var} }}`);
      } catch (e) {
        // An undefined name prints Ansible's marker instead of failing the task.
        if (!(e instanceof ObiamError && /is undefined|has no attribute/.test(e.message))) throw e;
        value = 'VARIABLE IS NOT DEFINED!';
      }
      return { changed: false, [args.var]: value };
    }
    return { changed: false, msg: args.msg ?? 'Hello world!' };
  },
};
