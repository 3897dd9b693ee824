// `obiam-run report FILE [-o out.html]`: the HTML page of a run, from its run record (`last-run.json`
// in the state dir), its roll journal (`journal.json`, with the run record beside it when it is of the
// same run) or a `--json` event stream. A file can hold anything: every field is checked and what
// does not fit is left out, so a page is made or a coded error names the file and line.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { EXIT, ObiamError } from '../errors.js';
import type { HostCounts, HostStatus, ProbeReport, RunEvent } from '../events/types.js';
import { buildHtmlReport, STATUSES, type ReportInput } from '../reporters/html-report.js';
import type { Journal, JournalPlay } from '../state/journal.js';
import { RECORD_KIND, reduce, type RecordBatch, type RecordPlay, type RecordResult, type RecordTask, type RunRecord } from '../state/run-record.js';

export interface ReportCommandContext {
  out: (s: string) => void;
  err: (s: string) => void;
  cwd: string;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const strs = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
const objs = (v: unknown): Obj[] => (Array.isArray(v) ? v.filter(isObj) : []);
const counts = (v: unknown): Record<string, number> => (isObj(v) ? Object.fromEntries(Object.entries(v).filter(([, n]) => num(n) !== undefined)) as Record<string, number> : {});
const STATUS = new Set<string>(STATUSES);

/** A record with only well-typed fields: entries missing what the page needs are dropped. */
export function checkRecord(raw: Obj): RunRecord {
  const start = num(raw.start) ?? 0;
  const plays: RecordPlay[] = objs(raw.plays).flatMap((p, i) => {
    const s = num(p.start);
    return s === undefined ? [] : [{ index: num(p.index) ?? i, name: str(p.name) ?? `play ${i + 1}`, serial: p.serial === true, hosts: strs(p.hosts), start: s, ...(num(p.end) !== undefined ? { end: num(p.end) } : {}) }];
  });
  const batches: RecordBatch[] = objs(raw.batches).flatMap((b) => {
    const s = num(b.start);
    const play = num(b.play);
    return s === undefined || play === undefined ? [] : [{ play, batch: num(b.batch) ?? 1, batches: num(b.batches) ?? 1, hosts: strs(b.hosts), start: s, ...(num(b.end) !== undefined ? { end: num(b.end) } : {}), ...(Array.isArray(b.failed) ? { failed: strs(b.failed) } : {}) }];
  });
  const tasks: RecordTask[] = objs(raw.tasks).flatMap((t) => {
    const id = num(t.id);
    const s = num(t.start);
    return id === undefined || s === undefined
      ? []
      : [{ id, play: num(t.play) ?? 0, name: str(t.name) ?? '(unnamed)', module: str(t.module) ?? '?', ...(str(t.role) ? { role: str(t.role) } : {}), ...(str(t.file) ? { file: str(t.file), line: num(t.line) } : {}), handler: t.handler === true, start: s, ...(num(t.end) !== undefined ? { end: num(t.end) } : {}) }];
  });
  const results: RecordResult[] = objs(raw.results).flatMap((r) => {
    const task = num(r.task);
    const s = num(r.start);
    const e = num(r.end);
    const host = str(r.host);
    const status = str(r.status);
    if (task === undefined || s === undefined || e === undefined || host === undefined || status === undefined || !STATUS.has(status)) return [];
    return [{ task, host, status: status as HostStatus, start: s, end: Math.max(s, e), ...(str(r.msg) ? { msg: str(r.msg) } : {}), ...(str(r.delegatedTo) ? { delegatedTo: str(r.delegatedTo) } : {}), ...(num(r.items) ? { items: num(r.items) } : {}) }];
  });
  const probes = objs(raw.probes).flatMap((p) => {
    const r = isObj(p.report) ? p.report : undefined;
    if (!r) return [];
    const report: ProbeReport = {
      url: str(r.url) ?? '?',
      requests: num(r.requests) ?? 0,
      failed: num(r.failed) ?? 0,
      failures: counts(r.failures),
      sessionsMoved: num(r.sessionsMoved) ?? 0,
      perNode: counts(r.perNode),
      durationMs: num(r.durationMs) ?? 0,
      ...(Array.isArray(r.samples) ? { samples: objs(r.samples).flatMap((x) => (num(x.t) === undefined ? [] : [{ t: num(x.t)!, requests: num(x.requests) ?? 0, failed: num(x.failed) ?? 0 }])) } : {}),
    };
    return [{ name: str(p.name) ?? report.url, report }];
  });
  const recap = isObj(raw.recap) ? (Object.fromEntries(Object.entries(raw.recap).filter(([, c]) => isObj(c)).map(([h, c]) => [h, { ok: 0, changed: 0, unreachable: 0, failed: 0, skipped: 0, rescued: 0, ignored: 0, ...counts(c) }])) as Record<string, HostCounts>) : undefined;
  const status = str(raw.status);
  return {
    kind: RECORD_KIND,
    version: 1,
    runId: str(raw.runId) ?? '',
    status: status === 'done' || status === 'failed' || status === 'interrupted' ? status : 'running',
    ...(num(raw.exitCode) !== undefined ? { exitCode: num(raw.exitCode) } : {}),
    ...(str(raw.command) ? { command: str(raw.command) } : {}),
    playbooks: strs(raw.playbooks),
    inventories: strs(raw.inventories),
    check: raw.check === true,
    hostname: str(raw.hostname) ?? '?',
    pid: num(raw.pid) ?? 0,
    start,
    ...(num(raw.end) !== undefined ? { end: num(raw.end) } : {}),
    plays,
    batches,
    tasks,
    results,
    probes,
    warnings: strs(raw.warnings),
    ...(recap ? { recap } : {}),
  };
}

function checkJournal(raw: Obj): Journal {
  const plays: JournalPlay[] = objs(raw.plays).map((p, i) => {
    const c = isObj(p.current) ? p.current : undefined;
    return {
      index: num(p.index) ?? i,
      name: str(p.name) ?? `play ${i + 1}`,
      serial: p.serial === true,
      done: strs(p.done),
      failed: strs(p.failed),
      ...(c ? { current: { batch: num(c.batch) ?? 0, batches: num(c.batches) ?? 0, hosts: strs(c.hosts), ...(str(c.task) ? { task: str(c.task) } : {}) } } : {}),
    };
  });
  const status = str(raw.status);
  return {
    version: 1,
    command: str(raw.command) ?? '?',
    playbooks: strs(raw.playbooks),
    inventories: strs(raw.inventories),
    extraVars: str(raw.extraVars) ?? '',
    status: status === 'done' || status === 'failed' || status === 'interrupted' ? status : 'running',
    ...(num(raw.exitCode) !== undefined ? { exitCode: num(raw.exitCode) } : {}),
    pid: num(raw.pid) ?? 0,
    hostname: str(raw.hostname) ?? '?',
    startedAt: str(raw.startedAt) ?? '?',
    updatedAt: str(raw.updatedAt) ?? '?',
    ...(str(raw.runId) ? { runId: str(raw.runId) } : {}),
    plays,
  };
}

const isRecord = (v: unknown): v is Obj => isObj(v) && v.kind === RECORD_KIND;
const isJournal = (v: unknown): v is Obj => isObj(v) && Array.isArray(v.plays) && typeof v.startedAt === 'string' && typeof v.status === 'string';

const invalid = (file: string, line: number, message: string): ObiamError =>
  new ObiamError('E_REPORT_INPUT', message, {
    location: { file, line, col: 1 },
    exitCode: EXIT.PARSE,
    remedy: 'give the run record (last-run.json in the state dir), the roll journal (journal.json) or the stdout of a run with --json',
  });

/** The other file of the same run beside `file` (the record beside a journal, or the journal beside a record). */
function sibling(file: string, name: string, runId: string | undefined): Obj | undefined {
  const other = path.join(path.dirname(file), name);
  if (!runId || path.resolve(other) === path.resolve(file) || !existsSync(other)) return undefined;
  try {
    const v: unknown = JSON.parse(readFileSync(other, 'utf8'));
    return isObj(v) && v.runId === runId ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Reads FILE into what the page is made of, or throws E_REPORT_FILE / E_REPORT_INPUT. */
export function readReportInput(file: string): ReportInput {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ObiamError('E_REPORT_FILE', code === 'ENOENT' ? `no such file: ${file}` : `cannot read ${file}: ${(e as Error).message}`, {
      exitCode: EXIT.ERROR,
      remedy: 'every run keeps its record as last-run.json in its state dir (<inventory dir>/.obiam-run/<inventory>-<hash>/, or under --state-dir)',
    });
  }
  if (text.trim() === '') throw invalid(file, 1, `${file} is empty`);
  let whole: unknown;
  let wholeError: Error | undefined;
  try {
    whole = JSON.parse(text);
  } catch (e) {
    wholeError = e as Error;
  }
  if (wholeError === undefined && !(isObj(whole) && typeof whole.event === 'string')) {
    if (isRecord(whole)) {
      const record = checkRecord(whole);
      const j = sibling(file, 'journal.json', record.runId);
      return { source: file, record, ...(j && isJournal(j) ? { journal: checkJournal(j) } : {}) };
    }
    if (isJournal(whole)) {
      const journal = checkJournal(whole);
      const rec = sibling(file, 'last-run.json', journal.runId);
      if (rec && isRecord(rec)) return { source: file, record: checkRecord(rec), journal };
      const why = journal.runId ? 'the run record beside it (last-run.json) is missing or belongs to a later run' : 'it is from a version that kept no run record';
      return { source: file, journal, notes: [`Only the roll journal's plays are shown: ${why}, so there is no task timeline.`] };
    }
    throw invalid(file, 1, `${file} is JSON but neither a run record, a roll journal nor an event`);
  }
  return fromEvents(file, text, wholeError);
}

/** A `--json` stream: one event per line, reduced to a record as the run itself does. */
function fromEvents(file: string, text: string, wholeError: Error | undefined): ReportInput {
  const record: RunRecord = { ...checkRecord({}), start: Infinity };
  const items = new Map<string, number>();
  let events = 0;
  let skipped = 0;
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    let e: unknown;
    try {
      e = JSON.parse(line);
    } catch (err) {
      if (events === 0 && i === lines.findIndex((l) => l.trim() !== '')) {
        throw invalid(file, i + 1, `${file} is not JSON: ${(wholeError ?? (err as Error)).message}`);
      }
      throw invalid(file, i + 1, `line ${i + 1} of the event stream is not JSON: ${(err as Error).message}`);
    }
    if (!isObj(e) || typeof e.event !== 'string' || num(e.time) === undefined) {
      skipped++;
      return;
    }
    try {
      reduce(record, e as unknown as RunEvent, items);
      events++;
    } catch {
      skipped++;
    }
  });
  if (events === 0) throw invalid(file, 1, `${file} holds no run events`);
  if (!Number.isFinite(record.start)) record.start = Math.min(...record.plays.map((p) => p.start), Date.now());
  const checked = checkRecord(record as unknown as Obj);
  return { source: file, record: checked, ...(skipped ? { notes: [`${skipped} line(s) of the event stream were not run events and were left out.`] } : {}) };
}

