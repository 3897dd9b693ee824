// Mistakes found at load time, before any host is touched (issue 14 items 2 and 3): vault passwords,
// --limit, --start-at-task, --step, pattern warnings; and the terminal prompts under a real pty
// (these run the built CLI, bin/obiam-run.js: `npm test` builds it first).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { clearSecrets } from '../../src/redact.js';
import { decryptVault, encryptString } from '../../src/vault/vault.js';

const root = mkdtempSync(path.join(tmpdir(), 'obr-run-checks-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const marker = path.join(root, 'touched');

function files(): void {
  mkdirSync(path.join(root, 'inv/group_vars'), { recursive: true });
  writeFileSync(path.join(root, 'pw'), 'right\n');
  writeFileSync(path.join(root, 'bad-pw'), 'not-the-one\n');
  writeFileSync(path.join(root, 'inv/hosts.yml'), 'all:\n  children:\n    nodes:\n      hosts:\n        node1: {ansible_connection: local}\n        node2: {ansible_connection: local}\n');
  writeFileSync(path.join(root, 'inv/group_vars/all.yml'), `plain: 1\n${encryptString('s3cret-value', 'right', 'db_password')}\n`);
  writeFileSync(
    path.join(root, 'play.yml'),
    `- hosts: nodes:obkm\n  gather_facts: false\n  tasks:\n    - name: touch a file\n      command: touch ${marker}\n    - name: use the secret\n      debug: {msg: "{{ db_password }}"}\n- hosts: obkm\n  gather_facts: false\n  tasks: []\n`,
  );
}
files();

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  clearSecrets();
  const code = await main(argv, { out: (s) => (out += s), err: (s) => (err += s), env: { PATH: process.env.PATH, HOME: process.env.HOME }, isTTY: false, cwd: root, signal: new AbortController().signal });
  return { code, out, err };
}

describe('load-time checks', () => {
  it('a run needing a vaulted value without a password stops before any host', async () => {
    rmSync(marker, { force: true });
    const r = await run(['play.yml', '-i', 'inv']);
    expect(r.code).toBe(1);
    expect(r.err).toContain('error E_VAULT_NO_PASSWORD');
    expect(r.err).toContain(`db_password (${path.join(root, 'inv/group_vars/all.yml')})`);
    expect(r.out).not.toContain('TASK');
    expect(existsSync(marker)).toBe(false);
  });

  it('a wrong vault password says so, exit 1, not a YAML syntax error', async () => {
    const r = await run(['play.yml', '-i', 'inv', '--vault-password-file', 'bad-pw']);
    expect(r.code).toBe(1);
    expect(r.err).toContain('error E_VAULT_PASSWORD: Decryption failed (no vault secrets were found that could decrypt)');
    expect(r.err).toContain('the vault password is wrong for it');
    expect(r.err).not.toContain('E_YAML_SYNTAX');
  });

  it('with the password the run goes, and a pattern matching nothing warns once', async () => {
    const r = await run(['play.yml', '-i', 'inv', '--vault-password-file', 'pw']);
    expect(r.code).toBe(0);
    expect(r.out.split('Could not match supplied host pattern, ignoring: obkm').length - 1).toBe(1);
    expect(existsSync(marker)).toBe(true);
    const listed = await run(['play.yml', '-i', 'inv', '--list-tasks', '--list-hosts', '--list-tags']);
    expect(listed.err.split('Could not match supplied host pattern, ignoring: obkm').length - 1).toBe(1);
  });

  it('--limit that matches no host exits 1 with a guess', async () => {
    const r = await run(['play.yml', '-i', 'inv', '--vault-password-file', 'pw', '-l', 'nod2']);
    expect(r.code).toBe(1);
    expect(r.err).toContain("error E_LIMIT_NO_HOSTS: --limit 'nod2' does not match any hosts in the inventory ('nod2': did you mean 'node2'?)");
  });

  it('--start-at-task naming no task exits 1; a glob or the exact name starts there', async () => {
    const bad = await run(['play.yml', '-i', 'inv', '--vault-password-file', 'pw', '--start-at-task', 'use the secrte']);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('error E_START_AT_TASK: No matching task "use the secrte" found: did you mean "use the secret"?');
    rmSync(marker, { force: true });
    const glob = await run(['play.yml', '-i', 'inv', '--vault-password-file', 'pw', '--start-at-task', 'use*']);
    expect(glob.code).toBe(0);
    expect(glob.out).toContain('TASK [use the secret]');
    expect(existsSync(marker)).toBe(false);
  });

  it('--step without a terminal refuses before anything runs', async () => {
    rmSync(marker, { force: true });
    // setsid: no controlling terminal, so /dev/tty cannot be opened either.
    let code = 0;
    let err = '';
    try {
      execFileSync('setsid', ['-w', process.execPath, path.resolve('bin/obiam-run.js'), 'play.yml', '-i', 'inv', '--vault-password-file', 'pw', '--step'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      code = (e as { status: number }).status;
      err = String((e as { stderr: Buffer }).stderr);
    }
    expect(code).toBe(5);
    expect(err).toContain('error E_NO_TTY: --step asks before every task');
    expect(existsSync(marker)).toBe(false);
  });
});

/** Runs the built CLI under a real pseudo-terminal (util-linux script), typing `keys` with pauses. */
function underPty(command: string, keys: string[]): string {
  const feed = keys.map((k) => `sleep 1.5; printf '${k}'`).join('; ');
  return execFileSync('bash', ['-c', `( ${feed}; sleep 2 ) | script -qefc ${JSON.stringify(command)} /dev/null`], { cwd: root, encoding: 'utf8', timeout: 60_000 });
}

describe('prompts under a pseudo-terminal', () => {
  const cli = `${process.execPath} ${path.resolve('bin/obiam-run.js')}`;

  it('--step asks per task: n skips, y runs', () => {
    rmSync(marker, { force: true });
    const screen = underPty(`${cli} play.yml -i inv --vault-password-file pw --step`, ['n\\n', 'y\\n']);
    expect(screen).toContain('Perform task: TASK: touch a file (N)o/(y)es/(c)ontinue:');
    expect(screen).toContain('Perform task: TASK: use the secret (N)o/(y)es/(c)ontinue:');
    expect(screen).toContain('TASK [use the secret]');
    expect(existsSync(marker)).toBe(false);
  }, 90_000);

  it('vault encrypt-string --name reads a typed value after saying how to end it', () => {
    const screen = underPty(`${cli} vault encrypt-string --name x --vault-password-file pw`, ['typed-secret\\n', '\\004']);
    expect(screen).toContain('Type the value to encrypt, then Ctrl-D');
    const block = screen.replace(/\r/g, '').split('x: !vault |\n')[1]!.split('Encryption successful')[0]!;
    expect(decryptVault(block.replace(/^ +/gm, ''), [{ password: 'right', source: 't' }])).toBe('typed-secret');
  }, 90_000);

  it('vault encrypt-string reads piped stdin and asks the password on the terminal', () => {
    const screen = underPty(`sh -c 'printf piped-secret | ${cli} vault encrypt-string --name x --ask-vault-pass'`, ['right\\n', 'right\\n']);
    expect(screen).toContain('Confirm New Vault password: ');
    const block = screen.replace(/\r/g, '').split('x: !vault |\n')[1]!.split('Encryption successful')[0]!;
    expect(decryptVault(block.replace(/^ +/gm, ''), [{ password: 'right', source: 't' }])).toBe('piped-secret');
  }, 90_000);
});
