import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync, lstatSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { vaultCommand } from '../../src/cli/vault-command.js';
import { ObiamError } from '../../src/errors.js';
import { decryptVault, decryptVaultBytes, encryptVault, parseVaultEnvelope } from '../../src/vault/vault.js';

let root: string;
let dir: string;
let n = 0;
const f = (name: string) => join(dir, name);
const read = (name: string) => readFileSync(f(name), 'utf8');
const pwOf = (password: string) => [{ password, source: 't' }];

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'obr-vault-cli-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));
beforeEach(() => {
  dir = mkdtempSync(join(root, `case${n++}-`));
  writeFileSync(f('pw'), 'cli-pass\n');
  writeFileSync(f('pw2'), 'second-pass\n');
});

function exitOverrideAll(cmd: Command): void {
  cmd.exitOverride();
  for (const c of cmd.commands) exitOverrideAll(c);
}

interface RunOptions {
  env?: NodeJS.ProcessEnv;
  stdin?: string;
  answers?: string[];
}

/** Runs `vault <args>` in-process against the case directory. */
async function vault(args: string[], o: RunOptions = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const questions: string[] = [];
  const answers = [...(o.answers ?? [])];
  const cmd = vaultCommand({
    out: (s) => out.push(s),
    err: (s) => err.push(s),
    cwd: dir,
    env: o.env ?? {},
    readStdin: async () => Buffer.from(o.stdin ?? ''),
    prompt: async (q) => {
      questions.push(q);
      const a = answers.shift();
      if (a === undefined) throw new Error(`unexpected prompt: ${q}`);
      return a;
    },
  });
  exitOverrideAll(cmd);
  await cmd.parseAsync(args, { from: 'user' });
  return { out: out.join(''), err: err.join(''), questions };
}

async function failure(p: Promise<unknown>): Promise<ObiamError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(ObiamError);
    return e as ObiamError;
  }
  throw new Error('expected the command to fail');
}

