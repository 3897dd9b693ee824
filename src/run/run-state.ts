// The run's shared state: what every part of the runner reads and writes (host states, counts, facts,
// the play being run). One object, handed to the play iterator, the task executor, results and handlers.
import path from 'node:path';
import { emptyCounts, type HostCounts, type HostStatus } from '../events/types.js';
import { PASSED, type PassedField } from '../load/keywords.js';
import type { NodeCommon, Play, RoleContext, Task } from '../load/model.js';
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

/** Keywords passed down play -> role -> block -> task (the keyword table's), plus the walk's context. */
export interface Inherit extends Pick<Task, PassedField> {
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

  /** Variables of hosts added by add_host (kept apart: the inventory's own layers are read from its files). */
  private readonly addedVars = new Map<string, Vars>();

  inventoryVars(host: string): Vars {
    let v = this.invVars.get(host);
    if (!v) {
      v = { ...hostVarsOf(this.opts.inventory, host), ...this.addedVars.get(host) };
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

  /** add_host: the host (new or known) joins the groups and gets the variables; true when something changed. */
  addHost(name: string, groups: string[], vars: Vars): boolean {
    const inv = this.opts.inventory;
    let changed = false;
    let h = inv.hosts.get(name);
    if (!h) {
      h = { name, vars: {}, groups: [] };
      inv.hosts.set(name, h);
      this.group('all').hosts.push(name);
      changed = true;
    }
    for (const g of groups) changed = this.join(name, g) || changed;
    this.addedVars.set(name, { ...this.addedVars.get(name), ...vars });
    Object.assign(h.vars, vars);
    this.inventoryChanged();
    return changed;
  }

  /** group_by: the host joins the group (made a child of the parents); true when something changed. */
  addGroup(host: string, group: string, parents: string[]): boolean {
    let changed = this.join(host, group);
    for (const p of parents) {
      if (p === 'all') continue;
      const parent = this.group(p);
      if (!parent.children.includes(group)) {
        parent.children.push(group);
        this.group(group).parents.push(p);
        changed = true;
      }
    }
    this.inventoryChanged();
    return changed;
  }

  private group(name: string): { hosts: string[]; children: string[]; parents: string[] } {
    const inv = this.opts.inventory;
    let g = inv.groups.get(name);
    if (!g) {
      g = { name, vars: {}, hosts: [], children: [], parents: name === 'all' ? [] : ['all'] };
      inv.groups.set(name, g);
      if (name !== 'all') this.group('all').children.push(name);
    }
    return g;
  }

  private join(host: string, group: string): boolean {
    const g = this.group(group);
    if (g.hosts.includes(host)) return false;
    g.hosts.push(host);
    const h = this.opts.inventory.hosts.get(host);
    if (h && !h.groups.includes(group)) h.groups.push(group);
    // A host in a group of its own is no longer `ungrouped` (as Ansible's inventory keeps it).
    const ungrouped = this.opts.inventory.groups.get('ungrouped');
    if (ungrouped && group !== 'ungrouped') {
      ungrouped.hosts = ungrouped.hosts.filter((x) => x !== host);
      if (h) h.groups = h.groups.filter((x) => x !== 'ungrouped');
    }
    return true;
  }

  /** Groups and host variables are read again after add_host / group_by. */
  private inventoryChanged(): void {
    this.invVars.clear();
    const fresh = groupsMap(this.opts.inventory);
    for (const k of Object.keys(this.groups)) delete this.groups[k];
    Object.assign(this.groups, fresh);
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

/** The walk's start: nothing passed down yet. */
export const NO_INHERIT: Inherit = { blocks: [], when: [], tags: [], notify: [], environment: [], rescuable: false };

/**
 * The one stage where keywords pass down: a node's own values merged onto what its parents passed
 * (play, role entry and block, then the task itself), by each keyword's merge in load/keywords.ts.
 * A task's own `vars` stay a scope layer of their own (host-vars.ts); a block's become a layer here.
 */
export function inherit(node: Partial<NodeCommon> & { kind?: string; vars?: Vars }, inh: Inherit): Inherit {
  const out: Record<string, unknown> = { ...inh };
  const n = node as Record<string, unknown>;
  for (const k of PASSED) {
    const v = n[k.field];
    if (k.merge === 'append') out[k.field] = [...((inh[k.field] as unknown[] | undefined) ?? []), ...((v as unknown[] | undefined) ?? [])];
    else if (v !== undefined && !(Array.isArray(v) && v.length === 0)) out[k.field] = v;
  }
  const result = out as unknown as Inherit;
  if (node.kind === 'block' && node.vars && Object.keys(node.vars).length) result.blocks = [...inh.blocks, node.vars];
  if (node.environment) result.environment = [...inh.environment, node.environment];
  if (node.role) result.role = node.role;
  return result;
}
