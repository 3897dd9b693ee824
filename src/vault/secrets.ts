// Where vault passwords come from: password files (plain or executable), `id@prompt`, --ask-vault-pass
// and OBIAM_VAULT_PASSWORD_FILE, with ansible-vault's `[id@]source` syntax.
import { spawn } from 'node:child_process';
import { accessSync, constants, openSync, readFileSync, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { ReadStream } from 'node:tty';
import { EXIT, ObiamError } from '../errors.js';
import { registerSecret } from '../redact.js';
import type { VaultSecret } from './vault.js';

export type PromptFn = (question: string) => Promise<string>;

export interface LoadSecretsOptions {
  /** `--vault-password-file [id@]path` (repeatable). */
  passwordFiles?: string[];
  /** `--vault-id id@path`, `id@prompt`, `path` or `prompt` (repeatable). */
  vaultIds?: string[];
  askVaultPass?: boolean;
  /** The value of OBIAM_VAULT_PASSWORD_FILE; used in addition to the others, as ansible does. */
  envFile?: string;
  /** Reads a password; defaults to promptHidden (a TTY with echo off). */
  prompt?: PromptFn;
  /** Prompt when no source at all was given (ansible-vault does this; playbook runs do not). */
  autoPrompt?: boolean;
  /** Ask twice for prompted passwords (new passwords for encrypt / rekey). */
  confirm?: boolean;
  /** Directory relative password file paths are resolved against. */
  cwd?: string;
  /** Where warnings go (a password file others can read); default stderr. */
  warn?: (message: string) => void;
}

/**
 * Like ssh for private keys: a password file that group or others can read (or a script they can
 * change) gets a warning; the run goes on, as ansible's does.
 */
export function passwordFileWarning(path: string, mode: number, executable: boolean): string | undefined {
  const bits = mode & 0o777;
  if (!executable && (bits & 0o077) !== 0) {
    return `vault password file ${path} is readable by others (mode ${bits.toString(8).padStart(4, '0')}); run: chmod 600 ${path}`;
  }
  if (executable && (bits & 0o022) !== 0) {
    return `vault password script ${path} can be changed by others (mode ${bits.toString(8).padStart(4, '0')}); run: chmod go-w ${path}`;
  }
  return undefined;
}

const stderrWarn = (message: string): void => void process.stderr.write(`[WARNING]: ${message}\n`);

export interface SecretSpec {
  id?: string;
  /** A path, or `prompt`. */
  value: string;
}

/**
 * Splits `[id@]source`. Like ansible the id ends at the first `@`, except that a prefix with a `/` is
 * a path (so `./keys/a@b` is a file, not id `./keys/a`).
 */
export function parseSecretSpec(spec: string): SecretSpec {
  const at = spec.indexOf('@');
  if (at > 0 && !spec.slice(0, at).includes('/')) {
    const id = spec.slice(0, at);
    return { id: id === 'default' ? undefined : id, value: spec.slice(at + 1) };
  }
  return { value: spec };
}

function isPromptSource(value: string): boolean {
  return value === 'prompt' || value === 'prompt_ask_vault_pass';
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function emptyPassword(source: string): ObiamError {
  return new ObiamError('E_VAULT_PASSWORD_EMPTY', `the vault password from ${source} is empty`, {
    remedy: 'put the password on the first line of the file (or print it from the script)',
    exitCode: EXIT.BAD_OPTIONS,
  });
}

/** Runs an executable password file and returns its stdout; `*-client` scripts get `--vault-id ID`. */
function runPasswordScript(path: string, id: string | undefined): Promise<string> {
  const args = /-client(\.[^./]+)?$/.test(basename(path)) ? ['--vault-id', id ?? 'default'] : [];
  return new Promise((done, fail) => {
    // stdin stays the terminal so a script may prompt by itself.
    const child = spawn(path, args, { stdio: ['inherit', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) =>
      fail(
        new ObiamError('E_VAULT_PASSWORD_SCRIPT', `vault password script ${path} could not run: ${e.message}`, {
          remedy: 'check the script has a valid #! line and is executable, or make it a plain (non-executable) file',
          exitCode: EXIT.BAD_OPTIONS,
        }),
      ),
    );
    child.on('close', (code, signal) => {
      if (code !== 0) {
        const stderr = Buffer.concat(err).toString('utf8').trim().split('\n').slice(-3).join(' | ');
        fail(
          new ObiamError('E_VAULT_PASSWORD_SCRIPT', `vault password script ${path} failed (${signal ?? `exit ${code}`})${stderr ? `: ${stderr}` : ''}`, {
            remedy: 'run the script by hand to see why; it must print the password on stdout and exit 0',
            exitCode: EXIT.BAD_OPTIONS,
          }),
        );
        return;
      }
      done(Buffer.concat(out).toString('utf8').replace(/[\r\n]+$/, ''));
    });
  });
}

/** Reads one password file: runs it when executable, else its first line (surrounding blanks removed). */
export async function readPasswordFile(path: string, id?: string, cwd = process.cwd(), warn: (message: string) => void = stderrWarn): Promise<VaultSecret> {
  const full = resolve(cwd, path);
  let st;
  try {
    st = statSync(full);
  } catch {
    throw new ObiamError('E_VAULT_PASSWORD_FILE', `vault password file not found: ${path}`, {
      remedy: 'check the path given to --vault-password-file / --vault-id / OBIAM_VAULT_PASSWORD_FILE',
      exitCode: EXIT.BAD_OPTIONS,
    });
  }
  if (!st.isFile()) {
    throw new ObiamError('E_VAULT_PASSWORD_FILE', `vault password file is not a regular file: ${path}`, {
      remedy: 'point --vault-password-file at a file holding the password',
      exitCode: EXIT.BAD_OPTIONS,
    });
  }
  let password: string;
  let source: string;
  const warning = passwordFileWarning(path, st.mode, isExecutable(full));
  if (warning) warn(warning);
  if (isExecutable(full)) {
    password = await runPasswordScript(full, id);
    source = `vault password script ${path}`;
  } else {
    password = (readFileSync(full, 'utf8').trim().split(/\r?\n/)[0] ?? '').trim();
    source = `vault password file ${path}`;
  }
  if (password.length === 0) throw emptyPassword(source);
  registerSecret(password);
  return { id, password, source };
}

function noTty(question: string): ObiamError {
  return new ObiamError('E_NO_TTY', `a vault password is needed ("${question.trim()}") but stdin is not a terminal`, {
    remedy: 'use --vault-password-file FILE (or OBIAM_VAULT_PASSWORD_FILE) when not running interactively',
    exitCode: EXIT.BAD_OPTIONS,
  });
}

/** The controlling terminal, when stdin is not one (`secret | obiam-run vault encrypt-string`). */
function openDevTty(): ReadStream | undefined {
  try {
    return new ReadStream(openSync('/dev/tty', 'r'));
  } catch {
    return undefined;
  }
}

/**
 * Asks on the terminal with echo off; the question goes to stderr so stdout stays clean. When stdin
 * carries data (a pipe), the question is asked on /dev/tty, as ansible-vault does; E_NO_TTY when
 * there is no terminal at all.
 */
export function promptHidden(question: string, given?: NodeJS.ReadableStream & { isTTY?: boolean }): Promise<string> {
  const input0 = given ?? process.stdin;
  const tty = input0.isTTY || given ? undefined : openDevTty();
  const input = tty ?? input0;
  if (!input.isTTY) return Promise.reject(noTty(question));
  return new Promise<string>((done, fail) => {
    let muted = false;
    const output = new Writable({
      write(chunk: Buffer, _enc, cb) {
        if (!muted) process.stderr.write(chunk);
        cb();
      },
    });
    const rl = createInterface({ input, output, terminal: true });
    rl.on('SIGINT', () => {
      rl.close();
      tty?.destroy();
      process.stderr.write('\n');
      fail(new ObiamError('E_INTERRUPTED', 'interrupted at the vault password prompt', { exitCode: EXIT.INTERRUPTED }));
    });
    rl.question(question, (answer) => {
      rl.close();
      tty?.destroy();
      process.stderr.write('\n');
      done(answer);
    });
    // The question is written synchronously above; from here on every echo is swallowed.
    muted = true;
  });
}

async function promptSecret(id: string | undefined, opts: LoadSecretsOptions): Promise<VaultSecret> {
  const ask = opts.prompt ?? ((q: string) => promptHidden(q));
  const suffix = id ? ` (${id})` : '';
  let password: string;
  if (opts.confirm) {
    password = await ask(`New Vault password${suffix}: `);
    const again = await ask(`Confirm New Vault password${suffix}: `);
    if (again !== password) {
      throw new ObiamError('E_VAULT_PASSWORD_MISMATCH', 'the vault passwords do not match', {
        remedy: 'type the same new password twice',
        exitCode: EXIT.BAD_OPTIONS,
      });
    }
  } else {
    password = await ask(`Vault password${suffix}: `);
  }
  if (password.length === 0) throw emptyPassword('the prompt');
  registerSecret(password);
  return { id, password, source: `prompt${suffix}` };
}

/**
 * Loads every vault password given, in ansible's order: --vault-id, --vault-password-file,
 * OBIAM_VAULT_PASSWORD_FILE, --ask-vault-pass (and a prompt when nothing was given and autoPrompt).
 */
export async function loadVaultSecrets(opts: LoadSecretsOptions): Promise<VaultSecret[]> {
  const specs: SecretSpec[] = [
    ...(opts.vaultIds ?? []).map(parseSecretSpec),
    ...(opts.passwordFiles ?? []).map(parseSecretSpec),
  ];
  if (opts.envFile) specs.push(parseSecretSpec(opts.envFile));
  if (opts.askVaultPass) specs.push({ value: 'prompt' });
  if (specs.length === 0 && opts.autoPrompt) specs.push({ value: 'prompt' });

  const secrets: VaultSecret[] = [];
  const seen = new Set<string>();
  for (const spec of specs) {
    // The same source twice (e.g. --ask-vault-pass and --vault-id prompt) is read once.
    const key = `${spec.id ?? ''}@${isPromptSource(spec.value) ? 'prompt' : resolve(opts.cwd ?? process.cwd(), spec.value)}`;
    if (seen.has(key)) continue;
    seen.add(key);
    if (spec.value.length === 0) {
      throw new ObiamError('E_VAULT_PASSWORD_FILE', `empty vault password source in "${spec.id ?? ''}@"`, {
        remedy: 'write it as ID@PATH or ID@prompt',
        exitCode: EXIT.BAD_OPTIONS,
      });
    }
    secrets.push(isPromptSource(spec.value) ? await promptSecret(spec.id, opts) : await readPasswordFile(spec.value, spec.id, opts.cwd, opts.warn));
  }
  return secrets;
}
