// The live view drawn on a fake terminal stream, rendered by a terminal emulator: what stays on the
// screen once the block is erased and redrawn, what a running task shows, and how it fits the width.
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { clearSecrets, registerSecret } from '../../src/redact.js';
import { createLiveReporter } from '../../src/reporters/live.js';
import { liveViewSupported } from '../../src/reporters/live-view.js';
import { renderScreen } from '../support/pty.js';
import { SECRET, sampleEvents } from './events.js';

/** A writable that claims to be a terminal, recording everything the view draws. */
function fakeTty(columns = 100, rows = 40): { stream: NodeJS.WriteStream; bytes: () => string } {
  let buf = '';
  const w = new Writable({
    write(chunk, _enc, cb) {
      buf += String(chunk);
      cb();
    },
  }) as unknown as NodeJS.WriteStream & { isTTY: boolean; columns: number; rows: number };
  // The view writes synchronously through stream.write; a Writable buffers nothing for a string chunk here.
  w.isTTY = true;
  w.columns = columns;
  w.rows = rows;
  return { stream: w, bytes: () => buf };
}

function setup(opts: { verbosity?: number; columns?: number; rows?: number; foreign?: NodeJS.WriteStream[] } = {}) {
  clearSecrets();
  registerSecret(SECRET);
  const tty = fakeTty(opts.columns, opts.rows);
  const r = createLiveReporter({ verbosity: opts.verbosity ?? 0, color: false, stream: tty.stream, foreign: opts.foreign ?? [], tickMs: 10_000 });
  const screen = () => renderScreen(tty.bytes(), opts.columns ?? 100, opts.rows ?? 40);
  return { r, tty, screen };
}

const T = 1_700_000_000_000;

