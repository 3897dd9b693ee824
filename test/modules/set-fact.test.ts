import { describe, expect, it } from 'vitest';
import { setFactModule } from '../../src/modules/set-fact.js';
import { localContext } from '../support/module-context.js';

describe('set_fact', () => {
  it('returns the variables as ansible_facts and accepts cacheable', async () => {
    const r = await setFactModule.run({ a: 1, b: { c: [1] }, cacheable: true }, await localContext());
    expect(r).toEqual({ changed: false, ansible_facts: { a: 1, b: { c: [1] } } });
  });
  it('refuses free-form text and empty args', async () => {
    const ctx = await localContext();
    await expect(setFactModule.run({ _raw_params: 'x' }, ctx)).rejects.toThrow(/free-form/);
    await expect(setFactModule.run({ cacheable: false }, ctx)).rejects.toThrow(/no variables/);
  });
});
