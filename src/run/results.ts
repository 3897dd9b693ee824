// Results: the one place where a task's outcome on a host is applied -- facts, register, run_once copies,
// ansible_failed_*, host state and counts, no_log -- and where host-result events are emitted.
import { UnreachableError, formatLocation, isObiamError } from '../errors.js';
import type { HostCounts, HostStatus, RunEvent } from '../events/types.js';
import type { Task } from '../load/model.js';
import type { ModuleDef, ModuleResult } from '../modules/types.js';
import { redactValue } from '../redact.js';
import { registeredData, unwrapUnsafe } from '../vars/unsafe.js';
import type { Vars } from '../types.js';
import { NO_LOG_MSG, type HostOutcome, type Inherit, type RunState } from './run-state.js';

const REDACTED_ITEM = '(censored due to no_log)';

/** Adds one host result to a host's counts (the runner's recap and the CLI's fallback recap both use it). */
export function countStatus(c: HostCounts, status: HostStatus, changed: boolean): void {
  switch (status) {
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
      if (changed) c.changed++;
      break;
    case 'rescued':
      c.rescued++;
      break;
    case 'failed':
      c.failed++;
      break;
    case 'unreachable':
      c.unreachable++;
      break;
  }
}

/** What a host-result event shows of a result: no_log censoring, secrets redacted, the diff apart. */
function shownResult(result: Record<string, unknown>, noLog: boolean): Pick<Extract<RunEvent, { event: 'host-result' }>, 'msg' | 'result' | 'diff'> {
  const shown = noLog ? censor(result) : result;
  return {
    msg: typeof shown.msg === 'string' ? redactValue(shown.msg) : undefined,
    result: redactValue(stripInternal(shown)),
    diff: Array.isArray(result.diff) && !noLog ? redactValue(result.diff as never) : undefined,
  };
}

/** Applies a host's final result of a task (counts, host state, ansible_failed_*) and emits its host-result. */
export function record(
  rs: RunState,
  host: string,
  task: string,
  status: HostStatus,
  result: Record<string, unknown>,
  t0: number,
  inh: Inherit,
  extra: { delegatedTo?: string; noLog?: boolean } = {},
): HostStatus {
  let final = status;
  if (status === 'failed' && inh.rescuable) {
    final = 'rescued';
    // What the rescue section can read, as in Ansible.
    rs.setHostFact(host, 'ansible_failed_task', { name: task });
    rs.setHostFact(host, 'ansible_failed_result', registeredData(result));
  }
  countStatus(rs.countsOf(host), final, Boolean(result.changed));
  if (final === 'rescued') rs.state.set(host, 'rescuing');
  else if (final === 'failed' || final === 'unreachable') rs.state.set(host, final);
  rs.emit({ event: 'host-result', task, host, status: final, delegatedTo: extra.delegatedTo, ...shownResult(result, extra.noLog ?? false), durationMs: Date.now() - t0 });
  return final;
}

/** Records an error a task raised on a host (unreachable, or a failure that may be ignored). */
export function handleError(rs: RunState, host: string, task: string, e: unknown, t0: number, inh: Inherit, ignore?: boolean): HostOutcome {
  if (e instanceof UnreachableError) {
    const result = { unreachable: true, changed: false, msg: errorMessage(e), ...(e.remedy ? { hint: e.remedy } : {}) };
    return { status: record(rs, host, task, 'unreachable', result, t0, inh), result, changed: false };
  }
  const result = { failed: true, changed: false, msg: errorMessage(e), ...(isObiamError(e) && e.remedy ? { hint: e.remedy } : {}) };
  return { status: record(rs, host, task, ignore ? 'ignored' : 'failed', result, t0, inh), result, changed: false };
}

/** What the task executor reports while a task runs on a host (it emits nothing itself). */
export interface ResultSink {
  /** A module returned facts: set_fact-style modules set host facts, others (setup) gathered facts; returns the result to show. */
  facts(mod: ModuleDef<any>, r: ModuleResult): ModuleResult;
  /** One loop item finished. */
  item(r: ModuleResult, label: string, delegatedTo: string | undefined, t0: number): void;
  /** A progress or verbose event from the module or the retry loop. */
  event: RunState['emit'];
}

export function resultSink(rs: RunState, host: string, name: string, inh: Inherit, noLog: boolean, ignore: boolean): ResultSink {
  return {
    facts: (mod, r) => applyFacts(rs, host, mod, r),
    item: (r, label, delegatedTo, t0) => {
      const st = statusOf(r, ignore);
      rs.emit({
        event: 'host-result',
        task: name,
        host,
        status: st === 'failed' && inh.rescuable ? 'rescued' : st,
        item: noLog ? REDACTED_ITEM : label,
        isItem: true,
        delegatedTo,
        ...shownResult(r, noLog),
        durationMs: Date.now() - t0,
      });
    },
    event: rs.emit,
  };
}

