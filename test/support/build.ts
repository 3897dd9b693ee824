// Builders for playbook models and inventories, and a one-call runner for engine tests.
import { EventBus, type HostCounts, type RunEvent } from '../../src/events/types.js';
import type { Inventory } from '../../src/inventory/model.js';
import type { Block, Handler, IncludeTasks, Meta, Play, Playbook, Task, TaskNode } from '../../src/load/model.js';
import { loadTasksFile } from '../../src/load/playbook.js';
import { runPlaybook } from '../../src/run/runner.js';
import type { RunOptions } from '../../src/run/types.js';
import { createLocalTransport } from '../../src/transport/local.js';
import type { Transport } from '../../src/transport/types.js';
import type { Vars } from '../../src/types.js';
import { createScriptedTransport, type ScriptedOptions, type ScriptedTransport } from './scripted-transport.js';

const LOC = { file: '/virtual/site.yml', line: 1, col: 1 };

const common = { when: [], tags: [], vars: {}, location: LOC };

export function task(module: string, args: Record<string, unknown> = {}, extra: Partial<Task> = {}): Task {
  return { kind: 'task', module, args, notify: [], ...common, ...extra };
}

/** `command: <line>` as the loader produces it. */
export function cmd(line: string, extra: Partial<Task> = {}): Task {
  return task('command', { _raw_params: line }, { name: line, ...extra });
}

export function block(body: TaskNode[], extra: Partial<Block> = {}): Block {
  return { kind: 'block', block: body, rescue: [], always: [], ...common, ...extra };
}

export function meta(action: Meta['action'], extra: Partial<Meta> = {}): Meta {
  return { kind: 'meta', action, ...common, ...extra };
}

export function include(file: string, baseDir: string, extra: Partial<IncludeTasks> = {}): IncludeTasks {
  return { kind: 'include', file, baseDir, ...common, ...extra };
}

export function handler(name: string, module: string, args: Record<string, unknown> = {}, extra: Partial<Task> & { listen?: string[] } = {}): Handler {
  return { kind: 'task', module, args, notify: [], listen: [], name, ...common, ...extra };
}

export function play(extra: Partial<Play> = {}): Play {
  return {
    name: 'test play',
    hosts: 'all',
    vars: {},
    varsFiles: [],
    varsFromFiles: {},
    gatherFacts: false,
    serial: [],
    anyErrorsFatal: false,
    when: [],
    tags: [],
    preTasks: [],
    roleTasks: [],
    tasks: [],
    postTasks: [],
    handlers: [],
    roles: [],
    location: LOC,
    ...extra,
  };
}

export function playbook(plays: Play[], dir = '/virtual'): Playbook {
  return { file: `${dir}/site.yml`, dir, plays };
}

export interface GroupSpec {
  hosts?: string[];
  children?: string[];
  vars?: Vars;
}

/** An inventory: hosts with their vars (ansible_connection defaults to 'scripted'), and groups. */
export function inventory(hosts: Record<string, Vars> | string[], groups: Record<string, GroupSpec> = {}): Inventory {
  const hostMap = Array.isArray(hosts) ? Object.fromEntries(hosts.map((h) => [h, {}])) : hosts;
  const inv: Inventory = { sources: ['/virtual/inventory.yml'], hosts: new Map(), groups: new Map() };
  const all = { name: 'all', vars: {}, hosts: [] as string[], children: [] as string[], parents: [] as string[] };
  inv.groups.set('all', all);
  for (const [name, spec] of Object.entries(groups)) {
    if (name === 'all') {
      all.vars = spec.vars ?? {};
      continue;
    }
    inv.groups.set(name, { name, vars: spec.vars ?? {}, hosts: spec.hosts ?? [], children: spec.children ?? [], parents: [] });
  }
  for (const g of inv.groups.values()) {
    for (const c of g.children) inv.groups.get(c)?.parents.push(g.name);
  }
  for (const g of inv.groups.values()) if (g.name !== 'all' && g.parents.length === 0) {
    g.parents.push('all');
    all.children.push(g.name);
  }
  const ungrouped = { name: 'ungrouped', vars: {}, hosts: [] as string[], children: [], parents: ['all'] };
  for (const [name, vars] of Object.entries(hostMap)) {
    const direct = [...inv.groups.values()].filter((g) => g.hosts.includes(name)).map((g) => g.name);
    if (direct.length === 0) {
      ungrouped.hosts.push(name);
      direct.push('ungrouped');
    }
    inv.hosts.set(name, { name, vars: { ansible_connection: 'scripted', ...vars }, groups: direct });
  }
  inv.groups.set('ungrouped', ungrouped);
  all.children.push('ungrouped');
  return inv;
}

export interface TestRun {
  exitCode: number;
  events: RunEvent[];
  recap: Record<string, HostCounts>;
  transport: ScriptedTransport;
  /** host-result events (not the per-item ones) for a task name. */
  results(taskName: string): Extract<RunEvent, { event: 'host-result' }>[];
  /** Status per host for a task name. */
  statuses(taskName: string): Record<string, string>;
  /** Names of started tasks, in order. */
  started(): string[];
}

export async function runTest(
  pb: Playbook,
  inv: Inventory,
  scripted: ScriptedOptions | ScriptedTransport = {},
  over: Partial<RunOptions> = {},
  extraTransports: Record<string, Transport> = {},
): Promise<TestRun> {
  const transport = 'execs' in scripted ? scripted : createScriptedTransport(scripted);
  const events: RunEvent[] = [];
  const bus = new EventBus();
  bus.add({ onEvent: (e) => events.push(e) });
  const { exitCode } = await runPlaybook({
    playbook: pb,
    inventory: inv,
    bus,
    transports: { scripted: transport, local: createLocalTransport(), ...extraTransports },
    extraVars: {},
    check: false,
    diff: false,
    tags: [],
    skipTags: [],
    verbosity: 0,
    // include_tasks reads real files with the real loader unless a test hands in its own.
    loadTasksFile: (file, o) => loadTasksFile(file, { ...o, playbookDir: pb.dir }),
    ...over,
  });
  const recapEv = events.find((e): e is Extract<RunEvent, { event: 'recap' }> => e.event === 'recap');
  const hostResults = (name: string): Extract<RunEvent, { event: 'host-result' }>[] =>
    events.filter((e): e is Extract<RunEvent, { event: 'host-result' }> => e.event === 'host-result' && e.task === name && !e.isItem);
  return {
    exitCode,
    events,
    recap: recapEv?.hosts ?? {},
    transport,
    results: hostResults,
    statuses: (name) => Object.fromEntries(hostResults(name).map((e) => [e.host, e.status])),
    started: () => events.filter((e): e is Extract<RunEvent, { event: 'task-start' }> => e.event === 'task-start').map((e) => e.task),
  };
}
