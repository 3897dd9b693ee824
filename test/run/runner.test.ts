// Engine tests: the linear strategy driven by the scripted transport.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXIT } from '../../src/errors.js';
import { clearSecrets } from '../../src/redact.js';
import { registerVaultPlaintext } from '../../src/vault/vault.js';
import type { ModuleDef } from '../../src/modules/types.js';
import type { Task } from '../../src/load/model.js';
import { block, cmd, handler, include, inventory, meta, play, playbook, runTest, task } from '../support/build.js';

const quoted = (s: string): string => `'${s}'`;

describe('handlers', () => {
  it('run once per host, in definition order, at the end of the batch', async () => {
    const pb = playbook([
      play({
        tasks: [cmd('step-one', { notify: ['second', 'first'] }), cmd('step-two', { notify: ['first', 'topic'] })],
        handlers: [handler('first', 'command', { _raw_params: 'handler-one' }), handler('second', 'command', { _raw_params: 'handler-two' }), handler('third', 'command', { _raw_params: 'handler-three' }, { listen: ['topic'] })],
      }),
    ]);
    const r = await runTest(pb, inventory(['a', 'b']));
    expect(r.exitCode).toBe(0);
    for (const h of ['a', 'b']) expect(r.transport.log(h)).toEqual(['step-one', 'step-two', 'handler-one', 'handler-two', 'handler-three'].map(quoted));
    expect(r.events.filter((e) => e.event === 'task-start' && e.handler).map((e) => (e as { task: string }).task)).toEqual(['first', 'second', 'third']);
  });

  it('are flushed by meta: flush_handlers and only run on hosts that notified them', async () => {
    const pb = playbook([
      play({
        tasks: [cmd('step-one', { notify: ['restart'], when: ["inventory_hostname == 'a'"] }), meta('flush_handlers'), cmd('step-two')],
        handlers: [handler('restart', 'command', { _raw_params: 'restart-it' }, { notify: ['after restart'] }), handler('after restart', 'command', { _raw_params: 'chained' })],
      }),
    ]);
    const r = await runTest(pb, inventory(['a', 'b']));
    expect(r.transport.log('a')).toEqual(['step-one', 'restart-it', 'chained', 'step-two'].map(quoted));
    expect(r.transport.log('b')).toEqual([quoted('step-two')]);
  });

  it('may be a block or a meta, notified by name or topic', async () => {
    const pb = playbook([
      play({
        tasks: [cmd('step-one', { notify: ['roll', 'nothing'] })],
        handlers: [
          { ...meta('noop', { name: 'nothing' }), listen: [] },
          { ...block([cmd('roll-one'), cmd('roll-two')], { name: 'roll restart' }), listen: ['roll'] },
        ],
      }),
    ]);
    const r = await runTest(pb, inventory(['a']));
    expect(r.exitCode).toBe(0);
    expect(r.transport.log('a')).toEqual(['step-one', 'roll-one', 'roll-two'].map(quoted));
  });

  it('do not run on a host that failed after notifying', async () => {
    const pb = playbook([play({ tasks: [cmd('step-one', { notify: ['h'] }), cmd('step-two')], handlers: [handler('h', 'command', { _raw_params: 'the-handler' })] })]);
    const r = await runTest(pb, inventory(['a', 'b']), { rules: [{ host: 'b', match: 'step-two', rc: 1 }] });
    expect(r.transport.log('a')).toContain(quoted('the-handler'));
    expect(r.transport.log('b')).not.toContain(quoted('the-handler'));
    expect(r.exitCode).toBe(EXIT.HOST_FAILED);
  });

  it('--force-handlers: run on a host that failed after notifying, not on an unreachable one', async () => {
    const pb = playbook([
      play({
        tasks: [cmd('step-one', { notify: ['h'] }), cmd('step-two'), cmd('step-three')],
        postTasks: [cmd('post')],
        handlers: [handler('h', 'command', { _raw_params: 'the-handler' })],
      }),
    ]);
    const r = await runTest(pb, inventory(['a', 'b', 'c']), { rules: [{ host: 'b', match: 'step-two', rc: 1 }, { host: 'c', match: 'step-two', unreachable: true }] }, { forceHandlers: true });
    expect(r.exitCode).toBe(EXIT.HOST_FAILED);
    expect(r.transport.log('a')).toEqual(['step-one', 'step-two', 'step-three', 'the-handler', 'post'].map(quoted));
    // The failed host runs its handler at the flush, and nothing else after the failure.
    expect(r.transport.log('b')).toEqual(['step-one', 'step-two', 'the-handler'].map(quoted));
    expect(r.transport.log('c')).not.toContain(quoted('the-handler'));
    expect(r.recap.b).toMatchObject({ ok: 2, failed: 1 });
  });
});

