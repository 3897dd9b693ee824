import { describe, expect, it } from 'vitest';
import { clearSecrets, registerSecret } from '../../src/redact.js';
import { createJsonReporter } from '../../src/reporters/json.js';
import { SECRET, sampleEvents } from './events.js';

function lines(events = sampleEvents()): string[] {
  clearSecrets();
  registerSecret(SECRET);
  const out: string[] = [];
  const r = createJsonReporter((l) => out.push(l));
  for (const e of events) r.onEvent(e);
  return out;
}

describe('json reporter', () => {
  it('writes one parseable JSON object per line per event, event name first', () => {
    const out = lines();
    expect(out).toHaveLength(sampleEvents().length);
    for (const l of out) {
      expect(l.endsWith('\n')).toBe(true);
      expect(l.slice(0, -1)).not.toContain('\n');
      const obj = JSON.parse(l) as Record<string, unknown>;
      expect(Object.keys(obj)[0]).toBe('event');
    }
    expect(out.map((l) => (JSON.parse(l) as { event: string }).event)).toEqual(sampleEvents().map((e) => e.event));
  });

  it('ends with the recap: counts per host and the exit code', () => {
    const last = JSON.parse(lines().at(-1)!) as Record<string, unknown>;
    expect(last).toEqual({
      event: 'recap',
      hosts: {
        node1: { ok: 7, changed: 4, unreachable: 0, failed: 0, skipped: 1, rescued: 1, ignored: 1 },
        node2: { ok: 0, changed: 0, unreachable: 0, failed: 1, skipped: 0, rescued: 0, ignored: 0 },
        node3: { ok: 0, changed: 0, unreachable: 1, failed: 0, skipped: 0, rescued: 0, ignored: 0 },
      },
      exitCode: 2,
      durationMs: 14_250,
      time: 1_700_000_000_000,
    });
  });

  it('keeps loop items, diffs, delegation and statuses', () => {
    const parsed = lines().map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(parsed).toContainEqual(expect.objectContaining({ event: 'host-result', host: 'node1', item: 'unzip', isItem: true, status: 'changed' }));
    expect(parsed).toContainEqual(expect.objectContaining({ event: 'host-result', host: 'node1', status: 'ignored' }));
    expect(parsed).toContainEqual(expect.objectContaining({ event: 'host-result', host: 'node1', status: 'rescued' }));
    expect(parsed).toContainEqual(expect.objectContaining({ event: 'host-result', host: 'node3', status: 'unreachable' }));
    expect(parsed).toContainEqual(expect.objectContaining({ delegatedTo: 'lb-1' }));
    const diff = parsed.find((p) => Array.isArray(p.diff)) as { diff: { after: string }[] };
    expect(diff.diff[0]!.after).toBe('[server]\nhostname = "iam.example.com"\n');
  });

  it('redacts secrets in every field, and a secret with quotes does not break the JSON', () => {
    const all = lines().join('');
    expect(all).not.toContain(SECRET);
    expect(all).toContain('"db_password":"********"');
    clearSecrets();
    registerSecret('pa"ss\\word');
    const out: string[] = [];
    createJsonReporter((l) => out.push(l)).onEvent({ event: 'warning', message: 'x pa"ss\\word y', time: 1 });
    expect(JSON.parse(out[0]!)).toEqual({ event: 'warning', message: 'x ******** y', time: 1 });
  });

  it('still writes a valid line for a result JSON cannot represent', () => {
    clearSecrets();
    const cyclic: Record<string, unknown> = { changed: false };
    cyclic.self = cyclic;
    const out: string[] = [];
    const r = createJsonReporter((l) => out.push(l));
    r.onEvent({ event: 'host-result', task: 't', host: 'h', status: 'ok', result: cyclic, durationMs: 1, time: 2 });
    r.onEvent({ event: 'host-result', task: 't', host: 'h', status: 'ok', result: { big: 10n as unknown, inf: Infinity }, durationMs: 1, time: 2 });
    const first = JSON.parse(out[0]!) as Record<string, unknown>;
    expect(first).toMatchObject({ event: 'host-result', task: 't', host: 'h', status: 'ok' });
    expect(typeof first.unserializable).toBe('string');
    expect(JSON.parse(out[1]!)).toMatchObject({ result: { big: '10', inf: 'Infinity' } });
  });
});
