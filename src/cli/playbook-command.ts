// The default action, `obiam-run [options] <playbook...>`, with ansible-playbook's options:
// vault secrets -> inventory -> playbooks -> extra vars -> (list modes) -> reporters -> runner.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Command, Option } from 'commander';
import { EXIT, ObiamError, ObiamErrors } from '../errors.js';
import { EventBus, emptyCounts, type HostCounts, type Reporter, type RunEvent } from '../events/types.js';
import type { Inventory } from '../inventory/model.js';
import { groupsMap } from '../inventory/host-vars.js';
import { loadInventory } from '../inventory/sources.js';
import type { Play, Playbook, TaskNode } from '../load/model.js';
import { selectHosts } from '../inventory/patterns.js';
import { loadIncludedRole, loadPlaybook, loadTasksFile } from '../load/playbook.js';
import { redact } from '../redact.js';
import { createJsonReporter } from '../reporters/json.js';
import { liveViewSupported } from '../reporters/live-view.js';
import { createPlainReporter } from '../reporters/plain.js';
import { countStatus } from '../run/results.js';
import { renderPlayHosts } from '../run/play-hosts.js';
import { runPlaybook } from '../run/runner.js';
import type { LoadTasksFile } from '../run/types.js';
import { createRunRecorder, newRunId, recordFile, type RunRecorder } from '../state/run-record.js';
import { stateDirFor } from '../state/state-dir.js';
import { tagsAllow, type TagFilter } from '../run/tags.js';
import type { Vars } from '../types.js';
import { createLocalTransport } from '../transport/local.js';
import { createSshTransport } from '../transport/ssh.js';
import type { Transport } from '../transport/types.js';
import { parseExtraVars } from '../vars/extra-vars.js';
import { createTemplater } from '../vars/template.js';
import { loadVaultSecrets, promptHidden, type PromptFn } from '../vault/secrets.js';
import type { VaultDecrypter } from '../vault/types.js';
import { createVaultDecrypter } from '../vault/vault.js';
import { noVaultPasswordError, vaultedValuesOfRun } from '../load/vaulted.js';
import { readAnsibleConfig, type AnsibleConfig } from './ansible-config.js';
import { checkLimit, checkStartAtTask, openStepPrompt, type StepPrompt } from './run-checks.js';
import { isRoll, openRollGuard, resumeNeedsRoll, type RollGuard } from './roll-guard.js';
import {
  collect,
  increaseVerbosity,
  parsePositiveInt,
  parseSecondsToMs,
  parseTags,
  resolveInventorySources,
  validateHostKeyPolicy,
  type HostKeyPolicy,
} from './options.js';

export interface CliContext {
  /** Raw writes to stdout (no newline added). */
  out: (s: string) => void;
  /** Raw writes to stderr (no newline added). */
  err: (s: string) => void;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** stdout is a terminal (live view, colors). */
  isTTY: boolean;
  /** Terminal width; 0 (a pty without a size) means no live view. */
  columns?: number;
  /** Hidden password prompt (vault, become); default: the terminal. */
  prompt?: PromptFn;
  /** Aborts the run: no new task starts (the second Ctrl-C). */
  signal?: AbortSignal;
  /** The first Ctrl-C: a serial play finishes its current batch, then the run stops. */
  stopRequest?: AbortSignal;
  /** The user's arguments, for the command shown in journal messages. */
  argv?: string[];
  /** Where the action leaves its exit code for main(). */
  setExitCode: (code: number) => void;
  /** Extra transports by `ansible_connection` name, over ssh and local (tests). */
  transports?: Record<string, Transport>;
}

