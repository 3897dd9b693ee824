// Interop with the real ansible-vault (Debian ansible-core): what one encrypts, the other must open.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vaultCommand } from '../../src/cli/vault-command.js';
import { parseYaml } from '../../src/load/yaml.js';
import { loadVaultSecrets } from '../../src/vault/secrets.js';
import { createVaultDecrypter, decryptVault, decryptVaultBytes, encryptString, encryptVault, parseVaultEnvelope } from '../../src/vault/vault.js';

let dir: string;
let pwFile: string;
const PASSWORD = 'interop-Pässword 1';

/** Runs an ansible binary with HOME and its temp dir inside the test dir, so nothing lands in ~. */
function ansible(bin: string, args: string[], input?: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(bin, args, {
    cwd: dir,
    input,
    encoding: 'utf8',
    env: {
      PATH: process.env.PATH,
      HOME: join(dir, 'home'),
      ANSIBLE_LOCAL_TEMP: join(dir, 'ansible-tmp'),
      ANSIBLE_REMOTE_TEMP: join(dir, 'ansible-tmp'),
      ANSIBLE_LOCALHOST_WARNING: 'false',
      ANSIBLE_INVENTORY_UNPARSED_WARNING: 'false',
      ANSIBLE_NOCOLOR: '1',
      LC_ALL: 'C.UTF-8',
    },
  });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function ansibleVault(args: string[], input?: string): string {
  const r = ansible('ansible-vault', args, input);
  if (r.status !== 0) throw new Error(`ansible-vault ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

const file = (name: string) => join(dir, name);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'obr-vault-interop-'));
  mkdirSync(join(dir, 'home'));
  pwFile = file('pw.txt');
  writeFileSync(pwFile, `${PASSWORD}\n`);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ansible-vault -> obiam', () => {
  it('decrypts a file ansible-vault encrypted (1.1)', () => {
    const text = 'wso2_admin_password: "Adm1n!"\nkeystore_password: ks-pass\n';
    writeFileSync(file('a.yml'), text);
    ansibleVault(['encrypt', '--vault-password-file', pwFile, 'a.yml']);
    const payload = readFileSync(file('a.yml'), 'utf8');
    expect(payload.startsWith('$ANSIBLE_VAULT;1.1;AES256\n')).toBe(true);
    expect(decryptVault(payload, [{ password: PASSWORD, source: 't' }], 'a.yml')).toBe(text);
  });

  it('decrypts a 1.2 file with a vault id', () => {
    writeFileSync(file('b.txt'), 'with id\n');
    ansibleVault(['encrypt', '--vault-id', `prod@${pwFile}`, 'b.txt']);
    const payload = readFileSync(file('b.txt'), 'utf8');
    expect(parseVaultEnvelope(payload).vaultId).toBe('prod');
    const out = decryptVaultBytes(payload, [{ id: 'dev', password: 'no', source: 't' }, { id: 'prod', password: PASSWORD, source: 't' }]);
    expect(out.plaintext.toString()).toBe('with id\n');
    expect(out.secret.id).toBe('prod');
  });

  it('decrypts binary content byte for byte', () => {
    const data = Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 91) % 256));
    writeFileSync(file('bin.dat'), data);
    ansibleVault(['encrypt', '--vault-password-file', pwFile, 'bin.dat']);
    const out = decryptVaultBytes(readFileSync(file('bin.dat'), 'utf8'), [{ password: PASSWORD, source: 't' }]);
    expect(out.plaintext.equals(data)).toBe(true);
  });

  it('reads encrypt_string output through the YAML loader', () => {
    const block = ansibleVault(['encrypt_string', '--vault-id', `dev@${pwFile}`, '--name', 'db_password', 'S3cr3t value']);
    expect(block.split('\n')[1]).toBe('          $ANSIBLE_VAULT;1.2;AES256;dev');
    const vault = createVaultDecrypter([{ id: 'dev', password: PASSWORD, source: 't' }]);
    const loaded = parseYaml(`user: admin\n${block}\n`, 'vars.yml', { vault });
    expect(loaded.data).toEqual({ user: 'admin', db_password: 'S3cr3t value' });
  });

  it('reads encrypt_string --stdin-name output', () => {
    const block = ansibleVault(['encrypt_string', '--vault-password-file', pwFile, '--stdin-name', 'token'], 'from-stdin');
    const loaded = parseYaml(block, 'vars.yml', { vault: createVaultDecrypter([{ password: PASSWORD, source: 't' }]) });
    expect(loaded.data).toEqual({ token: 'from-stdin' });
  });

  it('produces encrypt_string output identical in shape to ours', () => {
    const theirs = ansibleVault(['encrypt_string', '--vault-password-file', pwFile, '--name', 'k', 'v']);
    const ours = encryptString('v', PASSWORD, 'k');
    const shape = (s: string) => s.replace(/[0-9a-f]/g, 'h');
    expect(shape(ours)).toBe(shape(theirs));
  });
});

describe('obiam -> ansible-vault', () => {
  it('ansible-vault views and decrypts a file we encrypted (1.1)', () => {
    const text = 'line one\nünïcode ✓\n';
    writeFileSync(file('c.txt'), encryptVault(text, PASSWORD));
    expect(ansibleVault(['view', '--vault-password-file', pwFile, 'c.txt'])).toBe(text);
    ansibleVault(['decrypt', '--vault-password-file', pwFile, 'c.txt']);
    expect(readFileSync(file('c.txt'), 'utf8')).toBe(text);
  });

  it('ansible-vault opens our 1.2 file by its vault id', () => {
    writeFileSync(file('d.txt'), encryptVault('id one\n', PASSWORD, { vaultId: 'stage' }));
    writeFileSync(file('other.txt'), 'other-password\n');
    expect(ansibleVault(['view', '--vault-id', `prod@${file('other.txt')}`, '--vault-id', `stage@${pwFile}`, 'd.txt'])).toBe('id one\n');
  });

  it('ansible-vault rejects our file with the wrong password', () => {
    writeFileSync(file('e.txt'), encryptVault('x', PASSWORD));
    writeFileSync(file('wrong.txt'), 'nope\n');
    const r = ansible('ansible-vault', ['view', '--vault-password-file', file('wrong.txt'), 'e.txt']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('Decryption failed');
  });

  it('ansible-vault decrypts our binary file byte for byte', () => {
    const data = Buffer.from(Array.from({ length: 257 }, (_, i) => (i * 13 + 7) % 256));
    writeFileSync(file('bin2.dat'), encryptVault(data, PASSWORD));
    ansibleVault(['decrypt', '--vault-password-file', pwFile, 'bin2.dat']);
    expect(readFileSync(file('bin2.dat')).equals(data)).toBe(true);
  });

  it('ansible reads our encryptString block as a variable', () => {
    writeFileSync(file('vars.yml'), `${encryptString('ob-iam secret', PASSWORD, 'db_password', 'dev')}\nplain: yes\n`);
    const r = ansible('ansible', ['localhost', '-c', 'local', '-m', 'debug', '-a', 'var=db_password', '-e', '@vars.yml', '--vault-id', `dev@${pwFile}`]);
    expect(r.stderr + r.stdout).toContain('"db_password": "ob-iam secret"');
    expect(r.status).toBe(0);
  });

  it('ansible-vault views files written by our CLI (encrypt, rekey, encrypt-string)', async () => {
    const out: string[] = [];
    const run = (args: string[]) => vaultCommand({ out: (s) => out.push(s), err: () => undefined, cwd: dir, env: {} }).parseAsync(args, { from: 'user' });
    writeFileSync(file('f.txt'), 'cli content\n');
    await run(['encrypt', '--vault-id', `ci@${pwFile}`, 'f.txt']);
    expect(ansibleVault(['view', '--vault-id', `ci@${pwFile}`, 'f.txt'])).toBe('cli content\n');
    writeFileSync(file('new-pw.txt'), 'brand-new\n');
    await run(['rekey', '--vault-id', `ci@${pwFile}`, '--new-vault-password-file', file('new-pw.txt'), 'f.txt']);
    expect(readFileSync(file('f.txt'), 'utf8').split('\n')[0]).toBe('$ANSIBLE_VAULT;1.1;AES256');
    expect(ansibleVault(['view', '--vault-password-file', file('new-pw.txt'), 'f.txt'])).toBe('cli content\n');
    await run(['encrypt-string', '--vault-password-file', pwFile, '--name', 'api_key', 'k-123']);
    writeFileSync(file('vars2.yml'), out.join(''));
    const r = ansible('ansible', ['localhost', '-c', 'local', '-m', 'debug', '-a', 'var=api_key', '-e', '@vars2.yml', '--vault-password-file', pwFile]);
    expect(r.stdout).toContain('"api_key": "k-123"');
  });
});

describe('executable password files', () => {
  it('both tools run the same script and agree on the password', async () => {
    const script = file('vault-pass.sh');
    writeFileSync(script, `#!/bin/sh\nprintf '%s\\n' '${PASSWORD}'\n`);
    chmodSync(script, 0o700);
    writeFileSync(file('g.txt'), 'scripted\n');
    ansibleVault(['encrypt', '--vault-password-file', script, 'g.txt']);
    const secrets = await loadVaultSecrets({ passwordFiles: [script] });
    expect(secrets).toHaveLength(1);
    expect(secrets[0]!.password).toBe(PASSWORD);
    expect(decryptVault(readFileSync(file('g.txt'), 'utf8'), secrets, 'g.txt')).toBe('scripted\n');
    writeFileSync(file('h.txt'), encryptVault('ours via script\n', secrets[0]!.password));
    expect(ansibleVault(['view', '--vault-password-file', script, 'h.txt'])).toBe('ours via script\n');
  });

  it('passes --vault-id to a *-client script, as ansible does', async () => {
    const script = file('pass-client.sh');
    // Prints a password that depends on the id it was asked for.
    writeFileSync(script, `#!/bin/sh\n[ "$1" = "--vault-id" ] || exit 3\nprintf 'pw-for-%s\\n' "$2"\n`);
    chmodSync(script, 0o700);
    writeFileSync(file('i.txt'), 'client\n');
    ansibleVault(['encrypt', '--vault-id', `blue@${script}`, 'i.txt']);
    const secrets = await loadVaultSecrets({ vaultIds: [`blue@${script}`] });
    expect(secrets[0]).toMatchObject({ id: 'blue', password: 'pw-for-blue' });
    expect(decryptVault(readFileSync(file('i.txt'), 'utf8'), secrets)).toBe('client\n');
  });
});
