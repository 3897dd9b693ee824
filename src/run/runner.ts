// The runner: Ansible's linear strategy. Each task runs on every active host of the batch (forks at a
// time) before the next task starts; handlers are flushed per batch; failures are counted per host.
import { existsSync } from 'node:fs';
import path from 'node:path';
import pLimit from 'p-limit';
import { EXIT, ObiamError, UnreachableError, formatLocation, isObiamError } from '../errors.js';
import { emptyCounts, type HostCounts, type HostStatus } from '../events/types.js';
import type { Block, Condition, Handler, IncludeTasks, Meta, Play, RoleContext, Task, TaskNode } from '../load/model.js';
import { groupsMap, hostVarsOf } from '../load/inventory-loader.js';
import { patternWarnings, selectHosts } from '../load/patterns.js';
import { getModule } from '../modules/registry.js';
import type { BackgroundJob, ModuleContext, ModuleDef, ModuleResult } from '../modules/types.js';
import { redactValue, registerSecret } from '../redact.js';
import { registeredData, unwrapUnsafe } from '../vars/unsafe.js';
import type { Connection } from '../transport/types.js';
import type { BecomeOptions, Vars } from '../types.js';
import { createTemplater, truthy, type Templater } from '../vars/template.js';
import { computeBatches } from './batches.js';
import { ConnectionPool, connectionSpecOf, toUnreachable } from './connections.js';
import { loadIncludedTasks } from './include.js';
import { startAtMatches } from './start-at.js';
import { tagsAllow } from './tags.js';
import type { RunOptions, RunOutcome } from './types.js';
import { VarScope, composeTaskVars, factsToVars, lazyViews } from './vars.js';

export const NO_LOG_MSG = "the output has been hidden due to the fact that 'no_log: true' was specified for this result";
/** The value of `omit`: an argument rendered to it is dropped, like Ansible's omit placeholder. */
export const OMIT = '__omit_place_holder__obiam';

type HostState = 'active' | 'failed' | 'unreachable' | 'rescuing';

/** Keywords a block passes down to the tasks inside it. */
interface Inherit {
  blocks: Vars[];
  when: Condition[];
  tags: string[];
  become?: boolean;
  becomeUser?: string;
  becomeMethod?: 'sudo' | 'su';
  ignoreErrors?: boolean;
  delegateTo?: string;
  runOnce?: boolean;
  noLog?: boolean;
  checkMode?: boolean;
  diff?: boolean;
  environment: (Record<string, string> | string)[];
  anyErrorsFatal?: boolean;
  /** A failure here is caught by an enclosing block's rescue. */
  rescuable: boolean;
  includeParams?: Vars;
  role?: RoleContext;
}

interface PlayRun {
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

class StopPlay extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}
class Interrupted extends Error {}

interface HostOutcome {
  status: HostStatus;
  result: Record<string, unknown>;
  changed: boolean;
}

