// A controller file (copy's src) is found in the same places by the loader's check and by the run:
// `import_tasks: sub/t.yml` with `copy: src: f.txt` and the file at sub/f.txt passes both, and a file
// that is nowhere fails both.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isObiamError } from '../../src/errors.js';
import { loadPlaybook } from '../../src/load/playbook.js';
import { inventory, runTest } from '../support/build.js';

function project(src: string): { dir: string; dest: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'obr-cfile-'));
  const dest = path.join(dir, 'out', 'copied.txt');
  mkdirSync(path.join(dir, 'sub'));
  mkdirSync(path.join(dir, 'out'));
  writeFileSync(path.join(dir, 'site.yml'), '- hosts: localhost\n  gather_facts: false\n  tasks:\n    - import_tasks: sub/t.yml\n');
  writeFileSync(path.join(dir, 'sub', 't.yml'), `- name: put the file\n  copy:\n    src: ${src}\n    dest: ${dest}\n`);
  writeFileSync(path.join(dir, 'sub', 'f.txt'), 'beside the tasks file\n');
  return { dir, dest };
}

const local = () => inventory({ localhost: { ansible_connection: 'local' } });

describe('controller files: one search list for the check and the run', () => {
  it('a file next to the imported tasks file passes --syntax-check and is copied at run time', async () => {
    const { dir, dest } = project('f.txt');
    const { playbook } = loadPlaybook(path.join(dir, 'site.yml'));
    const r = await runTest(playbook, local());
    expect(r.statuses('put the file')).toEqual({ localhost: 'changed' });
    expect(readFileSync(dest, 'utf8')).toBe('beside the tasks file\n');
    expect(r.exitCode).toBe(0);
  });

  it('a file that is nowhere fails the check, naming the places looked in', () => {
    const { dir, dest } = project('missing.txt');
    let err: unknown;
    try {
      loadPlaybook(path.join(dir, 'site.yml'));
    } catch (e) {
      err = e;
    }
    expect(isObiamError(err) || (err as { errors?: unknown[] })?.errors).toBeTruthy();
    const text = String((err as Error).message) + JSON.stringify((err as { errors?: unknown[] }).errors ?? []);
    expect(text).toContain('E_SRC_NOT_FOUND');
    expect(text).toContain(path.join(dir, 'sub', 'missing.txt'));
    expect(existsSync(dest)).toBe(false);
  });
});
