import { describe, expect, it } from 'vitest';
import { failModule } from '../../src/modules/fail.js';
import { localContext } from '../support/module-context.js';

describe('fail', () => {
  it('fails with the message or the default one', async () => {
    const ctx = await localContext();
    expect(await failModule.run({ msg: 'stop here' }, ctx)).toEqual({ changed: false, failed: true, msg: 'stop here' });
    expect((await failModule.run({}, ctx)).msg).toBe('Failed as requested from task');
  });
});
