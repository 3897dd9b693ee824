// `obiam-run lab` in-process: status of the running test lab, and the stable error codes.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { labCommand } from '../../../src/cli/lab-command.js';
import { EXIT } from '../../../src/errors.js';
import { getLab } from '../lab-fixture.js';

async function cli(args: string[]): Promise<{ out: string; err: string; error?: unknown }> {
  let out = '';
  let err = '';
  const cmd = labCommand({ out: (s) => (out += s), err: (s) => (err += s) });
  cmd.exitOverride().configureOutput({ writeOut: (s) => (out += s), writeErr: (s) => (err += s) });
  try {
    await cmd.parseAsync(args, { from: 'user' });
    return { out, err };
  } catch (error) {
    return { out, err, error };
  }
}

describe('obiam-run lab', () => {
  it('status lists the running lab with every host alive', async () => {
    const lab = getLab();
    const r = await cli(['status', '--name', lab.name]);
    expect(r.error).toBeUndefined();
    expect(r.out).toContain(`${lab.name}: up, ${lab.hosts.length}/${lab.hosts.length} hosts alive, ${lab.subnet}`);
    for (const h of lab.hosts) expect(r.out).toMatch(new RegExp(`${h.name}\\s+${h.ip.replace(/\./g, '\\.')}\\s+${h.role}\\s+alive`));
  });

  it('refuses to start a running lab with another shape (E_LAB_EXISTS)', async () => {
    const r = await cli(['up', '--name', getLab().name, '--hosts', '1', '--with', 'none']);
    expect(r.error).toMatchObject({ code: 'E_LAB_EXISTS', exitCode: EXIT.ERROR });
  });

  it('up again with the same shape leaves the running lab as it is', async () => {
    const lab = getLab();
    const before = readFileSync(lab.knownHostsFile, 'utf8');
    const r = await cli(['up', '--name', lab.name, '--hosts', String(lab.hosts.filter((h) => h.role === 'node').length), '--with', [...new Set(lab.hosts.filter((h) => h.role !== 'node').map((h) => h.role))].join(',')]);
    expect(r.error).toBeUndefined();
    expect(r.out).toContain(`lab '${lab.name}' is already up on ${lab.subnet}`);
    expect(readFileSync(lab.knownHostsFile, 'utf8')).toBe(before);
  });

  it('down of an unknown lab is E_LAB_NOT_FOUND; bad options are E_LAB_OPTIONS', async () => {
    expect((await cli(['down', '--name', 'no-such-lab'])).error).toMatchObject({ code: 'E_LAB_NOT_FOUND', exitCode: EXIT.ERROR });
    expect((await cli(['up', '--name', 'x1', '--with', 'lb,cache'])).error).toMatchObject({ code: 'E_LAB_OPTIONS', exitCode: EXIT.BAD_OPTIONS });
    expect((await cli(['up', '--name', 'Bad_Name'])).error).toMatchObject({ code: 'E_LAB_OPTIONS' });
    expect((await cli(['up', '--name', 'x1', '--hosts', 'three'])).error).toMatchObject({ code: 'E_LAB_OPTIONS' });
  });
});
