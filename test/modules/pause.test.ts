import { describe, expect, it } from 'vitest';
import { pauseModule } from '../../src/modules/pause.js';
import { localContext } from '../support/module-context.js';

describe('pause', () => {
  it('waits the given seconds', async () => {
    const t0 = Date.now();
    const r = await pauseModule.run({ seconds: 0.2 }, await localContext());
    expect(Date.now() - t0).toBeGreaterThanOrEqual(190);
    expect(r.changed).toBe(false);
    expect(r.failed).toBeUndefined();
  });
  it('ends early on abort', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 30);
    const t0 = Date.now();
    const r = await pauseModule.run({ minutes: 1 }, await localContext({ signal: ac.signal }));
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(r).toMatchObject({ failed: true, msg: 'pause interrupted' });
  });
  it('a prompt without a terminal is an error', async () => {
    // vitest workers have no TTY on stdin.
    expect(process.stdin.isTTY).toBeFalsy();
    await expect(pauseModule.run({ prompt: 'continue?' }, await localContext())).rejects.toThrow(/needs a terminal/);
  });
});
