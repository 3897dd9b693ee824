// The play iterator: a play's hosts in batches (serial), its sections, blocks with rescue/always,
// include_tasks, meta actions and handler flushes. Ansible's linear strategy: each task runs on every
// active host of the batch (forks at a time) before the next task starts.
import { existsSync } from 'node:fs';
import path from 'node:path';
import pLimit from 'p-limit';
import { EXIT, ObiamError, ObiamErrors, isObiamError } from '../errors.js';
import type { Block, IncludeTasks, Meta, Play, Task, TaskNode } from '../load/model.js';
import { patternWarnings, selectHosts } from '../inventory/patterns.js';
import { loadYamlFile } from '../load/yaml.js';
import { factsModule } from '../modules/registry.js';
import type { Vars } from '../types.js';
import { computeBatches } from './batches.js';
import { flushHandlers, notify } from './handlers.js';
import { displayName, playLevelVars, scopeFor } from './host-vars.js';
import { copyRunOnce, finishTask, handleError, record, resultSink } from './results.js';
import { Interrupted, NO_INHERIT, StopPlay, inherit, type HostOutcome, type Inherit, type PlayRun, type RunState } from './run-state.js';
import { renderPlayHosts } from './play-hosts.js';
import { startAtMatches } from './start-at.js';
import { tagsAllow } from './tags.js';
import { executeOnHost, loopItems, moduleOf } from './task-executor.js';

/** Runs one play; returns true when the whole run must stop (any_errors_fatal, max_fail_percentage, a batch that failed entirely). */
export async function runPlay(rs: RunState, play: Play, index: number): Promise<boolean> {
  let selected: string[];
  const pattern = renderPlayHosts(rs.templater, play, rs.opts.extraVars, {
    groups: rs.groups,
    playbook_dir: rs.opts.playbook.dir,
    ansible_check_mode: rs.opts.check,
    ansible_diff_mode: rs.opts.diff,
    ansible_verbosity: rs.opts.verbosity,
  });
  try {
    selected = selectHosts(rs.opts.inventory, pattern, rs.opts.limit);
  } catch (e) {
    throw isObiamError(e) ? e : new ObiamError('E_HOST_PATTERN', String(e), { location: play.location, exitCode: EXIT.ERROR });
  }
  // Once per run, as ansible-playbook does: plays sharing a pattern would repeat it.
  for (const w of patternWarnings(rs.opts.inventory, pattern)) rs.warnOnce(`pattern:${w}`, { event: 'warning', message: w, location: play.location });
  // Hosts that failed or went unreachable in an earlier play are left out, as ansible-playbook does.
  let hosts = ordered(selected, play.order).filter((h) => rs.hostState(h) === 'active');
  const serial = play.serial.length > 0;
  // --resume: a serial play leaves out the hosts the interrupted run already took through it;
  // plays without serial (gates, checks) run again in full.
  const doneBefore = new Set(serial ? (rs.opts.resume?.done[index] ?? []) : []);
  const resumedDone = hosts.filter((h) => doneBefore.has(h));
  if (resumedDone.length > 0) hosts = hosts.filter((h) => !doneBefore.has(h));
  for (const h of hosts) rs.countsOf(h);
  rs.emit({ event: 'play-start', play: play.name, hosts, location: play.location, index, serial, ...(resumedDone.length ? { resumedDone } : {}) });
  if (resumedDone.length > 0) {
    rs.emit({ event: 'warning', message: `resuming: ${resumedDone.join(', ')} finished '${play.name}' in the interrupted run and ${resumedDone.length === 1 ? 'is' : 'are'} left out`, location: play.location });
    if (hosts.length === 0) {
      rs.emit({ event: 'play-end', play: play.name });
      return false;
    }
  }
  if (selected.length === 0) {
    rs.emit({ event: 'warning', message: `no hosts matched for play '${play.name}' (hosts: ${play.hosts}${rs.opts.limit ? `, limit: ${rs.opts.limit}` : ''}); play skipped`, location: play.location });
    rs.emit({ event: 'play-end', play: play.name });
    return false;
  }
  readLateVarsFiles(rs, play);
  // `serial: "{{ roll_serial | default(1) }}"`: rendered with play-level variables and extra vars.
  const serialSpec = play.serial.map((v) => (typeof v === 'string' && v.includes('{{') ? rs.templater.render(v, playLevelVars(rs, play)) : v));
  const batches = computeBatches(hosts, serialSpec);
  const pr: PlayRun = { play, serial, allHosts: hosts, batch: [], ended: new Set(), endPlay: false, notified: new Map() };
  rs.current = pr;
  let stop = false;
  for (let i = 0; i < batches.length && !pr.endPlay; i++) {
    if (i > 0 && rs.opts.stopRequest?.aborted) {
      rs.stoppedBetweenBatches = true;
      throw new Interrupted();
    }
    pr.batch = batches[i]!;
    pr.notified = new Map();
    const batchStarted = Date.now();
    rs.emit({ event: 'batch-start', play: play.name, batch: i + 1, batches: batches.length, hosts: pr.batch });
    const batchEnd = (): void => {
      const failed = pr.batch.filter((h) => rs.hostState(h) !== 'active');
      const ok = pr.batch.filter((h) => !failed.includes(h));
      rs.emit({ event: 'batch-end', play: play.name, batch: i + 1, batches: batches.length, hosts: pr.batch, ok, failed, durationMs: Date.now() - batchStarted });
    };
    try {
      await runBatch(rs, pr);
    } catch (e) {
      if (e instanceof StopPlay) {
        batchEnd();
        rs.emit({ event: 'warning', message: `${e.reason}; stopping the run`, location: play.location });
        stop = true;
        break;
      }
      throw e;
    }
    batchEnd();
    if (pr.batch.every((h) => rs.hostState(h) !== 'active')) {
      rs.emit({ event: 'warning', message: `every host of batch ${i + 1} failed or is unreachable; stopping the run`, location: play.location });
      stop = true;
      break;
    }
  }
  rs.emit({ event: 'play-end', play: play.name });
  rs.current = undefined;
  return stop;
}

