import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { clearSecrets, registerSecret } from '../../src/redact.js';
import { createListrReporter, liveViewSupported } from '../../src/reporters/listr.js';
import { SECRET, sampleEvents } from './events.js';

/** A writable that claims to be a terminal, recording everything the renderer draws. */
function fakeTty(): { stream: NodeJS.WriteStream; text: () => string } {
  let buf = '';
  const w = new Writable({
    write(chunk, _enc, cb) {
      buf += String(chunk);
      cb();
    },
  }) as unknown as NodeJS.WriteStream & { isTTY: boolean; columns: number; rows: number };
  w.isTTY = true;
  w.columns = 100;
  w.rows = 40;
  return { stream: w, text: () => buf };
}

const ESC = String.fromCharCode(27);
const strip = (s: string): string => s.replace(new RegExp(`${ESC}\\[[0-9;?]*[A-Za-z]`, 'g'), '');

function setup(verbosity = 0) {
  clearSecrets();
  registerSecret(SECRET);
  const tty = fakeTty();
  let text = '';
  const r = createListrReporter({ verbosity, color: false, out: (s) => (text += s), stdout: tty.stream, stderr: tty.stream, forceTTY: true });
  return { r, drawn: () => strip(tty.text()), text: () => text };
}

describe('listr reporter', () => {
  it('draws one list per task with a row per host, and close() resolves once all lists finished', async () => {
    const { r, drawn, text } = setup();
    for (const e of sampleEvents()) r.onEvent(e);
    await r.close?.();
    const d = drawn();
    expect(d).toContain('TASK [base : install packages] 10.00s');
    expect(d).toContain('✔ changed: [node1] 2 items 1.51s');
    expect(d).toContain('✖ failed: [node2] 1 item 800ms');
    expect(d).toContain('✖ unreachable: [node3] 10.00s');
    expect(d).toContain('↓ skipping: [node1]');
    expect(d).toContain('RUNNING HANDLER [restart wso2]');
    expect(d).toContain('✔ changed: [node1 -> lb-1] 2.05s');
    expect(d).toContain('✔ failed (ignored): [node1] 20ms');
    const t = text();
    // Text between the lists: banners, debug output, failure details, diffs, warnings, recap, in order.
    expect(t.indexOf('PLAY [Configure IAM nodes]')).toBeLessThan(t.indexOf('"msg": "WSO2 IAM 7.0"'));
    expect(t).toContain('fatal: [node3]: UNREACHABLE! => connect ETIMEDOUT 192.0.2.13:22');
    expect(t).toContain('-hostname = "old"\n+hostname = "iam.example.com"');
    expect(t).toContain('fatal: [node1]: FAILED! => non-zero return code\n...ignoring');
    expect(t).toMatch(/PLAY RECAP \*+\nnode1 {22}: ok=7 {4}changed=4/);
    expect(t.trimEnd().endsWith('finished in 14.25s (exit code 2)')).toBe(true);
    expect(d + t).not.toContain(SECRET);
  });

  it('finishes a task cut short by an interrupt (no task-end, no result for some hosts)', async () => {
    const { r, drawn } = setup();
    r.onEvent({ event: 'task-start', task: 'long', module: 'command', hosts: ['a', 'b'], handler: false, time: 0 });
    r.onEvent({ event: 'host-result', task: 'long', host: 'a', status: 'ok', result: {}, durationMs: 5, time: 0 });
    const closed = r.close?.();
    await expect(Promise.race([closed, new Promise((_, no) => setTimeout(() => no(new Error('close() hung')), 5000))])).resolves.toBeUndefined();
    expect(drawn()).toContain('✔ ok: [a] 5ms');
    expect(drawn()).toContain('[b] not run');
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