/** An $EDITOR script: runs `body` with $1 = the temp file, and logs the temp path and its dir mode. */
function editor(name: string, body: string): string {
  const path = f(name);
  writeFileSync(path, `#!/bin/sh\necho "$1" > "${f(`${name}.log`)}"\nstat -c %a "$(dirname "$1")" >> "${f(`${name}.log`)}"\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

describe('vault encrypt', () => {
  it('encrypts files in place, keeping their mode', async () => {
    writeFileSync(f('a.yml'), 'a: 1\n');
    writeFileSync(f('b.yml'), 'b: 2\n');
    chmodSync(f('a.yml'), 0o640);
    const r = await vault(['encrypt', '--vault-password-file', 'pw', 'a.yml', 'b.yml']);
    expect(r.err).toBe('Encryption successful\n');
    expect(read('a.yml').split('\n')[0]).toBe('$ANSIBLE_VAULT;1.1;AES256');
    expect(decryptVault(read('a.yml'), pwOf('cli-pass'))).toBe('a: 1\n');
    expect(decryptVault(read('b.yml'), pwOf('cli-pass'))).toBe('b: 2\n');
    expect(statSync(f('a.yml')).mode & 0o777).toBe(0o640);
  });

  it('refuses a file that is already encrypted, leaving it alone', async () => {
    const payload = encryptVault('x', 'cli-pass');
    writeFileSync(f('v.yml'), payload);
    writeFileSync(f('plain.yml'), 'p\n');
    const err = await failure(vault(['encrypt', '--vault-password-file', 'pw', 'plain.yml', 'v.yml']));
    expect(err.code).toBe('E_VAULT_ALREADY_ENCRYPTED');
    expect(err.message).toContain('v.yml');
    expect(read('v.yml')).toBe(payload);
    expect(read('plain.yml')).toBe('p\n');
  });

  it('writes --output to a new 0600 file or to stdout', async () => {
    writeFileSync(f('src.txt'), 'source\n');
    await vault(['encrypt', '--vault-password-file', 'pw', '--output', 'out.vault', 'src.txt']);
    expect(read('src.txt')).toBe('source\n');
    expect(statSync(f('out.vault')).mode & 0o777).toBe(0o600);
    expect(decryptVault(read('out.vault'), pwOf('cli-pass'))).toBe('source\n');
    const r = await vault(['encrypt', '--vault-password-file', 'pw', '--output', '-', 'src.txt']);
    expect(decryptVault(r.out, pwOf('cli-pass'))).toBe('source\n');
  });

  it('encrypts stdin with "-"', async () => {
    const r = await vault(['encrypt', '--vault-password-file', 'pw', '--output', '-', '-'], { stdin: 'piped\n' });
    expect(decryptVault(r.out, pwOf('cli-pass'))).toBe('piped\n');
  });

  it('refuses --output with several files', async () => {
    writeFileSync(f('a'), 'a');
    writeFileSync(f('b'), 'b');
    const err = await failure(vault(['encrypt', '--vault-password-file', 'pw', '--output', 'o', 'a', 'b']));
    expect(err.code).toBe('E_BAD_OPTIONS');
    expect(err.exitCode).toBe(5);
  });

  it('labels the file with the vault id, and needs --encrypt-vault-id when several ids are given', async () => {
    writeFileSync(f('a'), 'a\n');
    const amb = await failure(vault(['encrypt', '--vault-id', 'dev@pw', '--vault-id', 'prod@pw2', 'a']));
    expect(amb.message).toContain('dev, prod');
    expect(amb.remedy).toContain('--encrypt-vault-id');
    const unknown = await failure(vault(['encrypt', '--vault-id', 'dev@pw', '--encrypt-vault-id', 'qa', 'a']));
    expect(unknown.code).toBe('E_BAD_OPTIONS');
    expect(read('a')).toBe('a\n');
    await vault(['encrypt', '--vault-id', 'dev@pw', '--vault-id', 'prod@pw2', '--encrypt-vault-id', 'prod', 'a']);
    expect(read('a').split('\n')[0]).toBe('$ANSIBLE_VAULT;1.2;AES256;prod');
    expect(decryptVault(read('a'), pwOf('second-pass'))).toBe('a\n');
  });

  it('prompts for a new password twice when no source is given', async () => {
    writeFileSync(f('a'), 'a\n');
    const r = await vault(['encrypt', 'a'], { answers: ['typed-pw', 'typed-pw'] });
    expect(r.questions).toEqual(['New Vault password: ', 'Confirm New Vault password: ']);
    expect(decryptVault(read('a'), pwOf('typed-pw'))).toBe('a\n');
    writeFileSync(f('b'), 'b\n');
    expect((await failure(vault(['encrypt', 'b'], { answers: ['x1x', 'x2x'] }))).code).toBe('E_VAULT_PASSWORD_MISMATCH');
    expect(read('b')).toBe('b\n');
  });

  it('reads the password file named by OBIAM_VAULT_PASSWORD_FILE', async () => {
    writeFileSync(f('a'), 'env\n');
    await vault(['encrypt', 'a'], { env: { OBIAM_VAULT_PASSWORD_FILE: f('pw2') } });
    expect(decryptVault(read('a'), pwOf('second-pass'))).toBe('env\n');
  });

  it('fails with E_VAULT_PASSWORD_FILE for a missing password file', async () => {
    writeFileSync(f('a'), 'a\n');
    const err = await failure(vault(['encrypt', '--vault-password-file', 'no-such-pw', 'a']));
    expect(err.code).toBe('E_VAULT_PASSWORD_FILE');
    expect(err.exitCode).toBe(5);
    expect(err.message).toContain('no-such-pw');
  });
});

describe('vault decrypt / view', () => {
  it('decrypts in place and to stdout', async () => {
    writeFileSync(f('a'), encryptVault('secret a\n', 'cli-pass'));
    writeFileSync(f('b'), encryptVault('secret b\n', 'cli-pass'));
    const r = await vault(['decrypt', '--vault-password-file', 'pw', '--output', '-', 'b']);
    expect(r.out).toBe('secret b\n');
    expect(read('b').startsWith('$ANSIBLE_VAULT')).toBe(true);
    const r2 = await vault(['decrypt', '--vault-password-file', 'pw', 'a', 'b']);
    expect(r2.err).toBe('Decryption successful\n');
    expect(read('a')).toBe('secret a\n');
    expect(read('b')).toBe('secret b\n');
  });

  it('changes nothing when one of the files cannot be decrypted', async () => {
    const a = encryptVault('a\n', 'cli-pass');
    const b = encryptVault('b\n', 'other');
    writeFileSync(f('a'), a);
    writeFileSync(f('b'), b);
    const err = await failure(vault(['decrypt', '--vault-password-file', 'pw', 'a', 'b']));
    expect(err.code).toBe('E_VAULT_PASSWORD');
    expect(err.message).toBe('Decryption failed (no vault secrets were found that could decrypt) on b: the vault password is wrong for it (tried vault password file pw)');
    expect(read('a')).toBe(a);
    expect(read('b')).toBe(b);
  });

  it('refuses plain files and missing files', async () => {
    writeFileSync(f('plain'), 'hello\n');
    expect((await failure(vault(['decrypt', '--vault-password-file', 'pw', 'plain']))).code).toBe('E_VAULT_NOT_ENCRYPTED');
    expect((await failure(vault(['view', '--vault-password-file', 'pw', 'gone']))).code).toBe('E_VAULT_FILE_READ');
  });

  it('decrypts through a symlink and keeps the link', async () => {
    writeFileSync(f('target'), encryptVault('linked\n', 'cli-pass'));
    symlinkSync(f('target'), f('link'));
    await vault(['decrypt', '--vault-password-file', 'pw', 'link']);
    expect(lstatSync(f('link')).isSymbolicLink()).toBe(true);
    expect(read('target')).toBe('linked\n');
  });

  it('views with any of several ids, prompting when asked', async () => {
    writeFileSync(f('v'), encryptVault('for prod\n', 'prompted', { vaultId: 'prod' }));
    const r = await vault(['view', '--vault-id', 'dev@pw', '--vault-id', 'prod@prompt', 'v'], { answers: ['prompted'] });
    expect(r.questions).toEqual(['Vault password (prod): ']);
    expect(r.out).toBe('for prod\n');
    const r2 = await vault(['view', '-J', 'v'], { answers: ['prompted'] });
    expect(r2.out).toBe('for prod\n');
  });
});

describe('vault edit / create', () => {
  it('re-encrypts an edited file with the same vault id, in a private temp dir that is removed', async () => {
    writeFileSync(f('e.yml'), encryptVault('k: old\n', 'cli-pass', { vaultId: 'dev' }));
    const ed = editor('append.sh', 'echo "k2: new" >> "$1"');
    await vault(['edit', '--vault-id', 'dev@pw', 'e.yml'], { env: { EDITOR: ed, PATH: process.env.PATH } });
    const payload = read('e.yml');
    expect(parseVaultEnvelope(payload).vaultId).toBe('dev');
    expect(decryptVault(payload, pwOf('cli-pass'))).toBe('k: old\nk2: new\n');
    const [tmpFile, mode] = read('append.sh.log').trim().split('\n');
    expect(tmpFile!.endsWith('/e.yml')).toBe(true);
    expect(tmpFile!.startsWith(dir)).toBe(false);
    expect(mode).toBe('700');
    expect(existsSync(tmpFile!)).toBe(false);
    expect(existsSync(join(tmpFile!, '..'))).toBe(false);
  });

  it('leaves the file byte for byte when nothing changed', async () => {
    const payload = encryptVault('same\n', 'cli-pass');
    writeFileSync(f('u'), payload);
    const ed = editor('noop.sh', 'true');
    const r = await vault(['edit', '--vault-password-file', 'pw', 'u'], { env: { EDITOR: ed } });
    expect(read('u')).toBe(payload);
    expect(r.err).toContain('unchanged');
  });

  it('keeps the file and removes the temp dir when the editor fails', async () => {
    const payload = encryptVault('keep\n', 'cli-pass');
    writeFileSync(f('k'), payload);
    const ed = editor('fail.sh', 'echo changed > "$1"; exit 3');
    const err = await failure(vault(['edit', '--vault-password-file', 'pw', 'k'], { env: { EDITOR: ed } }));
    expect(err.code).toBe('E_VAULT_EDITOR');
    expect(read('k')).toBe(payload);
    expect(existsSync(read('fail.sh.log').split('\n')[0]!)).toBe(false);
  });

  it('passes EDITOR arguments through (quoted words)', async () => {
    writeFileSync(f('q'), encryptVault('q\n', 'cli-pass'));
    const ed = f('args.sh');
    writeFileSync(ed, '#!/bin/sh\nprintf "%s\\n" "$@" > "$(dirname "$0")/args.out"\n');
    chmodSync(ed, 0o755);
    // The editor sees its own words first, then the file.
    await vault(['edit', '--vault-password-file', 'pw', 'q'], { env: { EDITOR: `'${ed}' --wait "two words"` } });
    const args = read('args.out').trim().split('\n');
    expect(args.slice(0, 2)).toEqual(['--wait', 'two words']);
    expect(args[2]!.endsWith('/q')).toBe(true);
  });

  it('creates a new encrypted file, and refuses an existing one', async () => {
    const ed = editor('write.sh', 'echo "fresh: 1" > "$1"');
    await vault(['create', '--vault-password-file', 'pw', 'new.yml'], { env: { EDITOR: ed } });
    expect(decryptVault(read('new.yml'), pwOf('cli-pass'))).toBe('fresh: 1\n');
    expect(statSync(f('new.yml')).mode & 0o777).toBe(0o600);
    expect((await failure(vault(['create', '--vault-password-file', 'pw', 'new.yml'], { env: { EDITOR: ed } }))).code).toBe('E_VAULT_FILE_EXISTS');
  });
});

describe('vault encrypt-string', () => {
  it('prints a named !vault block for an argument', async () => {
    const r = await vault(['encrypt-string', '--vault-password-file', 'pw', '--name', 'db_password', 'Pa55!']);
    const lines = r.out.split('\n');
    expect(lines[0]).toBe('db_password: !vault |');
    expect(lines[1]).toBe('          $ANSIBLE_VAULT;1.1;AES256');
    expect(r.out.endsWith('\n')).toBe(true);
    expect(decryptVault(lines.slice(1).join('\n'), pwOf('cli-pass'))).toBe('Pa55!');
    expect(r.err).toBe('Encryption successful\n');
  });

  it('reads the value from stdin with --stdin-name, dropping one trailing newline unless asked', async () => {
    const r = await vault(['encrypt-string', '--vault-password-file', 'pw', '--stdin-name', 'token'], { stdin: 'from-stdin\n' });
    expect(r.out.split('\n')[0]).toBe('token: !vault |');
    expect(decryptVault(r.out.split('\n').slice(1).join('\n'), pwOf('cli-pass'))).toBe('from-stdin');
    const keep = await vault(['encrypt-string', '--vault-password-file', 'pw', '--keep-trailing-newline'], { stdin: 'kept\n' });
    expect(keep.out.split('\n')[0]).toBe('!vault |');
    expect(decryptVault(keep.out.split('\n').slice(1).join('\n'), pwOf('cli-pass'))).toBe('kept\n');
  });

  it('refuses an empty value and a value given twice', async () => {
    expect((await failure(vault(['encrypt-string', '--vault-password-file', 'pw'], { stdin: '' }))).code).toBe('E_VAULT_EMPTY_PLAINTEXT');
    expect((await failure(vault(['encrypt-string', '--vault-password-file', 'pw', '--stdin-name', 'x', 'val']))).code).toBe('E_BAD_OPTIONS');
  });
});

describe('vault rekey', () => {
  it('re-encrypts with the new password; the old one no longer opens it', async () => {
    writeFileSync(f('r1'), encryptVault('one\n', 'cli-pass'));
    writeFileSync(f('r2'), encryptVault('two\n', 'cli-pass', { vaultId: 'dev' }));
    const r = await vault(['rekey', '--vault-password-file', 'pw', '--new-vault-password-file', 'ops@pw2', 'r1', 'r2']);
    expect(r.err).toBe('Rekey successful\n');
    for (const [name, text] of [['r1', 'one\n'], ['r2', 'two\n']] as const) {
      const payload = read(name);
      expect(payload.split('\n')[0]).toBe('$ANSIBLE_VAULT;1.2;AES256;ops');
      expect(decryptVaultBytes(payload, pwOf('second-pass')).plaintext.toString()).toBe(text);
      expect(() => decryptVault(payload, pwOf('cli-pass'))).toThrow(/Decryption failed/);
    }
  });

  it('prompts for the new password when no new source is given', async () => {
    writeFileSync(f('r'), encryptVault('r\n', 'cli-pass'));
    const r = await vault(['rekey', '--vault-password-file', 'pw', 'r'], { answers: ['nn-pw', 'nn-pw'] });
    expect(r.questions).toEqual(['New Vault password: ', 'Confirm New Vault password: ']);
    expect(decryptVault(read('r'), pwOf('nn-pw'))).toBe('r\n');
  });
});

describe('commander wiring', () => {
  it('rejects a missing file argument through exitOverride', async () => {
    await expect(vault(['view', '--vault-password-file', 'pw'])).rejects.toMatchObject({ code: 'commander.missingArgument' });
  });

  it('prints help to ctx.out', async () => {
    const out: string[] = [];
    const cmd = vaultCommand({ out: (s) => out.push(s), err: () => undefined });
    exitOverrideAll(cmd);
    await expect(cmd.parseAsync(['encrypt-string', '--help'], { from: 'user' })).rejects.toMatchObject({ code: 'commander.helpDisplayed' });
    expect(out.join('')).toContain('--stdin-name');
    expect(out.join('')).toContain('--vault-password-file');
  });
});
