// The report page in a real browser: Debian's chromium, driven by playwright-core (which never
// downloads a browser of its own). Two pages: one from a real local-connection run through the CLI
// (a failed task, a skipped one, names that try HTML injection), one from the record of a real
// rolling restart under the http_probe on a 3-node lab (test/fixtures/report/lab-roll: recorded by
// `obiam-run playbooks/rolling-restart.yml` on `lab up --name hrep` after site.yml, 2026-12-04).
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import type { RunRecord } from '../../src/state/run-record.js';

const CHROMIUM = process.env.OBIAM_CHROMIUM || '/usr/bin/chromium';
const FIXTURE = path.resolve(import.meta.dirname, '../fixtures/report/lab-roll');
const root = mkdtempSync(path.join(tmpdir(), 'obr-report-browser-'));
let browser: BrowserContext;

async function cli(args: string[], cwd: string): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(args, { out: (s) => void (out += s), err: (s) => void (err += s), cwd, env: {}, isTTY: false, signal: new AbortController().signal });
  return { code, out, err };
}

/** Opens the page and records every request it makes (the page itself is the only one allowed). */
async function open(file: string): Promise<{ page: Page; requests: string[] }> {
  const page = await browser.newPage();
  const requests: string[] = [];
  page.on('request', (r) => void requests.push(r.url()));
  await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
  return { page, requests };
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`no browser at ${CHROMIUM}: install Debian's chromium (scripts/install-deps.sh) or set OBIAM_CHROMIUM`);
  browser = await chromium.launchPersistentContext(mkdtempSync(path.join(root, 'profile-')), {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  rmSync(root, { recursive: true, force: true });
});

describe('report of a local run, in chromium', () => {
  let page: Page;
  let requests: string[];

  beforeAll(async () => {
    const dir = path.join(root, 'local');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'inv.yml'), 'all:\n  hosts:\n    web1: { ansible_connection: local }\n    web2: { ansible_connection: local }\n');
    writeFileSync(
      path.join(dir, 'pb.yml'),
      [
        '- name: Local <b>demo</b>',
        '  hosts: all',
        '  gather_facts: false',
        '  tasks:',
        '    - name: A file written',
        `      copy: { dest: "${dir}/out-{{ inventory_hostname }}.txt", content: "hi\\n" }`,
        '    - name: <img src=x onerror="document.title=1">',
        '      command: sleep 0.2',
        '      changed_when: false',
        '    - name: Only on web2',
        '      command: "true"',
        "      when: inventory_hostname == 'web2'",
        '    - name: Fails on web1',
        `      shell: "echo '<script>window.pwned=1</script>' >&2; exit 3"`,
        "      when: inventory_hostname == 'web1'",
        '    - name: After',
        '      debug: { msg: done }',
        '',
      ].join('\n'),
    );
    const run = await cli(['pb.yml', '-i', 'inv.yml', '--state-dir', 'state'], dir);
    expect(run.code, run.out + run.err).toBe(2);
    const [envDir] = readdirSync(path.join(dir, 'state'));
    const record = path.join(dir, 'state', envDir!, 'last-run.json');
    const made = await cli(['report', record, '-o', path.join(dir, 'report.html')], dir);
    expect(made.code, made.err).toBe(0);
    expect(made.out).toContain('report.html (2 hosts, 5 tasks, 0 roll batches, 0 probes)');
    ({ page, requests } = await open(path.join(dir, 'report.html')));
  }, 60_000);

  it('shows one timeline row per host, with a bar for each task', async () => {
    const rows = await page.locator('svg.timeline g.host-row').evaluateAll((gs) => gs.map((g) => [g.getAttribute('data-host'), g.querySelectorAll('g.task').length]));
    // web1 stops at its failure; web2 runs all five.
    expect(rows).toEqual([
      ['web1', 4],
      ['web2', 5],
    ]);
    const labels = await page.locator('svg.timeline .host-label').allTextContents();
    expect(labels).toEqual(['web1', 'web2']);
  });

  it('colours the failed task red, and only on the host where it failed', async () => {
    const failed = page.locator('svg.timeline g.task.st-failed');
    expect(await failed.count()).toBe(1);
    expect(await failed.getAttribute('data-task')).toBe('Fails on web1');
    expect(await failed.evaluate((g) => g.closest('g.host-row')!.getAttribute('data-host'))).toBe('web1');
    expect(await failed.locator('rect').evaluate((r) => getComputedStyle(r).fill)).toBe('rgb(214, 40, 40)');
    const changed = page.locator('svg.timeline g.task.st-changed rect').first();
    expect(await changed.evaluate((r) => getComputedStyle(r).fill)).toBe('rgb(224, 161, 0)');
    // Hover details: the title names task, status and duration.
    expect(await failed.locator('title').textContent()).toMatch(/^web1 · Fails on web1\nfailed, \d+ms, at \+\d/);
    const box = await failed.locator('rect').boundingBox();
    expect(box!.width).toBeGreaterThan(0);
  });

  it('shows names and messages as text: nothing from the run became markup or ran', async () => {
    expect(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined();
    expect(await page.title()).toMatch(/^obiam-run report: pb\.yml /);
    expect(await page.locator('img').count()).toBe(0);
    expect(await page.locator('body script').count()).toBe(0);
    expect(await page.locator('h3, b').filter({ hasText: 'demo' }).count()).toBe(0);
    const failure = page.locator('#problems tr.failure');
    expect(await failure.locator('th').textContent()).toBe('web1');
    expect(await failure.locator('pre').textContent()).toContain('<script>window.pwned=1</script>');
    expect(await page.locator('svg.timeline g.task[data-task^="<img"]').count()).toBe(2);
  });

  it('made no request besides the page itself', () => {
    expect(requests).toEqual([requests[0]]);
    expect(requests[0]).toMatch(/^file:\/\//);
  });
});