describe('live reporter', () => {
  it('leaves every task with its host rows, details, warnings and the recap on the screen, in order', async () => {
    const { r, screen } = setup();
    for (const e of sampleEvents()) r.onEvent(e);
    await r.close?.();
    const s = await screen();
    const order = [
      'PLAY [Configure IAM nodes]',
      '✔ TASK [show version] 4ms',
      '"msg": "WSO2 IAM 7.0"',
      '✖ TASK [base : install packages] 10.00s',
      '✔ changed: [node1] 2 items 1.51s',
      '✖ failed: [node2] 1 item 800ms',
      '✖ unreachable: [node3] 10.00s',
      'failed: [node2] (item=unzip) => No package matching unzip',
      'fatal: [node3]: UNREACHABLE! => connect ETIMEDOUT 192.0.2.13:22',
      '-hostname = "old"',
      '+hostname = "iam.example.com"',
      '✔ failed (ignored): [node1] 20ms',
      'fatal: [node1]: FAILED! => non-zero return code',
      '...ignoring',
      '↓ skipping: [node1]',
      '✔ RUNNING HANDLER [restart wso2]',
      '✔ changed: [node1 -> lb-1] 2.05s',
      '[WARNING]: /pb/site.yml:12:7: password ******** is weak',
      'PLAY RECAP',
      'finished in 14.25s (exit code 2)',
    ];
    const idx = order.map((o) => s.lines.findIndex((l) => l.includes(o)));
    expect(idx.filter((i) => i < 0), s.text).toEqual([]);
    expect([...idx].sort((a, b) => a - b)).toEqual(idx);
    expect(s.text).toMatch(/node1 {22}: ok=7 {4}changed=4/);
    expect(s.text).not.toContain(SECRET);
    expect(s.text).not.toMatch(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/);
  });

  it('shows a running task live: spinner, elapsed time and what each host is doing, cut to the width', async () => {
    const { r, screen } = setup({ columns: 60 });
    r.onEvent({ event: 'task-start', task: 'upload the pack', module: 'unarchive', hosts: ['a', 'b'], handler: false, time: Date.now() });
    r.onEvent({ event: 'progress', task: 'upload the pack', host: 'a', kind: 'upload', message: 'wso2-obiam-2.0.0.zip 120.0/512.0 MiB, 40.0 MiB/s and a long tail that cannot fit', bytes: 1, totalBytes: 2, time: T });
    r.onEvent({ event: 'host-result', task: 'upload the pack', host: 'b', status: 'changed', result: { changed: true }, durationMs: 900, time: T });
    const s = await screen();
    expect(s.rows).toHaveLength(3);
    expect(s.rows[0]).toMatch(/^[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] TASK \[upload the pack\] \d+ms$/);
    expect(s.rows[1]).toMatch(/^ {2}[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] \[a\] \d+ms {2}wso2-obiam-2\.0\.0\.zip 120\.0\/512\.0 MiB, 40.*…$/);
    expect(s.rows[1]!.length).toBeLessThan(60);
    expect(s.rows[2]).toBe('  ✔ changed: [b] 900ms');
    await r.close?.();
    const end = await screen();
    expect(end.rows).toEqual(['✔ TASK [upload the pack]', '  ↓ [a] not run', '  ✔ changed: [b] 900ms']);
  });

  it('cuts a long running task name, never its elapsed time', async () => {
    const { r, screen } = setup({ columns: 60 });
    const task = "carbon.xml host names (the LB's public name), port offset, keystore and clustering";
    r.onEvent({ event: 'task-start', task, role: 'configure', module: 'xml', hosts: ['a'], handler: false, time: Date.now() });
    const s = await screen();
    expect(s.rows[0]).toMatch(/^[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] TASK \[configure : carbon\.xml host names .*… \d+ms$/);
    expect(s.rows[0]!.length).toBeLessThan(60);
    await r.close?.();
  });

  it('keeps the live block within the screen height when there are more hosts than rows', async () => {
    const { r, screen } = setup({ rows: 10 });
    const hosts = Array.from({ length: 30 }, (_, i) => `node${i + 1}`);
    r.onEvent({ event: 'task-start', task: 'many', module: 'command', hosts, handler: false, time: Date.now() });
    r.onEvent({ event: 'host-result', task: 'many', host: 'node1', status: 'ok', result: {}, durationMs: 5, time: T });
    const s = await screen();
    expect(s.rows.length).toBeLessThanOrEqual(9);
    expect(s.rows.at(-1)).toMatch(/… \d+ more hosts \(1\/30 done\)/);
    r.onEvent({ event: 'task-end', task: 'many', durationMs: 9, time: T });
    const end = await screen();
    // Once the task ended, every host is listed in full (the block scrolls like any text).
    expect(end.lines.filter((l) => /\[node\d+\]/.test(l))).toHaveLength(30);
    await r.close?.();
  });

  it('lifts the live block off for other writers (stderr messages) and draws it again under them', async () => {
    const tty = fakeTty();
    const other = fakeTty();
    // Both go to the same screen, as stdout and stderr of one terminal do.
    let both = '';
    const orig = tty.stream.write.bind(tty.stream);
    tty.stream.write = ((c: string) => ((both += c), orig(c))) as typeof tty.stream.write;
    other.stream.write = ((c: string) => ((both += c), true)) as typeof other.stream.write;
    const r = createLiveReporter({ verbosity: 0, color: false, stream: tty.stream, foreign: [other.stream], tickMs: 10_000 });
    r.onEvent({ event: 'task-start', task: 'wait', module: 'command', hosts: ['a'], handler: false, time: Date.now() });
    other.stream.write('\nSIGINT: stopping at the next safe point\n');
    other.stream.write('Enter passphrase: ');
    r.onEvent({ event: 'progress', task: 'wait', host: 'a', kind: 'wait', message: 'still waiting', time: T });
    const s = await renderScreen(both, 100);
    // While a prompt is open (no newline yet) the block is not drawn over it.
    expect(s.rows.at(-1)).toBe('Enter passphrase: ');
    other.stream.write('\n');
    const s2 = await renderScreen(both, 100);
    expect(s2.rows.slice(1)).toEqual(['SIGINT: stopping at the next safe point', 'Enter passphrase: ', expect.stringMatching(/TASK \[wait\]/), expect.stringMatching(/\[a\] \d+ms {2}still waiting/)]);
    r.close?.();
    // close() gives the streams their own write back.
    other.stream.write('after\n');
    expect((await renderScreen(both, 100)).rows.at(-1)).toBe('after');
  });

  it('writes a task cut short by an interrupt (no task-end, no result for some hosts)', async () => {
    const { r, screen } = setup();
    r.onEvent({ event: 'task-start', task: 'long', module: 'command', hosts: ['a', 'b'], handler: false, time: T });
    r.onEvent({ event: 'host-result', task: 'long', host: 'a', status: 'ok', result: {}, durationMs: 5, time: T });
    await r.close?.();
    const s = await screen();
    expect(s.text).toContain('✔ ok: [a] 5ms');
    expect(s.text).toContain('↓ [b] not run');
  });

  it('is used only on a terminal outside CI', () => {
    expect(liveViewSupported({ isTTY: true }, {})).toBe(true);
    expect(liveViewSupported({ isTTY: true }, { CI: 'true' })).toBe(false);
    expect(liveViewSupported({ isTTY: false }, {})).toBe(false);
    expect(liveViewSupported({}, {})).toBe(false);
    expect(liveViewSupported({ isTTY: true, columns: 0 }, {})).toBe(false);
    expect(liveViewSupported({ isTTY: true, columns: 120 }, {})).toBe(true);
  });
});

