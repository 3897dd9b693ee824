// The typed playbook model (Play, Block, Task, Handler, Role) with source positions.
// Produced by the loader after validation; consumed by the runner.
import type { SourceLocation } from '../errors.js';
import type { Vars } from '../types.js';
import type { META_ACTIONS } from './schemas.js';

/** Jinja expression text (bare, as in `when:`) or a literal boolean. */
export type Condition = string | boolean;

export interface RoleContext {
  name: string;
  /** Absolute path of the role directory. */
  path: string;
  defaults: Vars;
  vars: Vars;
  /** Role params from `roles: - role: x, param: ...`. */
  params: Vars;
}

/** The keyword fields of any node (their YAML names and merging are in load/keywords.ts). */
export interface NodeCommon {
  name?: string;
  when: Condition[];
  tags: string[];
  vars: Vars;
  become?: boolean;
  becomeUser?: string;
  becomeMethod?: 'sudo' | 'su';
  ignoreErrors?: boolean;
  delegateTo?: string;
  runOnce?: boolean;
  noLog?: boolean;
  checkMode?: boolean;
  diff?: boolean;
  environment?: Record<string, string> | string;
  anyErrorsFatal?: boolean;
  /** An unreachable host stays in the play; the result (`unreachable: true`) is registered. */
  ignoreUnreachable?: boolean;
  /** Handlers notified when the task changes something (on a block or an import: for the tasks inside). */
  notify?: string[];
  role?: RoleContext;
  location: SourceLocation;
}

export interface Task extends NodeCommon {
  kind: 'task';
  module: string; // canonical module name
  /** Raw args (may contain templates; rendered per host at run time). */
  args: Record<string, unknown>;
  loop?: unknown; // list or template string; with `loopWith`, the lookup's terms
  /** `with_<name>:` the lookup that gives the items (items, dict, nested, sequence ...). */
  loopWith?: string;
  loopControl?: { loopVar?: string; label?: string; indexVar?: string; pause?: number; extended?: boolean | string; extendedAllitems?: boolean | string };
  register?: string;
  notify: string[];
  changedWhen?: Condition[];
  failedWhen?: Condition[];
  until?: Condition[];
  /** A number, or a template rendered per host when the task runs. */
  retries?: number | string;
  delay?: number | string;
}

export interface Block extends NodeCommon {
  kind: 'block';
  block: TaskNode[];
  rescue: TaskNode[];
  always: TaskNode[];
}

/** `include_tasks`: resolved when the runner reaches it (file name may be templated). */
export interface IncludeTasks extends NodeCommon {
  kind: 'include';
  file: string; // raw, may contain templates
  /** Directory the file name is relative to. */
  baseDir: string;
  loop?: unknown;
  loopWith?: string;
  loopControl?: Task['loopControl'];
  /** `include_role` read at run time (a templated name, a loop, or inside an included file): `file` is unused. */
  includeRole?: IncludeRoleSpec;
}

export interface IncludeRoleSpec {
  /** Raw, may be a template. */
  name: string;
  tasksFrom?: string;
  /** `vars:` of the include: role params. */
  params: Vars;
  /** `apply:` keywords for every task of the role. */
  apply?: Record<string, unknown>;
}

/** `meta: flush_handlers` (and other meta actions). */
export interface Meta extends NodeCommon {
  kind: 'meta';
  action: (typeof META_ACTIONS)[number];
}

export type TaskNode = Task | Block | IncludeTasks | Meta;

/** A handler is any task node (a task, a block, a meta, an include) that is notified by name or topic. */
export type Handler = TaskNode & {
  /** Topics from `listen:`; a handler is notified by its name or any of its topics. */
  listen: string[];
};

/** A play carries the keywords every level may have (when, no_log, check_mode ...); the runner passes them down. */
export interface Play extends Omit<NodeCommon, 'role'> {
  name: string;
  hosts: string;
  vars: Vars;
  varsFiles: string[]; // absolute paths
  /** Vars loaded from vars_files, in order (already decrypted). */
  varsFromFiles: Vars;
  /** vars_files entries whose names are templates: read when the play starts (after the others). */
  lateVarsFiles?: LateVarsFile[];
  gatherFacts: boolean;
  serial: (number | string)[]; // [] = whole play in one batch
  maxFailPercentage?: number;
  anyErrorsFatal: boolean;
  environment?: Record<string, string>;
  /** `force_handlers:` notified handlers run even on hosts that failed. */
  forceHandlers?: boolean;
  /** `order:` the order hosts are taken in. */
  order?: 'inventory' | 'reverse_inventory' | 'sorted' | 'reverse_sorted' | 'shuffle';
  preTasks: TaskNode[];
  /** Roles expanded into their tasks (role context on each). */
  roleTasks: TaskNode[];
  tasks: TaskNode[];
  postTasks: TaskNode[];
  handlers: Handler[]; // play handlers + role handlers
  roles: RoleContext[];
  /** The roles listed under `roles:` (the `role_names` variable). */
  roleNames?: string[];
  location: SourceLocation;
}

export interface LateVarsFile {
  /** The names (raw templates); the first that exists is read. */
  choices: string[];
  /** Directory the names are relative to. */
  dir: string;
  location: SourceLocation;
}

export interface Playbook {
  file: string; // absolute path
  dir: string;
  plays: Play[];
}
