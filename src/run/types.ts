// What the CLI hands the runner, and what the runner hands back.
import type { EventBus } from '../events/types.js';
import type { Inventory } from '../inventory/model.js';
import type { Handler, Playbook, RoleContext, TaskNode } from '../load/model.js';
import type { SourceLocation } from '../errors.js';
import type { ModuleDef } from '../modules/types.js';
import type { Transport } from '../transport/types.js';
import type { Vars } from '../types.js';
import type { VaultDecrypter } from '../vault/types.js';
import type { StepAnswer } from './start-at.js';

export interface RunOptions {
  playbook: Playbook;
  inventory: Inventory;
  bus: EventBus;
  /** Transports by `ansible_connection` name ('ssh', 'local', 'scripted' in tests). */
  transports: Record<string, Transport>;
  extraVars: Vars;
  limit?: string;
  forks?: number;
  check: boolean;
  diff: boolean;
  tags: string[];
  skipTags: string[];
  startAtTask?: string;
  /** --step: asked before each task (`role : name`); `no` skips it, `continue` stops asking. */
  step?: (task: string) => Promise<StepAnswer>;
  verbosity: number;
  /** become password asked once per run (--ask-become-pass) or from vault. */
  becomePassword?: string;
  /** Aborts the run: no new task starts (tasks running are allowed to finish). */
  signal?: AbortSignal;
  /**
   * A gentler stop (the first Ctrl-C): a play with `serial` finishes the batch it is in, so no node is
   * left half rolled, then the run stops; elsewhere it acts like `signal`.
   */
  stopRequest?: AbortSignal;
  /** Continuing an interrupted run: hosts already done per play index (serial plays leave them out). */
  resume?: ResumeState;
  /** Reads an include_tasks file at run time (the CLI hands in the playbook loader with its vault). */
  loadTasksFile?: LoadTasksFile;
  /** `-c`: the connection of hosts whose vars set no ansible_connection (default ssh). */
  connection?: string;
  loadIncludedRole?: LoadIncludedRole;
  /** `--force-handlers`: notified handlers run also on hosts that failed. */
  forceHandlers?: boolean;
  /** Decrypts vault-encrypted vars files read at run time (include_vars). */
  vault?: VaultDecrypter;
  /** Extra modules by name, looked up before the registry (tests, local plugins). */
  modules?: Record<string, ModuleDef<any>>;
}

/** Reads a role for include_role at run time (the CLI hands in the loader with its vault and role path). */
export type LoadIncludedRole = (name: string, opts: { dir: string; tasksFrom?: string; params: Vars; apply?: Record<string, unknown>; at?: SourceLocation }) => { nodes: TaskNode[]; handlers: Handler[] };

export type LoadTasksFile = (file: string, opts: { role?: RoleContext }) => TaskNode[] | Promise<TaskNode[]>;

export interface ResumeState {
  /** Play index (in run order) -> hosts that finished that play in the earlier run. */
  done: Record<number, string[]>;
  /** Hosts of the batch the earlier run was in when it stopped (the `obiam_resume.interrupted` variable). */
  interrupted: string[];
}

export interface RunOutcome {
  exitCode: number;
}