export function reportCommand(ctx: ReportCommandContext): Command {
  return new Command('report')
    .description('write a self-contained HTML page of a run: task timeline per host, roll phases, load probe')
    .argument('<file>', 'the run record (last-run.json in the state dir), a roll journal (journal.json) or a --json event stream')
    .option('-o, --output <file>', 'the page to write (default: FILE with .html instead of .json; - for stdout)')
    .action((file: string, o: { output?: string }) => {
      const src = path.resolve(ctx.cwd, file);
      const input = readReportInput(src);
      input.source = file;
      const html = buildHtmlReport(input);
      if (o.output === '-') {
        ctx.out(html);
        return;
      }
      const dest = path.resolve(ctx.cwd, o.output ?? `${src.replace(/\.(jsonl?|ndjson)$/i, '')}.html`);
      try {
        // Task messages come from the hosts: the page is for the operator, like the record.
        writeFileSync(dest, html, { mode: 0o600 });
      } catch (e) {
        throw new ObiamError('E_REPORT_OUTPUT', `cannot write ${dest}: ${(e as Error).message}`, { exitCode: EXIT.ERROR, remedy: 'choose another place with -o FILE' });
      }
      const r = input.record;
      ctx.out(`report: ${dest}${r ? ` (${new Set(r.results.map((x) => x.host)).size} hosts, ${r.tasks.length} tasks, ${r.batches.filter((b) => r.plays[b.play]?.serial).length} roll batches, ${r.probes.length} probe${r.probes.length === 1 ? '' : 's'})` : ' (roll journal only)'}\n`);
    });
}