/** What a play passes down: its keywords (when, become, no_log ...), merged as every level's are. */
function playInherit(play: Play): Inherit {
  return inherit({ ...play, vars: undefined, kind: 'play' }, NO_INHERIT);
}

async function runBatch(rs: RunState, pr: PlayRun): Promise<void> {
  const { play } = pr;
  const inh = playInherit(play);
  const setup = factsModule();
  if (play.gatherFacts && setup) {
    const gather: Task = { kind: 'task', name: 'Gathering Facts', module: setup.name, args: {}, when: [], tags: ['always'], vars: {}, notify: [], location: play.location };
    await runNode(rs, gather, pr, { ...inh, when: [] }, false, true);
  }
  const sections: TaskNode[][] = [play.preTasks, [...play.roleTasks, ...play.tasks], play.postTasks];
  for (const section of sections) {
    if (pr.endPlay) break;
    await runList(rs, section, pr, inh);
    await flush(rs, pr);
  }
}

/** vars_files named by templates: rendered with the play's variables and extra vars, read now. */
function readLateVarsFiles(rs: RunState, play: Play): void {
  for (const entry of play.lateVarsFiles ?? []) {
    const vars = playLevelVars(rs, play);
    const names = entry.choices.map((c) => path.resolve(entry.dir, rs.templater.render(c, vars, entry.location)));
    const found = names.find((f) => existsSync(f));
    if (!found) throw new ObiamError('E_FILE_NOT_FOUND', `vars file not found: ${names.join(' or ')}`, { location: entry.location, remedy: 'vars_files are relative to the playbook', exitCode: EXIT.ERROR });
    const data = loadYamlFile(found, { vault: rs.opts.vault }).data;
    if (data !== null && data !== undefined && (typeof data !== 'object' || Array.isArray(data))) {
      throw new ObiamError('E_VARS_SHAPE', `a vars file must hold a mapping of variables: ${found}`, { location: entry.location, remedy: 'write `name: value` lines', exitCode: EXIT.ERROR });
    }
    play.varsFromFiles = { ...play.varsFromFiles, ...(data as Vars | null) };
    play.varsFiles = [...play.varsFiles, found];
  }
  play.lateVarsFiles = undefined;
}