describe('serial batches', () => {
  it('a templated serial is rendered with play vars and extra vars', async () => {
    const pb = playbook([play({ serial: ['{{ roll_serial | default(1) }}'], tasks: [cmd('x')] })]);
    const batchesOf = (r: Awaited<ReturnType<typeof runTest>>): string[][] => r.events.filter((e) => e.event === 'batch-start').map((e) => (e as { hosts: string[] }).hosts);
    expect(batchesOf(await runTest(pb, inventory(['h1', 'h2', 'h3'])))).toEqual([['h1'], ['h2'], ['h3']]);
    expect(batchesOf(await runTest(pb, inventory(['h1', 'h2', 'h3']), {}, { extraVars: { roll_serial: 2 } }))).toEqual([['h1', 'h2'], ['h3']]);
  });

  it('runs batches in order and a failed host drops out', async () => {
    const hosts = ['h1', 'h2', 'h3', 'h4', 'h5'];
    const pb = playbook([play({ serial: [1, '50%'], tasks: [cmd('first'), cmd('second')] })]);
    const r = await runTest(pb, inventory(hosts), { rules: [{ host: 'h2', match: 'first', rc: 2 }] });
    const batches = r.events.filter((e) => e.event === 'batch-start').map((e) => (e as { hosts: string[] }).hosts);
    expect(batches).toEqual([['h1'], ['h2', 'h3'], ['h4', 'h5']]);
    expect(r.transport.log('h2')).toEqual([quoted('first')]);
    expect(r.transport.log('h3')).toEqual([quoted('first'), quoted('second')]);
    expect(r.transport.log('h5')).toEqual([quoted('first'), quoted('second')]);
    // h1 finished both tasks before h2 started its first one.
    const order = r.transport.execs.map((e) => `${e.host}:${e.script}`);
    expect(order.indexOf("h1:'second'")).toBeLessThan(order.indexOf("h2:'first'"));
    expect(r.recap.h2!.failed).toBe(1);
    expect(r.exitCode).toBe(EXIT.HOST_FAILED);
  });

  it('stops the run when every host of a batch fails', async () => {
    const pb = playbook([play({ serial: [1], tasks: [cmd('first')] }), play({ name: 'second play', tasks: [cmd('later')] })]);
    const r = await runTest(pb, inventory(['a', 'b']), { rules: [{ host: 'a', match: 'first', rc: 1 }] });
    expect(r.transport.log('b')).toEqual([]);
    expect(r.events.some((e) => e.event === 'warning' && /every host of batch 1/.test(e.message))).toBe(true);
  });
});

describe('failure limits', () => {
  it('max_fail_percentage counts unreachable hosts as failed', async () => {
    const pb = playbook([play({ maxFailPercentage: 20, tasks: [cmd('first'), cmd('second')] })]);
    const r = await runTest(pb, inventory(['a', 'b', 'c', 'd']), { connectFail: { d: 'connection refused' } });
    // 1 of 4 unreachable = 25% > 20%: the play stops before 'second'.
    expect(r.transport.log('a')).toEqual([quoted('first')]);
    expect(r.recap.d!.unreachable).toBe(1);
    expect(r.exitCode).toBe(EXIT.HOST_UNREACHABLE);
  });

  it('max_fail_percentage not exceeded lets the play go on', async () => {
    const pb = playbook([play({ maxFailPercentage: 25, tasks: [cmd('first'), cmd('second')] })]);
    const r = await runTest(pb, inventory(['a', 'b', 'c', 'd']), { connectFail: { d: 'connection refused' } });
    expect(r.transport.log('a')).toEqual([quoted('first'), quoted('second')]);
  });

  it('any_errors_fatal stops every host when one becomes unreachable mid-run', async () => {
    const pb = playbook([play({ anyErrorsFatal: true, tasks: [cmd('first'), cmd('second')] }), play({ name: 'next', tasks: [cmd('third')] })]);
    const r = await runTest(pb, inventory(['a', 'b', 'c']), { rules: [{ host: 'b', match: 'first', unreachable: true }] });
    expect(r.statuses('first')).toEqual({ a: 'changed', b: 'unreachable', c: 'changed' });
    for (const h of ['a', 'c']) expect(r.transport.log(h)).toEqual([quoted('first')]);
    expect(r.exitCode).toBe(EXIT.HOST_UNREACHABLE);
  });
});

