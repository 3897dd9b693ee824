import { describe, expect, it } from 'vitest';
import { assertModule } from '../../src/modules/assert.js';
import { localContext } from '../support/module-context.js';

describe('assert', () => {
  it('passes when every condition holds', async () => {
    const ctx = await localContext({ vars: { port: 9443, names: ['a', 'b'] } });
    const r = await assertModule.run({ that: ['port == 9443', "'b' in names", true], success_msg: 'fine' }, { ...ctx, render: (t) => ctx.render(t, { port: 9443, names: ['a', 'b'] }) });
    expect(r).toEqual({ changed: false, msg: 'fine' });
  });
  it('fails on the first false condition with its text', async () => {
    const ctx = await localContext();
    const render = (t: string): string => ctx.render(t, { port: 80, flag: 'no' });
    const r = await assertModule.run({ that: ['port > 1', 'port == 9443', 'flag'], fail_msg: 'wrong port' }, { ...ctx, render });
    expect(r).toMatchObject({ failed: true, assertion: 'port == 9443', evaluated_to: false, msg: 'wrong port' });
    const r2 = await assertModule.run({ that: 'flag' }, { ...ctx, render });
    expect(r2).toMatchObject({ failed: true, msg: 'Assertion failed', assertion: 'flag' });
  });
});
