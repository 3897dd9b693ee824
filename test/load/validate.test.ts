// The quick schema check that keeps ajv unloaded for valid input must never pass a value ajv refuses.
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { BLOCK_KEYWORDS, HANDLER_KEYWORDS, PLAY_KEYWORDS, ROLE_ENTRY_KEYWORDS, TASK_KEYWORDS } from '../../src/load/schemas.js';
import { quickFits } from '../../src/load/validate.js';
import type { JsonSchema } from '../../src/modules/types.js';
import { allModules } from '../../src/modules/registry.js';

const ajv = new Ajv({ allErrors: true, strict: false, allowUnionTypes: true });
const SCALARS: unknown[] = ['', 'x', 'present', '0644', 0, 1, -3, 1.5, Number.NaN, Number.POSITIVE_INFINITY, true, false, null];
const SHAPES: unknown[] = [...SCALARS, [], ['a'], [1, 'b'], [null], {}, { a: 1 }, { name: 'x' }];

/** Values shaped by the schema: each property given each sample, required ones left out in turn. */
function samples(schema: JsonSchema): unknown[] {
  const out = [...SHAPES];
  const props = Object.keys((schema.properties ?? {}) as Record<string, unknown>);
  for (const p of props) for (const v of SHAPES) out.push({ [p]: v });
  if (props.length > 1) out.push(Object.fromEntries(props.map((p) => [p, 'x'])));
  if (Array.isArray(schema.enum)) out.push(...schema.enum);
  if (schema.items && typeof schema.items === 'object') out.push(...SHAPES.map((v) => [v]), SCALARS);
  return out;
}

const SCHEMAS: [string, JsonSchema][] = [
  ...[TASK_KEYWORDS, HANDLER_KEYWORDS, BLOCK_KEYWORDS, PLAY_KEYWORDS, ROLE_ENTRY_KEYWORDS].flatMap((k) => Object.entries(k)),
  ...allModules().map((m): [string, JsonSchema] => [`module ${m.name}`, m.schema]),
];

describe('quickFits', () => {
  it('passes only what ajv passes, for every keyword and module schema', () => {
    let quick = 0;
    for (const [name, schema] of SCHEMAS) {
      const fn = ajv.compile(schema);
      for (const v of samples(schema)) {
        if (!quickFits(schema, v)) continue;
        quick++;
        expect({ name, v, ajv: fn(v) }).toEqual({ name, v, ajv: true });
      }
    }
    // The quick path must actually be taken for common input, or ajv is loaded anyway.
    expect(quick).toBeGreaterThan(500);
  });

  it('decides plain keyword values and module arguments without ajv', () => {
    expect(quickFits(PLAY_KEYWORDS.hosts!, 'all')).toBe(true);
    expect(quickFits(PLAY_KEYWORDS.gather_facts!, false)).toBe(true);
    const command = allModules().find((m) => m.name === 'command')!;
    expect(quickFits(command.schema, { _raw_params: 'cat /etc/hostname' })).toBe(true);
    expect(quickFits(command.schema, { _raw_params: 'x', nope: 1 })).toBe(false);
    expect(quickFits({ type: 'integer' }, 1.5)).toBe(false);
    expect(quickFits({ type: 'string', pattern: '^a' }, 'b')).toBe(false); // not a quick keyword: ajv decides
  });
});
