import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { statModule } from '../../src/modules/stat.js';
import { templateModule } from '../../src/modules/template.js';
import { localContext } from '../support/module-context.js';

const tmp = (): string => mkdtempSync(path.join(tmpdir(), 'obr-stat-'));

describe('stat module', () => {
  it('reports a regular file with its sha1, a directory, a link, and a missing path', async () => {
    const d = tmp();
    const f = path.join(d, 'f');
    writeFileSync(f, 'hello\n', { mode: 0o640 });
    const r = await statModule.run({ path: f }, await localContext());
    const s = statSync(f);
    expect(r).toMatchObject({
      changed: false,
      stat: { exists: true, isreg: true, isdir: false, islnk: false, mode: '0640', owner: 'root', uid: 0, size: 6, inode: s.ino, checksum: createHash('sha1').update('hello\n').digest('hex') },
    });
    expect(Math.abs((r.stat as { mtime: number }).mtime - s.mtimeMs / 1000)).toBeLessThan(0.01);
    expect((await statModule.run({ path: f, get_checksum: false }, await localContext())).stat).not.toHaveProperty('checksum');
    expect((await statModule.run({ path: f, checksum_algorithm: 'sha256' }, await localContext())).stat).toMatchObject({ checksum: createHash('sha256').update('hello\n').digest('hex') });
    expect((await statModule.run({ path: d }, await localContext())).stat).toMatchObject({ isdir: true });
    symlinkSync('f', path.join(d, 'l'));
    expect((await statModule.run({ path: path.join(d, 'l') }, await localContext())).stat).toMatchObject({ islnk: true, lnk_target: 'f', lnk_source: f });
    expect((await statModule.run({ path: path.join(d, 'l'), follow: true }, await localContext())).stat).toMatchObject({ islnk: false, isreg: true });
    expect(await statModule.run({ path: path.join(d, 'none') }, await localContext())).toEqual({ changed: false, stat: { exists: false } });
  });
});

describe('template module', () => {
  it('renders with the task variables, is idempotent, honours check and diff', async () => {
    const d = tmp();
    mkdirSync(path.join(d, 'templates'));
    writeFileSync(path.join(d, 'templates', 'app.conf.j2'), 'host={{ inventory_hostname }}\n{% for p in ports %}port={{ p }}\n{% endfor %}');
    const dest = path.join(d, 'app.conf');
    const vars = { inventory_hostname: 'km1', ports: [9443, 9763] };
    const base = { vars, findFile: (k: string, n: string) => path.join(d, k, n) };
    const args = { src: 'app.conf.j2', dest, mode: '0644' };
    const chk = await templateModule.run(args, await localContext({ ...base, check: true, diff: true }));
    expect(chk).toMatchObject({ changed: true });
    expect(chk.diff?.[0]?.after).toBe('host=km1\nport=9443\nport=9763\n');
    expect(existsSync(dest)).toBe(false);
    expect((await templateModule.run(args, await localContext(base))).changed).toBe(true);
    expect(readFileSync(dest, 'utf8')).toBe('host=km1\nport=9443\nport=9763\n');
    expect((await templateModule.run(args, await localContext(base))).changed).toBe(false);
    const upd = await templateModule.run(args, await localContext({ ...base, vars: { ...vars, ports: [1] }, diff: true }));
    expect(upd.diff?.[0]).toMatchObject({ before: 'host=km1\nport=9443\nport=9763\n', after: 'host=km1\nport=1\n' });
  });

  it('a missing template or destination directory fails clearly', async () => {
    const d = tmp();
    const ctx = await localContext({ findFile: (k, n) => path.join(d, k, n) });
    await expect(templateModule.run({ src: 'none.j2', dest: path.join(d, 'x') }, ctx)).rejects.toThrow(/Template none.j2 not found/);
    mkdirSync(path.join(d, 'templates'));
    writeFileSync(path.join(d, 'templates', 't.j2'), 'x');
    await expect(templateModule.run({ src: 't.j2', dest: path.join(d, 'missing/x') }, ctx)).rejects.toThrow(/Destination directory .* does not exist/);
  });
});