export interface PlaybookOptions {
  inventory?: string[];
  limit?: string;
  extraVars?: string[];
  forks?: number;
  check?: boolean;
  diff?: boolean;
  tags?: string[];
  skipTags?: string[];
  startAtTask?: string;
  step?: boolean;
  listTasks?: boolean;
  listHosts?: boolean;
  listTags?: boolean;
  syntaxCheck?: boolean;
  verbose?: number;
  json?: boolean;
  vaultPasswordFile?: string[];
  vaultId?: string[];
  askVaultPass?: boolean;
  askBecomePass?: boolean;
  knownHosts?: string[];
  hostKeyPolicy?: HostKeyPolicy;
  connection?: string;
  forceHandlers?: boolean;
  flushCache?: boolean;
  connectTimeout?: number;
  timeout?: number;
  user?: string;
  privateKey?: string;
  resume?: boolean;
  stateDir?: string;
}

/**
 * Declares the playbook options and action on `cmd` (the root program: it is the default action).
 * Repeatable options take one value per flag (`-i a -i b`), as ansible-playbook's do: a variadic
 * `-i <file...>` would swallow the playbook name that follows it.
 */
export function configurePlaybookCommand(cmd: Command, ctx: CliContext): Command {
  return cmd
    .argument('<playbook...>', 'playbook file(s), run in order as one run')
    .option('-i, --inventory <file>', `inventory file, directory or host list \`a,b,\` (repeatable; default inventory/hosts.yml)`, collect)
    .option('-l, --limit <pattern>', 'further limit the hosts with a pattern (`@file` reads one pattern per line)')
    .option('-e, --extra-vars <spec>', "extra variables: key=value, JSON/YAML mapping, or @file (repeatable; later wins)", collect)
    .option('-f, --forks <n>', 'hosts worked on in parallel (default: min(50, batch size))', parsePositiveInt)
    .option('-C, --check', 'check mode: report what would change, change nothing')
    .option('-D, --diff', 'show differences of changed files')
    .option('-t, --tags <tags>', 'only run tasks with these tags (comma list, repeatable)', collect)
    .option('--skip-tags <tags>', 'skip tasks with these tags (comma list, repeatable)', collect)
    .option('--start-at-task <name>', 'start the run at the first task with this name')
    .option('--step', 'one step at a time: confirm each task before running it (needs a terminal)')
    .option('--list-tasks', 'list the tasks that would run, then exit')
    .option('--list-hosts', 'list the hosts each play would run on, then exit')
    .option('--list-tags', 'list the tags of the tasks that would run, then exit')
    .option('--syntax-check', 'load and validate the playbooks, then exit')
    .option('-v, --verbose', 'more output; repeat for more (-vvv)', increaseVerbosity, 0)
    .option('--json', 'one JSON object per event on stdout (last line: the recap)')
    .option('--vault-password-file <spec>', 'vault password file, [id@]path; executable files are run (repeatable)', collect)
    .option('--vault-id <spec>', 'vault identity: id@path, id@prompt, path or prompt (repeatable)', collect)
    .option('-J, --ask-vault-pass', 'ask for the vault password')
    .option('-K, --ask-become-pass', 'ask for the become (sudo) password')
    .option('--known-hosts <file>', 'known_hosts file(s) for host key checking (default ~/.ssh/known_hosts)', collect)
    .addOption(
      new Option('--host-key-policy <policy>', 'unknown host keys: strict (refuse) or accept-new (record on first contact)')
        .argParser(validateHostKeyPolicy),
    )
    .option('-c, --connection <type>', 'connection for hosts whose vars set no ansible_connection: ssh or local (default ssh)')
    .option('--force-handlers', 'run notified handlers even on hosts that failed')
    .option('--flush-cache', 'clear the fact cache (accepted: facts are not cached between runs)')
    .option('--connect-timeout <s>', 'SSH connect timeout in seconds (default 10)', parseSecondsToMs)
    .option('-T, --timeout <s>', 'same as --connect-timeout (ansible-playbook spelling)', parseSecondsToMs)
    .option('-u, --user <name>', 'remote user when the inventory sets no ansible_user')
    .option('--private-key <file>', 'SSH private key when the inventory sets no ansible_ssh_private_key_file')
    .option('--resume', 'continue the interrupted or failed roll (a playbook with serial plays) from its first host not done')
    .option('--state-dir <dir>', 'where rolls keep their lock and journal (default <inventory dir>/.obiam-run; env OBIAM_RUN_STATE_DIR)')
    .action(async (playbooks: string[], o: PlaybookOptions) => {
      ctx.setExitCode(await runPlaybookCommand(playbooks, o, ctx));
    });
}


