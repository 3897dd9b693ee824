// command module against the local connection and real temp dirs.
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { commandModule } from '../../src/modules/command.js';
import { splitWords } from '../../src/modules/command-common.js';
import { localContext } from '../support/module-context.js';

const tmp = (): string => mkdtempSync(path.join(tmpdir(), 'obr-cmd-'));

describe('command', () => {
  it('runs, reports changed and output, and creates makes the second run skip', async () => {
    const dir = tmp();
    const ctx = await localContext();
    const args = { _raw_params: 'touch marker', chdir: dir, creates: 'marker' };
    const first = await commandModule.run(args, ctx);
    expect(first).toMatchObject({ changed: true, rc: 0, cmd: ['touch', 'marker'] });
    expect(first.failed).toBeUndefined();
    expect(existsSync(path.join(dir, 'marker'))).toBe(true);
    expect(first.start).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$/);
    const second = await commandModule.run(args, ctx);
    expect(second).toMatchObject({ changed: false, rc: 0, stdout: 'skipped, since marker exists' });
  });

  it('removes runs only while the file exists (globs allowed)', async () => {
    const dir = tmp();
    writeFileSync(path.join(dir, 'old 1.log'), 'x');
    const ctx = await localContext();
    const args = { argv: ['sh', '-c', 'rm -f -- *.log'], chdir: dir, removes: `${dir}/*.log` };
    expect((await commandModule.run(args, ctx)).changed).toBe(true);
    expect(existsSync(path.join(dir, 'old 1.log'))).toBe(false);
    expect((await commandModule.run(args, ctx)).changed).toBe(false);
  });

  it('runs the creates/removes guard and the command in one request, and a skip is not confused with output', async () => {
    const dir = tmp();
    const ctx = await localContext();
    const scripts: string[] = [];
    const exec = ctx.conn.exec.bind(ctx.conn);
    ctx.conn.exec = (script, opts) => {
      scripts.push(script);
      return exec(script, opts);
    };
    const args = { argv: ['sh', '-c', 'echo made >m; echo out'], chdir: dir, creates: 'm', removes: `${dir}/*` };
    writeFileSync(path.join(dir, 'x'), 'x');
    expect(await commandModule.run(args, ctx)).toMatchObject({ changed: true, stdout: 'out' });
    expect(scripts).toHaveLength(1);
    expect(await commandModule.run(args, ctx)).toMatchObject({ changed: false, stdout: 'skipped, since m exists' });
    const gone = { argv: ['true'], removes: path.join(dir, 'none') };
    expect(await commandModule.run(gone, ctx)).toMatchObject({ changed: false, msg: `Did not run command since '${path.join(dir, 'none')}' does not exist` });
    expect(scripts).toHaveLength(3);
  });

  it('check mode: a guard whose chdir fails is not taken for a skip', async () => {
    const ctx = await localContext({ check: true });
    const r = await commandModule.run({ _raw_params: 'touch b', chdir: '/nonexistent-obr-dir', creates: 'b' }, ctx);
    expect(r).toMatchObject({ changed: true, msg: 'Command would have run if not in check mode' });
  });

  it('a program that does not exist fails with the shell\'s message and rc 127', async () => {
    const ctx = await localContext();
    const r = await commandModule.run({ argv: ['obr-no-such-program', 'x'] }, ctx);
    expect(r).toMatchObject({ failed: true, rc: 127 });
    expect(r.stderr).toMatch(/obr-no-such-program: (command )?not found/);
    expect(r.stderr).not.toMatch(/exec/);
  });

  it('does not expand shell syntax', async () => {
    const ctx = await localContext();
    const r = await commandModule.run({ _raw_params: 'echo $HOME "a b" | wc' }, ctx);
    expect(r.stdout).toBe('$HOME a b | wc');
    expect(r.stdout_lines).toEqual(['$HOME a b | wc']);
  });

  it('fails on a non-zero rc with stderr captured, and feeds stdin', async () => {
    const ctx = await localContext();
    const r = await commandModule.run({ argv: ['sh', '-c', 'echo oops >&2; exit 3'] }, ctx);
    expect(r).toMatchObject({ failed: true, rc: 3, msg: 'non-zero return code', stderr: 'oops', stderr_lines: ['oops'] });
    const cat = await commandModule.run({ cmd: 'cat', stdin: 'hello' }, ctx);
    expect(cat.stdout).toBe('hello');
  });

  it('check mode changes nothing: skipped without creates, changed-would-run with it', async () => {
    const dir = tmp();
    const ctx = await localContext({ check: true });
    const plain = await commandModule.run({ _raw_params: 'touch a', chdir: dir }, ctx);
    expect(plain).toMatchObject({ skipped: true, changed: false });
    const guarded = await commandModule.run({ _raw_params: 'touch b', chdir: dir, creates: 'b' }, ctx);
    expect(guarded).toMatchObject({ changed: true });
    expect(existsSync(path.join(dir, 'a')) || existsSync(path.join(dir, 'b'))).toBe(false);
  });

  it('rejects ambiguous or missing commands', async () => {
    const ctx = await localContext();
    await expect(commandModule.run({}, ctx)).rejects.toThrow(/no command/);
    await expect(commandModule.run({ cmd: 'a', argv: ['b'] }, ctx)).rejects.toThrow(/only one/);
  });

  it('splits words like shlex', () => {
    expect(splitWords(`a 'b c' "d \\"e\\"" f\\ g`)).toEqual(['a', 'b c', 'd "e"', 'f g']);
    expect(() => splitWords(`a 'b`)).toThrow(/unterminated/);
  });
});
