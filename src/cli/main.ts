// The CLI entry and its single error boundary: user errors print `file:line:col: error CODE ...` and a
// hint, never a stack; usage errors exit 5; anything else is a bug, reported with versions and the stack.
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { EXIT, ObiamError, ObiamErrors, formatError } from '../errors.js';
import { redact } from '../redact.js';
import type { PromptFn } from '../vault/secrets.js';
import type { Transport } from '../transport/types.js';
import { readAnsibleConfig } from './ansible-config.js';
import { inventoryCommand } from './inventory-command.js';
import { labCommand } from './lab-command.js';
import { collect, isCommanderUsageCode } from './options.js';
import { configurePlaybookCommand, loadVault, type CliContext } from './playbook-command.js';
import { reportCommand } from './report-command.js';
import { vaultCommand } from './vault-command.js';

/** What main() talks to; every field defaults to the real process (tests pass their own). */
export interface MainIo {
  out?: (s: string) => void;
  err?: (s: string) => void;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  isTTY?: boolean;
  prompt?: PromptFn;
  /** An abort signal for the run; when absent, SIGINT/SIGTERM are wired to one. */
  signal?: AbortSignal;
  /** The gentler first stop (a serial play finishes its batch); with `signal` in tests. */
  stopRequest?: AbortSignal;
  transports?: Record<string, Transport>;
}

export function obiamVersion(): string {
  try {
    // src/cli/ and dist/cli/ are both two levels below the package root.
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Applies the CLI-wide settings to a command tree built elsewhere (addCommand copies nothing). */
function configureTree(cmd: Command, out: (s: string) => void, err: (s: string) => void): void {
  cmd.exitOverride();
  cmd.configureOutput({ writeOut: out, writeErr: err, outputError: (s, write) => write(s) });
  for (const sub of cmd.commands) configureTree(sub, out, err);
}

/** Prints an error and returns the exit code: the one place errors become terminal output. */
export function reportError(e: unknown, err: (s: string) => void): number {
  if (e instanceof ObiamErrors) {
    for (const one of e.errors) err(`${redact(formatError(one))}\n`);
    if (e.errors.length > 1) err(`${e.errors.length} errors\n`);
    return e.exitCode;
  }
  if (e instanceof ObiamError) {
    err(`${redact(formatError(e))}\n`);
    return e.exitCode;
  }
  if (e instanceof CommanderError) {
    // commander has already printed its message (through configureOutput).
    return isCommanderUsageCode(e.code) ? EXIT.BAD_OPTIONS : e.exitCode;
  }
  const stack = e instanceof Error ? (e.stack ?? `${e.name}: ${e.message}`) : String(e);
  err(
    redact(
      [
        'ERROR! Unexpected internal error — this is a bug in obiam-run',
        `obiam-run ${obiamVersion()}, Node ${process.version}, ${process.platform}-${process.arch}`,
        stack,
        'Please report it with the command line and this output.',
        '',
      ].join('\n'),
    ),
  );
  return EXIT.INTERNAL;
}

interface VaultFlags {
  vaultPasswordFile?: string[];
  vaultId?: string[];
  askVaultPass?: boolean;
}

/** `inventory` decrypts `!vault` values too: give it the same password flags as a playbook run. */
function withVaultFlags(cmd: Command): void {
  const has = (flag: string): boolean => cmd.options.some((o) => o.long === flag);
  if (!has('--vault-password-file')) cmd.option('--vault-password-file <spec>', 'vault password file, [id@]path (repeatable)', collect);
  if (!has('--vault-id')) cmd.option('--vault-id <spec>', 'vault identity: id@path, id@prompt, path or prompt (repeatable)', collect);
  if (!has('--ask-vault-pass')) cmd.option('-J, --ask-vault-pass', 'ask for the vault password');
}

export function buildProgram(ctx: CliContext): Command {
  const program = new Command('obiam-run')
    .description('Ansible-style SSH provisioning for WSO2 Open Banking IAM / Key Manager clusters.\nRuns playbooks by default; see the commands below for inventories, vault files and the lab.')
    .version(obiamVersion(), '--version', 'print the version')
    .helpOption('-h, --help', 'show help')
    // Options given after a subcommand name belong to that subcommand (`inventory -i x`).
    .enablePositionalOptions()
    .showSuggestionAfterError(true)
    .showHelpAfterError('(run obiam-run --help for the options)');
  configurePlaybookCommand(program, ctx);
  const inventory: Command = inventoryCommand({ out: ctx.out, loadVault: () => loadVault(inventory.opts<VaultFlags>(), ctx), configInventory: () => readAnsibleConfig(ctx.env, ctx.cwd).inventory });
  withVaultFlags(inventory);
  program.addCommand(inventory);
  program.addCommand(vaultCommand({ out: ctx.out, err: ctx.err, prompt: ctx.prompt, env: ctx.env, cwd: ctx.cwd }));
  program.addCommand(labCommand({ out: ctx.out, err: ctx.err }));
  program.addCommand(reportCommand({ out: ctx.out, err: ctx.err, cwd: ctx.cwd }));
  configureTree(program, ctx.out, ctx.err);
  return program;
}

/** Runs the CLI with user arguments (process.argv.slice(2)); resolves to the exit code, never throws. */
export async function main(argv: string[], io: MainIo = {}): Promise<number> {
  const out = io.out ?? ((s: string) => void process.stdout.write(s));
  const err = io.err ?? ((s: string) => void process.stderr.write(s));
  let exitCode: number = EXIT.OK;
  const abort = new AbortController();
  const stop = new AbortController();
  let signals = 0;
  // Three steps, so that a roll is never cut in the middle of a node by one impatient Ctrl-C:
  // 1) stop at the next safe point (a serial play finishes its batch), 2) stop after the running
  // tasks, 3) quit at once (the lock is still released; the journal says where the run was).
  const onSignal = (sig: NodeJS.Signals): void => {
    signals++;
    if (signals === 1) {
      err(`\n${sig}: stopping at the next safe point; a rolling play first finishes the hosts it is working on (again: stop after the running tasks; a third time: quit at once)\n`);
      stop.abort();
    } else if (signals === 2) {
      err(`\n${sig}: stopping after the running tasks (again to quit at once)\n`);
      abort.abort();
    } else {
      process.exit(EXIT.INTERRUPTED);
    }
  };
  const wireSignals = io.signal === undefined;
  if (wireSignals) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  try {
    const ctx: CliContext = {
      out,
      err,
      env: io.env ?? process.env,
      cwd: io.cwd ?? process.cwd(),
      isTTY: io.isTTY ?? Boolean(process.stdout.isTTY),
      columns: io.isTTY === undefined ? process.stdout.columns : undefined,
      prompt: io.prompt,
      signal: io.signal ?? abort.signal,
      stopRequest: io.signal ? io.stopRequest : stop.signal,
      argv,
      transports: io.transports,
      setExitCode: (c) => (exitCode = c),
    };
    await buildProgram(ctx).parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (e) {
    return reportError(e, err);
  } finally {
    if (wireSignals) {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  }
}
