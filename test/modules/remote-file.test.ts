import { chmodSync, chownSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Ajv } from 'ajv';
import { blockinfileModule } from '../../src/modules/blockinfile.js';
import { copyModule } from '../../src/modules/copy.js';
import { fileModule } from '../../src/modules/file.js';
import { lineinfileModule } from '../../src/modules/lineinfile.js';
import { getModule } from '../../src/modules/registry.js';
import { statModule } from '../../src/modules/stat.js';
import { templateModule } from '../../src/modules/template.js';
import { unarchiveModule } from '../../src/modules/unarchive.js';
import type { ModuleContext, ModuleResult } from '../../src/modules/types.js';
import { sq } from '../../src/transport/remote-shell.js';
import type { Connection } from '../../src/transport/types.js';
import { commandLog } from '../support/command-log.js';
import { localContext } from '../support/module-context.js';

describe('argument schemas of the file-content modules', () => {
  const mods = [copyModule, templateModule, fileModule, lineinfileModule, blockinfileModule, statModule, unarchiveModule];
  it.each(mods.map((m) => [m.name, m] as const))('%s compiles (ajv strict), is registered, and rejects a typo', (name, m) => {
    const validate = new Ajv({ allErrors: true, strict: true }).compile(m.schema);
    expect(getModule(name)).toBe(m);
    expect(getModule(`ansible.builtin.${name}`)).toBe(m);
    expect(m.supportsCheck).toBe(true);
    expect(validate({ path: '/x', dest: '/x', src: 'a', destt: 1 })).toBe(false);
    expect(validate.errors?.some((e) => e.keyword === 'additionalProperties' && e.params.additionalProperty === 'destt')).toBe(true);
  });

  it('accepts YAML modes as integers and strings', () => {
    const validate = new Ajv({ strict: true }).compile(copyModule.schema);
    expect(validate({ dest: '/x', content: 'a', mode: 0o644 })).toBe(true);
    expect(validate({ dest: '/x', content: 'a', mode: 'u+x' })).toBe(true);
    expect(validate({ dest: '/x', content: 'a', mode: true })).toBe(false);
  });
});

