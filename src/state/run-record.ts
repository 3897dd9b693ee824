// The run record: what `obiam-run report` draws. Every playbook run (site.yml and rolls alike) keeps
// one in its state dir, `last-run.json` (`last-check.json` for --check, so a dry run never replaces
// the record of the last real one): per host and task the start, end and status, the plays and
// batches with their times, the load probe's per-second samples. It is reduced from the run's events,
// so a `--json` event stream gives the same record (src/cli/report-command.ts reads all three forms).
import { chmodSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EXIT } from '../errors.js';
import type { HostCounts, HostStatus, ProbeReport, Reporter, RunEvent } from '../events/types.js';
import { redactValue } from '../redact.js';

export const RECORD_KIND = 'obiam-run-record';

export interface RecordPlay {
  index: number;
  name: string;
  serial: boolean;
  hosts: string[];
  start: number;
  end?: number;
}

export interface RecordBatch {
  /** The play's index in `plays`. */
  play: number;
  batch: number;
  batches: number;
  hosts: string[];
  start: number;
  end?: number;
  failed?: string[];
}

export interface RecordTask {
  /** Position in `tasks`; results name their task by it. */
  id: number;
  play: number;
  /** As the run shows it, without the role (`role` says which). */
  name: string;
  module: string;
  role?: string;
  /** The task's file, relative to the first playbook's directory, and line. */
  file?: string;
  line?: number;
  handler: boolean;
  start: number;
  end?: number;
}

export interface RecordResult {
  task: number;
  host: string;
  status: HostStatus;
  start: number;
  end: number;
  msg?: string;
  delegatedTo?: string;
  /** Loop items the task went through on this host. */
  items?: number;
}

export interface RunRecord {
  kind: typeof RECORD_KIND;
  version: 1;
  /** Shared with the roll journal of the same run (its `runId`), so `report journal.json` finds this. */
  runId: string;
  status: 'running' | 'done' | 'failed' | 'interrupted';
  exitCode?: number;
  command?: string;
  playbooks: string[];
  inventories: string[];
  check: boolean;
  hostname: string;
  pid: number;
  /** Epoch milliseconds, like every time in the record. */
  start: number;
  end?: number;
  plays: RecordPlay[];
  batches: RecordBatch[];
  tasks: RecordTask[];
  results: RecordResult[];
  probes: { name: string; report: ProbeReport }[];
  warnings: string[];
  recap?: Record<string, HostCounts>;
}

export interface RunRecordMeta {
  runId: string;
  command?: string;
  playbooks: string[];
  inventories: string[];
  check: boolean;
}

export const recordFile = (stateDir: string, check: boolean): string => path.join(stateDir, check ? 'last-check.json' : 'last-run.json');