/** Vault secrets from the password flags (and OBIAM_VAULT_PASSWORD_FILE); shared by every command that reads vaulted data. */
export async function loadVault(
  o: Pick<PlaybookOptions, 'vaultPasswordFile' | 'vaultId' | 'askVaultPass'>,
  ctx: Pick<CliContext, 'env' | 'prompt' | 'cwd'>,
): Promise<VaultDecrypter | undefined> {
  const secrets = await loadVaultSecrets({
    passwordFiles: o.vaultPasswordFile,
    vaultIds: o.vaultId,
    askVaultPass: o.askVaultPass,
    envFile: ctx.env.OBIAM_VAULT_PASSWORD_FILE || undefined,
    prompt: ctx.prompt,
    cwd: ctx.cwd,
  });
  return secrets.length > 0 ? createVaultDecrypter(secrets) : undefined;
}

/** -u / --private-key are defaults: set on `all` only where the inventory has not set them itself. */
function applyConnectionDefaults(inv: Inventory, o: PlaybookOptions, cwd: string): void {
  const all = inv.groups.get('all');
  if (!all) return;
  if (o.user !== undefined && all.vars.ansible_user === undefined) all.vars.ansible_user = o.user;
  if (o.privateKey !== undefined && all.vars.ansible_ssh_private_key_file === undefined) all.vars.ansible_ssh_private_key_file = path.resolve(cwd, o.privateKey);
}

/** Several playbooks run as one: their plays in order, templates found beside the first one. */
function mergePlaybooks(books: Playbook[]): Playbook {
  if (books.length === 1) return books[0]!;
  return { file: books[0]!.file, dir: books[0]!.dir, plays: books.flatMap((b) => b.plays) };
}

/** Connection names -c accepts: the run's transports, and Ansible's other names for ssh. */
function checkConnection(name: string | undefined, known: string[]): string | undefined {
  if (name === undefined) return undefined;
  if (name === 'smart' || name === 'paramiko') return 'ssh';
  if (known.includes(name)) return name;
  throw new ObiamError('E_OPTIONS', `-c/--connection '${name}' is not a connection obiam-run has; allowed values: ${known.join(', ')}`, {
    remedy: 'use -c ssh (the default) or -c local',
    exitCode: EXIT.BAD_OPTIONS,
  });
}

/** ansible.cfg and ANSIBLE_* settings under the command line's options (the command line wins). */
function withConfig(o: PlaybookOptions, cfg: AnsibleConfig): PlaybookOptions {
  return {
    ...o,
    inventory: o.inventory ?? cfg.inventory,
    forks: o.forks ?? cfg.forks,
    hostKeyPolicy: o.hostKeyPolicy ?? (cfg.hostKeyChecking === false ? 'accept-new' : 'strict'),
    connectTimeout: o.connectTimeout ?? o.timeout ?? (cfg.timeout === undefined ? undefined : cfg.timeout * 1000),
    user: o.user ?? cfg.remoteUser,
    privateKey: o.privateKey ?? cfg.privateKeyFile,
    connection: o.connection ?? cfg.connection,
    forceHandlers: o.forceHandlers ?? cfg.forceHandlers,
  };
}