export async function runPlaybook(opts: RunOptions): Promise<RunOutcome> {
  return new Runner(opts).run();
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
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

/** A connection for controller-only modules, which must never touch a host. */
function controllerConnection(host: string): Connection {
  const refuse = (): never => {
    throw new ObiamError('E_INTERNAL', 'a controller-only module tried to use the host connection', { exitCode: EXIT.INTERNAL, host });
  };
  return { host, exec: async () => refuse(), putFile: async () => refuse(), getFile: async () => refuse(), close: async () => undefined };
}

class Runner {
  private readonly templater: Templater;
  private readonly pool: ConnectionPool;
  private readonly counts = new Map<string, HostCounts>();
  private readonly state = new Map<string, HostState>();
  /** Gathered facts per host (setup). */
  private readonly facts = new Map<string, Vars>();
  /** set_fact values and registered results per host; they outlive the play, as in Ansible. */
  private readonly hostFacts = new Map<string, Vars>();
  private readonly invVars = new Map<string, Vars>();
  private readonly groups: Record<string, string[]>;
  private startReached: boolean;
  private readonly warned = new Set<string>();
  /** --step was answered `continue`: run the rest without asking. */
  private stepAll = false;
  /** The play being run, for the stop-request message. */
  private current?: PlayRun;
  /** The run stopped between two batches of a serial play (a stop request). */
  private stoppedBetweenBatches = false;
  /** Background jobs started by modules (http_probe), stopped at the end of the run. */
  private readonly background: BackgroundJob[] = [];
  /** Display names of running tasks, for the progress events their modules send. */
  private readonly names = new WeakMap<Task, string>();

  constructor(private readonly opts: RunOptions) {
    this.templater = createTemplater({ searchPaths: [opts.playbook.dir, path.join(opts.playbook.dir, 'templates')] });
    this.groups = groupsMap(opts.inventory);
    this.pool = new ConnectionPool(opts.transports, (h) => connectionSpecOf(h, this.inventoryVars(h)), opts.signal, (host, message) =>
      this.emit({ event: 'verbose', level: 3, host, message }),
    );
    this.startReached = !opts.startAtTask;
    if (opts.becomePassword) registerSecret(opts.becomePassword);
  }

  private emit = (e: Parameters<RunOptions['bus']['emit']>[0]): void => this.opts.bus.emit(e);

  private inventoryVars(host: string): Vars {
    let v = this.invVars.get(host);
    if (!v) {
      v = hostVarsOf(this.opts.inventory, host);
      this.invVars.set(host, v);
    }
    return v;
  }

  private countsOf(host: string): HostCounts {
    let c = this.counts.get(host);
    if (!c) {
      c = emptyCounts();
      this.counts.set(host, c);
    }
    return c;
  }

  async run(): Promise<RunOutcome> {
    const started = Date.now();
    const { playbook } = this.opts;
    this.emit({ event: 'run-start', playbook: playbook.file, check: this.opts.check, diff: this.opts.diff });
    let interrupted = false;
    const onStopRequest = (): void => this.announceStop();
    this.opts.stopRequest?.addEventListener('abort', onStopRequest, { once: true });
    try {
      for (const [index, play] of playbook.plays.entries()) {
        // Between plays any stop counts: no host is in the middle of anything here.
        if (this.opts.signal?.aborted || this.opts.stopRequest?.aborted) {
          if (index > 0 && this.opts.stopRequest?.aborted) this.stoppedBetweenBatches = true;
          throw new Interrupted();
        }
        const stop = await this.runPlay(play, index);
        if (stop) break;
      }
    } catch (e) {
      if (e instanceof Interrupted) interrupted = true;
      else throw e;
    } finally {
      this.opts.stopRequest?.removeEventListener('abort', onStopRequest);
      await this.stopBackground();
      await this.pool.closeAll();
    }
    if (this.stopNow()) interrupted = true;
    const hosts: Record<string, HostCounts> = {};
    for (const [h, c] of this.counts) hosts[h] = { ...c };
    const anyFailed = [...this.state.values()].includes('failed') || Object.values(hosts).some((c) => c.failed > 0);
    const anyUnreachable = [...this.state.values()].includes('unreachable');
    // 2 wins over 3: a failed task is the more specific problem (documented in docs/runner.md).
    const exitCode = interrupted ? EXIT.INTERRUPTED : anyFailed ? EXIT.HOST_FAILED : anyUnreachable ? EXIT.HOST_UNREACHABLE : EXIT.OK;
    if (interrupted && this.stoppedBetweenBatches) this.emit({ event: 'warning', message: 'stopped at a safe point: every batch that started was finished' });
    else if (interrupted) this.emit({ event: 'warning', message: 'interrupted: no new tasks were started; tasks already running were allowed to finish' });
    this.emit({ event: 'recap', hosts, exitCode, durationMs: Date.now() - started });
    return { exitCode };
  }

  /** Hard abort, or a stop request outside a serial play's batch. */
  private stopNow(): boolean {
    return Boolean(this.opts.signal?.aborted || (this.opts.stopRequest?.aborted && !this.current?.serial));
  }

  private announceStop(): void {
    const pr = this.current;
    if (pr?.serial && pr.batch.length > 0) {
      this.emit({
        event: 'warning',
        message: `stop requested: finishing the current batch (${pr.batch.join(', ')}) of '${pr.play.name}' so that no host is left half done, then stopping; interrupt again to stop after the running tasks`,
      });
    } else {
      this.emit({ event: 'warning', message: 'stop requested: no new tasks are started' });
    }
  }

  /** Registers a job a module started in the background; the runner stops it when the run ends. */
  private addBackground(job: BackgroundJob): void {
    this.background.push(job);
  }

  private async stopBackground(): Promise<void> {
    for (const job of this.background.splice(0)) {
      try {
        const report = await job.stop();
        if (report) this.emit({ event: 'probe-report', name: job.name, report });
      } catch (e) {
        this.emit({ event: 'warning', message: `stopping ${job.name}: ${e instanceof Error ? e.message : String(e)}` });
      }
    }
  }

  /** Runs one play; returns true when the whole run must stop (any_errors_fatal, max_fail_percentage, a batch that failed entirely). */
  private async runPlay(play: Play, index: number): Promise<boolean> {
    let selected: string[];
    try {
      selected = selectHosts(this.opts.inventory, play.hosts, this.opts.limit);
    } catch (e) {
      throw isObiamError(e) ? e : new ObiamError('E_HOST_PATTERN', String(e), { location: play.location, exitCode: EXIT.ERROR });
    }
    // Once per run, as ansible-playbook does: plays sharing a pattern would repeat it.
    for (const w of patternWarnings(this.opts.inventory, play.hosts)) {
      if (this.warned.has(`pattern:${w}`)) continue;
      this.warned.add(`pattern:${w}`);
      this.emit({ event: 'warning', message: w, location: play.location });
    }
    // Hosts that failed or went unreachable in an earlier play are left out, as ansible-playbook does.
    let hosts = selected.filter((h) => (this.state.get(h) ?? 'active') === 'active');
    const serial = play.serial.length > 0;
    // --resume: a serial play leaves out the hosts the interrupted run already took through it;
    // plays without serial (gates, checks) run again in full.
    const doneBefore = new Set(serial ? (this.opts.resume?.done[index] ?? []) : []);
    const resumedDone = hosts.filter((h) => doneBefore.has(h));
    if (resumedDone.length > 0) hosts = hosts.filter((h) => !doneBefore.has(h));
    for (const h of hosts) this.countsOf(h);
    this.emit({ event: 'play-start', play: play.name, hosts, location: play.location, index, serial, ...(resumedDone.length ? { resumedDone } : {}) });
    if (resumedDone.length > 0) {
      this.emit({ event: 'warning', message: `resuming: ${resumedDone.join(', ')} finished '${play.name}' in the interrupted run and ${resumedDone.length === 1 ? 'is' : 'are'} left out`, location: play.location });
      if (hosts.length === 0) {
        this.emit({ event: 'play-end', play: play.name });
        return false;
      }
    }
    if (selected.length === 0) {
      this.emit({ event: 'warning', message: `no hosts matched for play '${play.name}' (hosts: ${play.hosts}${this.opts.limit ? `, limit: ${this.opts.limit}` : ''}); play skipped`, location: play.location });
      this.emit({ event: 'play-end', play: play.name });
      return false;
    }
    // `serial: "{{ roll_serial | default(1) }}"`: rendered with play-level variables and extra vars.
    const serialSpec = play.serial.map((v) => (typeof v === 'string' && v.includes('{{') ? this.templater.render(v, this.playLevelVars(play)) : v));
    const batches = computeBatches(hosts, serialSpec);
    const pr: PlayRun = { play, serial, allHosts: hosts, batch: [], ended: new Set(), endPlay: false, notified: new Map() };
    this.current = pr;
    let stop = false;
    for (let i = 0; i < batches.length && !pr.endPlay; i++) {
      if (i > 0 && this.opts.stopRequest?.aborted) {
        this.stoppedBetweenBatches = true;
        throw new Interrupted();
      }
      pr.batch = batches[i]!;
      pr.notified = new Map();
      const batchStarted = Date.now();
      this.emit({ event: 'batch-start', play: play.name, batch: i + 1, batches: batches.length, hosts: pr.batch });
      const batchEnd = (): void => {
        const failed = pr.batch.filter((h) => (this.state.get(h) ?? 'active') !== 'active');
        const ok = pr.batch.filter((h) => !failed.includes(h));
        this.emit({ event: 'batch-end', play: play.name, batch: i + 1, batches: batches.length, hosts: pr.batch, ok, failed, durationMs: Date.now() - batchStarted });
      };
      try {
        await this.runBatch(pr);
      } catch (e) {
        if (e instanceof StopPlay) {
          batchEnd();
          this.emit({ event: 'warning', message: `${e.reason}; stopping the run`, location: play.location });
          stop = true;
          break;
        }
        throw e;
      }
      batchEnd();
      if (pr.batch.every((h) => (this.state.get(h) ?? 'active') !== 'active')) {
        this.emit({ event: 'warning', message: `every host of batch ${i + 1} failed or is unreachable; stopping the run`, location: play.location });
        stop = true;
        break;
      }
    }
    this.emit({ event: 'play-end', play: play.name });
    this.current = undefined;
    return stop;
  }

  private playInherit(play: Play): Inherit {
    return {
      blocks: [],
      when: [],
      tags: [...play.tags],
      become: play.become,
      becomeUser: play.becomeUser,
      becomeMethod: play.becomeMethod,
      environment: play.environment ? [play.environment] : [],
      anyErrorsFatal: play.anyErrorsFatal,
      rescuable: false,
    };
  }

  private async runBatch(pr: PlayRun): Promise<void> {
    const { play } = pr;
    const inh = this.playInherit(play);
    const setup = getModule('setup');
    if (play.gatherFacts && setup) {
      const gather: Task = {
        kind: 'task',
        name: 'Gathering Facts',
        module: 'setup',
        args: {},
        when: [],
        tags: ['always'],
        vars: {},
        notify: [],
        location: play.location,
      };
      await this.runNode(gather, pr, inh, false, true);
    }
    const sections: TaskNode[][] = [play.preTasks, [...play.roleTasks, ...play.tasks], play.postTasks];
    for (const section of sections) {
      if (pr.endPlay) break;
      await this.runList(section, pr, inh);
      await this.flushHandlers(pr);
    }
  }

  private active(pr: PlayRun, hosts: string[]): string[] {
    return hosts.filter((h) => (this.state.get(h) ?? 'active') === 'active' && !pr.ended.has(h));
  }

  private async runList(nodes: TaskNode[], pr: PlayRun, inh: Inherit, hosts?: string[]): Promise<void> {
    for (const node of nodes) {
      if (pr.endPlay) return;
      if (this.stopNow()) throw new Interrupted();
      await this.runNode(node, pr, inh, false, false, hosts);
    }
  }

  private inherit(node: Block | IncludeTasks, inh: Inherit): Inherit {
    return {
      ...inh,
      blocks: Object.keys(node.vars).length ? [...inh.blocks, node.vars] : inh.blocks,
      when: [...inh.when, ...node.when],
      tags: [...inh.tags, ...node.tags],
      become: node.become ?? inh.become,
      becomeUser: node.becomeUser ?? inh.becomeUser,
      becomeMethod: node.becomeMethod ?? inh.becomeMethod,
      ignoreErrors: node.ignoreErrors ?? inh.ignoreErrors,
      delegateTo: node.delegateTo ?? inh.delegateTo,
      runOnce: node.runOnce ?? inh.runOnce,
      noLog: node.noLog ?? inh.noLog,
      checkMode: node.checkMode ?? inh.checkMode,
      diff: node.diff ?? inh.diff,
      environment: node.environment ? [...inh.environment, node.environment] : inh.environment,
      anyErrorsFatal: node.anyErrorsFatal ?? inh.anyErrorsFatal,
      role: node.role ?? inh.role,
    };
  }

  /** Runs a node on the batch's active hosts (or the given subset of them). */
  private async runNode(node: TaskNode, pr: PlayRun, inh: Inherit, handler: boolean, implicit: boolean, subset?: string[]): Promise<void> {
    const hosts = this.active(pr, subset ?? pr.batch);
    if (hosts.length === 0) return;
    if (node.kind === 'block') return this.runBlock(node, pr, inh, hosts);
    const tags = [...inh.tags, ...node.tags];
    if (!handler && !implicit && !tagsAllow(tags, this.opts)) return;
    const name = this.displayName(node, pr.play);
    if (!handler && !implicit && !this.startReached) {
      if (node.kind !== 'task' || !startAtMatches(this.opts.startAtTask!, name, node.role?.name)) return;
      this.startReached = true;
    }
    if (!handler && !implicit && this.opts.step && !this.stepAll) {
      const answer = await this.opts.step(node.role ? `${node.role.name} : ${name}` : name);
      if (answer === 'no') return;
      if (answer === 'continue') this.stepAll = true;
    }
    if (node.kind === 'meta') return this.runMeta(node, pr, inh, hosts, name);
    if (node.kind === 'include') return this.runInclude(node, pr, inh, hosts, name);
    await this.runTask(node, pr, inh, hosts, name, handler);
  }

  /** Variables known before any host: play vars, vars_files and extra vars (task names, serial). */
  private playLevelVars(play: Play): Vars {
    return { ...play.vars, ...play.varsFromFiles, ...this.opts.extraVars };
  }

  /** Magic variables that are the same for every host of the run. */
  private runMagic(hostvars: Record<string, Vars>): Vars {
    return {
      groups: this.groups,
      hostvars,
      playbook_dir: this.opts.playbook.dir,
      ansible_diff_mode: this.opts.diff,
      omit: OMIT,
      // --resume: which hosts the interrupted run finished, and which it was in the middle of.
      obiam_resume: { resumed: this.opts.resume !== undefined, interrupted: this.opts.resume?.interrupted ?? [] },
    };
  }

  private displayName(node: Task | Meta | IncludeTasks, play: Play): string {
    const raw = node.name ?? (node.kind === 'task' ? node.module : node.kind === 'meta' ? `meta: ${node.action}` : `include_tasks: ${node.file}`);
    try {
      // Task names are rendered with play-level variables only, as Ansible does.
      return this.templater.render(raw, this.playLevelVars(play));
    } catch {
      return raw;
    }
  }

  private async runBlock(block: Block, pr: PlayRun, outer: Inherit, hosts: string[]): Promise<void> {
    const inh = this.inherit(block, outer);
    await this.runList(block.block, pr, { ...inh, rescuable: outer.rescuable || block.rescue.length > 0 }, hosts);
    // Hosts that failed inside the block: rescued if there is a rescue section.
    const failedHere = hosts.filter((h) => this.state.get(h) === 'rescuing');
    if (block.rescue.length > 0 && failedHere.length > 0) {
      for (const h of failedHere) this.state.set(h, 'active');
      await this.runList(block.rescue, pr, { ...inh, rescuable: outer.rescuable }, failedHere);
    }
    // `always` runs on every host of the block, failed ones included (they stay failed afterwards).
    const failedBefore = new Map(hosts.filter((h) => this.state.get(h) === 'rescuing' || this.state.get(h) === 'failed').map((h) => [h, this.state.get(h)!]));
    if (block.always.length > 0) {
      for (const h of failedBefore.keys()) this.state.set(h, 'active');
      await this.runList(block.always, pr, { ...inh, rescuable: outer.rescuable }, hosts);
      // A host still pending an outer rescue stays so; a finally failed one stays failed.
      for (const [h, prior] of failedBefore) if (this.state.get(h) === 'active') this.state.set(h, prior);
    }
    // Failures in a block without a rescue propagate to the enclosing block (still 'rescuing') or become final.
    for (const h of hosts) if (this.state.get(h) === 'rescuing' && !outer.rescuable) this.state.set(h, 'failed');
  }

  private async runMeta(node: Meta, pr: PlayRun, inh: Inherit, hosts: string[], name: string): Promise<void> {
    if (node.action === 'flush_handlers') {
      await this.flushHandlers(pr);
      return;
    }
    if (node.action === 'noop') return;
    const when = [...inh.when, ...node.when];
    const hit = hosts.filter((h) => when.length === 0 || this.scopeFor(h, node, inh, pr).conditions(when, node.location));
    if (node.action === 'end_play' && hit.length > 0) {
      this.emit({ event: 'verbose', level: 1, message: `meta: end_play (${name})` });
      pr.endPlay = true;
    } else if (node.action === 'end_host') {
      for (const h of hit) {
        pr.ended.add(h);
        this.emit({ event: 'verbose', level: 1, host: h, message: 'meta: end_host' });
      }
    } else if (node.action === 'clear_host_errors') {
      for (const h of pr.batch) if (this.state.get(h) === 'failed') this.state.set(h, 'active');
    }
  }

  /** The variables a task sees on a host, by precedence. */
  private scopeFor(host: string, node: { vars: Vars; role?: RoleContext }, inh: Inherit, pr: PlayRun, check = this.opts.check): VarScope {
    const role = node.role ?? inh.role;
    const magic: Vars = {
      ...this.runMagic(this.hostvarsProxy(pr)),
      play_hosts: this.active(pr, pr.allHosts),
      ansible_play_hosts: this.active(pr, pr.allHosts),
      ansible_play_hosts_all: pr.allHosts,
      ansible_play_batch: this.active(pr, pr.batch),
      ansible_play_name: pr.play.name,
      ansible_check_mode: check,
      ansible_run_tags: this.opts.tags.length ? this.opts.tags : ['all'],
      ansible_skip_tags: this.opts.skipTags,
      ansible_verbosity: this.opts.verbosity,
      ...(role ? { role_name: role.name, role_path: role.path } : {}),
    };
    const vars = composeTaskVars({
      roleDefaults: role?.defaults,
      inventory: this.inventoryVars(host),
      facts: factsToVars(this.facts.get(host) ?? {}),
      play: pr.play.vars,
      varsFiles: pr.play.varsFromFiles,
      roleVars: role?.vars,
      blocks: inh.blocks,
      task: node.vars,
      includeParams: inh.includeParams,
      hostFacts: this.hostFacts.get(host),
      roleParams: role?.params,
      magic,
      extra: this.opts.extraVars,
    });
    return new VarScope(vars, this.templater);
  }

  /** `hostvars[h].x`: another host's inventory vars, facts and set_facts, rendered when read. */
  private hostvarsProxy(pr: PlayRun): Record<string, Vars> {
    const scopes = new Map<string, Vars>();
    const known = (h: string): boolean => this.opts.inventory.hosts.has(h) || this.facts.has(h) || this.hostFacts.has(h);
    const hostView = (h: string): Vars => {
      let v = scopes.get(h);
      if (!v) {
        const scope = new VarScope(
          composeTaskVars({
            inventory: this.inventoryVars(h),
            facts: factsToVars(this.facts.get(h) ?? {}),
            play: pr.play.vars,
            varsFiles: pr.play.varsFromFiles,
            hostFacts: this.hostFacts.get(h),
            // Another host's variables may refer to run-wide magic variables (playbook_dir, groups ...).
            magic: { ...this.runMagic(proxy), ansible_check_mode: this.opts.check },
            extra: this.opts.extraVars,
          }),
          this.templater,
        );
        // As in Ansible, hostvars[h] does not hold `hostvars` itself, so the view is finite (to_json of it ends);
        // the host's own templates still read it through the scope.
        const shown = (t: Vars, k: string | symbol): k is string => typeof k === 'string' && k !== 'hostvars' && k in t;
        v = new Proxy(scope.raw, {
          get: (t, k) => (shown(t, k) ? scope.get(k) : undefined),
          has: (t, k) => shown(t, k),
          ownKeys: (t) => Object.keys(t).filter((k) => k !== 'hostvars'),
          getOwnPropertyDescriptor: (t, k) => (shown(t, k) ? { configurable: true, enumerable: true, writable: false, value: scope.get(k) } : undefined),
        });
        lazyViews.add(v);
        scopes.set(h, v);
      }
      return v;
    };
    const hostNames = (): string[] => [...new Set([...this.opts.inventory.hosts.keys(), ...this.facts.keys(), ...this.hostFacts.keys()])];
    const proxy: Record<string, Vars> = new Proxy({} as Record<string, Vars>, {
      get: (_t, k) => (typeof k === 'string' && known(k) ? hostView(k) : undefined),
      has: (_t, k) => typeof k === 'string' && known(k),
      ownKeys: () => hostNames(),
      getOwnPropertyDescriptor: (_t, k) => (typeof k === 'string' && known(k) ? { configurable: true, enumerable: true, writable: false, value: hostView(k) } : undefined),
    });
    lazyViews.add(proxy);
    return proxy;
  }

  private async runTask(task: Task, pr: PlayRun, inh: Inherit, hosts: string[], name: string, handler: boolean): Promise<void> {
    const started = Date.now();
    this.names.set(task, name);
    const runOnce = task.runOnce ?? inh.runOnce ?? false;
    const targets = runOnce ? hosts.slice(0, 1) : hosts;
    this.emit({ event: 'task-start', task: name, module: task.module, hosts: targets, handler, role: (task.role ?? inh.role)?.name, location: task.location });
    const forks = Math.max(1, this.opts.forks ?? Math.min(50, pr.batch.length));
    const limit = pLimit(forks);
    const outcomes = new Map<string, HostOutcome>();
    await Promise.all(
      targets.map((h) =>
        limit(async () => {
          // Once interrupted no new host starts; hosts already running finish.
          if (this.opts.signal?.aborted) return;
          outcomes.set(h, await this.runOnHost(task, h, pr, inh, name));
        }),
      ),
    );
    if (runOnce && outcomes.size > 0) {
      // run_once: the first host's result (and registered value) stands for every host of the batch.
      const first = outcomes.get(targets[0]!)!;
      for (const h of hosts.slice(1)) {
        if (task.register) this.setHostFact(h, task.register, registeredData(first.result));
        if (task.module === 'set_fact' && first.result.ansible_facts && !first.result.failed) {
          for (const [k, v] of Object.entries(first.result.ansible_facts as Vars)) this.setHostFact(h, k, v);
        }
        if (first.changed) this.notify(task, h, pr);
      }
    }
    this.emit({ event: 'task-end', task: name, durationMs: Date.now() - started });
    if (this.opts.signal?.aborted) throw new Interrupted();
    this.checkFailureLimits(task, inh, pr, targets, outcomes);
  }

  private checkFailureLimits(task: Task, inh: Inherit, pr: PlayRun, targets: string[], outcomes: Map<string, HostOutcome>): void {
    const fatal = task.anyErrorsFatal ?? inh.anyErrorsFatal ?? pr.play.anyErrorsFatal;
    const bad = targets.filter((h) => {
      const s = outcomes.get(h)?.status;
      return (s === 'failed' || s === 'unreachable') && this.state.get(h) !== 'active';
    });
    if (fatal && bad.length > 0) throw new StopPlay(`any_errors_fatal: task '${task.name ?? task.module}' failed on ${bad.join(', ')}`);
    const pct = pr.play.maxFailPercentage;
    if (pct !== undefined) {
      // Unreachable hosts count as failed here (Ansible leaves them out); see docs/runner.md.
      const down = pr.batch.filter((h) => this.state.get(h) === 'failed' || this.state.get(h) === 'unreachable').length;
      const ratio = (down / pr.batch.length) * 100;
      if (ratio > pct) throw new StopPlay(`max_fail_percentage ${pct}% exceeded: ${down} of ${pr.batch.length} hosts of the batch failed or are unreachable (${ratio.toFixed(0)}%)`);
    }
  }

  private setHostFact(host: string, key: string, value: unknown): void {
    let v = this.hostFacts.get(host);
    if (!v) {
      v = {};
      this.hostFacts.set(host, v);
    }
    v[key] = value;
  }

  private notify(task: Task, host: string, pr: PlayRun): void {
    for (const n of task.notify) {
      const idx: number[] = [];
      pr.play.handlers.forEach((h, i) => {
        if (h.name === n || h.listen.includes(n) || (h.role && `${h.role.name} : ${h.name}` === n)) idx.push(i);
      });
      if (idx.length === 0) {
        if (!this.warned.has(`handler:${n}`)) {
          this.warned.add(`handler:${n}`);
          this.emit({ event: 'warning', message: `handler '${n}' notified by '${task.name ?? task.module}' is not defined`, location: task.location });
        }
        continue;
      }
      let set = pr.notified.get(host);
      if (!set) {
        set = new Set();
        pr.notified.set(host, set);
      }
      for (const i of idx) set.add(i);
    }
  }

  /** Runs notified handlers in definition order, once per host; handlers may notify later ones. */
  private async flushHandlers(pr: PlayRun): Promise<void> {
    const handlers = pr.play.handlers;
    for (let pass = 0; pass < 20; pass++) {
      let ran = false;
      for (let i = 0; i < handlers.length; i++) {
        const h = handlers[i] as Handler;
        const hosts = this.active(pr, pr.batch).filter((x) => pr.notified.get(x)?.has(i));
        for (const x of pr.batch) pr.notified.get(x)?.delete(i);
        if (hosts.length === 0) continue;
        ran = true;
        const inh = this.playInherit(pr.play);
        // A handler may be a block, a meta or an include as well as a task.
        if (h.kind === 'task') await this.runTask(h, pr, { ...inh, role: h.role }, hosts, this.displayName(h, pr.play), true);
        else await this.runNode(h, pr, { ...inh, role: h.role }, true, false, hosts);
        if (pr.endPlay) return;
      }
      if (!ran) return;
    }
  }

  private async runInclude(node: IncludeTasks, pr: PlayRun, inh: Inherit, hosts: string[], name: string): Promise<void> {
    const started = Date.now();
    this.emit({ event: 'task-start', task: name, module: 'include_tasks', hosts, handler: false, role: (node.role ?? inh.role)?.name, location: node.location });
    // Hosts that include the same file with the same parameters run it together, in lockstep.
    const groups = new Map<string, { file: string; params: Vars; hosts: string[] }>();
    for (const h of hosts) {
      const t0 = Date.now();
      try {
        const scope = this.scopeFor(h, node, inh, pr);
        const when = [...inh.when, ...node.when];
        if (!scope.conditions(when, node.location)) {
          this.record(h, name, 'skipped', { changed: false, skipped: true, skip_reason: 'Conditional result was False' }, t0, inh);
          continue;
        }
        const loopVar = node.loopControl?.loopVar ?? 'item';
        const items = node.loop === undefined ? [undefined] : this.loopItems(node.loop, scope, node);
        items.forEach((item, index) => {
          const params: Vars = { ...node.vars };
          if (node.loop !== undefined) {
            params[loopVar] = item;
            params.ansible_loop_var = loopVar;
            if (node.loopControl?.indexVar) params[node.loopControl.indexVar] = index;
          }
          const fileScope = node.loop === undefined ? scope : scope.with(params);
          const rel = fileScope.render(node.file, node.location);
          const file = path.isAbsolute(rel) ? rel : path.resolve(node.baseDir, rel);
          const key = `${file}\0${JSON.stringify(params)}`;
          const g = groups.get(key) ?? { file, params, hosts: [] };
          g.hosts.push(h);
          groups.set(key, g);
        });
        this.record(h, name, 'ok', { changed: false, include: node.file }, t0, inh);
      } catch (e) {
        this.handleError(h, name, e, t0, inh, node.ignoreErrors ?? inh.ignoreErrors);
      }
    }
    this.emit({ event: 'task-end', task: name, durationMs: Date.now() - started });
    for (const g of groups.values()) {
      let nodes: TaskNode[];
      try {
        if (!existsSync(g.file)) throw new ObiamError('E_INCLUDE_NOT_FOUND', `included file not found: ${g.file}`, { location: node.location, remedy: 'check the path; it is relative to the including file' });
        nodes = await loadIncludedTasks(g.file, node.role ?? inh.role);
      } catch (e) {
        for (const h of g.hosts) this.handleError(h, name, e, Date.now(), inh, false);
        continue;
      }
      const inner: Inherit = { ...inh, includeParams: { ...inh.includeParams, ...g.params }, role: node.role ?? inh.role };
      await this.runList(nodes, pr, inner, g.hosts);
    }
  }

  /** Emits a host result and updates counts and host state. */
  private record(host: string, task: string, status: HostStatus, result: Record<string, unknown>, t0: number, inh: Inherit, extra: { delegatedTo?: string; noLog?: boolean } = {}): HostStatus {
    const c = this.countsOf(host);
    let final = status;
    if (status === 'failed' && inh.rescuable) {
      final = 'rescued';
      // What the rescue section can read, as in Ansible.
      this.setHostFact(host, 'ansible_failed_task', { name: task });
      this.setHostFact(host, 'ansible_failed_result', registeredData(result));
    }
    switch (final) {
      case 'ok':
        c.ok++;
        break;
      case 'changed':
        c.ok++;
        c.changed++;
        break;
      case 'skipped':
        c.skipped++;
        break;
      case 'ignored':
        // Like ansible-playbook: an ignored failure still counts as ok (and changed if it changed).
        c.ok++;
        c.ignored++;
        if (result.changed) c.changed++;
        break;
      case 'rescued':
        c.rescued++;
        this.state.set(host, 'rescuing');
        break;
      case 'failed':
        c.failed++;
        this.state.set(host, 'failed');
        break;
      case 'unreachable':
        c.unreachable++;
        this.state.set(host, 'unreachable');
        break;
    }
    const shown = extra.noLog ? censor(result) : result;
    this.emit({
      event: 'host-result',
      task,
      host,
      status: final,
      delegatedTo: extra.delegatedTo,
      msg: typeof shown.msg === 'string' ? redactValue(shown.msg) : undefined,
      result: redactValue(stripInternal(shown)),
      diff: Array.isArray(result.diff) && !extra.noLog ? redactValue(result.diff as never) : undefined,
      durationMs: Date.now() - t0,
    });
    return final;
  }

  private handleError(host: string, task: string, e: unknown, t0: number, inh: Inherit, ignore?: boolean): HostOutcome {
    if (e instanceof UnreachableError) {
      const result = { unreachable: true, changed: false, msg: errorMessage(e), ...(e.remedy ? { hint: e.remedy } : {}) };
      return { status: this.record(host, task, 'unreachable', result, t0, inh), result, changed: false };
    }
    const result = { failed: true, changed: false, msg: errorMessage(e), ...(isObiamError(e) && e.remedy ? { hint: e.remedy } : {}) };
    return { status: this.record(host, task, ignore ? 'ignored' : 'failed', result, t0, inh), result, changed: false };
  }

  private loopItems(loop: unknown, scope: VarScope, node: { location: Task['location'] }): unknown[] {
    const v = scope.renderValue(loop, node.location, { keepUnsafe: true });
    if (v === null || v === undefined) return [];
    if (!Array.isArray(v)) {
      throw new ObiamError('E_LOOP', `loop must be a list, got ${typeof v === 'string' ? `the string ${JSON.stringify(v.slice(0, 60))}` : typeof v}`, {
        location: node.location,
        remedy: "give a list, or turn a dict into one with '| dict2items'",
      });
    }
    return v;
  }

  /** One task on one host: when, loop, module run, retries, register, notify; emits its host-result events. */
  private async runOnHost(task: Task, host: string, pr: PlayRun, inh: Inherit, name: string): Promise<HostOutcome> {
    const t0 = Date.now();
    const ignore = task.ignoreErrors ?? inh.ignoreErrors ?? false;
    const check = task.checkMode ?? inh.checkMode ?? this.opts.check;
    const noLog = task.noLog ?? inh.noLog ?? false;
    const delegateRaw = task.delegateTo ?? inh.delegateTo;
    let delegatedTo: string | undefined;
    try {
      const base = (): VarScope => this.scopeFor(host, task, inh, pr, check);
      let scope = base();
      // With a loop, delegate_to may name the item (`delegate_to: "{{ item }}"`): rendered per item below.
      if (delegateRaw && task.loop === undefined) delegatedTo = scope.render(delegateRaw, task.location);
      const when = [...inh.when, ...task.when];
      let result: ModuleResult;
      if (task.loop === undefined) {
        if (!scope.conditions(when, task.location)) {
          result = { changed: false, skipped: true, skip_reason: 'Conditional result was False' };
        } else {
          result = await this.execOnce(task, host, scope, inh, check, delegatedTo);
        }
      } else {
        const items = this.loopItems(task.loop, scope, task);
        const loopVar = task.loopControl?.loopVar ?? 'item';
        const results: ModuleResult[] = [];
        for (let index = 0; index < items.length; index++) {
          if (this.opts.signal?.aborted) break;
          const item = items[index];
          const itemVars: Vars = { [loopVar]: item, ansible_loop_var: loopVar, ansible_loop: { index: index + 1, index0: index, first: index === 0, last: index === items.length - 1, length: items.length } };
          if (task.loopControl?.indexVar) itemVars[task.loopControl.indexVar] = index;
          // Rebuilt per item so set_fact/register from earlier items are visible.
          scope = base().with(itemVars);
          const ti = Date.now();
          let r: ModuleResult;
          if (!scope.conditions(when, task.location)) r = { changed: false, skipped: true, skip_reason: 'Conditional result was False' };
          else {
            if (delegateRaw) delegatedTo = scope.render(delegateRaw, task.location);
            r = await this.execOnce(task, host, scope, inh, check, delegatedTo);
          }
          r = { ...r, [loopVar]: item, ansible_loop_var: loopVar, ...(task.loopControl?.indexVar ? { [task.loopControl.indexVar]: index } : {}) };
          results.push(r);
          const label = task.loopControl?.label !== undefined ? scope.render(String(task.loopControl.label), task.location) : itemLabel(item);
          const st = statusOf(r, ignore);
          this.emit({
            event: 'host-result',
            task: name,
            host,
            status: st === 'failed' && inh.rescuable ? 'rescued' : st,
            item: noLog ? REDACTED_ITEM : label,
            isItem: true,
            delegatedTo,
            msg: !noLog && typeof r.msg === 'string' ? redactValue(r.msg) : undefined,
            result: redactValue(stripInternal(noLog ? censor(r) : r)),
            diff: Array.isArray(r.diff) && !noLog ? redactValue(r.diff) : undefined,
            durationMs: Date.now() - ti,
          });
          if (task.loopControl?.pause) await sleep(task.loopControl.pause * 1000, this.opts.signal);
        }
        const anyFailed = results.some((r) => r.failed);
        result = {
          changed: results.some((r) => r.changed),
          ...(anyFailed ? { failed: true, msg: 'One or more items failed' } : { msg: 'All items completed' }),
          ...(results.length === 0 || results.every((r) => r.skipped) ? { skipped: true } : {}),
          ...(results.length === 0 ? { skipped_reason: 'No items in the list' } : {}),
          results,
        };
      }
      if (task.register) this.setHostFact(host, task.register, registeredData(result));
      const status = this.record(host, name, statusOf(result, ignore), result, t0, inh, { delegatedTo, noLog });
      const changed = Boolean(result.changed) && !result.failed;
      if (changed && status !== 'skipped') this.notify(task, host, pr);
      return { status, result, changed };
    } catch (e) {
      if (noLog && !(e instanceof UnreachableError)) {
        const result = { failed: true, changed: false, censored: NO_LOG_MSG };
        return { status: this.record(host, name, ignore ? 'ignored' : 'failed', result, t0, inh, { delegatedTo }), result, changed: false };
      }
      if (e instanceof UnreachableError && task.ignoreUnreachable) {
        // ignore_unreachable: the host stays in the play; the result says what happened.
        const result = { unreachable: true, changed: false, msg: errorMessage(e), ...(e.remedy ? { hint: e.remedy } : {}) };
        if (task.register) this.setHostFact(host, task.register, registeredData(result));
        return { status: this.record(host, name, 'ignored', result, t0, inh, { delegatedTo }), result, changed: false };
      }
      return this.handleError(host, name, e, t0, inh, ignore && !(e instanceof UnreachableError));
    }
  }

  private become(task: Task, inh: Inherit, scope: VarScope): BecomeOptions | undefined {
    const on = task.become ?? inh.become ?? truthy(scope.get('ansible_become'));
    if (!on) return undefined;
    const user = task.becomeUser ?? inh.becomeUser ?? (scope.get('ansible_become_user') as string | undefined) ?? 'root';
    const method = task.becomeMethod ?? inh.becomeMethod ?? ((scope.get('ansible_become_method') as 'sudo' | 'su' | undefined) ?? 'sudo');
    const pw = scope.get('ansible_become_password') ?? scope.get('ansible_become_pass') ?? this.opts.becomePassword;
    const password = pw === undefined || pw === null ? undefined : String(pw);
    if (password !== undefined) registerSecret(password);
    return { method, user: String(scope.renderValue(user)), password };
  }

  private environment(inh: Inherit, task: Task, scope: VarScope): Record<string, string> | undefined {
    const layers = task.environment ? [...inh.environment, task.environment] : inh.environment;
    if (layers.length === 0) return undefined;
    const env: Record<string, string> = {};
    for (const l of layers) {
      const v = scope.renderValue(l, task.location);
      if (v && typeof v === 'object' && !Array.isArray(v)) for (const [k, x] of Object.entries(v)) env[k] = x === null || x === undefined ? '' : String(x);
    }
    return env;
  }

  /** Runs the module once (with until/retries), applying changed_when/failed_when. Throws only UnreachableError. */
  private async execOnce(task: Task, host: string, scope: VarScope, inh: Inherit, check: boolean, delegatedTo?: string): Promise<ModuleResult> {
    const mod = this.opts.modules?.[task.module] ?? getModule(task.module);
    if (!mod) return { changed: false, failed: true, msg: `unknown module '${task.module}'` };
    if (check && !mod.supportsCheck) return { changed: false, skipped: true, msg: `skipped: '${mod.name}' does not support check mode` };
    const target = delegatedTo ?? host;
    let conn: Connection;
    if (mod.controllerOnly) conn = controllerConnection(host);
    else {
      try {
        conn = await this.pool.get(target);
      } catch (e) {
        throw toUnreachable(target, e);
      }
    }
    const taskName = this.names.get(task) ?? task.name ?? task.module;
    const ctxFor = (s: VarScope): ModuleContext => {
      const c = this.moduleContext(task, inh, s, target, conn, check);
      // Progress belongs to the task's row of the inventory host, also when delegated.
      c.progress = (kind, message, extra) => this.emit({ event: 'progress', task: taskName, host, kind, message, ...extra });
      return c;
    };
    const untilConds = task.until;
    const retries = this.renderCount(task.retries, 3, 'retries', scope, task);
    const attempts = untilConds && untilConds.length > 0 ? Math.max(1, retries + 1) : 1;
    const delay = this.renderCount(task.delay, 5, 'delay', scope, task) * 1000;
    let r: ModuleResult = { changed: false };
    const firstTry = Date.now();
    for (let attempt = 1; attempt <= attempts; attempt++) {
      r = await this.runModule(mod, task, scope, ctxFor(scope));
      if (mod.name === 'set_fact' && !r.failed && r.ansible_facts) {
        for (const [k, v] of Object.entries(r.ansible_facts as Vars)) this.setHostFact(host, k, v);
        r = { ...r, ansible_facts: unwrapUnsafe(r.ansible_facts) }; // the stored facts keep the marking, the result shows text
      } else if (!r.failed && r.ansible_facts && typeof r.ansible_facts === 'object') {
        this.facts.set(host, { ...(this.facts.get(host) ?? {}), ...(r.ansible_facts as Vars) });
      }
      r = this.applyConditions(task, r, scope);
      if (attempts === 1) break;
      r.attempts = attempt;
      const view = scope.with({ ...r, ...(task.register ? { [task.register]: r } : {}) });
      if (view.conditions(untilConds!, task.location)) break;
      if (attempt < attempts) {
        // Shown without -v (as Ansible's FAILED - RETRYING): a long wait must say what it waits for.
        const left = attempts - attempt;
        this.emit({
          event: 'progress',
          task: taskName,
          host,
          kind: 'retry',
          message: `attempt ${attempt}/${attempts} failed, ${left} retr${left === 1 ? 'y' : 'ies'} left (next in ${delay / 1000}s)`,
          attempt,
          retriesLeft: left,
          elapsedMs: Date.now() - firstTry,
        });
        await sleep(delay, this.opts.signal);
        if (this.opts.signal?.aborted) break;
      } else {
        r.failed = true;
        r.msg ??= `condition not met after ${attempts} attempts`;
      }
    }
    return r;
  }

  /** `retries` / `delay`: a number, or a template rendered for this host; anything else is an error. */
  private renderCount(v: number | string | undefined, dflt: number, what: string, scope: VarScope, task: Task): number {
    if (v === undefined) return dflt;
    const n = typeof v === 'number' ? v : Number(scope.render(v, task.location));
    if (!Number.isFinite(n) || n < 0) {
      throw new ObiamError('E_TASK_ARGS', `${what} must be a whole number >= 0, got ${JSON.stringify(typeof v === 'number' ? v : scope.render(v, task.location))}`, {
        location: task.location,
        remedy: `give ${what} as a number or a template that renders to one`,
        exitCode: EXIT.HOST_FAILED,
      });
    }
    return Math.floor(n);
  }

  private async runModule(mod: ModuleDef, task: Task, scope: VarScope, ctx: ModuleContext): Promise<ModuleResult> {
    try {
      // set_fact keeps the unsafe marking of what it copies (remote output stays data).
      const rendered = scope.renderValue(task.args, task.location, { keepUnsafe: mod.name === 'set_fact' }) as Record<string, unknown>;
      const args = dropOmitted(rendered);
      const r = await mod.run(args, ctx);
      return { ...r, changed: Boolean(r.changed) };
    } catch (e) {
      if (e instanceof UnreachableError) throw e;
      return { changed: false, failed: true, msg: errorMessage(e) };
    }
  }

  private applyConditions(task: Task, r: ModuleResult, scope: VarScope): ModuleResult {
    if (!task.changedWhen && !task.failedWhen) return r;
    // The conditions see the result both under the registered name and as bare names (rc, stdout ...).
    const view = scope.with({ ...r, ...(task.register ? { [task.register]: r } : {}) });
    const out = { ...r };
    try {
      if (task.changedWhen) out.changed = view.conditions(task.changedWhen, task.location);
      if (task.failedWhen) {
        const f = view.conditions(task.failedWhen, task.location);
        out.failed = f;
        out.failed_when_result = f;
        if (!f && out.msg === 'non-zero return code') delete out.msg;
      }
    } catch (e) {
      return { ...out, failed: true, msg: errorMessage(e) };
    }
    return out;
  }

  private moduleContext(task: Task, inh: Inherit, scope: VarScope, target: string, conn: Connection, check: boolean): ModuleContext {
    const role = task.role ?? inh.role;
    const dir = this.opts.playbook.dir;
    let all: Vars | undefined;
    return {
      host: target,
      conn,
      check,
      diff: task.diff ?? inh.diff ?? this.opts.diff,
      become: this.become(task, inh, scope),
      environment: this.environment(inh, task, scope),
      // Rendering every variable costs time; done only when a module reads ctx.vars.
      get vars(): Vars {
        all ??= scope.all();
        return all;
      },
      findFile: (kind, name) => {
        if (path.isAbsolute(name)) return name;
        const candidates = [...(role ? [path.join(role.path, kind, name)] : []), path.join(dir, kind, name), path.join(dir, name)];
        const hit = candidates.find((c) => existsSync(c));
        if (!hit) {
          throw new ObiamError('E_FILE_NOT_FOUND', `could not find '${name}' (looked in ${candidates.join(', ')})`, {
            location: task.location,
            remedy: `put the file under ${role ? `the role's ${kind}/ or ` : ''}${path.join(dir, kind)}`,
          });
        }
        return hit;
      },
      render: (template, vars, name) => (vars ? this.templater.render(template, vars, name) : scope.render(template, name ?? task.location)),
      log: (level, message) => this.emit({ event: 'verbose', level, host: target, message }),
      signal: this.opts.signal,
      background: (job) => this.addBackground(job),
    };
  }
}

const REDACTED_ITEM = '(censored due to no_log)';

function censor(r: Record<string, unknown>): Record<string, unknown> {
  return { censored: NO_LOG_MSG, changed: Boolean(r.changed), ...(r.failed ? { failed: true } : {}), ...(r.skipped ? { skipped: true } : {}) };
}

function stripInternal(r: Record<string, unknown>): Record<string, unknown> {
  const out = { ...r };
  delete out.diff;
  return out;
}

function dropOmitted(v: Record<string, unknown>): Record<string, unknown> {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) if (x !== OMIT) out[k] = x;
  return out;
}

function statusOf(r: ModuleResult | Record<string, unknown>, ignore: boolean): HostStatus {
  if (r.unreachable) return 'unreachable';
  if (r.failed) return ignore ? 'ignored' : 'failed';
  if (r.skipped) return 'skipped';
  return r.changed ? 'changed' : 'ok';
}

function itemLabel(item: unknown): string {
  if (typeof item === 'string') return item;
  try {
    return JSON.stringify(item);
  } catch {
    return String(item);
  }
}

function errorMessage(e: unknown): string {
  // The remedy goes into msg too: every reporter shows msg, and an unreachable host needs the fix right there.
  if (isObiamError(e)) return `${e.location ? `${formatLocation(e.location)}: ` : ''}${e.message}${e.remedy ? `\n  hint: ${e.remedy}` : ''}`;
  return e instanceof Error ? e.message : String(e);
}
