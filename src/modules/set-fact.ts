// set_fact: sets host variables on the controller; they rank above play vars and outlive the play.
import { EXIT, ObiamError } from '../errors.js';
import { UnsafeText } from '../vars/unsafe.js';
import type { ModuleDef } from './types.js';

export const setFactModule: ModuleDef<Record<string, unknown>> = {
  name: 'set_fact',
  aliases: ['ansible.builtin.set_fact'],
  setsHostFacts: true,
  controllerOnly: true,
  supportsCheck: true,
  schema: {
    type: 'object',
    properties: { cacheable: { type: 'boolean' } },
    // Any variable name is a valid key, so keys are checked by name pattern instead of a fixed list.
    // (a key may be a template, rendered when the task runs: `"{{ name }}": value`).
    propertyNames: { pattern: '^([A-Za-z_][A-Za-z0-9_]*|.*\\{\\{.*\\}\\}.*)$' },
    minProperties: 1,
  },
  async run(args, ctx) {
    const facts: Record<string, unknown> = {};
    for (const [raw, v] of Object.entries(args)) {
      const k = raw.includes('{{') ? ctx.render(raw) : raw;
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) {
        throw new ObiamError('E_SET_FACT_ARGS', `The variable name '${k}' is not valid. Variables must start with a letter or underscore character, and contain only letters, numbers and underscores.`, { exitCode: EXIT.HOST_FAILED, remedy: 'give set_fact a valid variable name' });
      }
      if (k === 'cacheable') continue; // accepted; there is no fact cache to write to
      if (k === '_raw_params') {
        throw new ObiamError('E_SET_FACT_ARGS', 'set_fact: free-form text is not a variable assignment', { exitCode: EXIT.HOST_FAILED, remedy: 'use `set_fact: {name: value}` or `name=value` pairs' });
      }
      facts[k] = asBoolean(v);
    }
    if (Object.keys(facts).length === 0) {
      throw new ObiamError('E_SET_FACT_ARGS', 'set_fact: no variables given', { exitCode: EXIT.HOST_FAILED, remedy: 'give at least one name: value' });
    }
    return { changed: false, ansible_facts: facts };
  },
};

// Ansible's set_fact turns the strings yes/no/true/false (any case) into booleans; unsafe text too.
function asBoolean(v: unknown): unknown {
  const s = typeof v === 'string' ? v : v instanceof UnsafeText ? v.text : undefined;
  if (s === undefined) return v;
  const l = s.toLowerCase();
  if (l === 'yes' || l === 'true') return true;
  if (l === 'no' || l === 'false') return false;
  return v;
}
