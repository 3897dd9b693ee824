import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ObiamError } from '../../src/errors.js';
import { loadVaultSecrets, parseSecretSpec, promptHidden, readPasswordFile } from '../../src/vault/secrets.js';

let dir: string;
const f = (name: string) => join(dir, name);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'obr-vault-secrets-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function rejection(p: Promise<unknown>): Promise<ObiamError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(ObiamError);
    return e as ObiamError;
  }
  throw new Error('expected a rejection');
}

/** A prompt that answers from a list and records the questions. */
function scripted(...answers: string[]) {
  const questions: string[] = [];
  return {
    questions,
    prompt: async (q: string) => {
      questions.push(q);
      const a = answers.shift();
      if (a === undefined) throw new Error(`unexpected prompt ${q}`);
      return a;
    },
  };
}

describe('parseSecretSpec', () => {
  it('splits [id@]source like ansible', () => {
    expect(parseSecretSpec('dev@/etc/pw')).toEqual({ id: 'dev', value: '/etc/pw' });
    expect(parseSecretSpec('dev@prompt')).toEqual({ id: 'dev', value: 'prompt' });
    expect(parseSecretSpec('default@pw')).toEqual({ id: undefined, value: 'pw' });
    expect(parseSecretSpec('pw.txt')).toEqual({ value: 'pw.txt' });
    expect(parseSecretSpec('./keys/a@b')).toEqual({ value: './keys/a@b' });
    expect(parseSecretSpec('@x')).toEqual({ value: '@x' });
  });
});

describe('readPasswordFile', () => {
  it('warns, like ssh for keys, when group or others can read a password file, and not when it is 0600', async () => {
    const warnings: string[] = [];
    writeFileSync(f('open'), 'pw-open\n');
    chmodSync(f('open'), 0o644);
    expect((await readPasswordFile(f('open'), undefined, undefined, (m) => warnings.push(m))).password).toBe('pw-open');
    expect(warnings).toEqual([`vault password file ${f('open')} is readable by others (mode 0644); run: chmod 600 ${f('open')}`]);
    chmodSync(f('open'), 0o600);
    await readPasswordFile(f('open'), undefined, undefined, (m) => warnings.push(m));
    expect(warnings).toHaveLength(1);
    writeFileSync(f('script.sh'), '#!/bin/sh\necho pw\n');
    chmodSync(f('script.sh'), 0o757);
    await readPasswordFile(f('script.sh'), undefined, undefined, (m) => warnings.push(m));
    expect(warnings[1]).toContain('can be changed by others (mode 0757)');
  });

  it('uses the first line of a plain file, without surrounding blanks', async () => {
    writeFileSync(f('p1'), '  hunter2 \r\nsecond line\n');
    expect(await readPasswordFile(f('p1'))).toEqual({ id: undefined, password: 'hunter2', source: `vault password file ${f('p1')}` });
  });

  it('runs an executable file and uses its stdout without the trailing newline', async () => {
    writeFileSync(f('p2.sh'), '#!/bin/sh\necho "  spaced pw"\n');
    chmodSync(f('p2.sh'), 0o755);
    const s = await readPasswordFile(f('p2.sh'), 'dev');
    expect(s).toMatchObject({ id: 'dev', password: '  spaced pw' });
    expect(s.source).toContain('script');
  });

  it('reports a failing script with its stderr', async () => {
    writeFileSync(f('p3.sh'), '#!/bin/sh\necho "vault backend down" >&2\nexit 4\n');
    chmodSync(f('p3.sh'), 0o755);
    const err = await rejection(readPasswordFile(f('p3.sh')));
    expect(err.code).toBe('E_VAULT_PASSWORD_SCRIPT');
    expect(err.message).toContain('exit 4');
    expect(err.message).toContain('vault backend down');
    expect(err.exitCode).toBe(5);
  });

  it('refuses a missing file, a directory and an empty password', async () => {
    const missing = await rejection(readPasswordFile(f('nope')));
    expect(missing.code).toBe('E_VAULT_PASSWORD_FILE');
    expect(missing.message).toContain(f('nope'));
    expect(missing.exitCode).toBe(5);
    mkdirSync(f('adir'));
    expect((await rejection(readPasswordFile(f('adir')))).code).toBe('E_VAULT_PASSWORD_FILE');
    writeFileSync(f('empty'), '\n\n');
    expect((await rejection(readPasswordFile(f('empty')))).code).toBe('E_VAULT_PASSWORD_EMPTY');
  });
});

