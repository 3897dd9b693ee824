import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fileModule } from '../../src/modules/file.js';
import { localContext } from '../support/module-context.js';

const tmp = (): string => mkdtempSync(path.join(tmpdir(), 'obr-file-'));
const modeOf = (p: string): string => (statSync(p).mode & 0o7777).toString(8).padStart(4, '0');

describe('file module', () => {
  it('state=link re-pointed: the new link gets the owner again (a second run is unchanged)', async () => {
    const d = tmp();
    mkdirSync(path.join(d, 'v1'));
    mkdirSync(path.join(d, 'v2'));
    const link = path.join(d, 'current');
    const args = (src: string) => ({ path: link, src: path.join(d, src), state: 'link' as const, owner: 'nobody', group: 'nogroup', follow: false });
    expect((await fileModule.run(args('v1'), await localContext())).changed).toBe(true);
    expect(lstatSync(link).uid).not.toBe(0);
    // ln -sfn makes a new link owned by the connecting user (root here): owner must be applied again.
    expect(await fileModule.run(args('v2'), await localContext())).toMatchObject({ changed: true, owner: 'nobody' });
    expect(readlinkSync(link)).toBe(path.join(d, 'v2'));
    expect(lstatSync(link).uid).not.toBe(0);
    expect((await fileModule.run(args('v2'), await localContext())).changed).toBe(false);
  });

  it('state=directory: creates with mode, then unchanged; check mode creates nothing', async () => {
    const p = path.join(tmp(), 'a/b/c');
    const args = { path: p, state: 'directory' as const, mode: '0750' };
    const chk = await fileModule.run(args, await localContext({ check: true, diff: true }));
    expect(chk).toMatchObject({ changed: true, state: 'directory' });
    expect(chk.diff?.[0]).toMatchObject({ before: 'state: absent\n', after: expect.stringContaining('state: directory\nmode: 0750') });
    expect(existsSync(p)).toBe(false);
    expect(await fileModule.run(args, await localContext())).toMatchObject({ changed: true, state: 'directory', mode: '0750' });
    expect(modeOf(p)).toBe('0750');
    expect((await fileModule.run(args, await localContext())).changed).toBe(false);
    expect((await fileModule.run({ ...args, mode: 0o755 }, await localContext())).changed).toBe(true);
    expect(modeOf(p)).toBe('0755');
  });

  it('a mode is set exactly inside a setgid directory: the inherited setgid bit goes, then unchanged', async () => {
    const d = tmp();
    chmodSync(d, 0o2755);
    const made = path.join(d, 'new');
    const existing = path.join(d, 'old');
    mkdirSync(existing);
    expect(modeOf(existing)).toBe('2755');
    for (const p of [made, existing]) {
      const args = { path: p, state: 'directory' as const, mode: '0700' };
      expect(await fileModule.run(args, await localContext())).toMatchObject({ changed: true, mode: '0700' });
      expect(modeOf(p)).toBe('0700');
      expect((await fileModule.run(args, await localContext())).changed).toBe(false);
    }
    // Asked for, the setgid bit is set and kept.
    const keep = { path: existing, state: 'directory' as const, mode: '2750' };
    expect((await fileModule.run(keep, await localContext())).changed).toBe(true);
    expect(modeOf(existing)).toBe('2750');
    expect((await fileModule.run(keep, await localContext())).changed).toBe(false);
  });

  it('recurse applies mode/owner to the tree and is idempotent', async () => {
    const d = tmp();
    mkdirSync(path.join(d, 'x/y'), { recursive: true });
    writeFileSync(path.join(d, 'x/y/f'), '');
    const args = { path: path.join(d, 'x'), state: 'directory' as const, recurse: true, mode: 'u=rwX,g=rX,o=', owner: 'root' };
    expect((await fileModule.run(args, await localContext({ check: true }))).changed).toBe(true);
    expect(modeOf(path.join(d, 'x/y/f'))).toBe('0644');
    expect((await fileModule.run(args, await localContext())).changed).toBe(true);
    expect(modeOf(path.join(d, 'x/y/f'))).toBe('0640');
    expect(modeOf(path.join(d, 'x/y'))).toBe('0750');
    expect((await fileModule.run(args, await localContext())).changed).toBe(false);
  });

  it('state=absent removes files and trees; absent twice is unchanged', async () => {
    const d = tmp();
    mkdirSync(path.join(d, 't/u'), { recursive: true });
    const args = { path: path.join(d, 't'), state: 'absent' as const };
    expect((await fileModule.run(args, await localContext({ check: true }))).changed).toBe(true);
    expect(existsSync(path.join(d, 't'))).toBe(true);
    expect((await fileModule.run(args, await localContext())).changed).toBe(true);
    expect(existsSync(path.join(d, 't'))).toBe(false);
    expect((await fileModule.run(args, await localContext())).changed).toBe(false);
  });

  it('state=link and state=hard', async () => {
    const d = tmp();
    writeFileSync(path.join(d, 'target'), 'x');
    const link = { path: path.join(d, 'current'), src: 'target', state: 'link' as const };
    expect((await fileModule.run(link, await localContext())).changed).toBe(true);
    expect(readlinkSync(path.join(d, 'current'))).toBe('target');
    expect((await fileModule.run(link, await localContext())).changed).toBe(false);
    expect(await fileModule.run({ ...link, src: 'missing' }, await localContext())).toMatchObject({ failed: true, msg: expect.stringContaining('src file does not exist') });
    writeFileSync(path.join(d, 'plain'), 'p');
    expect(await fileModule.run({ ...link, path: path.join(d, 'plain') }, await localContext())).toMatchObject({ failed: true, msg: expect.stringContaining('refusing to convert') });
    expect((await fileModule.run({ ...link, path: path.join(d, 'plain'), force: true }, await localContext())).changed).toBe(true);
    expect(lstatSync(path.join(d, 'plain')).isSymbolicLink()).toBe(true);

    const hard = { path: path.join(d, 'hl'), src: path.join(d, 'target'), state: 'hard' as const };
    expect((await fileModule.run(hard, await localContext())).changed).toBe(true);
    expect(statSync(path.join(d, 'hl')).ino).toBe(statSync(path.join(d, 'target')).ino);
    expect((await fileModule.run(hard, await localContext())).changed).toBe(false);
  });

  it('state=touch is always changed (but changes nothing in check mode); state=file needs an existing file', async () => {
    const d = tmp();
    const p = path.join(d, 'stamp');
    expect((await fileModule.run({ path: p, state: 'touch' }, await localContext({ check: true }))).changed).toBe(true);
    expect(existsSync(p)).toBe(false);
    expect(await fileModule.run({ path: p, state: 'touch', mode: '0600' }, await localContext())).toMatchObject({ changed: true, state: 'file', mode: '0600' });
    expect((await fileModule.run({ path: p, state: 'touch' }, await localContext())).changed).toBe(true);
    expect((await fileModule.run({ path: p, mode: '0600' }, await localContext())).changed).toBe(false);
    expect(await fileModule.run({ path: path.join(d, 'none'), state: 'file' }, await localContext())).toMatchObject({ failed: true, msg: expect.stringContaining('is absent, cannot continue') });
    expect(await fileModule.run({ path: path.join(d, 'no/dir/x'), state: 'touch' }, await localContext())).toMatchObject({ failed: true, msg: expect.stringContaining('does not exist') });
    expect(await fileModule.run({ path: p, state: 'directory' }, await localContext())).toMatchObject({ failed: true });
  });
});
