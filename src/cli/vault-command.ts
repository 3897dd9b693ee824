// `obiam-run vault ...`: the ansible-vault subcommands (encrypt, decrypt, view, edit, create,
// encrypt-string, rekey), reading and writing the same files ansible-vault does.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdtempSync, readFileSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { Command } from 'commander';
import { EXIT, ObiamError } from '../errors.js';
import { loadVaultSecrets, type PromptFn } from '../vault/secrets.js';
import { isVaultPayload } from '../vault/types.js';
import { decryptVaultBytes, effectiveVaultId, encryptString, encryptVault, type VaultSecret } from '../vault/vault.js';

export interface VaultCommandContext {
  /** Raw writes to stdout (no newline is added). */
  out: (s: string) => void;
  /** Raw writes to stderr (no newline is added). */
  err: (s: string) => void;
  /** Password prompt; defaults to a hidden prompt on the terminal. */
  prompt?: PromptFn;
  /** Reads all of stdin (for `-` and encrypt-string); defaults to process.stdin. */
  readStdin?: () => Promise<Buffer>;
  /** stdin is a terminal (encrypt-string then says how to end the value); defaults to process.stdin.isTTY. */
  stdinIsTTY?: boolean;
  /** Environment for EDITOR and OBIAM_VAULT_PASSWORD_FILE; defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  /** Directory relative paths are resolved against; defaults to process.cwd(). */
  cwd?: string;
}

interface SecretOptions {
  vaultPasswordFile: string[];
  vaultId: string[];
  askVaultPass?: boolean;
  encryptVaultId?: string;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

function withSecretOptions(cmd: Command): Command {
  return cmd
    .option('--vault-password-file <spec>', 'vault password file, [id@]path; executable files are run (repeatable)', collect, [])
    .option('--vault-id <spec>', 'vault identity: id@path, id@prompt, path or prompt (repeatable)', collect, [])
    .option('-J, --ask-vault-pass', 'ask for the vault password')
    .option('--encrypt-vault-id <id>', 'the vault id whose password encrypts (when several are given)');
}

function badOption(message: string, remedy: string): ObiamError {
  return new ObiamError('E_BAD_OPTIONS', message, { remedy, exitCode: EXIT.BAD_OPTIONS });
}

async function readAllStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks);
}

/** Splits $EDITOR like a shell word list (quotes, no expansion): `code --wait` is two words. */
export function splitCommandLine(line: string): string[] {
  const words: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g;
  for (let m = re.exec(line); m; m = re.exec(line)) words.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : (m[2] ?? m[3]!));
  return words;
}

class VaultCli {
  constructor(private readonly ctx: VaultCommandContext) {}

  private get env(): NodeJS.ProcessEnv {
    return this.ctx.env ?? process.env;
  }

  private path(p: string): string {
    return resolve(this.ctx.cwd ?? process.cwd(), p);
  }

  secrets(o: SecretOptions, confirm = false): Promise<VaultSecret[]> {
    return loadVaultSecrets({
      passwordFiles: o.vaultPasswordFile,
      vaultIds: o.vaultId,
      askVaultPass: o.askVaultPass,
      envFile: this.env.OBIAM_VAULT_PASSWORD_FILE || undefined,
      prompt: this.ctx.prompt,
      autoPrompt: true,
      confirm,
      cwd: this.ctx.cwd,
    });
  }

  /** The one secret that encrypts, as ansible-vault picks it. */
  async encryptSecret(o: SecretOptions): Promise<VaultSecret> {
    const secrets = await this.secrets(o, true);
    const ids = secrets.map((s) => s.id ?? 'default');
    if (o.encryptVaultId !== undefined) {
      const want = effectiveVaultId(o.encryptVaultId);
      const found = secrets.find((s) => effectiveVaultId(s.id) === want);
      if (!found) {
        throw badOption(`no vault password with id "${o.encryptVaultId}" for --encrypt-vault-id (known ids: ${ids.join(', ')})`, 'give that id a password with --vault-id ID@FILE or ID@prompt');
      }
      return found;
    }
    if (secrets.length > 1) {
      throw badOption(`the vault ids ${ids.join(', ')} are all available to encrypt`, 'choose the one to encrypt with --encrypt-vault-id ID');
    }
    return secrets[0]!;
  }

