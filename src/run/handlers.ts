// Handlers: notification by name, listen topic or `role : name`, and the flush that runs each notified
// handler once per host, in definition order.
import type { Handler, Task } from '../load/model.js';
import type { Inherit, PlayRun, RunState } from './run-state.js';

/** `names`: what the task notifies, its own or passed down from a block or an import. */
export function notify(rs: RunState, task: Task, host: string, pr: PlayRun, names: readonly string[] = task.notify): void {
  for (const n of names) {
    const idx: number[] = [];
    pr.play.handlers.forEach((h, i) => {
      if (h.name === n || h.listen.includes(n) || (h.role && `${h.role.name} : ${h.name}` === n)) idx.push(i);
    });
    if (idx.length === 0) {
      rs.warnOnce(`handler:${n}`, { event: 'warning', message: `handler '${n}' notified by '${task.name ?? task.module}' is not defined`, location: task.location });
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

/** Runs one handler on the hosts that were notified (the play iterator's job). */
export type RunHandler = (h: Handler, hosts: string[], inh: Inherit) => Promise<void>;

/** Runs notified handlers in definition order, once per host; handlers may notify later ones. */
export async function flushHandlers(rs: RunState, pr: PlayRun, base: Inherit, run: RunHandler): Promise<void> {
  const handlers = pr.play.handlers;
  for (let pass = 0; pass < 20; pass++) {
    let ran = false;
    for (let i = 0; i < handlers.length; i++) {
      const h = handlers[i] as Handler;
      // --force-handlers: a host that failed still runs what it was notified of (not an unreachable one).
      const due = (x: string): boolean => rs.hostState(x) === 'active' || (rs.opts.forceHandlers === true && rs.hostState(x) === 'failed');
      const hosts = pr.batch.filter((x) => due(x) && !pr.ended.has(x) && pr.notified.get(x)?.has(i));
      for (const x of pr.batch) pr.notified.get(x)?.delete(i);
      if (hosts.length === 0) continue;
      ran = true;
      await run(h, hosts, { ...base, role: h.role });
      if (pr.endPlay) return;
    }
    if (!ran) return;
  }
}