describe('report of a real lab roll (recorded), in chromium', () => {
  let page: Page;
  let requests: string[];
  const record = JSON.parse(readFileSync(path.join(FIXTURE, 'last-run.json'), 'utf8')) as RunRecord;

  beforeAll(async () => {
    const out = path.join(root, 'roll.html');
    // The journal leads to the run record of the same run beside it.
    const made = await cli(['report', path.join(FIXTURE, 'journal.json'), '-o', out], root);
    expect(made.code, made.err).toBe(0);
    expect(made.out).toContain('(3 hosts, 72 tasks, 3 roll batches, 1 probe)');
    ({ page, requests } = await open(out));
  }, 60_000);

  it('shows each node going through drain, stop, start, healthy, ready, one after the other', async () => {
    const rows = await page.locator('table.roll-table tr.batch').evaluateAll((trs) => trs.map((tr) => [tr.getAttribute('data-hosts'), Array.from(tr.querySelectorAll('li[data-phase]')).map((li) => li.getAttribute('data-phase'))]));
    expect(rows).toEqual(['node1', 'node2', 'node3'].map((n) => [n, ['drain', 'stop', 'start', 'healthy', 'ready']]));
    // In the chart, each node's phases run left to right, and node2 starts after node1 is back.
    const spans = await page.locator('svg.roll-chart g.batch-row').evaluateAll((gs) => gs.map((g) => Array.from(g.querySelectorAll('g.phase rect')).map((r) => { const b = r.getBoundingClientRect(); return [b.left, b.right]; })));
    expect(spans.map((s) => s.length)).toEqual([5, 5, 5]);
    for (const s of spans) for (let i = 1; i < s.length; i++) expect(s[i]![0]).toBeGreaterThanOrEqual(s[i - 1]![0]);
    expect(spans[1]![0]![0]).toBeGreaterThanOrEqual(spans[0]![4]![0]);
    expect(spans[2]![0]![0]).toBeGreaterThanOrEqual(spans[1]![4]![0]);
    expect(await page.locator('table.roll-table tr.batch td:last-child').allTextContents()).toEqual(['done', 'done', 'done']);
  });

  it('plots the probe: a point per second with its requests, no error bar for a roll with 0 failures', async () => {
    const samples = record.probes[0]!.report.samples!;
    const points = await page.locator('svg.probe-chart circle.rps-point').evaluateAll((cs) => cs.map((c) => [Number(c.getAttribute('data-t')), Number(c.getAttribute('data-requests')), Number(c.getAttribute('data-failed')), c.getBoundingClientRect().top]));
    expect(points.map(([t, r, f]) => [t, r, f])).toEqual(samples.map((s) => [s.t, s.requests, s.failed]));
    // More requests in a second, higher on the chart.
    const top = (i: number): number => points[i]![3]!;
    const most = samples.reduce((m, s, i) => (s.requests > samples[m]!.requests ? i : m), 0);
    const least = samples.reduce((m, s, i) => (s.requests < samples[m]!.requests ? i : m), 0);
    expect(top(most)).toBeLessThan(top(least));
    expect(await page.locator('svg.probe-chart rect.err-bar').count()).toBe(0);
    const summary = await page.locator('p.probe-summary').textContent();
    expect(summary).toContain(`${record.probes[0]!.report.requests} requests through`);
    expect(summary).toContain(': 0 failed;');
    // The nodes out of the LB are shaded behind the curve, in roll order.
    expect(await page.locator('svg.probe-chart g.probe-batch text').allTextContents()).toEqual(['node1', 'node2', 'node3']);
  });

  it('made no request besides the page itself', () => {
    expect(requests).toEqual([requests[0]]);
  });
});
