// `obiam-run report` through main(): where every run leaves its record, the three inputs it reads,
// and the coded errors for a missing or bad file.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { EXIT } from '../../src/errors.js';
import type { RunRecord } from '../../src/state/run-record.js';
import { rollEvents } from '../reporters/roll-events.js';

const root = mkdtempSync(path.join(tmpdir(), 'obr-report-cmd-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

function workspace(files: Record<string, string>): string {
  const dir = path.join(root, `w${++n}`);
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  return dir;
}

async function cli(args: string[], cwd: string): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(args, { out: (s) => void (out += s), err: (s) => void (err += s), cwd, env: {}, isTTY: false, signal: new AbortController().signal });
  return { code, out, err };
}

const INV = 'all:\n  hosts:\n    h1: { ansible_connection: local }\n';
const PB = '- hosts: all\n  gather_facts: false\n  tasks:\n    - name: say hi\n      debug: { msg: hi }\n    - name: a command\n      command: "true"\n';

describe('the run record of every run', () => {
  it('a plain (non-roll) run leaves last-run.json in the state dir beside the inventory; --check leaves last-check.json', async () => {
    const dir = workspace({ 'inv.yml': INV, 'pb.yml': PB });
    expect((await cli(['pb.yml', '-i', 'inv.yml'], dir)).code).toBe(0);
    const [env] = readdirSync(path.join(dir, '.obiam-run'));
    const state = path.join(dir, '.obiam-run', env!);
    expect(readdirSync(state)).toEqual(['last-run.json']);
    const rec = JSON.parse(readFileSync(path.join(state, 'last-run.json'), 'utf8')) as RunRecord;
    expect(rec).toMatchObject({ kind: 'obiam-run-record', status: 'done', exitCode: 0, check: false });
    expect(rec.tasks.map((t) => t.name)).toEqual(['say hi', 'a command']);
    expect(rec.results.map((r) => [r.host, r.status])).toEqual([
      ['h1', 'ok'],
      ['h1', 'changed'],
    ]);
    expect(statSync(path.join(state, 'last-run.json')).mode & 0o777).toBe(0o600);

    expect((await cli(['pb.yml', '-i', 'inv.yml', '--check'], dir)).code).toBe(0);
    expect(readdirSync(state).sort()).toEqual(['last-check.json', 'last-run.json']);
    expect((JSON.parse(readFileSync(path.join(state, 'last-run.json'), 'utf8')) as RunRecord).runId).toBe(rec.runId);

    const made = await cli(['report', path.join(state, 'last-run.json')], dir);
    expect(made.code, made.err).toBe(0);
    expect(existsSync(path.join(state, 'last-run.html'))).toBe(true);
    expect(made.out).toBe(`report: ${path.join(state, 'last-run.html')} (1 hosts, 2 tasks, 0 roll batches, 0 probes)\n`);
  });
});

describe('obiam-run report', () => {
  it('reads a --json event stream (stdout of a run) and writes the page to stdout with -o -', async () => {
    const dir = workspace({ 'events.jsonl': `${rollEvents().map((e) => JSON.stringify(e)).join('\n')}\n` });
    const r = await cli(['report', 'events.jsonl', '-o', '-'], dir);
    expect(r.code, r.err).toBe(0);
    expect(r.out.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(r.out).toContain('<tr class="batch" data-hosts="node2">');
  });

  it('renders an older roll journal (no runId, no record) with what it has', async () => {
    const journal = { version: 1, command: 'obiam-run roll.yml', playbooks: ['/p/roll.yml'], inventories: ['/i/x.yml'], extraVars: 'x', status: 'failed', pid: 1, hostname: 'h', startedAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:01:00.000Z', plays: [{ index: 1, name: 'Rolling restart', serial: true, done: ['node1'], failed: ['node2'] }] };
    const dir = workspace({ 'journal.json': JSON.stringify(journal) });
    const r = await cli(['report', 'journal.json'], dir);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('(roll journal only)');
    const html = readFileSync(path.join(dir, 'journal.html'), 'utf8');
    expect(html).toContain('it is from a version that kept no run record');
    expect(html).toContain('<tr class="journal-play"><th>Rolling restart</th><td>serial</td><td>node1</td><td class="st-failed-text">node2</td>');
  });

  it('E_REPORT_FILE for a missing file, E_REPORT_INPUT with the line for a bad one; never a stack', async () => {
    const dir = workspace({ 'bad.json': '{"kind": "obiam-run-record",\n  oops\n}\n', 'other.json': '{"a": 1}\n', 'events.jsonl': '{"event":"run-start","playbook":"p","check":false,"diff":false,"time":1}\nnot json\n', 'empty.json': '' });
    const missing = await cli(['report', 'nope.json'], dir);
    expect(missing.code).toBe(EXIT.ERROR);
    expect(missing.err).toContain('E_REPORT_FILE');
    expect(missing.err).toContain('no such file');
    const bad = await cli(['report', 'bad.json'], dir);
    expect(bad.code).toBe(EXIT.PARSE);
    expect(bad.err).toMatch(/bad\.json:1:1: error E_REPORT_INPUT/);
    const other = await cli(['report', 'other.json'], dir);
    expect(other.err).toContain('neither a run record, a roll journal nor an event');
    const stream = await cli(['report', 'events.jsonl'], dir);
    expect(stream.code).toBe(EXIT.PARSE);
    expect(stream.err).toMatch(/events\.jsonl:2:1: error E_REPORT_INPUT: line 2 of the event stream is not JSON/);
    expect((await cli(['report', 'empty.json'], dir)).err).toContain('is empty');
    for (const r of [missing, bad, other, stream]) expect(r.err).not.toMatch(/\n\s+at /);
  });

  it('a record with fields of the wrong type still makes a page, the bad entries left out', async () => {
    const rec = { kind: 'obiam-run-record', start: 1000, plays: [{ name: 7, start: 'x' }, { name: 'ok', start: 1000, hosts: ['a', 3] }], tasks: [{ id: 0, start: 1000, name: '<b>', module: 'x' }, 'junk'], results: [{ task: 0, host: 'a', status: 'evil" onload="x', start: 1, end: 2 }, { task: 0, host: 'a', status: 'failed', start: 1000, end: 1500, msg: { no: 1 } }], probes: [{ report: { url: 'u', samples: [{ t: 'x' }, { t: 1000, requests: 5 }] } }] };
    const dir = workspace({ 'r.json': JSON.stringify(rec) });
    const r = await cli(['report', 'r.json', '-o', '-'], dir);
    expect(r.code, r.err).toBe(0);
    expect(r.out).not.toContain('onload');
    expect(r.out).toContain('data-task="&lt;b&gt;" data-status="failed"');
    expect(r.out.match(/class="rps-point"/g)).toHaveLength(1);
  });
});