describe('unreachable hosts', () => {
  it('a connect failure marks the host unreachable for the whole run; the others go on', async () => {
    const pb = playbook([play({ tasks: [cmd('first'), cmd('second')] }), play({ name: 'two', tasks: [cmd('third')] })]);
    const r = await runTest(pb, inventory(['a', 'b']), { connectFail: { b: 'no route to host' } });
    expect(r.transport.log('a')).toEqual(['first', 'second', 'third'].map(quoted));
    expect(r.transport.connects.filter((h) => h === 'b')).toHaveLength(1);
    expect(r.results('first').find((e) => e.host === 'b')!.msg).toMatch(/no route to host/);
    expect(r.recap.b).toMatchObject({ unreachable: 1, ok: 0, failed: 0 });
    expect(r.exitCode).toBe(EXIT.HOST_UNREACHABLE);
    expect(r.transport.closed.sort()).toEqual(['a']);
  });

  it('a connection lost in the middle of the run makes the host unreachable', async () => {
    const pb = playbook([play({ tasks: [cmd('first'), cmd('second'), cmd('third')] })]);
    const r = await runTest(pb, inventory(['a', 'b']), { rules: [{ host: 'a', match: 'second', unreachable: true }] });
    expect(r.transport.log('a')).toEqual([quoted('first'), quoted('second')]);
    expect(r.transport.log('b')).toEqual(['first', 'second', 'third'].map(quoted));
    expect(r.exitCode).toBe(EXIT.HOST_UNREACHABLE);
  });

  it('ignore_unreachable keeps the host in the play, registers `unreachable: true` and counts it as ignored', async () => {
    const pb = playbook([
      play({
        tasks: [
          cmd('probe', { register: 'r', ignoreUnreachable: true }),
          task('assert', { that: ['r is reachable'], fail_msg: "{{ inventory_hostname }}: {{ 'unreachable: ' ~ r.msg if r is unreachable else 'fine' }}" }),
        ],
      }),
    ]);
    const r = await runTest(pb, inventory(['a', 'b']), { connectFail: { b: 'no route to host' } });
    expect(r.results('probe').find((e) => e.host === 'b')).toMatchObject({ status: 'ignored' });
    expect(r.results('assert').find((e) => e.host === 'b')!.msg).toMatch(/^b: unreachable: .*no route to host/);
    expect(r.statuses('assert')).toEqual({ a: 'ok', b: 'failed' });
    expect(r.recap.b).toMatchObject({ unreachable: 0, ignored: 1, failed: 1 });
    // The assert failed on a host that stayed in the play: exit 2, not 3.
    expect(r.exitCode).toBe(EXIT.HOST_FAILED);
  });

  it('a failed host with an unreachable one gives exit code 2', async () => {
    const pb = playbook([play({ tasks: [cmd('first')] })]);
    const r = await runTest(pb, inventory(['a', 'b']), { connectFail: { b: 'refused' }, rules: [{ host: 'a', match: 'first', rc: 3 }] });
    expect(r.exitCode).toBe(EXIT.HOST_FAILED);
  });
});

describe('run_once', () => {
  it('runs on the first host of each batch and registers the result on every host of it', async () => {
    const pb = playbook([
      play({
        serial: [2],
        tasks: [cmd('only-once', { runOnce: true, register: 'once' }), task('command', { _raw_params: 'got {{ once.stdout }}' }, { name: 'use' })],
      }),
    ]);
    const r = await runTest(pb, inventory(['a', 'b', 'c', 'd']), { rules: [{ match: 'only-once', stdout: 'token' }] });
    expect(r.transport.execs.filter((e) => e.script.includes('only-once')).map((e) => e.host)).toEqual(['a', 'c']);
    for (const h of ['a', 'b', 'c', 'd']) expect(r.transport.log(h)).toContain("'got' 'token'");
  });
});