/** `order:` the hosts of a play in inventory order (default), reversed, sorted by name, or shuffled. */
function ordered(hosts: string[], order: Play['order']): string[] {
  switch (order) {
    case 'reverse_inventory':
      return [...hosts].reverse();
    case 'sorted':
      return [...hosts].sort();
    case 'reverse_sorted':
      return [...hosts].sort().reverse();
    case 'shuffle':
      return [...hosts].map((h) => [Math.random(), h] as const).sort((a, b) => a[0] - b[0]).map(([, h]) => h);
    default:
      return hosts;
  }
}

async function flush(rs: RunState, pr: PlayRun): Promise<void> {
  // force_handlers (play keyword or --force-handlers): notified handlers run on hosts that failed too.
  const force = pr.play.forceHandlers || rs.opts.forceHandlers === true;
  const revived = force ? pr.batch.filter((h) => rs.state.get(h) === 'failed' && (pr.notified.get(h)?.size ?? 0) > 0) : [];
  for (const h of revived) rs.state.set(h, 'active');
  try {
    await flushOnce(rs, pr);
  } finally {
    for (const h of revived) if (rs.hostState(h) === 'active') rs.state.set(h, 'failed');
  }
}

function flushOnce(rs: RunState, pr: PlayRun): Promise<void> {
  return flushHandlers(rs, pr, playInherit(pr.play), async (h, hosts, inh) => {
    // A handler may be a block, a meta or an include as well as a task.
    if (h.kind === 'task') await runTask(rs, h, pr, inherit(h, inh), hosts, displayName(rs, h, pr.play), true);
    else await runNode(rs, h, pr, inh, true, false, hosts);
  });
}

async function runList(rs: RunState, nodes: TaskNode[], pr: PlayRun, inh: Inherit, hosts?: string[]): Promise<void> {
  for (const node of nodes) {
    if (pr.endPlay) return;
    if (rs.stopNow()) throw new Interrupted();
    await runNode(rs, node, pr, inh, false, false, hosts);
  }
}

/** Runs a node on the batch's active hosts (or the given subset of them). */
async function runNode(rs: RunState, node: TaskNode, pr: PlayRun, inh: Inherit, handler: boolean, implicit: boolean, subset?: string[]): Promise<void> {
  const hosts = rs.active(pr, subset ?? pr.batch);
  if (hosts.length === 0) return;
  if (node.kind === 'block') return runBlock(rs, node, pr, inh, hosts);
  inh = inherit(node, inh);
  const tags = inh.tags;
  if (!handler && !implicit && !tagsAllow(tags, rs.opts)) return;
  const name = displayName(rs, node, pr.play);
  if (!handler && !implicit && !rs.startReached) {
    if (node.kind !== 'task' || !startAtMatches(rs.opts.startAtTask!, name, node.role?.name)) return;
    rs.startReached = true;
  }
  if (!handler && !implicit && rs.opts.step && !rs.stepAll) {
    const answer = await rs.opts.step(node.role ? `${node.role.name} : ${name}` : name);
    if (answer === 'no') return;
    if (answer === 'continue') rs.stepAll = true;
  }
  if (node.kind === 'meta') return runMeta(rs, node, pr, inh, hosts, name);
  if (node.kind === 'include') return runInclude(rs, node, pr, inh, hosts, name);
  await runTask(rs, node, pr, inh, hosts, name, handler);
}

