// shell module against the local connection and real temp dirs.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { shellModule } from '../../src/modules/shell.js';
import { localContext } from '../support/module-context.js';

describe('shell', () => {
  it('runs through a shell with pipes and redirects; creates makes the second run skip', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'obr-sh-'));
    const ctx = await localContext();
    const args = { _raw_params: 'printf "a\\nb\\n" | wc -l > count.txt', chdir: dir, creates: 'count.txt' };
    const first = await shellModule.run(args, ctx);
    expect(first).toMatchObject({ changed: true, rc: 0, cmd: args._raw_params });
    expect(readFileSync(path.join(dir, 'count.txt'), 'utf8').trim()).toBe('2');
    const second = await shellModule.run(args, ctx);
    expect(second.changed).toBe(false);
  });

  it('uses the task environment and the given executable', async () => {
    const ctx = await localContext({ environment: { OBR_GREETING: 'hej' } });
    const r = await shellModule.run({ cmd: 'echo "$OBR_GREETING"; echo "$0"', executable: '/bin/bash' }, ctx);
    expect(r.stdout_lines).toEqual(['hej', '/bin/bash']);
  });

  it('check mode runs nothing', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'obr-sh-'));
    const ctx = await localContext({ check: true });
    const r = await shellModule.run({ _raw_params: 'touch x', chdir: dir }, ctx);
    expect(r.skipped).toBe(true);
    expect(existsSync(path.join(dir, 'x'))).toBe(false);
  });

  it('reports a failing pipeline', async () => {
    const ctx = await localContext();
    const r = await shellModule.run({ _raw_params: 'exit 7' }, ctx);
    expect(r).toMatchObject({ failed: true, rc: 7 });
  });
});
