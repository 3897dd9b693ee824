// lineinfile and blockinfile: behaviour on real files, and parity with the real Ansible modules
// (ansible-playbook runs the same cases on copies of the same files; results must be byte-equal).
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { blockinfileModule } from '../../src/modules/blockinfile.js';
import { lineinfileModule } from '../../src/modules/lineinfile.js';
import { localContext } from '../support/module-context.js';

const tmp = (): string => mkdtempSync(path.join(tmpdir(), 'obr-line-'));
const modeOf = (p: string): string => (statSync(p).mode & 0o7777).toString(8).padStart(4, '0');

describe('lineinfile module', () => {
  it('replaces the last regexp match, then is unchanged; check mode and diff', async () => {
    const f = path.join(tmp(), 'server.conf');
    writeFileSync(f, 'port=1\n# x\nport=2\n');
    const args = { path: f, regexp: '^port=', line: 'port=8443' };
    const chk = await lineinfileModule.run(args, await localContext({ check: true, diff: true }));
    expect(chk).toMatchObject({ changed: true, msg: 'line replaced' });
    expect(chk.diff?.[0]).toMatchObject({ before: 'port=1\n# x\nport=2\n', after: 'port=1\n# x\nport=8443\n' });
    expect(readFileSync(f, 'utf8')).toBe('port=1\n# x\nport=2\n');
    expect((await lineinfileModule.run(args, await localContext())).changed).toBe(true);
    expect(readFileSync(f, 'utf8')).toBe('port=1\n# x\nport=8443\n');
    expect((await lineinfileModule.run(args, await localContext())).changed).toBe(false);
  });

  it('create, mode, backup, absent, errors', async () => {
    const d = tmp();
    const f = path.join(d, 'new/dir/file');
    await expect(lineinfileModule.run({ path: f, line: 'a' }, await localContext())).resolves.toMatchObject({ failed: true, msg: `Destination ${f} does not exist !` });
    expect(await lineinfileModule.run({ path: f, line: 'a', create: true, mode: '0600' }, await localContext())).toMatchObject({ changed: true, mode: '0600' });
    expect(readFileSync(f, 'utf8')).toBe('a\n');
    expect(modeOf(f)).toBe('0600');
    const r = await lineinfileModule.run({ path: f, line: 'a', state: 'absent', backup: true }, await localContext());
    expect(r).toMatchObject({ changed: true, found: 1, msg: '1 line(s) removed' });
    expect(readFileSync(r.backup_file as string, 'utf8')).toBe('a\n');
    expect(readFileSync(f, 'utf8')).toBe('');
    expect(await lineinfileModule.run({ path: d, line: 'a' }, await localContext())).toMatchObject({ failed: true, msg: `Path ${d} is a directory !` });
    expect(await lineinfileModule.run({ path: f, backrefs: true, line: 'a' }, await localContext())).toMatchObject({ failed: true, msg: 'regexp is required with backrefs=true' });
  });

  it('only attributes changed: reports it and changes the mode', async () => {
    const f = path.join(tmp(), 'f');
    writeFileSync(f, 'a\n');
    chmodSync(f, 0o644);
    const r = await lineinfileModule.run({ path: f, line: 'a', mode: '0600' }, await localContext());
    expect(r).toMatchObject({ changed: true, msg: 'ownership, perms or SE linux context changed' });
    expect(modeOf(f)).toBe('0600');
  });

  it('validate failure leaves the file unchanged', async () => {
    const f = path.join(tmp(), 'f');
    writeFileSync(f, 'a\n');
    await expect(lineinfileModule.run({ path: f, line: 'b', validate: 'false %s' }, await localContext())).rejects.toThrow(/failed to validate/);
    expect(readFileSync(f, 'utf8')).toBe('a\n');
  });
});

describe('blockinfile module', () => {
  it('inserts, updates in place, removes; check mode writes nothing', async () => {
    const f = path.join(tmp(), 'hosts');
    writeFileSync(f, '127.0.0.1 localhost\n');
    const args = { path: f, block: '10.0.0.1 km1\n10.0.0.2 km2' };
    expect((await blockinfileModule.run(args, await localContext({ check: true }))).changed).toBe(true);
    expect(readFileSync(f, 'utf8')).toBe('127.0.0.1 localhost\n');
    expect(await blockinfileModule.run(args, await localContext())).toMatchObject({ changed: true, msg: 'Block inserted' });
    expect(readFileSync(f, 'utf8')).toBe('127.0.0.1 localhost\n# BEGIN ANSIBLE MANAGED BLOCK\n10.0.0.1 km1\n10.0.0.2 km2\n# END ANSIBLE MANAGED BLOCK\n');
    expect((await blockinfileModule.run(args, await localContext())).changed).toBe(false);
    writeFileSync(f, `${readFileSync(f, 'utf8')}tail\n`);
    const upd = await blockinfileModule.run({ ...args, block: '10.0.0.3 km3' }, await localContext({ diff: true }));
    expect(upd.diff?.[0]?.after).toBe('127.0.0.1 localhost\n# BEGIN ANSIBLE MANAGED BLOCK\n10.0.0.3 km3\n# END ANSIBLE MANAGED BLOCK\ntail\n');
    expect(await blockinfileModule.run({ path: f, state: 'absent' }, await localContext())).toMatchObject({ changed: true, msg: 'Block removed' });
    expect(readFileSync(f, 'utf8')).toBe('127.0.0.1 localhost\ntail\n');
    expect(await blockinfileModule.run({ path: path.join(tmp(), 'none'), block: 'x' }, await localContext())).toMatchObject({ failed: true, msg: expect.stringContaining('does not exist') });
  });
});