async function runBlock(rs: RunState, block: Block, pr: PlayRun, outer: Inherit, hosts: string[]): Promise<void> {
  const inh = inherit(block, outer);
  // any_errors_fatal stops the play, but this block's `always` still runs first (as Ansible does).
  let stop: StopPlay | undefined;
  try {
    await runList(rs, block.block, pr, { ...inh, rescuable: outer.rescuable || block.rescue.length > 0 }, hosts);
    // Hosts that failed inside the block: rescued if there is a rescue section.
    const failedHere = hosts.filter((h) => rs.state.get(h) === 'rescuing');
    if (block.rescue.length > 0 && failedHere.length > 0) {
      for (const h of failedHere) rs.state.set(h, 'active');
      await runList(rs, block.rescue, pr, { ...inh, rescuable: outer.rescuable }, failedHere);
    }
  } catch (e) {
    if (!(e instanceof StopPlay) || block.always.length === 0) throw e;
    stop = e;
  }
  // `always` runs on every host of the block, failed ones included (they stay failed afterwards).
  const failedBefore = new Map(hosts.filter((h) => rs.state.get(h) === 'rescuing' || rs.state.get(h) === 'failed').map((h) => [h, rs.state.get(h)!]));
  if (block.always.length > 0) {
    for (const h of failedBefore.keys()) rs.state.set(h, 'active');
    await runList(rs, block.always, pr, { ...inh, rescuable: outer.rescuable }, hosts);
    // A host still pending an outer rescue stays so; a finally failed one stays failed.
    for (const [h, prior] of failedBefore) if (rs.state.get(h) === 'active') rs.state.set(h, prior);
  }
  // Failures in a block without a rescue propagate to the enclosing block (still 'rescuing') or become final.
  for (const h of hosts) if (rs.state.get(h) === 'rescuing' && !outer.rescuable) rs.state.set(h, 'failed');
  if (stop) throw stop;
}

async function runMeta(rs: RunState, node: Meta, pr: PlayRun, inh: Inherit, hosts: string[], name: string): Promise<void> {
  if (node.action === 'flush_handlers') {
    await flush(rs, pr);
    return;
  }
  if (node.action === 'noop') return;
  const when = inh.when;
  const hit = hosts.filter((h) => when.length === 0 || scopeFor(rs, h, node, inh, pr).conditions(when, node.location));
  if (node.action === 'end_play' && hit.length > 0) {
    rs.emit({ event: 'verbose', level: 1, message: `meta: end_play (${name})` });
    pr.endPlay = true;
  } else if (node.action === 'end_host') {
    for (const h of hit) {
      pr.ended.add(h);
      rs.emit({ event: 'verbose', level: 1, host: h, message: 'meta: end_host' });
    }
  } else if (node.action === 'end_batch' && hit.length > 0) {
    // The rest of this batch is skipped; the next batch (serial) runs the play from the start.
    for (const h of pr.batch) pr.ended.add(h);
  } else if (node.action === 'clear_host_errors') {
    for (const h of pr.batch) if (rs.state.get(h) === 'failed' || rs.state.get(h) === 'unreachable') rs.state.set(h, 'active');
  } else if (node.action === 'clear_facts') {
    for (const h of hit) rs.facts.delete(h);
  } else if (node.action === 'reset_connection') {
    for (const h of hit) await rs.pool.reset(h);
  } else if (node.action === 'refresh_inventory') {
    rs.warnOnce('meta:refresh_inventory', { event: 'warning', message: 'meta: refresh_inventory does nothing in obiam-run: the inventory is read once, at the start of the run (hosts from add_host stay)', location: node.location });
  }
}

