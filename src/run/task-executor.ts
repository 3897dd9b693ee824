// The task executor: one task on one host -- when, loop, delegate_to, become, environment, the module
// call with until/retries, changed_when/failed_when. It returns the result; what is reported goes
// through the ResultSink (results.ts), so this file emits nothing itself.
import { coerceArgs } from '../vars/arg-types.js';
import path from 'node:path';
import { EXIT, ObiamError, UnreachableError, type SourceLocation } from '../errors.js';
import type { Task } from '../load/model.js';
import { loadYamlFile } from '../load/yaml.js';
import { findControllerFile } from '../modules/lib/controller-files.js';
import { getModule } from '../modules/registry.js';
import type { ModuleContext, ModuleDef, ModuleResult } from '../modules/types.js';
import { registerSecret } from '../redact.js';
import type { Connection } from '../transport/types.js';
import type { BecomeOptions, Vars } from '../types.js';
import { truthy } from '../vars/template.js';
import { toUnreachable } from './connections.js';
import { scopeFor } from './host-vars.js';
import { errorMessage, type Execution, type ResultSink } from './results.js';
import { OMIT, sleep, type Inherit, type PlayRun, type RunState } from './run-state.js';
import type { VarScope } from './vars.js';
import { withLoopItems } from './with-loops.js';

/** The module a task calls: a run option's module first (tests, local plugins), then the registry. */
export function moduleOf(rs: RunState, task: Task): ModuleDef<any> | undefined {
  return rs.opts.modules?.[task.module] ?? getModule(task.module);
}

/** A connection for controller-only modules, which must never touch a host. */
function controllerConnection(host: string): Connection {
  const refuse = (): never => {
    throw new ObiamError('E_INTERNAL', 'a controller-only module tried to use the host connection', { exitCode: EXIT.INTERNAL, host });
  };
  return { host, exec: async () => refuse(), putFile: async () => refuse(), getFile: async () => refuse(), close: async () => undefined };
}

/** Runs the task on one host; never throws (the error comes back in the Execution). */
export async function executeOnHost(rs: RunState, task: Task, host: string, pr: PlayRun, inh: Inherit, name: string, sink: ResultSink): Promise<Execution> {
  const check = inh.checkMode ?? rs.opts.check;
  const delegateRaw = inh.delegateTo;
  let delegatedTo: string | undefined;
  try {
    const base = (): VarScope => scopeFor(rs, host, task, inh, pr, check);
    let scope = base();
    // With a loop, delegate_to may name the item (`delegate_to: "{{ item }}"`): rendered per item below.
    if (delegateRaw && task.loop === undefined) delegatedTo = scope.render(delegateRaw, task.location);
    const when = inh.when;
    const exec = { rs, task, host, inh, check, name, sink };
    if (task.loop === undefined) {
      if (!scope.conditions(when, task.location)) return { result: { changed: false, skipped: true, skip_reason: 'Conditional result was False' }, delegatedTo };
      return { result: await execOnce(exec, scope, delegatedTo), delegatedTo };
    }
    const items = loopItems(task.loop, scope, task);
    const loopVar = task.loopControl?.loopVar ?? 'item';
    const results: ModuleResult[] = [];
    for (let index = 0; index < items.length; index++) {
      if (rs.opts.signal?.aborted) break;
      const item = items[index];
      const extended = loopFlag(task.loopControl?.extended, false, scope, task);
      const loopInfo = extendedLoop(items, index, extended && loopFlag(task.loopControl?.extendedAllitems, true, scope, task));
      const itemVars: Vars = { [loopVar]: item, ansible_loop_var: loopVar, ansible_loop: loopInfo };
      if (task.loopControl?.indexVar) Object.assign(itemVars, { [task.loopControl.indexVar]: index, ansible_index_var: task.loopControl.indexVar });
      // Rebuilt per item so set_fact/register from earlier items are visible.
      scope = base().with(itemVars);
      const ti = Date.now();
      let r: ModuleResult;
      if (!scope.conditions(when, task.location)) r = { changed: false, skipped: true, skip_reason: 'Conditional result was False' };
      else {
        if (delegateRaw) delegatedTo = scope.render(delegateRaw, task.location);
        r = await execOnce(exec, scope, delegatedTo);
      }
      r = { ...r, [loopVar]: item, ansible_loop_var: loopVar, ...(task.loopControl?.indexVar ? { [task.loopControl.indexVar]: index, ansible_index_var: task.loopControl.indexVar } : {}), ...(extended ? { ansible_loop: loopInfo } : {}) };
      results.push(r);
      const label = task.loopControl?.label !== undefined ? scope.render(String(task.loopControl.label), task.location) : itemLabel(item);
      sink.item(r, label, delegatedTo, ti);
      if (task.loopControl?.pause) await sleep(task.loopControl.pause * 1000, rs.opts.signal);
    }
    const anyFailed = results.some((r) => r.failed);
    const result: ModuleResult = {
      changed: results.some((r) => r.changed),
      ...(anyFailed ? { failed: true, msg: 'One or more items failed' } : { msg: 'All items completed' }),
      ...(results.length === 0 || results.every((r) => r.skipped) ? { skipped: true } : {}),
      ...(results.length === 0 ? { skipped_reason: 'No items in the list' } : {}),
      results,
    };
    return { result, delegatedTo };
  } catch (error) {
    return { error, delegatedTo };
  }
}