describe('block / rescue / always', () => {
  it('rescues a failing host, runs always everywhere and counts rescued', async () => {
    const pb = playbook([play({ tasks: [block([cmd('risky'), cmd('not-reached')], { rescue: [cmd('recover')], always: [cmd('cleanup')] }), cmd('after')] })]);
    const r = await runTest(pb, inventory(['a', 'b']), { rules: [{ host: 'a', match: 'risky', rc: 1 }] });
    expect(r.transport.log('a')).toEqual(['risky', 'recover', 'cleanup', 'after'].map(quoted));
    expect(r.transport.log('b')).toEqual(['risky', 'not-reached', 'cleanup', 'after'].map(quoted));
    expect(r.statuses('risky')).toEqual({ a: 'rescued', b: 'changed' });
    expect(r.recap.a).toMatchObject({ rescued: 1, failed: 0 });
    expect(r.exitCode).toBe(0);
  });

  it('rescue reads ansible_failed_task and ansible_failed_result', async () => {
    const pb = playbook([
      play({
        tasks: [block([cmd('risky')], { rescue: [task('set_fact', { seen: '{{ ansible_failed_task.name }} rc={{ ansible_failed_result.rc }}' }, { name: 'seen' })] })],
      }),
    ]);
    const r = await runTest(pb, inventory(['a']), { rules: [{ match: 'risky', rc: 3 }] });
    expect(r.exitCode).toBe(0);
    expect((r.results('seen')[0]!.result as { ansible_facts: Record<string, unknown> }).ansible_facts).toEqual({ seen: 'risky rc=3' });
  });

  it('a failure in rescue fails the host; always still runs', async () => {
    const pb = playbook([play({ tasks: [block([cmd('risky')], { rescue: [cmd('recover')], always: [cmd('cleanup')] }), cmd('after')] })]);
    const r = await runTest(pb, inventory(['a']), { rules: [{ match: 'risky', rc: 1 }, { match: 'recover', rc: 1 }] });
    expect(r.transport.log('a')).toEqual(['risky', 'recover', 'cleanup'].map(quoted));
    expect(r.recap.a).toMatchObject({ rescued: 1, failed: 1 });
    expect(r.exitCode).toBe(EXIT.HOST_FAILED);
  });

  it('an outer rescue catches a failure in an inner block after its always', async () => {
    const inner = block([cmd('inner-risky')], { always: [cmd('inner-always')] });
    const pb = playbook([play({ tasks: [block([inner, cmd('skipped-after-fail')], { rescue: [cmd('outer-rescue')] }), cmd('after')] })]);
    const r = await runTest(pb, inventory(['a']), { rules: [{ match: 'inner-risky', rc: 1 }] });
    expect(r.transport.log('a')).toEqual(['inner-risky', 'inner-always', 'outer-rescue', 'after'].map(quoted));
    expect(r.exitCode).toBe(0);
  });

  it('block keywords (when, vars) reach the tasks inside', async () => {
    const pb = playbook([play({ tasks: [block([task('command', { _raw_params: 'echo {{ greeting }}' })], { vars: { greeting: 'hi' }, when: ["inventory_hostname == 'b'"] })] })]);
    const r = await runTest(pb, inventory(['a', 'b']));
    expect(r.transport.log('a')).toEqual([]);
    expect(r.transport.log('b')).toEqual(["'echo' 'hi'"]);
  });
});

describe('tags', () => {
  const pb = playbook([
    play({
      tasks: [cmd('tagged-deploy', { tags: ['deploy'] }), cmd('tagged-always', { tags: ['always'] }), cmd('tagged-never', { tags: ['never', 'debug'] }), cmd('untagged')],
    }),
  ]);
  const ran = async (tags: string[], skipTags: string[] = []): Promise<string[]> => (await runTest(pb, inventory(['a']), {}, { tags, skipTags })).transport.log('a');
  it('selects tasks like ansible-playbook', async () => {
    expect(await ran([])).toEqual(['tagged-deploy', 'tagged-always', 'untagged'].map(quoted));
    expect(await ran(['deploy'])).toEqual(['tagged-deploy', 'tagged-always'].map(quoted));
    expect(await ran(['debug'])).toEqual(['tagged-always', 'tagged-never'].map(quoted));
    expect(await ran([], ['always'])).toEqual(['tagged-deploy', 'untagged'].map(quoted));
    expect(await ran(['deploy'], ['deploy'])).toEqual([quoted('tagged-always')]);
    expect(await ran(['untagged'])).toEqual(['tagged-always', 'untagged'].map(quoted));
  });
  it('inherits play and block tags', async () => {
    const p2 = playbook([play({ tags: ['web'], tasks: [block([cmd('in-block')], { tags: ['db'] }), cmd('plain')] })]);
    expect((await runTest(p2, inventory(['a']), {}, { tags: ['db'] })).transport.log('a')).toEqual([quoted('in-block')]);
    expect((await runTest(p2, inventory(['a']), {}, { tags: ['web'] })).transport.log('a')).toEqual([quoted('in-block'), quoted('plain')]);
  });
});

describe('check mode', () => {
  const noCheck: ModuleDef = { name: 'no_check', supportsCheck: false, schema: {}, run: async (_a, ctx) => (await ctx.conn.exec('mutating-module'), { changed: true }) };
  it('skips modules without check support and commands, runs check_mode: false tasks', async () => {
    const pb = playbook([
      play({
        tasks: [
          task('no_check', {}, { name: 'nc' }),
          cmd('plain-command'),
          task('command', { _raw_params: 'guarded', creates: '/nonexistent/obr-file' }, { name: 'guarded' }),
          cmd('forced', { checkMode: false }),
          task('assert', { that: ['ansible_check_mode'] }, { name: 'sees check mode' }),
        ],
      }),
    ]);
    const r = await runTest(pb, inventory(['a']), { rules: [{ match: '/nonexistent/obr-file', rc: 1 }] }, { check: true, modules: { no_check: noCheck } });
    expect(r.statuses('nc')).toEqual({ a: 'skipped' });
    expect(r.statuses('plain-command')).toEqual({ a: 'skipped' });
    expect(r.statuses('guarded')).toEqual({ a: 'changed' });
    expect(r.statuses('forced')).toEqual({ a: 'changed' });
    expect(r.statuses('sees check mode')).toEqual({ a: 'ok' });
    const log = r.transport.log('a');
    expect(log).toContain(quoted('forced'));
    expect(log.some((s) => s.includes('mutating-module') || s === quoted('plain-command') || s === quoted('guarded'))).toBe(false);
  });

  it('task check_mode: true puts one task in check mode', async () => {
    const pb = playbook([play({ tasks: [cmd('dry', { checkMode: true }), cmd('wet')] })]);
    const r = await runTest(pb, inventory(['a']));
    expect(r.transport.log('a')).toEqual([quoted('wet')]);
  });
});