export async function runPlaybookCommand(files: string[], given: PlaybookOptions, ctx: CliContext): Promise<number> {
  const cfg = readAnsibleConfig(ctx.env, ctx.cwd);
  const o = withConfig(given, cfg);
  const connection = checkConnection(o.connection, ['ssh', 'local', ...Object.keys(ctx.transports ?? {})]);
  const vault = await loadVault(o, ctx);
  // Relative sources are relative to the working directory given to main(), not the process's.
  const sources = resolveInventorySources(o.inventory, ctx.cwd).map((s) => {
    const abs = path.resolve(ctx.cwd, s);
    return s.includes(',') && !existsSync(abs) ? s : abs;
  });
  const inventory = loadInventory(sources, { vault, connections: ['ssh', 'local', ...Object.keys(ctx.transports ?? {})] });
  applyConnectionDefaults(inventory, o, ctx.cwd);
  const books: Playbook[] = [];
  const loadWarnings: { message: string; location?: Playbook['plays'][number]['location'] }[] = cfg.warnings.map((message) => ({ message }));
  for (const f of files) {
    // Listing modes warn about host patterns that match nothing at load time; a run has the runner
    // warn when the play starts.
    const listOnly = o.syntaxCheck || o.listHosts || o.listTasks || o.listTags;
    const loaded = loadPlaybook(path.resolve(ctx.cwd, f), { vault, inventory: listOnly ? inventory : undefined, rolesPath: cfg.rolesPath });
    books.push(loaded.playbook);
    for (const w of loaded.warnings) {
      const one = typeof w === 'string' ? { message: w } : w;
      // Each warning once per run, as ansible-playbook shows them (three plays on `obkm` warn once).
      if (!loadWarnings.some((x) => x.message === one.message)) loadWarnings.push(one);
    }
  }
  const playbook = mergePlaybooks(books);
  // include_tasks files are read at run time, with the same vault secrets as the playbook.
  const loadTasks: LoadTasksFile = (file, opts) => loadTasksFile(file, { ...opts, vault, playbookDir: playbook.dir });
  const extraVars = parseExtraVars(o.extraVars ?? [], { cwd: ctx.cwd, vault });
  const filter: TagFilter = { tags: parseTags(o.tags), skipTags: parseTags(o.skipTags) };
  // Mistakes that ansible-playbook also refuses before the first host: a limit matching nothing, no
  // such --start-at-task, and (a run only) vaulted values with no password to open them.
  checkLimit(inventory, o.limit);

  if (o.syntaxCheck || o.listHosts || o.listTasks || o.listTags) {
    for (const w of loadWarnings) ctx.err(redact(`[WARNING]: ${w.message}\n`));
    if (o.syntaxCheck) {
      for (const b of books) ctx.out(`\nplaybook: ${b.file}\n`);
      return EXIT.OK;
    }
    ctx.out(redact(listing(books, inventory, o, filter, extraVars)));
    return EXIT.OK;
  }

  checkStartAtTask(playbook, o.startAtTask);
  if (!vault?.hasSecrets) {
    const vaulted = vaultedValuesOfRun(playbook, inventory, extraVars, o.limit);
    if (vaulted.length > 0) throw noVaultPasswordError(vaulted);
  }
  if (o.resume && (o.check || !isRoll(playbook))) throw resumeNeedsRoll(o.check ?? false);
  // Every run leaves its record (the timeline `obiam-run report` draws) in the environment's state dir.
  const runId = newRunId();
  const stateDir = stateDirFor({ base: o.stateDir ?? (ctx.env.OBIAM_RUN_STATE_DIR || undefined), inventories: sources, cwd: ctx.cwd });
  const recorder = createRunRecorder(
    { runId, command: ctx.argv && commandLine(ctx.argv), playbooks: files.map((f) => path.resolve(ctx.cwd, f)), inventories: sources, check: o.check ?? false },
    recordFile(stateDir, o.check ?? false),
  );
  const step = o.step ? openStepPrompt(ctx.err) : undefined;
  // A roll takes the environment's lock before anything else can fail half way (prompts included).
  const guard = !o.check && isRoll(playbook)
    ? openRollGuard({
        playbook,
        playbookFiles: files.map((f) => path.resolve(ctx.cwd, f)),
        inventories: sources,
        limit: o.limit,
        extraVars,
        resume: o.resume ?? false,
        stateDir: o.stateDir,
        env: ctx.env,
        cwd: ctx.cwd,
        argv: ctx.argv,
        runId,
      })
    : undefined;
  try {
    return await runWithReporters(playbook, inventory, { ...o, connection }, ctx, { extraVars, filter, loadWarnings, guard, recorder, step, loadTasks, vault });
  } finally {
    guard?.release();
    step?.close();
  }
}

