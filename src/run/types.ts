// What the CLI hands the runner, and what the runner hands back.
import type { EventBus } from '../events/types.js';
import type { Inventory } from '../load/inventory.js';
import type { Playbook } from '../load/model.js';
import type { ModuleDef } from '../modules/types.js';
import type { Transport } from '../transport/types.js';
import type { Vars } from '../types.js';

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
  verbosity: number;
  /** become password asked once per run (--ask-become-pass) or from vault. */
  becomePassword?: string;
  signal?: AbortSignal;
  /** Extra modules by name, looked up before the registry (tests, local plugins). */
  modules?: Record<string, ModuleDef<any>>;
}

export interface RunOutcome {
  exitCode: number;
}
