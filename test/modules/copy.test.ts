import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { copyModule } from '../../src/modules/copy.js';
import { localContext } from '../support/module-context.js';

const tmp = (): string => mkdtempSync(path.join(tmpdir(), 'obr-copy-'));
const modeOf = (p: string): string => (statSync(p).mode & 0o7777).toString(8).padStart(4, '0');

describe('copy module: content', () => {
  it('writes, then skips by checksum; check mode changes nothing; diff shows the content', async () => {
    const d = tmp();
    const dest = path.join(d, 'app.conf');
    const args = { content: 'port=8080\n', dest, mode: 0o640 };
    const checked = await copyModule.run(args, await localContext({ check: true, diff: true }));
    expect(checked).toMatchObject({ changed: true, dest });
    expect(checked.diff).toEqual([expect.objectContaining({ path: dest, before: '', after: 'port=8080\n' })]);
    expect(existsSync(dest)).toBe(false);

    const first = await copyModule.run(args, await localContext());
    expect(first).toMatchObject({ changed: true, dest, mode: '0640', size: 10 });
    expect(first.checksum).toBe(createHash('sha1').update('port=8080\n').digest('hex'));
    expect(readFileSync(dest, 'utf8')).toBe('port=8080\n');
    expect(modeOf(dest)).toBe('0640');

    const second = await copyModule.run(args, await localContext());
    expect(second.changed).toBe(false);
    expect(second.checksum).toBe(first.checksum);

    const changed = await copyModule.run({ ...args, content: 'port=9090\n' }, await localContext({ diff: true, check: true }));
    expect(changed.diff).toEqual([expect.objectContaining({ before: 'port=8080\n', after: 'port=9090\n' })]);
    expect(readFileSync(dest, 'utf8')).toBe('port=8080\n');
  });

  it('writes into a directory reached through a symlink (a userstores link onto the shared mount)', async () => {
    const d = tmp();
    mkdirSync(path.join(d, 'shared'));
    symlinkSync(path.join(d, 'shared'), path.join(d, 'userstores'));
    const args = { content: '<UserStoreManager/>\n', dest: path.join(d, 'userstores', 'ldap.xml') };
    expect((await copyModule.run(args, await localContext())).changed).toBe(true);
    expect(readFileSync(path.join(d, 'shared', 'ldap.xml'), 'utf8')).toBe('<UserStoreManager/>\n');
    expect((await copyModule.run(args, await localContext())).changed).toBe(false);
  });

  it('changes only the mode when content matches (string and symbolic modes)', async () => {
    const dest = path.join(tmp(), 'x');
    await copyModule.run({ content: 'x', dest, mode: '0600' }, await localContext());
    expect(modeOf(dest)).toBe('0600');
    const r = await copyModule.run({ content: 'x', dest, mode: 'u+x,g+r' }, await localContext({ diff: true }));
    expect(r.changed).toBe(true);
    expect(r.diff?.[0]?.after).toContain('mode: 0740');
    expect(modeOf(dest)).toBe('0740');
    expect((await copyModule.run({ content: 'x', dest, mode: 'u+x,g+r' }, await localContext())).changed).toBe(false);
  });

  it('keeps the existing mode when replacing without mode; backup keeps the old file', async () => {
    const d = tmp();
    const dest = path.join(d, 'f');
    writeFileSync(dest, 'old\n');
    chmodSync(dest, 0o600);
    const r = await copyModule.run({ content: 'new\n', dest, backup: true }, await localContext());
    expect(r.changed).toBe(true);
    expect(modeOf(dest)).toBe('0600');
    expect(r.backup_file).toMatch(/\/f\.\d+\.\d{4}-\d\d-\d\d@\d\d:\d\d:\d\d~$/);
    expect(readFileSync(r.backup_file as string, 'utf8')).toBe('old\n');
  });

  it('force: false leaves an existing file alone', async () => {
    const dest = path.join(tmp(), 'f');
    writeFileSync(dest, 'mine\n');
    expect((await copyModule.run({ content: 'theirs\n', dest, force: false }, await localContext())).changed).toBe(false);
    expect(readFileSync(dest, 'utf8')).toBe('mine\n');
  });

  it('validate runs on the temp file; a failing validate leaves dest untouched', async () => {
    const dest = path.join(tmp(), 'f');
    writeFileSync(dest, 'good\n');
    const bad = copyModule.run({ content: 'bad\n', dest, validate: 'grep -q good %s' }, await localContext());
    await expect(bad).rejects.toThrow(/failed to validate/);
    expect(readFileSync(dest, 'utf8')).toBe('good\n');
    expect(readdirSync(path.dirname(dest))).toEqual(['f']);
    expect((await copyModule.run({ content: 'good too\n', dest, validate: 'grep -q good %s' }, await localContext())).changed).toBe(true);
  });

  it('fails clearly when the destination directory is missing, or content goes to a directory', async () => {
    const d = tmp();
    await expect(copyModule.run({ content: 'x', dest: path.join(d, 'no/such/f') }, await localContext())).rejects.toThrow(/Destination directory .*no\/such does not exist/);
    expect(await copyModule.run({ content: 'x', dest: d }, await localContext())).toMatchObject({ failed: true, msg: expect.stringContaining('can not use content with a dir') });
    expect(await copyModule.run({ content: 'x', dest: path.join(d, 'f'), mode: 'rwx' }, await localContext())).toMatchObject({ failed: true });
  });
});