function applyFacts(rs: RunState, host: string, mod: ModuleDef<any>, r: ModuleResult): ModuleResult {
  if (r.failed || !r.ansible_facts || typeof r.ansible_facts !== 'object') return r;
  if (mod.setsHostFacts) {
    for (const [k, v] of Object.entries(r.ansible_facts as Vars)) rs.setHostFact(host, k, v);
    return { ...r, ansible_facts: unwrapUnsafe(r.ansible_facts) }; // the stored facts keep the marking, the result shows text
  }
  rs.facts.set(host, { ...(rs.facts.get(host) ?? {}), ...(r.ansible_facts as Vars) });
  return r;
}

/** The task executor's answer for one host: a result, or the error it stopped with. */
export interface Execution {
  result?: ModuleResult;
  error?: unknown;
  delegatedTo?: string;
}

/** Turns one host's execution into its final status: register, no_log, ignore_errors, ignore_unreachable. */
export function finishTask(rs: RunState, task: Task, host: string, name: string, inh: Inherit, ex: Execution, t0: number): HostOutcome {
  const ignore = inh.ignoreErrors ?? false;
  const noLog = inh.noLog ?? false;
  const { delegatedTo } = ex;
  if (ex.result) {
    const result = ex.result;
    if (!result.failed) applyInventoryChanges(rs, host, result);
    if (task.register) rs.setHostFact(host, task.register, registeredData(result));
    const status = record(rs, host, name, statusOf(result, ignore), result, t0, inh, { delegatedTo, noLog });
    return { status, result, changed: Boolean(result.changed) && !result.failed };
  }
  const e = ex.error;
  if (noLog && !(e instanceof UnreachableError)) {
    const result = { failed: true, changed: false, censored: NO_LOG_MSG };
    return { status: record(rs, host, name, ignore ? 'ignored' : 'failed', result, t0, inh, { delegatedTo }), result, changed: false };
  }
  if (e instanceof UnreachableError && inh.ignoreUnreachable) {
    // ignore_unreachable: the host stays in the play; the result says what happened.
    const result = { unreachable: true, changed: false, msg: errorMessage(e), ...(e.remedy ? { hint: e.remedy } : {}) };
    if (task.register) rs.setHostFact(host, task.register, registeredData(result));
    return { status: record(rs, host, name, 'ignored', result, t0, inh, { delegatedTo }), result, changed: false };
  }
  return handleError(rs, host, name, e, t0, inh, ignore && !(e instanceof UnreachableError));
}

/** add_host / group_by results change the run's inventory; the result is changed when it did. */
function applyInventoryChanges(rs: RunState, host: string, result: ModuleResult): void {
  const one = (r: Record<string, unknown>): boolean => {
    let changed = false;
    const add = r.add_host as { host_name?: string; groups?: string[]; host_vars?: Vars } | undefined;
    if (add?.host_name) changed = rs.addHost(add.host_name, add.groups ?? [], add.host_vars ?? {}) || changed;
    if (typeof r.add_group === 'string') changed = rs.addGroup(host, r.add_group, (r.parent_groups as string[] | undefined) ?? ['all']) || changed;
    if (changed) r.changed = true;
    return changed;
  };
  let any = one(result);
  if (Array.isArray(result.results)) for (const r of result.results as Record<string, unknown>[]) if (!r.failed && one(r)) any = true;
  if (any) result.changed = true;
}

/** run_once: the first host's result (and registered value, and set facts) stands for the other hosts. */
export function copyRunOnce(rs: RunState, task: Task, mod: ModuleDef<any> | undefined, hosts: string[], first: HostOutcome): void {
  for (const h of hosts) {
    if (task.register) rs.setHostFact(h, task.register, registeredData(first.result));
    if (mod?.setsHostFacts && first.result.ansible_facts && !first.result.failed) {
      for (const [k, v] of Object.entries(first.result.ansible_facts as Vars)) rs.setHostFact(h, k, v);
    }
  }
}

export function censor(r: Record<string, unknown>): Record<string, unknown> {
  return { censored: NO_LOG_MSG, changed: Boolean(r.changed), ...(r.failed ? { failed: true } : {}), ...(r.skipped ? { skipped: true } : {}) };
}

function stripInternal(r: Record<string, unknown>): Record<string, unknown> {
  const out = { ...r };
  delete out.diff;
  return out;
}

export function statusOf(r: ModuleResult | Record<string, unknown>, ignore: boolean): HostStatus {
  if (r.unreachable) return 'unreachable';
  if (r.failed) return ignore ? 'ignored' : 'failed';
  if (r.skipped) return 'skipped';
  return r.changed ? 'changed' : 'ok';
}

export function errorMessage(e: unknown): string {
  // The remedy goes into msg too: every reporter shows msg, and an unreachable host needs the fix right there.
  if (isObiamError(e)) return `${e.location ? `${formatLocation(e.location)}: ` : ''}${e.message}${e.remedy ? `\n  hint: ${e.remedy}` : ''}`;
  return e instanceof Error ? e.message : String(e);
}