/** `loop_control.extended` / `extended_allitems`: true/false or a template. */
function loopFlag(v: boolean | string | undefined, dflt: boolean, scope: VarScope, task: Task): boolean {
  if (v === undefined) return dflt;
  if (typeof v === 'boolean') return v;
  return truthy(scope.renderValue(v, task.location));
}

/** `ansible_loop` for one item (Ansible's extended loop variables; allitems only when asked). */
function extendedLoop(items: unknown[], index: number, allitems: boolean): Vars {
  const n = items.length;
  const out: Vars = { index: index + 1, index0: index, first: index === 0, last: index === n - 1, length: n, revindex: n - index, revindex0: n - index - 1 };
  if (allitems) out.allitems = items;
  if (index + 1 < n) out.nextitem = items[index + 1];
  if (index > 0) out.previtem = items[index - 1];
  return out;
}

/** A loop's items: a list (or a template that renders to one); null means none. */
export function loopItems(loop: unknown, scope: VarScope, node: { location: SourceLocation; loopWith?: string }): unknown[] {
  if (node.loopWith) return withLoopItems(node.loopWith, loop, scope, node.location);
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

interface Exec {
  rs: RunState;
  task: Task;
  host: string;
  inh: Inherit;
  check: boolean;
  name: string;
  sink: ResultSink;
}

/** Runs the module once (with until/retries), applying changed_when/failed_when. Throws only UnreachableError. */
async function execOnce(x: Exec, scope: VarScope, delegatedTo?: string): Promise<ModuleResult> {
  const { rs, task, host, check, sink } = x;
  const mod = moduleOf(rs, task);
  if (!mod) return { changed: false, failed: true, msg: `unknown module '${task.module}'` };
  if (check && !mod.supportsCheck) return { changed: false, skipped: true, msg: `skipped: '${mod.name}' does not support check mode` };
  const target = delegatedTo ?? host;
  let conn: Connection;
  if (mod.controllerOnly) conn = controllerConnection(host);
  else {
    try {
      conn = await rs.pool.get(target);
    } catch (e) {
      throw toUnreachable(target, e);
    }
  }
  const ctxFor = (s: VarScope): ModuleContext => {
    const c = moduleContext(x, s, target, conn);
    // Progress belongs to the task's row of the inventory host, also when delegated.
    c.progress = (kind, message, extra) => sink.event({ event: 'progress', task: x.name, host, kind, message, ...extra });
    return c;
  };
  const untilConds = task.until;
  const retries = renderCount(task.retries, 3, 'retries', scope, task);
  const attempts = untilConds && untilConds.length > 0 ? Math.max(1, retries + 1) : 1;
  const delay = renderCount(task.delay, 5, 'delay', scope, task, true) * 1000;
  let r: ModuleResult = { changed: false };
  const firstTry = Date.now();
  for (let attempt = 1; attempt <= attempts; attempt++) {
    r = await runModule(mod, task, scope, ctxFor(scope));
    r = sink.facts(mod, r);
    r = applyConditions(task, r, scope);
    if (attempts === 1) break;
    r.attempts = attempt;
    const view = scope.with({ ...r, ...(task.register ? { [task.register]: r } : {}) });
    if (view.conditions(untilConds!, task.location)) break;
    if (attempt < attempts) {
      // Shown without -v (as Ansible's FAILED - RETRYING): a long wait must say what it waits for.
      const left = attempts - attempt;
      sink.event({
        event: 'progress',
        task: x.name,
        host,
        kind: 'retry',
        message: `attempt ${attempt}/${attempts} failed, ${left} retr${left === 1 ? 'y' : 'ies'} left (next in ${delay / 1000}s)`,
        attempt,
        retriesLeft: left,
        elapsedMs: Date.now() - firstTry,
      });
      await sleep(delay, rs.opts.signal);
      if (rs.opts.signal?.aborted) break;
    } else {
      r.failed = true;
      r.msg ??= `condition not met after ${attempts} attempts`;
    }
  }
  return r;
}

/** `retries` / `delay`: a number, or a template rendered for this host; anything else is an error. */
function renderCount(v: number | string | undefined, dflt: number, what: string, scope: VarScope, task: Task, float = false): number {
  if (v === undefined) return dflt;
  const n = typeof v === 'number' ? v : Number(scope.render(v, task.location));
  if (!Number.isFinite(n) || n < 0) {
    throw new ObiamError('E_TASK_ARGS', `${what} must be a whole number >= 0, got ${JSON.stringify(typeof v === 'number' ? v : scope.render(v, task.location))}`, {
      location: task.location,
      remedy: `give ${what} as a number or a template that renders to one`,
      exitCode: EXIT.HOST_FAILED,
    });
  }
  return float ? n : Math.floor(n);
}

async function runModule(mod: ModuleDef, task: Task, scope: VarScope, ctx: ModuleContext): Promise<ModuleResult> {
  try {
    // Modules that set facts keep the unsafe marking of what they copy (remote output stays data).
    const rendered = scope.renderValue(task.args, task.location, { keepUnsafe: mod.setsHostFacts === true }) as Record<string, unknown>;
    // Template results are text as in Ansible; the module's schema says which options are ints, bools, strings.
    const args = coerceArgs(dropOmitted(rendered), (mod.schema as { properties?: Record<string, { type?: string | string[] }> } | undefined)?.properties, mod.name === 'copy' ? ['content'] : []);
    const r = await mod.run(args, ctx);
    return { ...r, changed: Boolean(r.changed) };
  } catch (e) {
    if (e instanceof UnreachableError) throw e;
    return { changed: false, failed: true, msg: errorMessage(e) };
  }
}

function applyConditions(task: Task, r: ModuleResult, scope: VarScope): ModuleResult {
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

function become(x: Exec, scope: VarScope): BecomeOptions | undefined {
  const { inh } = x;
  const on = inh.become ?? truthy(scope.get('ansible_become'));
  if (!on) return undefined;
  const user = inh.becomeUser ?? (scope.get('ansible_become_user') as string | undefined) ?? 'root';
  const method = inh.becomeMethod ?? ((scope.get('ansible_become_method') as 'sudo' | 'su' | undefined) ?? 'sudo');
  const pw = scope.get('ansible_become_password') ?? scope.get('ansible_become_pass') ?? x.rs.opts.becomePassword;
  const password = pw === undefined || pw === null ? undefined : String(pw);
  if (password !== undefined) registerSecret(password);
  return { method, user: String(scope.renderValue(user)), password };
}

function environment(x: Exec, scope: VarScope): Record<string, string> | undefined {
  const { task, inh } = x;
  const layers = inh.environment;
  if (layers.length === 0) return undefined;
  const env: Record<string, string> = {};
  for (const l of layers) {
    const v = scope.renderValue(l, task.location);
    if (v && typeof v === 'object' && !Array.isArray(v)) for (const [k, val] of Object.entries(v)) env[k] = val === null || val === undefined ? '' : String(val);
  }
  return env;
}

function moduleContext(x: Exec, scope: VarScope, target: string, conn: Connection): ModuleContext {
  const { rs, task, inh, check, sink } = x;
  const role = inh.role;
  let all: Vars | undefined;
  return {
    host: target,
    conn,
    check,
    diff: inh.diff ?? rs.opts.diff,
    become: become(x, scope),
    environment: environment(x, scope),
    // Rendering every variable costs time; done only when a module reads ctx.vars.
    get vars(): Vars {
      all ??= scope.all();
      return all;
    },
    readVarsFile: (file) => loadYamlFile(file, { vault: rs.opts.vault }).data,
    findFile: (kind, name) => findControllerFile(kind, name, { rolePath: role?.path, playbookDir: rs.opts.playbook.dir, taskDir: path.dirname(task.location.file) }, task.location),
    render: (template, vars, name) => (vars ? rs.templater.render(template, vars, name) : scope.render(template, name ?? task.location)),
    log: (level, message) => sink.event({ event: 'verbose', level, host: target, message }),
    signal: rs.opts.signal,
    background: (job) => rs.background.push(job),
  };
}

function dropOmitted(v: Record<string, unknown>): Record<string, unknown> {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) if (x !== OMIT) out[k] = x;
  return out;
}

function itemLabel(item: unknown): string {
  if (typeof item === 'string') return item;
  try {
    return JSON.stringify(item);
  } catch {
    return String(item);
  }
}