async function runInclude(rs: RunState, node: IncludeTasks, pr: PlayRun, inh: Inherit, hosts: string[], name: string): Promise<void> {
  const started = Date.now();
  rs.emit({ event: 'task-start', task: name, module: node.includeRole ? 'include_role' : 'include_tasks', hosts, handler: false, role: inh.role?.name, location: node.location });
  // Hosts that include the same file (or role) with the same parameters run it together, in lockstep.
  const groups = new Map<string, { file: string; role?: string; params: Vars; hosts: string[] }>();
  for (const h of hosts) {
    const t0 = Date.now();
    try {
      const scope = scopeFor(rs, h, node, inh, pr);
      const when = inh.when;
      if (!scope.conditions(when, node.location)) {
        record(rs, h, name, 'skipped', { changed: false, skipped: true, skip_reason: 'Conditional result was False' }, t0, inh);
        continue;
      }
      const loopVar = node.loopControl?.loopVar ?? 'item';
      const items = node.loop === undefined ? [undefined] : loopItems(node.loop, scope, node);
      items.forEach((item, index) => {
        const params: Vars = { ...node.vars };
        if (node.loop !== undefined) {
          params[loopVar] = item;
          params.ansible_loop_var = loopVar;
          if (node.loopControl?.indexVar) params[node.loopControl.indexVar] = index;
        }
        const fileScope = node.loop === undefined ? scope : scope.with(params);
        const role = node.includeRole ? fileScope.render(node.includeRole.name, node.location) : undefined;
        const rel = role === undefined ? fileScope.render(node.file, node.location) : '';
        const file = role !== undefined ? '' : path.isAbsolute(rel) ? rel : path.resolve(node.baseDir, rel);
        const key = `${role ?? file}\0${JSON.stringify(params)}`;
        const g = groups.get(key) ?? { file, role, params, hosts: [] };
        g.hosts.push(h);
        groups.set(key, g);
      });
      record(rs, h, name, 'ok', { changed: false, ...(node.includeRole ? { include_role: node.includeRole.name } : { include: node.file }) }, t0, inh);
    } catch (e) {
      handleError(rs, h, name, e, t0, inh, inh.ignoreErrors);
    }
  }
  rs.emit({ event: 'task-end', task: name, durationMs: Date.now() - started });
  for (const g of groups.values()) {
    let nodes: TaskNode[];
    try {
      if (g.role !== undefined) nodes = includedRole(rs, pr, node, g.role);
      else {
        if (!existsSync(g.file)) throw new ObiamError('E_INCLUDE_NOT_FOUND', `included file not found: ${g.file}`, { location: node.location, remedy: 'check the path; it is relative to the including file' });
        const load = rs.opts.loadTasksFile;
        if (!load) throw new ObiamError('E_INCLUDE_UNSUPPORTED', `cannot include ${g.file}: no tasks-file loader was given to the run`, { exitCode: EXIT.INTERNAL });
        nodes = await load(g.file, { role: inh.role });
      }
    } catch (e) {
      // A mistake in the included file's tasks stops the run (exit 4), as in Ansible: no rescue catches it.
      if (e instanceof ObiamErrors) throw e;
      for (const h of g.hosts) handleError(rs, h, name, e, Date.now(), inh, false);
      continue;
    }
    const inner: Inherit = { ...inh, includeParams: { ...inh.includeParams, ...g.params } };
    await runList(rs, nodes, pr, inner, g.hosts);
  }
}

/** include_role at run time: the role's tasks; its handlers join the play's (once per role). */
function includedRole(rs: RunState, pr: PlayRun, node: IncludeTasks, name: string): TaskNode[] {
  const load = rs.opts.loadIncludedRole;
  if (!load) throw new ObiamError('E_INCLUDE_UNSUPPORTED', `cannot include role ${name}: no role loader was given to the run`, { exitCode: EXIT.INTERNAL });
  const spec = node.includeRole!;
  const { nodes, handlers } = load(name, { dir: node.baseDir, tasksFrom: spec.tasksFrom, params: spec.params, apply: spec.apply, at: node.location });
  const known = new Set(pr.play.handlers.map((h) => `${h.role?.path}\0${h.name}`));
  for (const h of handlers) if (!known.has(`${h.role?.path}\0${h.name}`)) pr.play.handlers.push(h);
  return nodes;
}

