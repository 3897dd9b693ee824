// Typed events: the engine emits them, reporters (live view, plain log, recap, --json) consume them.
import type { SourceLocation } from '../errors.js';

export type HostStatus = 'ok' | 'changed' | 'failed' | 'skipped' | 'unreachable' | 'rescued' | 'ignored';

export interface HostCounts {
  ok: number;
  changed: number;
  unreachable: number;
  failed: number;
  skipped: number;
  rescued: number;
  ignored: number;
}

export interface FileDiff {
  path?: string;
  before: string;
  after: string;
  beforeHeader?: string;
  afterHeader?: string;
}

// The probe's numbers are http_probe's own type; the event carries them.
import type { ProbeReport } from '../modules/http-probe-report.js';
export type { ProbeReport, ProbeSample } from '../modules/http-probe-report.js';

export type RunEvent =
  | { event: 'run-start'; playbook: string; check: boolean; diff: boolean; time: number }
  | {
      event: 'play-start';
      play: string;
      hosts: string[];
      location?: SourceLocation;
      /** Position of the play in the run (0-based), the key of the journal. */
      index?: number;
      /** The play has `serial` (a roll): it runs in batches. */
      serial?: boolean;
      /** Hosts left out because the run being resumed already finished them here. */
      resumedDone?: string[];
      time: number;
    }
  | { event: 'batch-start'; play: string; batch: number; batches: number; hosts: string[]; time: number }
  | {
      event: 'batch-end';
      play: string;
      batch: number;
      batches: number;
      hosts: string[];
      /** Hosts that ran the whole batch without failing (ended hosts included). */
      ok: string[];
      failed: string[];
      durationMs: number;
      time: number;
    }
  | {
      event: 'probe-report';
      /** What was probed (a URL) and the numbers; see src/modules/http-probe.ts. */
      name: string;
      report: ProbeReport;
      time: number;
    }
  | { event: 'task-start'; task: string; module: string; hosts: string[]; handler: boolean; role?: string; location?: SourceLocation; time: number }
  | {
      event: 'host-result';
      task: string;
      host: string;
      status: HostStatus;
      /** The item label when the task loops (one event per item, then one for the whole task). */
      item?: string;
      /** Set on the per-item events of a loop. */
      isItem?: boolean;
      delegatedTo?: string;
      msg?: string;
      /** Module result with no_log/vault values already redacted. */
      result: Record<string, unknown>;
      diff?: FileDiff[];
      durationMs: number;
      time: number;
    }
  | {
      event: 'progress';
      /** What a host is doing inside a long task: an upload, an unpack, a wait, a retry of `until`. */
      task: string;
      host: string;
      kind: 'upload' | 'unpack' | 'wait' | 'retry';
      /** One line for the live view (`wso2.zip 120.0/512.0 MiB, 40.1 MiB/s`). */
      message: string;
      /** retry: the attempt that just failed, how many are left, time since the first attempt. */
      attempt?: number;
      retriesLeft?: number;
      elapsedMs?: number;
      /** upload: bytes sent so far and in all. */
      bytes?: number;
      totalBytes?: number;
      time: number;
    }
  | { event: 'task-end'; task: string; durationMs: number; time: number }
  | { event: 'verbose'; level: 1 | 2 | 3; host?: string; message: string; time: number }
  | { event: 'warning'; message: string; location?: SourceLocation; time: number }
  | { event: 'play-end'; play: string; time: number }
  | { event: 'recap'; hosts: Record<string, HostCounts>; exitCode: number; durationMs: number; time: number };

/** Distributes `Omit<RunEvent, ...>` over the union so each member keeps its own fields. */
export type DistributiveOmit<T, K extends keyof any> = T extends unknown ? Omit<T, K> : never;
export type RunEventInput = DistributiveOmit<RunEvent, 'time'>;

export interface Reporter {
  onEvent(e: RunEvent): void;
  /** Flushes output; called once at the end of the run. */
  close?(): Promise<void> | void;
}

/** Fan-out to reporters; stamps the time. The engine never writes to the terminal itself. */
export class EventBus {
  private readonly reporters: Reporter[] = [];
  add(r: Reporter): void {
    this.reporters.push(r);
  }
  emit(e: RunEventInput): void {
    const full = { ...e, time: Date.now() } as RunEvent;
    for (const r of this.reporters) r.onEvent(full);
  }
  async close(): Promise<void> {
    for (const r of this.reporters) await r.close?.();
  }
}

export function emptyCounts(): HostCounts {
  return { ok: 0, changed: 0, unreachable: 0, failed: 0, skipped: 0, rescued: 0, ignored: 0 };
}
