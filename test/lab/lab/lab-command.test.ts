// `obiam-run lab` in-process: status of the running test lab, and the stable error codes.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { preflight } from '../../../src/lab/sys.js';
import { ObiamError } from '../../../src/errors.js';
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

  it('refuses clearly when not root, and names the apt-get line for a missing package', () => {
    const bin = path.resolve('bin/obiam-run.js');
    const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, bin, 'lab', 'up', '--name', 'nonroot'], { encoding: 'utf8', env: { ...process.env, HOME: '/tmp' } });
    expect(r.status).toBe(EXIT.ERROR);
    expect(r.stderr).toContain('error E_LAB_NOT_ROOT');
    expect(r.stderr).toContain('sudo obiam-run lab up');
    expect(r.stderr).not.toMatch(/\n\s+at /);
    let err: unknown;
    try {
      preflight(true, (b) => (b === 'sshfs' || b === 'systemd-nspawn' ? undefined : `/usr/bin/${b}`));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ObiamError);
    expect(err).toMatchObject({ code: 'E_LAB_MISSING_PACKAGE', remedy: 'apt-get install -y sshfs systemd-container' });
  });
});