describe('loops', () => {
  it('emits one event per item with its label and registers results', async () => {
    const pb = playbook([
      play({
        tasks: [
          task('command', { _raw_params: 'make {{ svc.name }}' }, { name: 'make', loop: [{ name: 'km', port: 1 }, { name: 'iam', port: 2 }], loopControl: { loopVar: 'svc', label: '{{ svc.name }}', indexVar: 'i' }, register: 'made' }),
          task('assert', { that: ['made.results | length == 2', "made.results[1].svc.name == 'iam'", 'made.results[1].i == 1', 'made.changed'] }, { name: 'check register' }),
          task('command', { _raw_params: 'item {{ item }}' }, { name: 'templated', loop: '{{ names }}', vars: { names: ['x', 'y'] }, when: ["item != 'y'"] }),
        ],
      }),
    ]);
    const r = await runTest(pb, inventory(['a']), { rules: [{ match: 'iam', rc: 0, stdout: 'made iam' }] });
    const items = r.events.filter((e) => e.event === 'host-result' && e.task === 'make' && e.isItem);
    expect(items.map((e) => (e as { item?: string }).item)).toEqual(['km', 'iam']);
    expect(r.results('make')[0]!.result.results).toHaveLength(2);
    expect(r.statuses('check register')).toEqual({ a: 'ok' });
    expect(r.transport.log('a')).toEqual(["'make' 'km'", "'make' 'iam'", "'item' 'x'"]);
    expect(r.events.filter((e) => e.event === 'host-result' && e.task === 'templated' && e.isItem).map((e) => (e as { status: string }).status)).toEqual(['changed', 'skipped']);
  });
});

describe('until / retries', () => {
  it('retries until the condition holds and reports attempts', async () => {
    const pb = playbook([
      play({
        tasks: [cmd('probe', { register: 'p', until: ["p.stdout == 'ready'"], retries: 5, delay: 0 }), cmd('never-ready', { register: 'n', until: ['n.rc == 0'], retries: 2, delay: 0 })],
      }),
    ]);
    const r = await runTest(pb, inventory(['a']), {
      rules: [{ match: 'probe', stdout: 'starting', times: 2 }, { match: 'probe', stdout: 'ready' }, { match: 'never-ready', rc: 1 }],
    });
    expect(r.transport.log('a').filter((s) => s.includes('probe'))).toHaveLength(3);
    expect(r.results('probe')[0]!.result.attempts).toBe(3);
    expect(r.statuses('probe')).toEqual({ a: 'changed' });
    // retries: 2 means up to 3 attempts in all.
    expect(r.transport.log('a').filter((s) => s.includes('never-ready'))).toHaveLength(3);
    expect(r.statuses('never-ready')).toEqual({ a: 'failed' });
  });

  it('renders templated retries and delay per host (a template used to leave the task unrun and ok)', async () => {
    const pb = playbook([
      play({
        vars: { timeout: 8 },
        tasks: [
          cmd('never-ready', { register: 'n', until: ['n.rc == 0'], retries: '{{ (timeout | int / 4) | int }}', delay: '{{ 0 }}', ignoreErrors: true }),
        ],
      }),
    ]);
    const r = await runTest(pb, inventory(['a']), { rules: [{ match: 'never-ready', rc: 1 }] });
    expect(r.transport.log('a').filter((s) => s.includes('never-ready'))).toHaveLength(3);
    expect(r.statuses('never-ready')).toEqual({ a: 'ignored' });
  });

  it('a retries template that is not a number fails the task with its location', async () => {
    const pb = playbook([play({ tasks: [cmd('bad-retries', { register: 'b', until: ['b.rc == 0'], retries: '{{ "soon" }}', delay: 0 })] })]);
    const r = await runTest(pb, inventory(['a']));
    expect(r.statuses('bad-retries')).toEqual({ a: 'failed' });
    expect(String(r.results('bad-retries')[0]!.result.msg)).toContain('retries must be a whole number >= 0, got "soon"');
    expect(r.transport.log('a')).toEqual([]);
  });
});

