import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { clearSecrets, registerSecret } from '../../src/redact.js';
import { batchPhases, buildHtmlReport, esc, phaseOf } from '../../src/reporters/html-report.js';
import { createRunRecorder, type RunRecord } from '../../src/state/run-record.js';
import { EVIL_MSG, EVIL_TASK, rollEvents } from './roll-events.js';

const root = mkdtempSync(path.join(tmpdir(), 'obr-html-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
afterEach(() => clearSecrets());

function recordOf(file?: string): RunRecord {
  const rec = createRunRecorder({ runId: 'r1', command: 'obiam-run pb.yml', playbooks: ['/pb/rolling-restart.yml'], inventories: ['/inv/lab.yml'], check: false }, file);
  for (const e of rollEvents()) rec.onEvent(e);
  void rec.close?.();
  return rec.record;
}

/** Elements `<tag ... class="...cls..."` in document order. */
const all = (html: string, re: RegExp): string[] => [...html.matchAll(re)].map((m) => m[1]!);

describe('run record', () => {
  it('keeps per host-task start, end and status, batches and probe samples; loop items counted', () => {
    const r = recordOf();
    expect(r.status).toBe('failed');
    expect(r.exitCode).toBe(2);
    expect(r.plays.map((p) => [p.name, p.serial])).toEqual([
      ['Cluster state before the roll', false],
      ['Rolling restart', true],
    ]);
    expect(r.batches.filter((b) => b.play === 1).map((b) => [b.hosts, b.failed])).toEqual([
      [['node1'], []],
      [['node2'], ['node2']],
    ]);
    const stop = r.tasks.find((t) => t.name === 'Service stopped')!;
    expect(stop).toMatchObject({ role: 'service', module: 'service', file: 'roles/service/tasks/restart.yml', line: 3 });
    const stops = r.results.filter((x) => r.tasks[x.task]!.name === 'Service stopped');
    expect(stops.map((x) => [x.host, x.status, x.end - x.start])).toEqual([
      ['node1', 'changed', 1500],
      ['node2', 'changed', 1500],
    ]);
    expect(r.results.find((x) => x.status === 'failed')).toMatchObject({ host: 'node2', msg: 'node2 not healthy after 4 s' });
    expect(r.probes[0]!.report.samples!.length).toBeGreaterThan(5);
  });

  it('is written 0600 with secrets redacted', () => {
    registerSecret('node2 not healthy');
    const file = path.join(root, 'state', 'last-run.json');
    recordOf(file);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain('node2 not healthy');
    expect(text).toContain('******** after 4 s');
    expect((JSON.parse(text) as RunRecord).kind).toBe('obiam-run-record');
  });
});

describe('roll phases', () => {
  it('names the rolling playbooks\' steps', () => {
    const t = (name: string, module: string, role: string | undefined, file: string): string | undefined => phaseOf({ name, module, role, file });
    expect(t('Drain the node on the load balancer', 'shell', 'service', 'roles/service/tasks/drain.yml')).toBe('drain');
    expect(t('Service stopped', 'service', 'service', 'roles/service/tasks/restart.yml')).toBe('stop');
    expect(t('Service stopped for the upgrade', 'service', 'upgrade', 'roles/upgrade/tasks/main.yml')).toBe('stop');
    expect(t('Service enabled and started', 'service', 'service', 'roles/service/tasks/start.yml')).toBe('start');
    expect(t('Healthy', 'uri', 'service', 'roles/service/tasks/wait.yml')).toBe('healthy');
    expect(t('Back into the load balancer', 'shell', 'service', 'roles/service/tasks/ready.yml')).toBe('ready');
    expect(t('Restart done', 'set_fact', 'service', 'roles/service/tasks/restart.yml')).toBeUndefined();
    expect(t('Out of the load balancer', 'include_tasks', 'service', 'roles/service/tasks/restart.yml')).toBeUndefined();
    expect(t('Pack unpacked', 'unarchive', 'product', 'roles/product/tasks/main.yml')).toBe('unpack');
    expect(t('Back to the previous home', 'file', 'upgrade', 'roles/upgrade/tasks/back-to-previous.yml')).toBe('roll back');
    expect(t('my step', 'command', undefined, 'tasks/migrate.yml')).toBe('migrate');
  });

  it('gives each batch its phases in order, skipped tasks left out, the failed one marked', () => {
    const r = recordOf();
    const [b1, b2] = r.batches.filter((b) => b.play === 1);
    expect(batchPhases(r, b1!).map((s) => [s.phase, s.end - s.start, s.failed])).toEqual([
      ['drain', 800, false],
      ['stop', 1500, false],
      ['start', 900, false],
      ['healthy', 3000, false],
      ['ready', 200, false],
    ]);
    expect(batchPhases(r, b2!).map((s) => [s.phase, s.failed])).toEqual([
      ['drain', false],
      ['stop', false],
      ['start', false],
      ['healthy', true],
    ]);
  });
});

describe('the HTML page', () => {
  it('is one self-contained document: no script, no external reference, a CSP that forbids requests', () => {
    const html = buildHtmlReport({ source: 'last-run.json', record: recordOf() });
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`);
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/\s(src|href)\s*=\s*["']/i);
    expect(html).not.toMatch(/url\(/i);
    expect(html).not.toContain('@import');
  });

  it('has a timeline row per host with a bar per result, the failed one coloured', () => {
    const html = buildHtmlReport({ source: 'x', record: recordOf() });
    expect(all(html, /<g class="host-row" data-host="([^"]*)"/g)).toEqual(['node1', 'node2']);
    const failed = all(html, /<g class="task st-failed" data-task="([^"]*)"/g);
    expect(failed).toEqual(['service : Healthy with every member']);
    expect(html).toMatch(/\.st-failed rect\{fill:#d62828\}/);
    // Hover text: name, status, duration, message.
    expect(html).toContain('node2 · service : Healthy with every member\nfailed, 4.00s');
  });

  it('lists the roll phases of every batch in order, and the probe samples as chart points', () => {
    const r = recordOf();
    const html = buildHtmlReport({ source: 'x', record: r });
    const rows = html.split('<tr class="batch"').slice(1);
    expect(rows.map((row) => all(row, /<li data-phase="([^"]*)"/g))).toEqual([
      ['drain', 'stop', 'start', 'healthy', 'ready'],
      ['drain', 'stop', 'start', 'healthy'],
    ]);
    expect(rows[1]).toContain('failed: node2');
    const pts = all(html, /<circle class="rps-point"[^>]* data-requests="([^"]*)"/g).map(Number);
    expect(pts).toEqual(r.probes[0]!.report.samples!.map((s) => s.requests));
    expect(all(html, /<rect class="err-bar"[^>]* data-failed="([^"]*)"/g)).toEqual(['3']);
    expect(html).toContain('data-requests="' + r.probes[0]!.report.requests + '" data-failed="3"');
  });

  it('escapes every string from the record', () => {
    const html = buildHtmlReport({ source: '<x>.json', record: recordOf() });
    expect(html).not.toContain('<img');
    expect(html).not.toContain(EVIL_MSG);
    expect(html).toContain(esc(EVIL_TASK));
    expect(html).toContain('&lt;/pre&gt;&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    expect(html).toContain('&lt;x&gt;.json');
    expect(esc(`a<b>&"c'`)).toBe('a&lt;b&gt;&amp;&quot;c&#39;');
  });

  it('redacts registered secrets', () => {
    const r = recordOf();
    registerSecret('onerror');
    expect(buildHtmlReport({ source: 'x', record: r })).not.toContain('onerror');
  });

  it('renders a roll journal alone (no timeline) with its note', () => {
    const html = buildHtmlReport({
      source: 'journal.json',
      journal: {
        version: 1, command: 'obiam-run roll.yml', playbooks: ['/pb/roll.yml'], inventories: ['/inv/x.yml'], extraVars: '', status: 'interrupted', pid: 1, hostname: 'h',
        startedAt: '2026-12-01T10:00:00.000Z', updatedAt: '2026-12-01T10:05:00.000Z',
        plays: [{ index: 1, name: 'Rolling restart', serial: true, done: ['node1'], failed: [], current: { batch: 2, batches: 3, hosts: ['node2'], task: 'service : Service stopped' } }],
      },
      notes: ['Only the roll journal is shown.'],
    });
    expect(html).toContain('Only the roll journal is shown.');
    expect(html).toContain('<tr class="journal-play"><th>Rolling restart</th>');
    expect(html).toContain('batch 2/3: node2 at service : Service stopped');
    expect(html).not.toContain('host-row');
  });
});
