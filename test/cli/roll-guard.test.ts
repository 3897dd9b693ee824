// Rolls (playbooks with serial plays) through the CLI in-process on local-connection hosts: the stop
// request finishing the batch, the hard stop, the journal, --resume, the environment lock.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';

const root = mkdtempSync(path.join(tmpdir(), 'obr-roll-guard-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

const INV = `all:\n  hosts:\n${['h1', 'h2', 'h3'].map((h) => `    ${h}:\n      ansible_connection: local\n`).join('')}`;

/** A serial: 1 play that marks each host's start and end in files, with a pause between. */
function rollPlaybook(dir: string, pause = 0.4): string {
  return `- name: Gate
  hosts: all
  gather_facts: false
  tasks:
    - name: remember what --resume says
      copy:
        content: "{{ obiam_resume | to_json }}"
        dest: "${dir}/resume-{{ inventory_hostname }}.json"

- name: Roll
  hosts: all
  gather_facts: false
  serial: 1
  tasks:
    - name: begin
      command: touch ${dir}/{{ inventory_hostname }}-begin
    - name: work
      command: sleep ${pause}
    - name: end
      command: touch ${dir}/{{ inventory_hostname }}-end
`;
}

function workspace(pause?: number): string {
  const dir = path.join(root, `w${++n}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'hosts.yml'), INV);
  writeFileSync(path.join(dir, 'roll.yml'), rollPlaybook(dir, pause));
  return dir;
}

interface Run {
  code: number;
  out: string;
  err: string;
}

function start(dir: string, argv: string[], hooks: { stop?: AbortController; abort?: AbortController } = {}): Promise<Run> {
  let out = '';
  let err = '';
  return main(['-i', 'hosts.yml', 'roll.yml', ...argv], {
    out: (s) => (out += s),
    err: (s) => (err += s),
    env: { PATH: process.env.PATH, HOME: process.env.HOME },
    isTTY: false,
    cwd: dir,
    signal: (hooks.abort ?? new AbortController()).signal,
    stopRequest: (hooks.stop ?? new AbortController()).signal,
  }).then((code) => ({ code, out, err }));
}

const marks = (dir: string): string[] => readdirSync(dir).filter((f) => /-(begin|end)$/.test(f)).sort();
const clearMarks = (dir: string): void => {
  for (const f of marks(dir)) rmSync(path.join(dir, f));
};

async function when(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !cond(); i++) await new Promise((r) => setTimeout(r, 25));
  if (!cond()) throw new Error('condition not reached');
}

function journal(dir: string): Record<string, any> {
  const states = path.join(dir, '.obiam-run');
  const [sub] = readdirSync(states);
  return JSON.parse(readFileSync(path.join(states, sub!, 'journal.json'), 'utf8')) as Record<string, any>;
}

describe('a stop request during a roll', () => {
  it('finishes the batch it is in, stops before the next, and --resume does only the hosts not done', async () => {
    const dir = workspace();
    const stop = new AbortController();
    const running = start(dir, [], { stop });
    await when(() => existsSync(path.join(dir, 'h2-begin')));
    stop.abort();
    const r = await running;
    expect(r.code, r.out + r.err).toBe(99);
    // h2 was finished, h3 never started.
    expect(marks(dir)).toEqual(['h1-begin', 'h1-end', 'h2-begin', 'h2-end']);
    expect(r.out).toContain('stop requested: finishing the current batch (h2)');
    expect(r.out).toContain('ROLL SUMMARY');
    expect(r.err).toContain('--resume');
    const j = journal(dir);
    expect(j.status).toBe('interrupted');
    expect(j.plays[1]).toMatchObject({ name: 'Roll', serial: true, done: ['h1', 'h2'], failed: [] });
    expect(j.plays[1].current).toBeUndefined();

    clearMarks(dir);
    const again = await start(dir, ['--resume']);
    expect(again.code, again.out + again.err).toBe(0);
    expect(marks(dir)).toEqual(['h3-begin', 'h3-end']);
    expect(again.out).toContain('resuming: h1, h2 finished');
    const j2 = journal(dir);
    expect(j2.status).toBe('done');
    expect(j2.plays[1].done).toEqual(['h1', 'h2', 'h3']);
    expect(j2.resumedFrom).toBe(j.startedAt);

    // Nothing left to resume, and the lock was released every time.
    const third = await start(dir, ['--resume']);
    expect(third.code).toBe(5);
    expect(third.err).toContain('nothing to resume');
    expect(readdirSync(path.join(dir, '.obiam-run', readdirSync(path.join(dir, '.obiam-run'))[0]!))).not.toContain('lock');
  });

  it('a hard stop leaves the host in the middle of its batch, says so, and --resume takes it through again', async () => {
    const dir = workspace(0.8);
    const stop = new AbortController();
    const abort = new AbortController();
    const running = start(dir, [], { stop, abort });
    await when(() => existsSync(path.join(dir, 'h2-begin')));
    stop.abort();
    abort.abort();
    const r = await running;
    expect(r.code).toBe(99);
    expect(marks(dir)).toEqual(['h1-begin', 'h1-end', 'h2-begin']);
    // The stop lands while h2 is at `begin` or `work`, as the machine's timing goes.
    expect(r.err).toMatch(/h2: in 'Roll' at '(begin|work)'/);
    const j = journal(dir);
    expect(j.plays[1].done).toEqual(['h1']);
    expect(j.plays[1].current).toMatchObject({ hosts: ['h2'], task: expect.stringMatching(/^(begin|work)$/) });

    clearMarks(dir);
    const again = await start(dir, ['--resume']);
    expect(again.code, again.out + again.err).toBe(0);
    expect(marks(dir)).toEqual(['h2-begin', 'h2-end', 'h3-begin', 'h3-end']);
    // The gate of the resumed run knows which host was left in the middle.
    expect(JSON.parse(readFileSync(path.join(dir, 'resume-h1.json'), 'utf8'))).toEqual({ resumed: true, interrupted: ['h2'] });
  });

  it('a stop request in the last batch of a serial play stops before the next play', async () => {
    const dir = workspace(0.3);
    writeFileSync(path.join(dir, 'roll.yml'), `${rollPlaybook(dir, 0.3)}\n- name: After\n  hosts: all\n  gather_facts: false\n  tasks:\n    - command: touch ${dir}/after-{{ inventory_hostname }}\n`);
    const stop = new AbortController();
    const running = start(dir, [], { stop });
    await when(() => existsSync(path.join(dir, 'h3-begin')));
    stop.abort();
    const r = await running;
    expect(r.code).toBe(99);
    expect(marks(dir)).toHaveLength(6);
    expect(readdirSync(dir).filter((f) => f.startsWith('after-'))).toEqual([]);
    expect(r.out).toContain('stopped at a safe point');
  });

  it('a hard stop in a play without serial leaves no host "in the middle": --resume excuses none at the gate', async () => {
    const dir = workspace(0);
    writeFileSync(path.join(dir, 'roll.yml'), `- name: Slow gate\n  hosts: all\n  gather_facts: false\n  tasks:\n    - command: touch ${dir}/gate-{{ inventory_hostname }}\n    - command: sleep 0.5\n\n${rollPlaybook(dir, 0)}`);
    const stop = new AbortController();
    const abort = new AbortController();
    const running = start(dir, [], { stop, abort });
    await when(() => existsSync(path.join(dir, 'gate-h1')));
    stop.abort();
    abort.abort();
    const r = await running;
    expect(r.code).toBe(99);
    expect(r.err).not.toContain('in the middle of a batch');
    expect(journal(dir).plays[0].current).toBeUndefined();
    const again = await start(dir, ['--resume']);
    expect(again.code, again.out + again.err).toBe(0);
    expect(JSON.parse(readFileSync(path.join(dir, 'resume-h1.json'), 'utf8'))).toEqual({ resumed: true, interrupted: [] });
  });

  it('outside a serial play a stop request stops after the running tasks', async () => {
    const dir = workspace();
    writeFileSync(path.join(dir, 'flat.yml'), `- hosts: all\n  gather_facts: false\n  tasks:\n    - command: sleep 0.5\n    - command: touch ${dir}/flat-{{ inventory_hostname }}\n`);
    const stop = new AbortController();
    const running = main(['-i', 'hosts.yml', 'flat.yml'], { out: () => undefined, err: () => undefined, env: {}, isTTY: false, cwd: dir, signal: new AbortController().signal, stopRequest: stop.signal });
    setTimeout(() => stop.abort(), 150);
    expect(await running).toBe(99);
    expect(readdirSync(dir).filter((f) => f.startsWith('flat-'))).toEqual([]);
    // No roll, so no journal or lock either: only the run record every run keeps.
    const state = path.join(dir, '.obiam-run');
    expect(readdirSync(state).flatMap((env) => readdirSync(path.join(state, env)))).toEqual(['last-run.json']);
  });
});

describe('--resume refusals and the environment lock', () => {
  it('refuses --resume with other extra vars, on a playbook without serial, and in check mode', async () => {
    const dir = workspace(0);
    const stop = new AbortController();
    stop.abort();
    // Stopped before the roll play: interrupted with nothing done.
    const first = await start(dir, ['-e', 'x=1'], { stop });
    expect(first.code).toBe(99);
    const other = await start(dir, ['--resume', '-e', 'x=2']);
    expect(other.code).toBe(5);
    expect(other.err).toContain('give the same arguments with --resume');
    expect(other.err).toContain('-e x=1');
    writeFileSync(path.join(dir, 'flat.yml'), '- hosts: all\n  gather_facts: false\n  tasks: [{ debug: { msg: hi } }]\n');
    let err = '';
    const flat = await main(['-i', 'hosts.yml', 'flat.yml', '--resume'], { out: () => undefined, err: (s) => (err += s), env: {}, isTTY: false, cwd: dir, signal: new AbortController().signal });
    expect(flat).toBe(5);
    expect(err).toContain('no play with `serial`');
    const check = await start(dir, ['--resume', '--check', '-e', 'x=1']);
    expect(check.code).toBe(5);
    expect(check.err).toContain('--check');
    // The right arguments still resume.
    const ok = await start(dir, ['--resume', '-e', 'x=1']);
    expect(ok.code, ok.out + ok.err).toBe(0);
    expect(marks(dir)).toHaveLength(6);
  });

  it('refuses a second roll against the same inventory while one runs; a lock of a dead process is taken over', async () => {
    const dir = workspace(0.5);
    const running = start(dir, []);
    await when(() => existsSync(path.join(dir, 'h1-begin')));
    const second = await start(dir, []);
    expect(second.code).toBe(1);
    expect(second.err).toContain('E_LOCKED');
    expect(second.err).toContain(`pid ${process.pid}`);
    expect(second.err).toContain('hosts.yml');
    expect((await running).code).toBe(0);

    // Another state dir is another environment as far as the lock goes.
    const states = path.join(dir, '.obiam-run');
    const sub = path.join(states, readdirSync(states)[0]!);
    writeFileSync(path.join(sub, 'lock'), JSON.stringify({ pid: 2 ** 22 + 12345, hostname: os.hostname(), user: 'x', startedAt: 'then', command: 'obiam-run old' }));
    const third = await start(dir, []);
    expect(third.code, third.out + third.err).toBe(0);
    expect(third.out).toContain('took over the lock of pid');
    expect(existsSync(path.join(sub, 'lock'))).toBe(false);
  });

  it('a new run after an interrupted one warns that it starts over', async () => {
    const dir = workspace(0.2);
    const stop = new AbortController();
    const running = start(dir, [], { stop });
    await when(() => existsSync(path.join(dir, 'h1-begin')));
    stop.abort();
    expect((await running).code).toBe(99);
    const fresh = await start(dir, ['--state-dir', 'elsewhere']);
    expect(fresh.out).not.toContain('did not finish');
    const over = await start(dir, []);
    expect(over.code).toBe(0);
    expect(over.out).toContain('did not finish (interrupted); this run starts over');
  });

  it('a failure before the roll play (a refused gate) gives no --resume hint, and the next run no warning', async () => {
    const dir = workspace(0);
    writeFileSync(path.join(dir, 'roll.yml'), `- name: Refusing gate\n  hosts: all\n  gather_facts: false\n  any_errors_fatal: true\n  tasks:\n    - assert: { that: ['ok_to_roll | default(false) | bool'], fail_msg: 'not rolling: {{ inventory_hostname }}' }\n\n${rollPlaybook(dir, 0)}`);
    const refused = await start(dir, []);
    expect(refused.code).toBe(2);
    expect(refused.out).toContain('not rolling: h1');
    expect(refused.err).not.toContain('--resume');
    expect(refused.err).not.toContain('roll journal');
    const next = await start(dir, ['-e', 'ok_to_roll=true']);
    expect(next.code, next.out + next.err).toBe(0);
    expect(next.out).not.toContain('did not finish');
  });

  it('a run refused at the gate after a hard stop keeps the unfinished roll: it says so, and --resume still continues it', async () => {
    const dir = workspace(0.8);
    // The gate refuses while the flag file exists (the operator has not fixed the cluster yet).
    writeFileSync(path.join(dir, 'roll.yml'), `- name: Gate\n  hosts: all\n  gather_facts: false\n  any_errors_fatal: true\n  tasks:\n    - command: test ! -e ${dir}/broken\n      changed_when: false\n    - name: remember what --resume says\n      copy:\n        content: "{{ obiam_resume | to_json }}"\n        dest: "${dir}/resume-{{ inventory_hostname }}.json"\n\n${rollPlaybook(dir, 0.8).split('\n\n')[1]}`);
    const stop = new AbortController();
    const abort = new AbortController();
    const running = start(dir, [], { stop, abort });
    await when(() => existsSync(path.join(dir, 'h2-begin')));
    stop.abort();
    abort.abort();
    expect((await running).code).toBe(99);
    writeFileSync(path.join(dir, 'broken'), '');
    for (const argv of [[], ['--resume']]) {
      const refused = await start(dir, argv);
      expect(refused.code, refused.out + refused.err).toBe(2);
      expect(refused.err).toContain('is still not finished');
      expect(refused.err).toMatch(/h2: in 'Roll' at '(begin|work)'/);
      expect(refused.err).toContain('--resume');
    }
    rmSync(path.join(dir, 'broken'));
    clearMarks(dir);
    const resumed = await start(dir, ['--resume']);
    expect(resumed.code, resumed.out + resumed.err).toBe(0);
    expect(resumed.out).toMatch(/resuming the roll started .* which left hosts in the middle of a step .*h2: in 'Roll'/);
    expect(marks(dir)).toEqual(['h2-begin', 'h2-end', 'h3-begin', 'h3-end']);
    expect(JSON.parse(readFileSync(path.join(dir, 'resume-h1.json'), 'utf8'))).toEqual({ resumed: true, interrupted: ['h2'] });
  });
});