  async read(file: string): Promise<Buffer> {
    if (file === '-') return (this.ctx.readStdin ?? readAllStdin)();
    try {
      return readFileSync(this.path(file));
    } catch (e) {
      const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message;
      throw new ObiamError('E_VAULT_FILE_READ', `cannot read ${file}: ${why}`, { remedy: 'check the file path', exitCode: EXIT.ERROR });
    }
  }

  /** Writes to `-` (stdout), replaces an existing file atomically keeping its mode, or creates one 0600. */
  write(target: string, data: Buffer | string): void {
    if (target === '-') {
      this.ctx.out(typeof data === 'string' ? data : data.toString('utf8'));
      return;
    }
    const full = this.path(target);
    if (!existsSync(full)) {
      // Plaintext or ciphertext of a secret: nobody else needs to read it.
      writeFileSync(full, data, { mode: 0o600 });
      return;
    }
    const real = realpathSync(full); // edit the file a symlink points to, keep the link
    const st = statSync(real);
    const tmp = join(dirname(real), `.${basename(real)}.obiam-${randomBytes(6).toString('hex')}`);
    try {
      writeFileSync(tmp, data, { mode: 0o600, flag: 'wx' });
      chmodSync(tmp, st.mode & 0o7777);
      if (process.getuid?.() === 0) chownSync(tmp, st.uid, st.gid);
      renameSync(tmp, real);
    } catch (e) {
      rmSync(tmp, { force: true });
      throw new ObiamError('E_VAULT_FILE_WRITE', `cannot write ${target}: ${(e as Error).message}`, {
        remedy: 'check the directory is writable',
        exitCode: EXIT.ERROR,
      });
    }
  }

  notEncrypted(file: string): ObiamError {
    return new ObiamError('E_VAULT_NOT_ENCRYPTED', `input is not vault encrypted data: ${file}`, {
      remedy: 'this file is plain text; encrypt it first with `vault encrypt`',
      exitCode: EXIT.ERROR,
    });
  }

  checkOutput(files: string[], output: string | undefined): void {
    if (output !== undefined && files.length > 1) throw badOption('--output takes a single input file', 'run the command once per file');
  }

  async encrypt(files: string[], o: SecretOptions & { output?: string }): Promise<void> {
    this.checkOutput(files, o.output);
    const inputs = await Promise.all(files.map(async (f) => ({ f, data: await this.read(f) })));
    for (const { f, data } of inputs) {
      if (isVaultPayload(data.toString('latin1'))) {
        throw new ObiamError('E_VAULT_ALREADY_ENCRYPTED', `input is already encrypted: ${f}`, {
          remedy: 'use `vault rekey` to change its password, or `vault decrypt` first',
          exitCode: EXIT.ERROR,
        });
      }
    }
    const secret = await this.encryptSecret(o);
    for (const { f, data } of inputs) this.write(o.output ?? f, encryptVault(data, secret.password, { vaultId: secret.id }));
    this.ctx.err('Encryption successful\n');
  }

  async decryptFile(file: string, secrets: VaultSecret[]): Promise<ReturnType<typeof decryptVaultBytes>> {
    const text = (await this.read(file)).toString('utf8');
    if (!isVaultPayload(text)) throw this.notEncrypted(file);
    return decryptVaultBytes(text, secrets, file);
  }

  async decrypt(files: string[], o: SecretOptions & { output?: string }): Promise<void> {
    this.checkOutput(files, o.output);
    const secrets = await this.secrets(o);
    // Decrypt everything before writing anything: one wrong password leaves all files as they were.
    const plain = [];
    for (const f of files) plain.push({ f, data: (await this.decryptFile(f, secrets)).plaintext });
    for (const { f, data } of plain) this.write(o.output ?? f, data);
    this.ctx.err('Decryption successful\n');
  }