describe('changed_when / failed_when / ignore_errors', () => {
  it('overrides the module result with access to the registered name and result fields', async () => {
    const pb = playbook([
      play({
        tasks: [
          cmd('check-state', { register: 'st', changedWhen: ["'CHANGED' in st.stdout"], failedWhen: ['rc > 1'] }),
          cmd('quiet', { changedWhen: [false] }),
          cmd('grep-miss', { failedWhen: ["'boom' in stderr"] }),
          cmd('bad', { ignoreErrors: true }),
          cmd('last'),
        ],
      }),
    ]);
    const r = await runTest(pb, inventory(['a']), {
      rules: [{ match: 'check-state', rc: 1, stdout: 'nothing CHANGED here' }, { match: 'grep-miss', rc: 0, stderr: 'boom' }, { match: 'bad', rc: 9 }],
    });
    expect(r.statuses('check-state')).toEqual({ a: 'changed' });
    expect(r.statuses('quiet')).toEqual({ a: 'ok' });
    expect(r.statuses('grep-miss')).toEqual({ a: 'failed' });
    expect(r.exitCode).toBe(EXIT.HOST_FAILED);
    const r2 = await runTest(playbook([play({ tasks: [cmd('bad', { ignoreErrors: true }), cmd('last')] })]), inventory(['a']), { rules: [{ match: 'bad', rc: 9 }] });
    expect(r2.statuses('bad')).toEqual({ a: 'ignored' });
    expect(r2.transport.log('a')).toContain(quoted('last'));
    expect(r2.recap.a).toEqual({ ok: 2, changed: 2, ignored: 1, failed: 0, skipped: 0, rescued: 0, unreachable: 0 });
    expect(r2.exitCode).toBe(0);
  });
});

describe('delegate_to', () => {
  it('runs on localhost with the original host vars and counts on the original host', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'obr-deleg-'));
    const pb = playbook([
      play({
        tasks: [task('shell', { _raw_params: 'echo "{{ inventory_hostname }} {{ role_tag }}" >> out.txt', chdir: dir }, { name: 'delegated', delegateTo: 'localhost' })],
      }),
    ]);
    const r = await runTest(pb, inventory({ a: { role_tag: 'km' }, b: { role_tag: 'iam' } }));
    const { readFileSync } = await import('node:fs');
    expect(readFileSync(path.join(dir, 'out.txt'), 'utf8').split('\n').filter(Boolean).sort()).toEqual(['a km', 'b iam']);
    const res = r.results('delegated');
    expect(res.map((e) => [e.host, e.delegatedTo, e.status]).sort()).toEqual([
      ['a', 'localhost', 'changed'],
      ['b', 'localhost', 'changed'],
    ]);
    expect(r.transport.execs).toHaveLength(0);
    expect(r.recap.a!.changed).toBe(1);
  });

  it('renders delegate_to per loop item (drain a node on every LB host)', async () => {
    const pb = playbook([
      play({
        hosts: 'node',
        tasks: [task('command', { _raw_params: 'drain {{ inventory_hostname }}' }, { name: 'drain', delegateTo: '{{ item }}', loop: ['lb1', 'lb2'] })],
      }),
    ]);
    const r = await runTest(pb, inventory(['node', 'lb1', 'lb2']));
    expect(r.exitCode).toBe(0);
    expect(r.transport.execs.map((e) => e.host).sort()).toEqual(['lb1', 'lb2']);
    // inventory_hostname stays the original host's.
    for (const e of r.transport.execs) expect(e.script).toMatch(/drain'? '?node\b/);
  });
});

describe('variable precedence', () => {
  it('follows Ansible order', async () => {
    const role = { name: 'r', path: '/virtual/roles/r', defaults: { d_only: 'default', d_vs_inv: 'default', d_vs_extra: 'default' }, vars: {}, params: {} };
    const inv = inventory({ a: { host_vs_group: 'host', d_vs_inv: 'inventory' } }, { web: { hosts: ['a'], vars: { host_vs_group: 'group', grp: 'g' } } });
    const pb = playbook([
      play({
        vars: { play_vs_task: 'play', play_vs_setfact: 'play', d_vs_extra: 'play' },
        tasks: [
          task('set_fact', { play_vs_setfact: 'set_fact' }, { name: 'sf' }),
          task(
            'assert',
            {
              that: [
                "d_only == 'default'",
                "d_vs_inv == 'inventory'",
                "host_vs_group == 'host'",
                "grp == 'g'",
                "play_vs_task == 'task'",
                "play_vs_setfact == 'set_fact'",
                "d_vs_extra == 'extra'",
                "'web' in group_names",
                "groups.web | join(',') == 'a'",
              ],
            },
            { name: 'precedence', vars: { play_vs_task: 'task' }, role },
          ),
        ],
      }),
    ]);
    const r = await runTest(pb, inv, {}, { extraVars: { d_vs_extra: 'extra' } });
    expect(r.results('precedence')[0]!.result.assertion).toBeUndefined();
    expect(r.statuses('precedence')).toEqual({ a: 'ok' });
  });

  it('renders variables lazily, so they may refer to each other and to facts set later', async () => {
    const pb = playbook([
      play({
        vars: { url: 'http://{{ host_name }}:{{ port }}', port: 9443, unused: '{{ undefined_thing }}' },
        tasks: [task('set_fact', { host_name: '{{ inventory_hostname }}.lab' }, { name: 'sf' }), task('command', { _raw_params: 'curl {{ url }}' }, { name: 'use' })],
      }),
    ]);
    const r = await runTest(pb, inventory(['a']));
    expect(r.transport.log('a')).toEqual(["'curl' 'http://a.lab:9443'"]);
  });
});

