// The module contract. One file per module: argument schema, how it reads state, what it would
// change (check/diff), and how it applies -- ideally all in one round trip on the connection.
import type { Connection } from '../transport/types.js';
import type { FileDiff } from '../events/types.js';
import type { ProbeReport } from './http-probe-report.js';
import type { BecomeOptions, Vars } from '../types.js';
import type { ControllerFileArg } from './lib/controller-files.js';

/** A JSON Schema (draft-07 subset that ajv accepts). */
export type JsonSchema = Record<string, unknown>;

export interface ModuleContext {
  /** inventory_hostname of the host the task is for (the delegate's when delegate_to is set). */
  host: string;
  conn: Connection;
  check: boolean;
  diff: boolean;
  become?: BecomeOptions;
  /** Environment from the task's `environment:` keyword. */
  environment?: Record<string, string>;
  /** All variables visible to the task (already merged by precedence). */
  vars: Vars;
  /** Resolves a controller file for `src:` of copy/template/unarchive (role files/ or templates/, then playbook dir). */
  findFile(kind: 'files' | 'templates' | 'vars', name: string): string;
  /** Reads a YAML/JSON vars file on the controller (vault-encrypted ones decrypted when the run has the password). */
  readVarsFile?(file: string): unknown;
  /** Renders a template string with the task's variables (nunjucks, Jinja2-compatible). */
  render(template: string, vars?: Vars, name?: string): string;
  /** Verbose output (-v levels); values are redacted by the reporter. */
  log(level: 1 | 2 | 3, message: string): void;
  signal?: AbortSignal;
  /**
   * What the host is doing inside a long step (upload bytes and rate, an unpack, a wait): shown on the
   * host's row of the live view (uploads throttled by the caller), and in the plain log for unpacks and waits.
   */
  progress?(kind: 'upload' | 'unpack' | 'wait', message: string, extra?: { bytes?: number; totalBytes?: number }): void;
  /** Keeps a job running after the task (http_probe); the runner stops it when the run ends. */
  background?(job: BackgroundJob): void;
}

/** Work a module leaves running in the controller for the rest of the run. */
export interface BackgroundJob {
  name: string;
  /** Ends the job; a probe hands back its numbers, which the runner reports. */
  stop(): Promise<ProbeReport | undefined>;
}

export interface ModuleResult {
  changed: boolean;
  failed?: boolean;
  skipped?: boolean;
  msg?: unknown;
  diff?: FileDiff[];
  /** Module-specific return values (rc, stdout, stat, ansible_facts ...). */
  [key: string]: unknown;
}

export interface ModuleDef<A = Record<string, unknown>> {
  name: string;
  /** Other names accepted in playbooks, e.g. `ansible.builtin.copy`, `systemd_service`. */
  aliases?: string[];
  /** Argument schema; `additionalProperties: false` so typos are caught before connecting. */
  schema: JsonSchema;
  /** Accepts `module: some free form` (command, shell): the string goes to `_raw_params` / `key=value` pairs parsed. */
  freeForm?: boolean;
  /** Runs on the controller without a connection (debug, set_fact, assert, fail, pause, meta). */
  controllerOnly?: boolean;
  /** Arguments that name files on the controller (checked at load time, looked up by ctx.findFile). */
  controllerFiles?: ControllerFileArg[];
  /** The module gathers facts: the play's implicit `Gathering Facts` task calls it (setup). */
  gathersFacts?: boolean;
  /** Runs once per task for the whole batch (on the first host), not per host (add_host). */
  bypassHostLoop?: boolean;
  /** The module's `ansible_facts` become host variables (set_fact), not gathered facts (setup). */
  setsHostFacts?: boolean;
  /** Does the module honour check mode itself? If false, the runner skips it in check mode. */
  supportsCheck: boolean;
  run(args: A, ctx: ModuleContext): Promise<ModuleResult>;
}

/** A shell-quoted single argument for POSIX sh. */
export function shq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
