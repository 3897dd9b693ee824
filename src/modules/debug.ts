// debug: prints a message or a variable's value (controller only).
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
    if (args.var !== undefined) {
      const value = ctx.vars[args.var] !== undefined ? ctx.vars[args.var] : ctx.render(`{{ ${args.var} }}`);
      return { changed: false, [args.var]: value };
    }
    return { changed: false, msg: args.msg ?? 'Hello world!' };
  },
};