describe('include_tasks', () => {
  it('loads the file at run time, once per loop item', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'obr-inc-'));
    writeFileSync(path.join(dir, 'inner.yml'), 'placeholder');
    const loaded: string[] = [];
    const loadTasksFile = (file: string): Task[] => {
      loaded.push(file);
      return [task('command', { _raw_params: 'inner {{ item }} {{ extra_param }}' }, { name: 'inner' }) as Task];
    };
    const pb = playbook([play({ tasks: [include('{{ which }}.yml', dir, { loop: ['one', 'two'], vars: { extra_param: 'p' } })], vars: { which: 'inner' } })]);
    const r = await runTest(pb, inventory(['a', 'b']), {}, { loadTasksFile });
    expect(r.transport.log('a')).toEqual(["'inner' 'one' 'p'", "'inner' 'two' 'p'"]);
    expect(r.transport.log('b')).toEqual(["'inner' 'one' 'p'", "'inner' 'two' 'p'"]);
    expect(loaded).toEqual([path.join(dir, 'inner.yml'), path.join(dir, 'inner.yml')]);
    const missing = await runTest(playbook([play({ tasks: [include('missing.yml', dir)] })]), inventory(['a']), {}, { loadTasksFile });
    expect(missing.exitCode).toBe(EXIT.HOST_FAILED);
  });
});

describe('meta', () => {
  it('end_host stops one host, end_play stops the play', async () => {
    const pb = playbook([
      play({ tasks: [cmd('first'), meta('end_host', { when: ["inventory_hostname == 'a'"] }), cmd('second'), meta('end_play'), cmd('third')] }),
      play({ name: 'next', tasks: [cmd('next-play')] }),
    ]);
    const r = await runTest(pb, inventory(['a', 'b']));
    expect(r.transport.log('a')).toEqual([quoted('first'), quoted('next-play')]);
    expect(r.transport.log('b')).toEqual([quoted('first'), quoted('second'), quoted('next-play')]);
    expect(r.exitCode).toBe(0);
  });
});

describe('no_log', () => {
  it("hides the task's own result, as Ansible does, and masks no ordinary words later", async () => {
    const pb = playbook([
      play({
        tasks: [
          cmd('get-secret', { noLog: true, register: 's', loop: ['configuration', '/opt/wso2/conf'] }),
          task('debug', { msg: 'Rolling restart of nodes whose configuration changed ({{ s.results | length }} items)' }, { name: 'configure : show' }),
        ],
      }),
    ]);
    const r = await runTest(pb, inventory(['a']), { rules: [{ match: 'get-secret', stdout: 'configuration' }] });
    for (const e of r.results('get-secret')) expect(e.result).toMatchObject({ censored: expect.stringContaining("'no_log: true' was specified") });
    expect(JSON.stringify(r.results('get-secret'))).not.toContain('/opt/wso2/conf');
    expect(r.results('configure : show')[0]!.result.msg).toBe('Rolling restart of nodes whose configuration changed (2 items)');
  });

  it('a vault value stays masked in later output even without no_log', async () => {
    registerVaultPlaintext('vaulted-Pa55word');
    const pb = playbook([play({ tasks: [task('debug', { msg: 'pw={{ pw }}' }, { name: 'show' })], vars: { pw: 'vaulted-Pa55word' } })]);
    const r = await runTest(pb, inventory(['a']));
    expect(r.results('show')[0]!.result.msg).toBe('pw=********');
    clearSecrets();
  });
});