const commandLine = (argv: string[]): string => ['obiam-run', ...argv].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');

interface RunParts {
  extraVars: Vars;
  filter: TagFilter;
  loadWarnings: { message: string; location?: Playbook['plays'][number]['location'] }[];
  guard?: RollGuard;
  recorder: RunRecorder;
  step?: StepPrompt;
  loadTasks: LoadTasksFile;
  vault?: VaultDecrypter;
}

async function runWithReporters(playbook: Playbook, inventory: Inventory, o: PlaybookOptions, ctx: CliContext, parts: RunParts): Promise<number> {
  const { extraVars, filter, loadWarnings, guard, recorder, step, loadTasks, vault } = parts;
  const becomePassword = o.askBecomePass ? await (ctx.prompt ?? promptHidden)('BECOME password: ') : undefined;
  const verbosity = o.verbose ?? 0;
  const bus = new EventBus();
  const color = ctx.isTTY && !ctx.env.NO_COLOR;
  if (o.json) bus.add(createJsonReporter(ctx.out));
  // The live view is loaded only for a terminal: CI and piped runs start without it.
  // --step asks on the terminal between tasks: the plain log keeps the question visible.
  else if (!step && liveViewSupported({ isTTY: ctx.isTTY, columns: ctx.columns }, ctx.env)) bus.add((await import('../reporters/live.js')).createLiveReporter({ verbosity, color }));
  else bus.add(createPlainReporter(ctx.out, { verbosity, color }));
  const tally = createTally();
  bus.add(tally);
  if (guard) bus.add(guard.reporter);
  bus.add(recorder);
  for (const w of loadWarnings) bus.emit({ event: 'warning', message: w.message, location: w.location });
  for (const n of guard?.notes ?? []) bus.emit({ event: 'warning', message: n });

  const ssh = createSshTransport({
    knownHostsFiles: o.knownHosts?.map((f) => path.resolve(ctx.cwd, f)),
    hostKeyPolicy: o.hostKeyPolicy,
    connectTimeoutMs: o.connectTimeout ?? o.timeout,
    askPassphrase: (keyFile) => (ctx.prompt ?? promptHidden)(`Enter passphrase for key '${keyFile}': `),
  });
  const started = Date.now();
  try {
    const outcome = await runPlaybook({
      playbook,
      inventory,
      bus,
      transports: { ssh, local: createLocalTransport(), ...ctx.transports },
      extraVars,
      limit: o.limit,
      forks: o.forks,
      check: o.check ?? false,
      diff: o.diff ?? false,
      tags: filter.tags,
      skipTags: filter.skipTags,
      startAtTask: o.startAtTask,
      step: step ? (t) => step.ask(t) : undefined,
      verbosity,
      becomePassword,
      signal: ctx.signal,
      stopRequest: ctx.stopRequest,
      resume: guard?.resume,
      loadTasksFile: loadTasks,
      connection: o.connection,
      forceHandlers: o.forceHandlers,
      loadIncludedRole: (name, opts) => loadIncludedRole(name, { ...opts, vault, playbookDir: playbook.dir }),
      vault,
    });
    await bus.close();
    if (recorder.problem) ctx.err(`${redact(`[WARNING]: ${recorder.problem}`)}\n`);
    for (const l of guard?.afterwords(outcome.exitCode) ?? []) ctx.err(`${redact(l)}\n`);
    return outcome.exitCode;
  } catch (e) {
    // The runner died: still end the event stream with a recap so --json consumers get their last line.
    if (!tally.recapSeen) bus.emit({ event: 'recap', hosts: tally.hosts(), exitCode: exitCodeOf(e), durationMs: Date.now() - started });
    await bus.close();
    throw e;
  }
}

