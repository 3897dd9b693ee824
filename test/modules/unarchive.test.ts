import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { unarchiveModule } from '../../src/modules/unarchive.js';
import { localContext } from '../support/module-context.js';

const tmp = (): string => mkdtempSync(path.join(tmpdir(), 'obr-unarch-'));

/** A source tree app-1.0/{bin/run.sh,conf/app.conf} packed as tgz, tar.xz and zip. */
function archives(d: string): void {
  mkdirSync(path.join(d, 'src/app-1.0/bin'), { recursive: true });
  mkdirSync(path.join(d, 'src/app-1.0/conf'));
  writeFileSync(path.join(d, 'src/app-1.0/bin/run.sh'), '#!/bin/sh\necho run\n', { mode: 0o755 });
  writeFileSync(path.join(d, 'src/app-1.0/conf/app.conf'), 'x=1\n');
  execFileSync('tar', ['-czf', path.join(d, 'app.tgz'), '-C', path.join(d, 'src'), 'app-1.0']);
  execFileSync('tar', ['-cJf', path.join(d, 'app.tar.xz'), '-C', path.join(d, 'src'), 'app-1.0']);
  execFileSync('zip', ['-qr', path.join(d, 'app.zip'), 'app-1.0'], { cwd: path.join(d, 'src') });
}

describe('unarchive module', () => {
  for (const name of ['app.tgz', 'app.tar.xz', 'app.zip']) {
    it(`${name}: extracts, then unchanged; check mode extracts nothing; a changed file re-extracts`, async () => {
      const d = tmp();
      archives(d);
      const dest = path.join(d, 'opt');
      mkdirSync(dest);
      const ctx = await localContext({ findFile: (_k, n) => path.join(d, n) });
      const args = { src: name, dest, list_files: true };
      expect((await unarchiveModule.run(args, await localContext({ findFile: (_k, n) => path.join(d, n), check: true }))).changed).toBe(true);
      expect(readdirSync(dest)).toEqual([]);
      const r = await unarchiveModule.run(args, ctx);
      expect(r).toMatchObject({ changed: true, dest, handler: name.endsWith('zip') ? 'ZipArchive' : 'TgzArchive' });
      expect(r.files).toEqual(expect.arrayContaining(['app-1.0', 'app-1.0/bin/run.sh', 'app-1.0/conf/app.conf']));
      expect(readFileSync(path.join(dest, 'app-1.0/conf/app.conf'), 'utf8')).toBe('x=1\n');
      expect(statSync(path.join(dest, 'app-1.0/bin/run.sh')).mode & 0o111).not.toBe(0);
      expect((await unarchiveModule.run(args, ctx)).changed).toBe(false);
      writeFileSync(path.join(dest, 'app-1.0/conf/app.conf'), 'x=22\n');
      expect((await unarchiveModule.run(args, ctx)).changed).toBe(true);
      expect(readFileSync(path.join(dest, 'app-1.0/conf/app.conf'), 'utf8')).toBe('x=1\n');
      // No uploaded archive left in /tmp.
      expect(readdirSync('/tmp').filter((f) => f.startsWith('.obr-unarchive-'))).toEqual([]);
    });
  }

  it('remote_src with --strip-components and owner; creates skips', async () => {
    const d = tmp();
    archives(d);
    const dest = path.join(d, 'jdk');
    mkdirSync(dest);
    const args = { src: path.join(d, 'app.tgz'), dest, remote_src: true, extra_opts: ['--strip-components=1'], owner: 'root', mode: 'go-w' };
    expect((await unarchiveModule.run(args, await localContext())).changed).toBe(true);
    expect(readdirSync(dest).sort()).toEqual(['bin', 'conf']);
    expect((await unarchiveModule.run(args, await localContext())).changed).toBe(false);
    const skip = await unarchiveModule.run({ ...args, src: path.join(d, 'app.zip'), creates: path.join(dest, 'bin') }, await localContext());
    expect(skip).toMatchObject({ changed: false, msg: expect.stringContaining('skipped, since') });
  });

  it('fails clearly on a missing dest or src', async () => {
    const d = tmp();
    archives(d);
    const ctx = await localContext({ findFile: (_k, n) => path.join(d, n) });
    await expect(unarchiveModule.run({ src: 'app.tgz', dest: path.join(d, 'nope') }, ctx)).rejects.toThrow(/must be an existing directory/);
    await expect(unarchiveModule.run({ src: 'none.tgz', dest: d }, ctx)).rejects.toThrow(/Source none.tgz not found/);
    await expect(unarchiveModule.run({ src: path.join(d, 'none.tgz'), dest: d, remote_src: true }, ctx)).rejects.toThrow(/does not exist/);
    expect(existsSync(path.join(d, 'nope'))).toBe(false);
  });
});