// Every external command is a process on the host, which is where a task's time goes (docs/performance.md).
// These pin down which ones each module runs and in how many round trips (execs), first run and re-run.
describe('processes and round trips of the file modules', () => {
  const tools = commandLog(['stat', 'sha1sum', 'base64', 'chmod', 'chown', 'chgrp', 'mv', 'cp', 'mkdir', 'readlink', 'cat', 'head', 'cut', 'mktemp', 'rm', 'date', 'touch', 'ln']);

  /** A local context whose scripts find only the logged tools, under umask 027, counting execs. */
  async function logged(): Promise<{ ctx: ModuleContext; run: () => { execs: number; tools: string[] } }> {
    const base = await localContext();
    let execs = 0;
    const conn: Connection = {
      host: base.conn.host,
      exec: (script, opts) => {
        execs++;
        return base.conn.exec(`PATH=${sq(tools.dir)}; umask 027\n${script}`, opts);
      },
      putFile: (l, r, o) => base.conn.putFile(l, r, o),
      getFile: (r, l) => base.conn.getFile(r, l),
      close: () => base.conn.close(),
    };
    tools.take();
    return {
      ctx: { ...base, conn },
      run: () => {
        const out = { execs, tools: tools.take() };
        execs = 0;
        return out;
      },
    };
  }

  const dir = (): string => mkdtempSync(path.join(tmpdir(), 'obr-procs-'));
  const modeOf = (p: string): string => (statSync(p).mode & 0o7777).toString(8).padStart(4, '0');

  interface Case {
    name: string;
    setup?: (d: string) => void;
    run: (d: string, ctx: ModuleContext) => Promise<ModuleResult>;
    first: { execs: number; tools: string[] };
    again: { execs: number; tools: string[] };
    check?: (d: string, first: ModuleResult) => void;
  }

  const CASES: Case[] = [
    {
      name: 'copy content to a new file: probe and write in one round trip, nothing read back',
      run: (d, ctx) => copyModule.run({ content: 'x\n', dest: `${d}/f`, mode: '0640' }, ctx),
      first: { execs: 1, tools: ['chmod', 'mv', 'stat'] },
      again: { execs: 1, tools: ['stat', 'sha1sum'] },
      check: (d, r) => {
        expect(r).toMatchObject({ changed: true, mode: '0640', size: 2 });
        expect(readFileSync(`${d}/f`, 'utf8')).toBe('x\n');
      },
    },
    {
      name: 'copy without mode: a new file gets 0666 & ~umask',
      run: (d, ctx) => copyModule.run({ content: 'x\n', dest: `${d}/f` }, ctx),
      first: { execs: 1, tools: ['chmod', 'mv', 'stat'] },
      again: { execs: 1, tools: ['stat', 'sha1sum'] },
      check: (d, r) => {
        expect(r).toMatchObject({ changed: true, mode: '0640' });
        expect(modeOf(`${d}/f`)).toBe('0640');
      },
    },
    {
      name: 'copy over an existing file of ours keeps its mode (no chown: same owners)',
      setup: (d) => {
        writeFileSync(`${d}/f`, 'old\n');
        chmodSync(`${d}/f`, 0o604);
      },
      run: (d, ctx) => copyModule.run({ content: 'new\n', dest: `${d}/f` }, ctx),
      first: { execs: 2, tools: ['stat', 'sha1sum', 'chmod', 'mv', 'stat'] },
      again: { execs: 1, tools: ['stat', 'sha1sum'] },
      check: (d) => expect(modeOf(`${d}/f`)).toBe('0604'),
    },
    {
      name: 'template to a new file',
      setup: (d) => writeFileSync(`${d}/t.j2`, 'n={{ 1 + 1 }}\n'),
      run: (d, ctx) => templateModule.run({ src: `${d}/t.j2`, dest: `${d}/t.conf`, mode: '0644' }, ctx),
      first: { execs: 1, tools: ['chmod', 'mv', 'stat'] },
      again: { execs: 1, tools: ['stat', 'sha1sum'] },
      check: (d) => expect(readFileSync(`${d}/t.conf`, 'utf8')).toBe('n=2\n'),
    },
    {
      name: 'lineinfile on an existing file',
      setup: (d) => writeFileSync(`${d}/l.conf`, 'a=1\n'),
      run: (d, ctx) => lineinfileModule.run({ path: `${d}/l.conf`, regexp: '^b=', line: 'b=2' }, ctx),
      first: { execs: 2, tools: ['stat', 'base64', 'chmod', 'mv', 'stat'] },
      again: { execs: 1, tools: ['stat', 'base64'] },
      check: (d) => expect(readFileSync(`${d}/l.conf`, 'utf8')).toBe('a=1\nb=2\n'),
    },
    {
      name: 'lineinfile through a symlinked directory: the real path without readlink',
      setup: (d) => {
        mkdirSync(`${d}/real`);
        symlinkSync(`${d}/real`, `${d}/via`);
        writeFileSync(`${d}/real/l.conf`, 'a=1\n');
      },
      run: (d, ctx) => lineinfileModule.run({ path: `${d}/via/l.conf`, line: 'b=2', backup: true }, ctx),
      first: { execs: 2, tools: ['stat', 'base64', 'chmod', 'date', 'cp', 'mv', 'stat'] },
      again: { execs: 1, tools: ['stat', 'base64'] },
      check: (d, r) => {
        expect(readFileSync(`${d}/real/l.conf`, 'utf8')).toBe('a=1\nb=2\n');
        expect(lstatSync(`${d}/via`).isSymbolicLink()).toBe(true);
        // The backup is named after the real path, as with readlink -f.
        expect(r.backup_file).toMatch(new RegExp(`^${d}/real/l\\.conf\\.\\d+\\.`));
      },
    },
    {
      name: 'lineinfile on a symlink edits its target (readlink only then)',
      setup: (d) => {
        writeFileSync(`${d}/target.conf`, 'a=1\n');
        symlinkSync('target.conf', `${d}/link.conf`);
      },
      run: (d, ctx) => lineinfileModule.run({ path: `${d}/link.conf`, line: 'b=2' }, ctx),
      first: { execs: 2, tools: ['stat', 'base64', 'readlink', 'chmod', 'mv', 'stat'] },
      again: { execs: 1, tools: ['stat', 'base64', 'readlink'] },
      check: (d) => {
        expect(lstatSync(`${d}/link.conf`).isSymbolicLink()).toBe(true);
        expect(readFileSync(`${d}/target.conf`, 'utf8')).toBe('a=1\nb=2\n');
      },
    },
    {
      name: 'file state=directory: a new directory in the probe round trip',
      run: (d, ctx) => fileModule.run({ path: `${d}/sub`, state: 'directory', mode: '0750' }, ctx),
      first: { execs: 1, tools: ['mkdir', 'stat'] },
      again: { execs: 1, tools: ['stat'] },
      check: (d, r) => {
        expect(r).toMatchObject({ changed: true, state: 'directory', mode: '0750' });
        expect(modeOf(`${d}/sub`)).toBe('0750');
      },
    },
    {
      name: 'stat with its checksum',
      setup: (d) => writeFileSync(`${d}/s`, 'abc'),
      run: (d, ctx) => statModule.run({ path: `${d}/s` }, ctx),
      first: { execs: 1, tools: ['stat', 'sha1sum'] },
      again: { execs: 1, tools: ['stat', 'sha1sum'] },
      check: (_d, r) => expect(r.stat).toMatchObject({ exists: true, size: 3, checksum: 'a9993e364706816aba3e25717850c26c9cd0d89d' }),
    },
  ];

  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const d = dir();
    c.setup?.(d);
    const { ctx, run } = await logged();
    const first = await c.run(d, ctx);
    expect(first.failed).toBeFalsy();
    expect(run()).toEqual(c.first);
    c.check?.(d, first);
    const again = await c.run(d, ctx);
    expect(again.changed).toBe(false);
    expect(run()).toEqual(c.again);
  });

  it.runIf(process.getuid?.() === 0)('replacing a file owned by someone else keeps its owner (chown only then)', async () => {
    const d = dir();
    writeFileSync(`${d}/f`, 'old\n');
    chownSync(`${d}/f`, 65534, 65534);
    const { ctx, run } = await logged();
    expect(await copyModule.run({ content: 'new\n', dest: `${d}/f`, mode: '0644' }, ctx)).toMatchObject({ changed: true, uid: 65534, gid: 65534 });
    expect(run()).toEqual({ execs: 2, tools: ['stat', 'sha1sum', 'chown', 'chmod', 'mv', 'stat'] });
    expect(statSync(`${d}/f`)).toMatchObject({ uid: 65534, gid: 65534 });
  });
});