describe('start-at-task, forks, signal and exit codes', () => {
  it('--start-at-task skips tasks before the named one', async () => {
    const pb = playbook([play({ tasks: [cmd('first'), cmd('second'), cmd('third')] })]);
    const r = await runTest(pb, inventory(['a']), {}, { startAtTask: 'second' });
    expect(r.transport.log('a')).toEqual([quoted('second'), quoted('third')]);
  });

  it('a start task never reached runs nothing, warns by name and keeps exit 0 (as ansible-playbook)', async () => {
    const pb = playbook([play({ tasks: [cmd('first'), cmd('second')] })]);
    const r = await runTest(pb, inventory(['a']), {}, { startAtTask: 'no such task' });
    expect(r.transport.log('a')).toEqual([]);
    expect(r.exitCode).toBe(0);
    const warnings = r.events.filter((e) => e.event === 'warning').map((e) => (e as { message: string }).message);
    expect(warnings.some((m) => m.includes('No matching task "no such task" found'))).toBe(true);
  });

  it('limits parallel hosts to forks', async () => {
    const pb = playbook([play({ tasks: [cmd('slow')] })]);
    const r = await runTest(pb, inventory(['a', 'b', 'c', 'd', 'e']), { rules: [{ match: 'slow', delayMs: 30 }] }, { forks: 2 });
    expect(r.transport.maxInFlight).toBe(2);
    expect(r.exitCode).toBe(0);
  });

  it('an abort signal stops launching tasks, waits for running ones, still emits the recap with 99', async () => {
    const ac = new AbortController();
    const pb = playbook([play({ tasks: [cmd('slow'), cmd('next')] })]);
    const p = runTest(pb, inventory(['a', 'b']), { rules: [{ match: 'slow', delayMs: 80 }] }, { signal: ac.signal });
    setTimeout(() => ac.abort(), 20);
    const r = await p;
    expect(r.exitCode).toBe(EXIT.INTERRUPTED);
    expect(r.statuses('slow')).toEqual({ a: 'changed', b: 'changed' });
    expect(r.transport.log('a')).not.toContain(quoted('next'));
    expect(r.events.at(-1)!.event).toBe('recap');
    expect(r.transport.closed.sort()).toEqual(['a', 'b']);
  });

  it('no hosts matched is a warning and exit 0', async () => {
    const pb = playbook([play({ hosts: 'nothere', tasks: [cmd('x')] })]);
    const r = await runTest(pb, inventory(['a']));
    expect(r.events.some((e) => e.event === 'warning' && /no hosts matched/.test(e.message))).toBe(true);
    expect(r.exitCode).toBe(0);
  });

  it('gathers facts with setup when gather_facts is on', async () => {
    const pb = playbook([play({ gatherFacts: true, tasks: [task('assert', { that: ["ansible_hostname == 'node1'", "ansible_facts.hostname == 'node1'"] }, { name: 'facts' })] })]);
    const r = await runTest(pb, inventory(['a']), { rules: [{ match: '@@hostname', stdout: '@@hostname\nnode1\n@@end\n' }] });
    expect(r.statuses('Gathering Facts')).toEqual({ a: 'ok' });
    expect(r.statuses('facts')).toEqual({ a: 'ok' });
  });
});

describe('hostvars', () => {
  it('reads one variable of another host without rendering that host\'s unrelated ones', async () => {
    // `broken` needs a role default that hostvars cannot see; reading hostvars[h].addr must not touch it.
    const inv = inventory(['h1', 'h2'], { all: { vars: { broken: '{{ role_only_var ~ "x" }}', dir_of: '{{ playbook_dir }}/files' } } });
    const pb = playbook([
      play({
        tasks: [
          task('set_fact', { addr: '{{ inventory_hostname }}-addr' }),
          task('set_fact', { members: "{% for h in groups['all'] %}{{ hostvars[h].addr }},{% endfor %}", other_dir: "{{ hostvars['h2'].dir_of }}" }, { name: 'members' }),
        ],
      }),
    ]);
    const r = await runTest(pb, inv);
    expect(r.exitCode).toBe(0);
    const facts = r.results('members').map((e) => (e.result as { ansible_facts: Record<string, unknown> }).ansible_facts);
    expect(facts[0]).toEqual({ members: 'h1-addr,h2-addr,', other_dir: '/virtual/files' });
  });

  it('serialises hostvars[inventory_hostname] finitely: it does not hold hostvars itself', async () => {
    const pb = playbook([play({ tasks: [task('debug', { msg: '{{ hostvars[inventory_hostname] | to_nice_json }}' }, { name: 'dump' }), task('debug', { msg: "{{ hostvars | to_json | length > 0 }}" }, { name: 'all' })] })]);
    const r = await runTest(pb, inventory(['a', 'b'], { all: { vars: { colour: 'blue' } } }));
    expect(r.exitCode).toBe(0);
    // As in Ansible 2.14, JSON text that is a template's whole result comes back as the dict it spells.
    const msg = r.results('dump')[0]!.result.msg;
    const dumped = (typeof msg === 'string' ? JSON.parse(msg) : msg) as Record<string, unknown>;
    expect(dumped).toMatchObject({ colour: 'blue', inventory_hostname: 'a' });
    expect(dumped).not.toHaveProperty('hostvars');
    expect(r.results('all')[0]!.result.msg).toBe(true);
  });
});
