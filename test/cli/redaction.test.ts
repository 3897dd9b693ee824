// Redaction both ways through bin/obiam-run.js on a local host: a vaulted password never appears in the
// plain, -vvv or --json output, the and the recap (the journal: test/state/journal-modes.test.ts); the words of a no_log task (its name, loop
// items, paths) and of later tasks are never masked, and the no_log task's own output is hidden.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encryptVault } from '../../src/vault/vault.js';

const BIN = path.resolve('bin/obiam-run.js');
const root = mkdtempSync(path.join(tmpdir(), 'obr-redact-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const SECRET = 'Ldap-Bind-Pa55';
writeFileSync(path.join(root, 'pw.txt'), 'vault-pw\n');
chmodSync(path.join(root, 'pw.txt'), 0o600);
writeFileSync(path.join(root, 'secrets.yml'), encryptVault(`ldap_password: ${SECRET}\n`, 'vault-pw'));
writeFileSync(path.join(root, 'inv.yml'), 'all:\n  hosts:\n    box:\n      ansible_connection: local\n');
writeFileSync(
  path.join(root, 'site.yml'),
  `- hosts: all
  gather_facts: false
  vars_files: [secrets.yml]
  tasks:
    - name: configure the bind password
      debug:
        msg: "conf {{ item }} with {{ ldap_password }}"
      loop: [configuration, /opt/wso2/conf/deployment.toml]
      no_log: true
    - name: Rolling restart of nodes whose configuration changed
      debug:
        msg: "configuration of /opt/wso2/conf/deployment.toml uses {{ ldap_password }}"
    - name: fail quoting it
      fail:
        msg: "bad password {{ ldap_password }}"
`,
);

function run(extra: string[]): { code: number | null; out: string } {
  const r = spawnSync(process.execPath, [BIN, 'site.yml', '-i', 'inv.yml', '--vault-password-file', 'pw.txt', ...extra], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, NO_COLOR: '1', OBIAM_RUN_STATE_DIR: path.join(root, 'state') },
  });
  return { code: r.status, out: `${r.stdout}\n${r.stderr}` };
}

describe('redaction through the CLI', () => {
  for (const [label, flags] of [
    ['plain', []],
    ['-vvv', ['-vvv']],
    ['--json', ['--json']],
  ] as const) {
    it(`${label}: the vaulted password never shows, ordinary words are never masked`, () => {
      const r = run([...flags]);
      expect(r.code).toBe(2);
      expect(r.out).not.toContain(SECRET);
      expect(r.out).toContain('********');
      expect(r.out).toContain('Rolling restart of nodes whose configuration changed');
      expect(r.out).toContain('configuration of /opt/wso2/conf/deployment.toml uses ********');
      expect(r.out).toContain('configure the bind password');
      expect(r.out).toMatch(/'no_log: true' was specified|censored due to no_log/);
      expect(r.out).not.toMatch(/\*{8}(ure|uration)/);
    });
  }
});