// ---- parity with Ansible -------------------------------------------------------------------

const BASE = 'alpha\n# port=1\nport=2\nbeta\nport=3\ngamma';
const LINE_CASES: Record<string, unknown>[] = [
  { regexp: '^port=', line: 'port=9' },
  { regexp: '^port=', line: 'port=9', firstmatch: true },
  { regexp: '^nomatch', line: 'new' },
  { regexp: '^nomatch', line: 'new', insertafter: '^port' },
  { regexp: '^nomatch', line: 'new', insertbefore: '^port', firstmatch: true },
  { line: 'beta' },
  { line: 'delta', insertafter: '^beta' },
  { line: 'delta', insertbefore: '^beta' },
  { line: 'delta', insertbefore: 'BOF' },
  { line: 'delta', insertafter: 'nothing-matches' },
  { line: 'gamma', insertafter: '^alpha' },
  { regexp: '^port=(\\d)$', line: 'PORT=\\1x', backrefs: true },
  { regexp: '^zzz(.*)$', line: 'x\\1', backrefs: true },
  { search_string: 'port=', line: 'P' },
  { regexp: '^port', state: 'absent' },
  { search_string: 'a', state: 'absent' },
  { line: 'beta', state: 'absent' },
];
const BLOCK_CASES: Record<string, unknown>[] = [
  { block: 'one\ntwo' },
  { block: 'one', insertafter: '^port' },
  { block: 'one', insertbefore: '^port' },
  { block: 'one', insertbefore: 'BOF' },
  { block: 'one', marker: '<!-- {mark} x -->', marker_begin: 'B', marker_end: 'E' },
  { block: 'one', insertafter: 'nothing' },
];

describe('parity with ansible-core', () => {
  it('lineinfile and blockinfile give byte-identical files', async () => {
    const d = tmp();
    const cases: { mod: string; a: Record<string, unknown>; base?: string }[] = [
      ...LINE_CASES.map((a) => ({ mod: 'lineinfile', a })),
      ...BLOCK_CASES.map((a) => ({ mod: 'blockinfile', a })),
      // An existing block is replaced in place.
      { mod: 'blockinfile', a: { block: 'new' }, base: 'x\n# BEGIN ANSIBLE MANAGED BLOCK\nold\n# END ANSIBLE MANAGED BLOCK\ny\n' },
      { mod: 'blockinfile', a: { state: 'absent' }, base: 'x\n# BEGIN ANSIBLE MANAGED BLOCK\nold\n# END ANSIBLE MANAGED BLOCK\ny\n' },
    ];
    const tasks = cases.map((c, i) => {
      writeFileSync(path.join(d, `ans-${i}`), c.base ?? BASE);
      writeFileSync(path.join(d, `obr-${i}`), c.base ?? BASE);
      return { name: `case ${i}`, [`ansible.builtin.${c.mod}`]: { path: path.join(d, `ans-${i}`), ...c.a } };
    });
    writeFileSync(path.join(d, 'play.yml'), JSON.stringify([{ hosts: 'localhost', connection: 'local', gather_facts: false, tasks }]));
    execFileSync('ansible-playbook', ['-i', 'localhost,', path.join(d, 'play.yml')], { stdio: 'pipe', env: { ...process.env, ANSIBLE_NOCOLOR: '1' } });
    for (const [i, c] of cases.entries()) {
      const mod = c.mod === 'lineinfile' ? lineinfileModule : blockinfileModule;
      const r = await mod.run({ path: path.join(d, `obr-${i}`), ...c.a } as never, await localContext());
      expect(r.failed, `case ${i} ${JSON.stringify(c.a)}: ${String(r.msg)}`).toBeFalsy();
      expect(readFileSync(path.join(d, `obr-${i}`), 'utf8'), `case ${i} ${c.mod} ${JSON.stringify(c.a)}`).toBe(readFileSync(path.join(d, `ans-${i}`), 'utf8'));
    }
    expect(existsSync(path.join(d, 'obr-0'))).toBe(true);
  }, 60_000);
});