export const newRunId = (): string => `${new Date().toISOString().replace(/[-:.]/g, '')}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;

const MSG_MAX = 400;
const WARNINGS_MAX = 200;

const clip = (s: string | undefined): string | undefined => (s === undefined ? undefined : s.length > MSG_MAX ? `${s.slice(0, MSG_MAX)}…` : s);

/** The text that says why a result is what it is: its msg, and for a failure the end of its stderr. */
function messageOf(e: Extract<RunEvent, { event: 'host-result' }>): string | undefined {
  const err = e.status === 'failed' || e.status === 'unreachable' ? e.result?.stderr : undefined;
  const tail = typeof err === 'string' && err.trim() ? err.trim().split('\n').slice(-3).join('\n') : undefined;
  const text = [e.msg, tail].filter((x) => x).join('\n');
  return text ? clip(text) : undefined;
}

export interface RunRecorder extends Reporter {
  record: RunRecord;
  /** Why the record could not be written, if it could not (the run itself goes on). */
  problem?: string;
}

/**
 * Reduces events to a record; with `file`, keeps it written there (at most about once a second while
 * tasks run, at every batch and play end, and at the end) so a killed run still leaves its timeline.
 */
export function createRunRecorder(meta: RunRecordMeta, file?: string): RunRecorder {
  const record: RunRecord = {
    kind: RECORD_KIND,
    version: 1,
    runId: meta.runId,
    status: 'running',
    ...(meta.command ? { command: meta.command } : {}),
    playbooks: meta.playbooks,
    inventories: meta.inventories,
    check: meta.check,
    hostname: os.hostname(),
    pid: process.pid,
    start: Date.now(),
    plays: [],
    batches: [],
    tasks: [],
    results: [],
    probes: [],
    warnings: [],
  };
  const base = meta.playbooks[0] ? path.dirname(meta.playbooks[0]) : undefined;
  const items = new Map<string, number>();
  let lastWrite = 0;
  let writeCost = 0;
  const recorder: RunRecorder = {
    record,
    onEvent(e) {
      reduce(record, e, items, base);
      if (!file) return;
      const due = e.event === 'batch-end' || e.event === 'play-end' || e.event === 'recap' || e.event === 'play-start';
      // A big record costs time to write: the busier the writes, the rarer.
      if (due || (e.event === 'task-end' && Date.now() - lastWrite > Math.max(1000, writeCost * 20))) write();
    },
    close() {
      if (file) write();
    },
  };
  const write = (): void => {
    if (!file || recorder.problem) return;
    const t0 = Date.now();
    try {
      mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
      const tmp = `${file}.${process.pid}.tmp`;
      // Task messages can hold anything a host printed: readable by the operator only.
      writeFileSync(tmp, `${JSON.stringify(redactValue(record))}\n`, { mode: 0o600 });
      chmodSync(tmp, 0o600);
      renameSync(tmp, file);
    } catch (err) {
      recorder.problem = `cannot write the run record ${file}: ${(err as Error).message}`;
    }
    lastWrite = Date.now();
    writeCost = lastWrite - t0;
  };
  return recorder;
}

/** Applies one event to the record (exported for readers of a `--json` stream). */
export function reduce(record: RunRecord, e: RunEvent, items: Map<string, number>, base?: string): void {
  const play = record.plays[record.plays.length - 1];
  switch (e.event) {
    case 'run-start':
      record.start = e.time;
      if (!record.playbooks.length) record.playbooks.push(e.playbook);
      record.check = e.check;
      break;
    case 'play-start':
      if (play && play.end === undefined) play.end = e.time;
      record.plays.push({ index: e.index ?? record.plays.length, name: e.play, serial: e.serial ?? false, hosts: e.hosts, start: e.time });
      break;
    case 'play-end':
      if (play) play.end = e.time;
      break;
    case 'batch-start':
      record.batches.push({ play: record.plays.length - 1, batch: e.batch, batches: e.batches, hosts: e.hosts, start: e.time });
      break;
    case 'batch-end': {
      const b = [...record.batches].reverse().find((x) => x.batch === e.batch && x.end === undefined);
      if (b) {
        b.end = e.time;
        b.failed = e.failed;
      }
      break;
    }
    case 'task-start': {
      const file = e.location?.file;
      record.tasks.push({
        id: record.tasks.length,
        play: record.plays.length - 1,
        name: e.task,
        module: e.module,
        ...(e.role ? { role: e.role } : {}),
        ...(file ? { file: base && path.isAbsolute(file) ? path.relative(base, file) : file, line: e.location!.line } : {}),
        handler: e.handler,
        start: e.time,
      });
      break;
    }
    case 'task-end': {
      const t = taskNamed(record, e.task);
      if (t && t.end === undefined) t.end = e.time;
      break;
    }
    case 'host-result': {
      const t = taskNamed(record, e.task);
      if (!t) break;
      const key = `${t.id}\0${e.host}`;
      if (e.isItem) {
        items.set(key, (items.get(key) ?? 0) + 1);
        break;
      }
      const n = items.get(key);
      const msg = messageOf(e);
      record.results.push({
        task: t.id,
        host: e.host,
        status: e.status,
        start: e.time - e.durationMs,
        end: e.time,
        ...(msg ? { msg } : {}),
        ...(e.delegatedTo ? { delegatedTo: e.delegatedTo } : {}),
        ...(n ? { items: n } : {}),
      });
      break;
    }
    case 'probe-report':
      record.probes.push({ name: e.name, report: e.report });
      break;
    case 'warning':
      if (record.warnings.length < WARNINGS_MAX) record.warnings.push(clip(e.message)!);
      break;
    case 'recap':
      record.recap = e.hosts;
      record.exitCode = e.exitCode;
      record.end = e.time;
      record.status = e.exitCode === EXIT.OK ? 'done' : e.exitCode === EXIT.INTERRUPTED ? 'interrupted' : 'failed';
      for (const p of record.plays) p.end ??= e.time;
      break;
    default:
      break;
  }
}

/** The latest task of that name: tasks run one after another, results name theirs by its name. */
function taskNamed(record: RunRecord, name: string): RecordTask | undefined {
  for (let i = record.tasks.length - 1; i >= 0; i--) {
    const t = record.tasks[i]!;
    if (t.name === name) return t;
  }
  return undefined;
}
