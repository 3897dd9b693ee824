// The run's shared state: what every part of the runner reads and writes (host states, counts, facts,
// the play being run). One object, handed to the play iterator, the task executor, results and handlers.
import path from 'node:path';
import { emptyCounts, type HostCounts, type HostStatus } from '../events/types.js';
import type { Play, RoleContext, Task } from '../load/model.js';
import { groupsMap, hostVarsOf } from '../inventory/host-vars.js';
import type { BackgroundJob } from '../modules/types.js';
import { registerSecret } from '../redact.js';
import type { Vars } from '../types.js';
import { createTemplater, type Templater } from '../vars/template.js';
import { ConnectionPool, connectionSpecOf } from './connections.js';
import type { RunOptions } from './types.js';

export const NO_LOG_MSG = "the output has been hidden due to the fact that 'no_log: true' was specified for this result";
/** The value of `omit`: an argument rendered to it is dropped, like Ansible's omit placeholder. */
export const OMIT = '__omit_place_holder__obiam';

export type HostState = 'active' | 'failed' | 'unreachable' | 'rescuing';

/** Keywords a block passes down to the tasks inside it (the model's own fields), plus the walk's context. */
type Passed = 'when' | 'tags' | 'become' | 'becomeUser' | 'becomeMethod' | 'ignoreErrors' | 'delegateTo' | 'runOnce' | 'noLog' | 'checkMode' | 'diff' | 'anyErrorsFatal';
export interface Inherit extends Pick<Task, Passed> {
  blocks: Vars[];
  /** Environment layers, outermost first (merged per task). */
  environment: (Record<string, string> | string)[];
  /** A failure here is caught by an enclosing block's rescue. */
  rescuable: boolean;
  includeParams?: Vars;
  role?: RoleContext;
}

export interface PlayRun {
  play: Play;
  /** The play has `serial`: a stop request lets its current batch finish. */
  serial: boolean;
  allHosts: string[];
  batch: string[];
  /** Hosts that ran `meta: end_host` (for this play only). */
  ended: Set<string>;
  endPlay: boolean;
  /** Handler indexes notified per host, waiting for the next flush. */
  notified: Map<string, Set<number>>;
}

export class StopPlay extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}
export class Interrupted extends Error {}

export interface HostOutcome {
  status: HostStatus;
  result: Record<string, unknown>;
  changed: boolean;
}

export const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (ms <= 0 || signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

export class RunState {
  readonly templater: Templater;
  readonly pool: ConnectionPool;
  readonly counts = new Map<string, HostCounts>();
  readonly state = new Map<string, HostState>();
  /** Gathered facts per host (setup). */
  readonly facts = new Map<string, Vars>();
  /** set_fact values and registered results per host; they outlive the play, as in Ansible. */
  readonly hostFacts = new Map<string, Vars>();
  private readonly invVars = new Map<string, Vars>();
  readonly groups: Record<string, string[]>;
  startReached: boolean;
  readonly warned = new Set<string>();
  /** --step was answered `continue`: run the rest without asking. */
  stepAll = false;
  /** The play being run, for the stop-request message. */
  current?: PlayRun;
  /** The run stopped between two batches of a serial play (a stop request). */
  stoppedBetweenBatches = false;
  /** Background jobs started by modules (http_probe), stopped at the end of the run. */
  readonly background: BackgroundJob[] = [];

  constructor(readonly opts: RunOptions) {
    this.templater = createTemplater({ searchPaths: [opts.playbook.dir, path.join(opts.playbook.dir, 'templates')] });
    this.groups = groupsMap(opts.inventory);
    this.pool = new ConnectionPool(opts.transports, (h) => connectionSpecOf(h, this.connectionVars(h), opts.connection), opts.signal, (host, message) =>
      this.emit({ event: 'verbose', level: 3, host, message }),
    );
    this.startReached = !opts.startAtTask;
    if (opts.becomePassword) registerSecret(opts.becomePassword);
  }

  emit = (e: Parameters<RunOptions['bus']['emit']>[0]): void => this.opts.bus.emit(e);

  /** Warns once per run for the same key. */
  warnOnce(key: string, e: Parameters<RunOptions['bus']['emit']>[0]): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.emit(e);
  }

  inventoryVars(host: string): Vars {
    let v = this.invVars.get(host);
    if (!v) {
      v = hostVarsOf(this.opts.inventory, host);
      this.invVars.set(host, v);
    }
    return v;
  }

  /** What a host's connection is made from: its inventory vars, with extra vars over them (they win everywhere). */
  connectionVars(host: string): Vars {
    return { ...this.inventoryVars(host), ...this.opts.extraVars };
  }

  countsOf(host: string): HostCounts {
    let c = this.counts.get(host);
    if (!c) {
      c = emptyCounts();
      this.counts.set(host, c);
    }
    return c;
  }

  hostState(host: string): HostState {
    return this.state.get(host) ?? 'active';
  }

  /** The hosts of the list still running in this play (not failed, unreachable or ended). */
  active(pr: PlayRun, hosts: string[]): string[] {
    return hosts.filter((h) => this.hostState(h) === 'active' && !pr.ended.has(h));
  }

  /** Hard abort, or a stop request outside a serial play's batch. */
  stopNow(): boolean {
    return Boolean(this.opts.signal?.aborted || (this.opts.stopRequest?.aborted && !this.current?.serial));
  }

  setHostFact(host: string, key: string, value: unknown): void {
    let v = this.hostFacts.get(host);
    if (!v) {
      v = {};
      this.hostFacts.set(host, v);
    }
    v[key] = value;
  }
}