/** One task on the hosts: forks at a time, run_once, notify, then the failure limits. */
async function runTask(rs: RunState, task: Task, pr: PlayRun, inh: Inherit, hosts: string[], name: string, handler: boolean): Promise<void> {
  const started = Date.now();
  // add_host runs once for the batch (Ansible's bypass_host_loop), like run_once.
  const runOnce = (inh.runOnce ?? false) || moduleOf(rs, task)?.bypassHostLoop === true;
  const targets = runOnce ? hosts.slice(0, 1) : hosts;
  rs.emit({ event: 'task-start', task: name, module: task.module, hosts: targets, handler, role: inh.role?.name, location: task.location });
  const forks = Math.max(1, rs.opts.forks ?? Math.min(50, pr.batch.length));
  const limit = pLimit(forks);
  const outcomes = new Map<string, HostOutcome>();
  const noLog = inh.noLog ?? false;
  const ignore = inh.ignoreErrors ?? false;
  await Promise.all(
    targets.map((h) =>
      limit(async () => {
        // Once interrupted no new host starts; hosts already running finish.
        if (rs.opts.signal?.aborted) return;
        const t0 = Date.now();
        const ex = await executeOnHost(rs, task, h, pr, inh, name, resultSink(rs, h, name, inh, noLog, ignore));
        const outcome = finishTask(rs, task, h, name, inh, ex, t0);
        if (outcome.changed && outcome.status !== 'skipped') notify(rs, task, h, pr, inh.notify);
        outcomes.set(h, outcome);
      }),
    ),
  );
  if (runOnce && outcomes.size > 0) {
    const first = outcomes.get(targets[0]!)!;
    const others = hosts.slice(1);
    copyRunOnce(rs, task, moduleOf(rs, task), others, first);
    if (first.changed) for (const h of others) notify(rs, task, h, pr, inh.notify);
    // As in Ansible, a failed run_once task fails every host of the batch (each one goes to its
    // rescue if it has one); only the host that ran it counts the failure and is counted rescued.
    if (first.status === 'failed' || first.status === 'rescued') {
      for (const h of others) {
        if (rs.hostState(h) !== 'active') continue;
        // ansible_failed_task/_result are set on the host that ran it only (as 2.14 does).
        rs.state.set(h, inh.rescuable ? 'rescuing' : 'failed');
      }
    }
  }
  rs.emit({ event: 'task-end', task: name, durationMs: Date.now() - started });
  if (rs.opts.signal?.aborted) throw new Interrupted();
  checkFailureLimits(rs, task, inh, pr, targets, outcomes);
}

function checkFailureLimits(rs: RunState, task: Task, inh: Inherit, pr: PlayRun, targets: string[], outcomes: Map<string, HostOutcome>): void {
  const fatal = inh.anyErrorsFatal ?? pr.play.anyErrorsFatal;
  const bad = targets.filter((h) => {
    const s = outcomes.get(h)?.status;
    return (s === 'failed' || s === 'unreachable') && rs.state.get(h) !== 'active';
  });
  if (fatal && bad.length > 0) throw new StopPlay(`any_errors_fatal: task '${task.name ?? task.module}' failed on ${bad.join(', ')}`);
  const pct = pr.play.maxFailPercentage;
  if (pct !== undefined) {
    // Unreachable hosts count as failed here (Ansible leaves them out); see docs/runner.md.
    const down = pr.batch.filter((h) => rs.state.get(h) === 'failed' || rs.state.get(h) === 'unreachable').length;
    const ratio = (down / pr.batch.length) * 100;
    if (ratio > pct) throw new StopPlay(`max_fail_percentage ${pct}% exceeded: ${down} of ${pr.batch.length} hosts of the batch failed or are unreachable (${ratio.toFixed(0)}%)`);
  }
}
