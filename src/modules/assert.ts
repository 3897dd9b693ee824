// assert: every condition in `that` must hold; the first one that does not fails the task.
import { truthy } from '../vars/template.js';
import type { ModuleDef } from './types.js';
import { fail } from './lib/fail.js';

interface AssertArgs {
  that: string | boolean | (string | boolean)[];
  fail_msg?: unknown;
  msg?: unknown;
  success_msg?: unknown;
  quiet?: boolean;
}

const STR_OR_LIST = { anyOf: [{ type: ['string', 'boolean'] }, { type: 'array', items: { type: ['string', 'boolean'] }, minItems: 1 }] };

export const assertModule: ModuleDef<AssertArgs> = {
  name: 'assert',
  aliases: ['ansible.builtin.assert'],
  controllerOnly: true,
  supportsCheck: true,
  schema: {
    type: 'object',
    properties: { that: STR_OR_LIST, fail_msg: {}, msg: {}, success_msg: {}, quiet: { type: 'boolean' } },
    required: ['that'],
    additionalProperties: false,
  },
  async run(args, ctx) {
    const conds = Array.isArray(args.that) ? args.that : [args.that];
    for (const c of conds) {
      let ok: boolean;
      if (typeof c === 'boolean') ok = c;
      else {
        // `dump` gives the expression's JSON value, judged with the same truthiness as `when:`.
        const out = ctx.render(`{{ (${c}) | dump }}`).trim();
        ok = out === '' ? false : truthy(JSON.parse(out) as unknown);
      }
      if (!ok) {
        return fail(args.fail_msg ?? args.msg ?? 'Assertion failed', { assertion: c, evaluated_to: false });
      }
    }
    return { changed: false, msg: args.success_msg ?? 'All assertions passed', ...(args.quiet ? { _quiet: true } : {}) };
  },
};