  async view(files: string[], o: SecretOptions): Promise<void> {
    const secrets = await this.secrets(o);
    for (const f of files) this.ctx.out((await this.decryptFile(f, secrets)).plaintext.toString('utf8'));
  }

  /** Runs $EDITOR on a private temp copy; returns the edited bytes. The temp dir is always removed. */
  async runEditor(file: string, initial: Buffer): Promise<Buffer> {
    const dir = mkdtempSync(join(tmpdir(), 'obiam-vault-'));
    try {
      chmodSync(dir, 0o700);
      const tmp = join(dir, basename(file)); // same name, so the editor picks the right syntax
      writeFileSync(tmp, initial, { mode: 0o600 });
      const words = splitCommandLine(this.env.EDITOR || this.env.VISUAL || 'vi');
      if (words.length === 0) throw badOption('$EDITOR is empty', 'set EDITOR to your editor, e.g. EDITOR=nano');
      const [cmd, ...args] = words;
      await new Promise<void>((done, fail) => {
        const child = spawn(cmd!, [...args, tmp], { stdio: 'inherit', env: this.env });
        child.on('error', (e) =>
          fail(new ObiamError('E_VAULT_EDITOR', `cannot start the editor "${cmd}": ${e.message}`, { remedy: 'set EDITOR to an installed editor', exitCode: EXIT.ERROR })),
        );
        child.on('close', (code, signal) =>
          code === 0
            ? done()
            : fail(
                new ObiamError('E_VAULT_EDITOR', `the editor "${cmd}" failed (${signal ?? `exit ${code}`}); ${file} was not changed`, {
                  remedy: 'exit the editor normally to save the changes',
                  exitCode: EXIT.ERROR,
                }),
              ),
        );
      });
      return readFileSync(tmp);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  async edit(file: string, o: SecretOptions): Promise<void> {
    const secrets = await this.secrets(o);
    const { plaintext, secret } = await this.decryptFile(file, secrets);
    const edited = await this.runEditor(file, plaintext);
    if (edited.equals(plaintext)) {
      this.ctx.err(`${file} unchanged, not re-encrypting\n`);
      return;
    }
    this.write(file, encryptVault(edited, secret.password, { vaultId: secret.id }));
  }

  async create(file: string, o: SecretOptions): Promise<void> {
    if (existsSync(this.path(file))) {
      throw new ObiamError('E_VAULT_FILE_EXISTS', `${file} exists already`, { remedy: 'use `vault edit` for an existing file', exitCode: EXIT.ERROR });
    }
    const secret = await this.encryptSecret(o);
    const content = await this.runEditor(file, Buffer.alloc(0));
    this.write(file, encryptVault(content, secret.password, { vaultId: secret.id }));
  }

  async encryptString(value: string | undefined, o: SecretOptions & { name?: string; stdinName?: string; keepTrailingNewline?: boolean }): Promise<void> {
    if (value !== undefined && o.stdinName !== undefined) {
      throw badOption('give the value either as an argument or on stdin (--stdin-name), not both', 'drop STRING to read it from stdin');
    }
    let plain: string;
    let name = o.name;
    // The password first, as ansible-vault asks it: once stdin has been read to its end (Ctrl-D) a
    // prompt on it would never be answered.
    const secret = await this.encryptSecret(o);
    if (value === undefined || value === '-') {
      if (this.ctx.stdinIsTTY ?? process.stdin.isTTY) {
        this.ctx.err('Type the value to encrypt, then Ctrl-D on a line of its own (twice at the end of a line that has text)\n');
      }
      plain = (await (this.ctx.readStdin ?? readAllStdin)()).toString('utf8');
      // `echo secret | ...` should vault "secret", not "secret\n" (ansible-vault keeps the newline).
      if (!o.keepTrailingNewline) plain = plain.replace(/\r?\n$/, '');
      name = o.stdinName ?? name;
    } else {
      plain = value;
    }
    if (plain.length === 0) {
      throw new ObiamError('E_VAULT_EMPTY_PLAINTEXT', 'the value to encrypt is empty; not encrypting', {
        remedy: 'give a non-empty STRING or pipe the value on stdin',
        exitCode: EXIT.BAD_OPTIONS,
      });
    }
    this.ctx.out(encryptString(plain, secret.password, name, secret.id) + '\n');
    this.ctx.err('Encryption successful\n');
  }

  async rekey(files: string[], o: SecretOptions & { newVaultPasswordFile?: string; newVaultId?: string }): Promise<void> {
    const secrets = await this.secrets(o);
    const plain = [];
    for (const f of files) plain.push({ f, data: (await this.decryptFile(f, secrets)).plaintext });
    const newSpecs = [o.newVaultId, o.newVaultPasswordFile].filter((s): s is string => s !== undefined);
    if (newSpecs.length > 1) throw badOption('give either --new-vault-id or --new-vault-password-file', 'keep one of them');
    const [fresh] = await loadVaultSecrets({
      vaultIds: newSpecs,
      prompt: this.ctx.prompt,
      autoPrompt: true,
      confirm: true,
      cwd: this.ctx.cwd,
    });
    for (const { f, data } of plain) this.write(f, encryptVault(data, fresh!.password, { vaultId: fresh!.id }));
    this.ctx.err('Rekey successful\n');
  }
}

/** The `vault` command tree; ObiamErrors propagate to the caller's single error boundary. */
export function vaultCommand(ctx: VaultCommandContext): Command {
  const cli = new VaultCli(ctx);
  const vault = new Command('vault')
    .description('encrypt, decrypt, view and edit ansible-vault files and values')
    .configureOutput({ writeOut: ctx.out, writeErr: ctx.err });
  const opts = <T>(cmd: Command): T => cmd.opts<Record<string, unknown>>() as T;

  withSecretOptions(vault.command('encrypt').description('encrypt files in place (- reads stdin, writes stdout)'))
    .argument('<file...>')
    .option('--output <file>', 'write here instead of in place (- for stdout)')
    .action((files: string[], _o, cmd: Command) => cli.encrypt(files, opts(cmd)));

  withSecretOptions(vault.command('decrypt').description('decrypt files in place'))
    .argument('<file...>')
    .option('--output <file>', 'write here instead of in place (- for stdout)')
    .action((files: string[], _o, cmd: Command) => cli.decrypt(files, opts(cmd)));

  withSecretOptions(vault.command('view').description('print decrypted files on stdout'))
    .argument('<file...>')
    .action((files: string[], _o, cmd: Command) => cli.view(files, opts(cmd)));

  withSecretOptions(vault.command('edit').description('edit an encrypted file with $EDITOR, re-encrypting it when changed'))
    .argument('<file>')
    .action((file: string, _o, cmd: Command) => cli.edit(file, opts(cmd)));

  withSecretOptions(vault.command('create').description('create a new encrypted file with $EDITOR'))
    .argument('<file>')
    .action((file: string, _o, cmd: Command) => cli.create(file, opts(cmd)));

  withSecretOptions(vault.command('encrypt-string').description('encrypt one value as a YAML `!vault |` block'))
    .argument('[string]', 'the value; read from stdin when omitted')
    .option('-n, --name <name>', 'the variable name to print before !vault')
    .option('--stdin-name <name>', 'read the value from stdin and name it')
    .option('--keep-trailing-newline', 'keep the final newline of a value read from stdin')
    .action((value: string | undefined, _o, cmd: Command) => cli.encryptString(value, opts(cmd)));

  withSecretOptions(vault.command('rekey').description('re-encrypt files with a new password'))
    .argument('<file...>')
    .option('--new-vault-password-file <spec>', 'the new password file, [id@]path')
    .option('--new-vault-id <spec>', 'the new vault identity, id@path or id@prompt')
    .action((files: string[], _o, cmd: Command) => cli.rekey(files, opts(cmd)));

  return vault;
}