describe('copy module: src', () => {
  it('copies a controller file into an existing directory, big files via putFile, skip on re-run', async () => {
    const d = tmp();
    const src = path.join(d, 'big.bin');
    const big = Buffer.alloc(2 * 1024 * 1024, 7);
    writeFileSync(src, big);
    const destDir = path.join(d, 'out');
    mkdirSync(destDir);
    const ctx = await localContext({ findFile: (_k, n) => path.join(d, n) });
    const r = await copyModule.run({ src: 'big.bin', dest: destDir }, ctx);
    expect(r).toMatchObject({ changed: true, dest: path.join(destDir, 'big.bin'), size: big.length });
    expect(readFileSync(path.join(destDir, 'big.bin')).equals(big)).toBe(true);
    expect((await copyModule.run({ src: 'big.bin', dest: destDir }, ctx)).changed).toBe(false);
    // No temp files left behind.
    expect(readdirSync(destDir)).toEqual(['big.bin']);
    // The source's sha1 is kept between tasks, but a source rewritten in place (same size) is hashed again.
    const v2 = Buffer.alloc(big.length, 8);
    writeFileSync(src, v2);
    const r2 = await copyModule.run({ src: 'big.bin', dest: destDir }, ctx);
    expect(r2).toMatchObject({ changed: true, checksum: createHash('sha1').update(v2).digest('hex') });
    expect(readFileSync(path.join(destDir, 'big.bin')).equals(v2)).toBe(true);
  });

  it('a missing src fails with the path looked at', async () => {
    const d = tmp();
    const ctx = await localContext({ findFile: (_k, n) => path.join(d, n) });
    await expect(copyModule.run({ src: 'nope.txt', dest: path.join(d, 'x') }, ctx)).rejects.toThrow(/Source nope.txt not found/);
  });

  it('copies directories recursively with Ansible trailing-slash rules', async () => {
    const d = tmp();
    mkdirSync(path.join(d, 'conf/sub'), { recursive: true });
    writeFileSync(path.join(d, 'conf/a.txt'), 'A\n');
    writeFileSync(path.join(d, 'conf/sub/b.txt'), 'B\n');
    const out = path.join(d, 'out');
    mkdirSync(out);
    const ctx = await localContext({ findFile: (_k, n) => path.join(d, n) });
    const r1 = await copyModule.run({ src: 'conf', dest: out, directory_mode: '0750' }, ctx);
    expect(r1).toMatchObject({ changed: true, dest: path.join(out, 'conf') });
    expect(readFileSync(path.join(out, 'conf/sub/b.txt'), 'utf8')).toBe('B\n');
    expect(modeOf(path.join(out, 'conf/sub'))).toBe('0750');
    expect((await copyModule.run({ src: 'conf', dest: out }, ctx)).changed).toBe(false);

    const flat = path.join(d, 'flat');
    mkdirSync(flat);
    expect((await copyModule.run({ src: 'conf/', dest: flat }, ctx)).changed).toBe(true);
    expect(readFileSync(path.join(flat, 'a.txt'), 'utf8')).toBe('A\n');
    writeFileSync(path.join(d, 'conf/a.txt'), 'A2\n');
    const chk = await copyModule.run({ src: 'conf/', dest: flat }, await localContext({ findFile: (_k, n) => path.join(d, n), check: true, diff: true }));
    expect(chk.changed).toBe(true);
    expect(chk.diff).toEqual([expect.objectContaining({ path: path.join(flat, 'a.txt'), before: 'A\n', after: 'A2\n' })]);
    expect(readFileSync(path.join(flat, 'a.txt'), 'utf8')).toBe('A\n');
  });

  it('remote_src copies a file on the target, idempotently', async () => {
    const d = tmp();
    writeFileSync(path.join(d, 'orig'), 'remote\n');
    const args = { src: path.join(d, 'orig'), dest: path.join(d, 'copy'), remote_src: true, mode: '0600' };
    expect((await copyModule.run(args, await localContext())).changed).toBe(true);
    expect(readFileSync(path.join(d, 'copy'), 'utf8')).toBe('remote\n');
    expect(modeOf(path.join(d, 'copy'))).toBe('0600');
    expect((await copyModule.run(args, await localContext())).changed).toBe(false);
    await expect(copyModule.run({ ...args, src: path.join(d, 'none') }, await localContext())).rejects.toThrow(/not found/);
  });
});