/** The exit code main() will use for an error (kept here so a synthetic recap carries the same one). */
export function exitCodeOf(e: unknown): number {
  return e instanceof ObiamError || e instanceof ObiamErrors ? e.exitCode : EXIT.INTERNAL;
}

/** Counts host results with the runner's own rule (run/results.ts), for the recap the CLI emits when the runner threw. */
function createTally(): Reporter & { recapSeen: boolean; hosts(): Record<string, HostCounts> } {
  const counts = new Map<string, HostCounts>();
  const t = {
    recapSeen: false,
    onEvent(e: RunEvent): void {
      if (e.event === 'recap') t.recapSeen = true;
      if (e.event === 'play-start') for (const h of e.hosts) if (!counts.has(h)) counts.set(h, emptyCounts());
      if (e.event !== 'host-result' || e.isItem) return;
      const c = counts.get(e.host) ?? emptyCounts();
      counts.set(e.host, c);
      countStatus(c, e.status, Boolean(e.result?.changed));
    },
    hosts: (): Record<string, HostCounts> => Object.fromEntries([...counts].map(([h, c]) => [h, { ...c }])),
  };
  return t;
}

// ---- --list-hosts / --list-tasks / --list-tags, in ansible-playbook's layout ----

interface ListedTask {
  name: string;
  tags: string[];
}

function playTasks(play: Play, filter: TagFilter): ListedTask[] {
  const out: ListedTask[] = [];
  const walk = (nodes: TaskNode[], inherited: string[]): void => {
    for (const n of nodes) {
      const tags = [...new Set([...inherited, ...n.tags])];
      if (n.kind === 'block') {
        walk([...n.block, ...n.rescue, ...n.always], tags);
        continue;
      }
      if (n.kind === 'meta') continue;
      if (!tagsAllow(tags, filter)) continue;
      const base = n.kind === 'include' ? (n.name ?? `include_tasks: ${n.file}`) : (n.name ?? n.module);
      out.push({ name: n.role ? `${n.role.name} : ${base}` : base, tags });
    }
  };
  walk([...play.preTasks, ...play.roleTasks, ...play.tasks, ...play.postTasks], play.tags);
  return out;
}

const tagList = (tags: string[]): string => `[${[...tags].sort().join(', ')}]`;

function listing(books: Playbook[], inv: Inventory, o: PlaybookOptions, filter: TagFilter, extraVars: Vars): string {
  const templater = createTemplater({});
  const lines: string[] = [];
  let n = 0;
  for (const b of books) {
    lines.push('', `playbook: ${b.file}`);
    for (const play of b.plays) {
      n++;
      lines.push('', `  play #${n} (${play.hosts}): ${play.name}\tTAGS: ${tagList(play.tags)}`);
      if (o.listHosts) {
        const hosts = selectHosts(inv, renderPlayHosts(templater, play, extraVars, { groups: groupsMap(inv), playbook_dir: b.dir }), o.limit);
        lines.push(`    pattern: ['${play.hosts}']`, `    hosts (${hosts.length}):`, ...hosts.map((h) => `      ${h}`));
      }
      const tasks = playTasks(play, filter);
      if (o.listTasks) {
        lines.push('    tasks:', ...tasks.map((t) => `      ${t.name}\tTAGS: ${tagList(t.tags)}`));
      }
      if (o.listTags) {
        lines.push(`      TASK TAGS: ${tagList([...new Set(tasks.flatMap((t) => t.tags))])}`);
      }
    }
  }
  return `${lines.join('\n')}\n`;
}