describe('loadVaultSecrets', () => {
  it('loads --vault-id, then password files, then the env file, then --ask-vault-pass', async () => {
    writeFileSync(f('a'), 'pa\n');
    writeFileSync(f('b'), 'pb\n');
    writeFileSync(f('c'), 'pc\n');
    const p = scripted('typed', 'asked');
    const secrets = await loadVaultSecrets({
      passwordFiles: [`blue@${f('b')}`],
      vaultIds: [`red@${f('a')}`, 'green@prompt'],
      envFile: f('c'),
      askVaultPass: true,
      prompt: p.prompt,
    });
    expect(secrets.map((s) => [s.id, s.password])).toEqual([
      ['red', 'pa'],
      ['green', 'typed'],
      ['blue', 'pb'],
      [undefined, 'pc'],
      [undefined, 'asked'],
    ]);
    expect(p.questions).toEqual(['Vault password (green): ', 'Vault password: ']);
  });

  it('resolves relative paths against cwd and reads the same source once', async () => {
    writeFileSync(f('rel'), 'r\n');
    const p = scripted('once');
    const secrets = await loadVaultSecrets({ passwordFiles: ['rel', f('rel')], vaultIds: ['prompt'], askVaultPass: true, cwd: dir, prompt: p.prompt });
    expect(secrets.map((s) => s.password)).toEqual(['once', 'r']);
  });

  it('prompts only when asked to, or when nothing was given and autoPrompt is on', async () => {
    expect(await loadVaultSecrets({ prompt: scripted().prompt })).toEqual([]);
    const secrets = await loadVaultSecrets({ autoPrompt: true, prompt: scripted('auto').prompt });
    expect(secrets).toEqual([{ id: undefined, password: 'auto', source: 'prompt' }]);
  });

  it('asks twice for a new password and refuses a mismatch', async () => {
    const ok = scripted('n3w', 'n3w');
    expect((await loadVaultSecrets({ askVaultPass: true, confirm: true, prompt: ok.prompt }))[0]!.password).toBe('n3w');
    expect(ok.questions).toEqual(['New Vault password: ', 'Confirm New Vault password: ']);
    const err = await rejection(loadVaultSecrets({ askVaultPass: true, confirm: true, prompt: scripted('a1', 'a2').prompt }));
    expect(err.code).toBe('E_VAULT_PASSWORD_MISMATCH');
    expect(err.exitCode).toBe(5);
  });

  it('fails for a missing password file, naming it', async () => {
    const err = await rejection(loadVaultSecrets({ passwordFiles: [`dev@${f('missing.txt')}`] }));
    expect(err.code).toBe('E_VAULT_PASSWORD_FILE');
    expect(err.message).toContain(f('missing.txt'));
  });
});

describe('promptHidden', () => {
  it('refuses to prompt without a terminal and points at --vault-password-file', async () => {
    const err = await rejection(promptHidden('Vault password: ', new PassThrough()));
    expect(err.code).toBe('E_NO_TTY');
    expect(err.exitCode).toBe(5);
    expect(err.remedy).toContain('--vault-password-file');
  });

  it('reads a line from a terminal without echoing it', async () => {
    const tty = Object.assign(new PassThrough(), { isTTY: true });
    const written: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    try {
      const answer = promptHidden('Vault password: ', tty);
      tty.write('t0p-secret\n');
      expect(await answer).toBe('t0p-secret');
    } finally {
      spy.mockRestore();
    }
    expect(written.join('')).toContain('Vault password: ');
    expect(written.join('')).not.toContain('t0p-secret');
  });
});
