import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { argSpec, bool, choice, int, mode, str } from '../../../src/modules/lib/arg-spec.js';

const spec = argSpec(
  {
    path: str({ required: true, aliases: ['dest', 'name'] }),
    state: choice(['present', 'absent'] as const, { default: 'present' }),
    size: int({ minimum: 0 }),
    force: bool(),
    mode: mode(),
    a: str(),
    b: str(),
    user: str({ required: true }),
  },
  { mutuallyExclusive: [['a', 'force']], requiredTogether: [['a', 'b']], requiredOneOf: [['size', 'mode']] },
);
const ajv = new Ajv({ allErrors: true, strict: false, allowUnionTypes: true });
const valid = ajv.compile(spec.schema);

describe('argSpec', () => {
  it('yields a schema that accepts aliases and choices and rejects unknown arguments', () => {
    expect(valid({ dest: '/x', user: 'u', state: 'absent' })).toBe(true);
    expect(valid({ path: '/x', user: 'u', state: 'gone' })).toBe(false);
    expect(valid({ path: '/x', user: 'u', typo: 1 })).toBe(false);
    expect(valid({ path: '/x' })).toBe(false); // user is required, without aliases: checked by the schema
    expect(valid({ user: 'u', size: -1 })).toBe(false);
  });

  it('folds aliases into their option and fills defaults', () => {
    const n = spec.normalize({ name: '/etc/x', user: 'u', size: 1 });
    expect(n).toEqual({ args: { path: '/etc/x', state: 'present', user: 'u', size: 1 } });
  });

  it('fails with Ansible-style messages', () => {
    const msg = (a: Record<string, unknown>) => ('failure' in spec.normalize(a) ? (spec.normalize(a) as { failure: { msg: unknown } }).failure.msg : undefined);
    expect(msg({ user: 'u', size: 1 })).toBe('path is required');
    expect(msg({ path: '/x', user: 'u', size: 1, a: 'x', b: 'y', force: true })).toBe('parameters are mutually exclusive: a|force');
    expect(msg({ path: '/x', user: 'u', size: 1, a: 'x' })).toBe('parameters are required together: a, b');
    expect(msg({ path: '/x', user: 'u' })).toBe('one of the following is required: size, mode');
  });

  it('runs the body on normalized arguments, or returns the failure without running it', async () => {
    let seen: unknown;
    const run = spec.run(async (a) => {
      seen = a.path;
      return { changed: false };
    });
    expect(await run({ dest: '/y', user: 'u', mode: '0644' }, {} as never)).toEqual({ changed: false });
    expect(seen).toBe('/y');
    seen = undefined;
    expect(await run({ user: 'u', size: 1 }, {} as never)).toEqual({ changed: false, failed: true, msg: 'path is required' });
    expect(seen).toBeUndefined();
  });
});
