// ansible.cfg: which file is read, configparser's syntax, env over file over default, paths relative
// to the file, bad values and unused settings as warnings; and the run options they become.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseIniConfig, readAnsibleConfig } from '../../src/cli/ansible-config.js';
import { main } from '../../src/cli/main.js';

const root = mkdtempSync(path.join(tmpdir(), 'obr-ansible-cfg-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

function dir(files: Record<string, string>): string {
  const d = path.join(root, `d${++n}`);
  mkdirSync(d, { recursive: true });
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(d, name)), { recursive: true });
    writeFileSync(path.join(d, name), text);
  }
  return d;
}

describe('parseIniConfig', () => {
  it('reads sections, = and :, comments, inline ; comments and continuation lines', () => {
    const m = parseIniConfig('# c\n[defaults]\nForks = 7 ; inline\nremote_user: deploy\n; c2\nroles_path = a\n  b\n[ssh_connection]\npipelining=True\n');
    expect(Object.fromEntries([...m].map(([k, v]) => [k, v.value]))).toEqual({
      'defaults.forks': '7',
      'defaults.remote_user': 'deploy',
      'defaults.roles_path': 'a\nb',
      'ssh_connection.pipelining': 'True',
    });
  });
});

describe('readAnsibleConfig', () => {
  it('reads ./ansible.cfg with paths relative to it', () => {
    const d = dir({ 'ansible.cfg': '[defaults]\ninventory = hosts.ini, other.yml\nroles_path = r1:~/r2\nforks = 3\nhost_key_checking = False\ntimeout = 20\nremote_user = deploy\nprivate_key_file = keys/id\ntransport = local\nforce_handlers = yes\n[ssh_connection]\npipelining = True\n' });
    const cfg = readAnsibleConfig({ HOME: '/home/u' }, d);
    expect(cfg).toEqual({
      file: path.join(d, 'ansible.cfg'),
      inventory: [path.join(d, 'hosts.ini'), path.join(d, 'other.yml')],
      rolesPath: [path.join(d, 'r1'), '/home/u/r2'],
      forks: 3,
      hostKeyChecking: false,
      timeout: 20,
      remoteUser: 'deploy',
      privateKeyFile: path.join(d, 'keys/id'),
      connection: 'local',
      forceHandlers: true,
      warnings: [],
    });
  });

  it('ANSIBLE_CONFIG first, the environment over the file, ~/.ansible.cfg last', () => {
    const home = dir({ '.ansible.cfg': '[defaults]\nforks = 9\n' });
    const cwd = dir({});
    expect(readAnsibleConfig({ HOME: home }, cwd).forks).toBe(9);
    const other = dir({ 'custom.cfg': '[defaults]\nforks = 4\nremote_user = a\n' });
    const cfg = readAnsibleConfig({ HOME: home, ANSIBLE_CONFIG: path.join(other, 'custom.cfg'), ANSIBLE_FORKS: '11' }, cwd);
    expect(cfg).toMatchObject({ file: path.join(other, 'custom.cfg'), forks: 11, remoteUser: 'a' });
    // A directory without ansible.cfg in it: the search goes on.
    expect(readAnsibleConfig({ HOME: home, ANSIBLE_CONFIG: other }, cwd).file).toBe(path.join(home, '.ansible.cfg'));
    expect(readAnsibleConfig({ HOME: dir({}), ANSIBLE_ROLES_PATH: 'x:y' }, cwd).rolesPath).toEqual([path.join(cwd, 'x'), path.join(cwd, 'y')]);
  });

  it('warns about settings it does not use and values it cannot read, never fails', () => {
    const d = dir({ 'ansible.cfg': '[defaults]\nnocows = 1\nforks = many\nhost_key_checking = maybe\n[privilege_escalation]\nbecome = True\n' });
    const cfg = readAnsibleConfig({ HOME: dir({}) }, d);
    expect(cfg.forks).toBeUndefined();
    expect(cfg.warnings).toEqual([
      `${d}/ansible.cfg:3: expected a whole number of at least 1, got 'many'; ignored`,
      `${d}/ansible.cfg:4: expected true or false, got 'maybe'; ignored`,
      `${d}/ansible.cfg: settings obiam-run does not use, ignored: [defaults] nocows, [privilege_escalation] become`,
    ]);
  });

  it('ignores ./ansible.cfg in a world-writable directory, as Ansible does', () => {
    const d = dir({ 'ansible.cfg': '[defaults]\nforks = 2\n' });
    chmodSync(d, 0o777);
    const cfg = readAnsibleConfig({ HOME: dir({}) }, d);
    expect(cfg.forks).toBeUndefined();
    expect(cfg.warnings[0]).toContain('world writable directory');
  });
});

describe('the command line with ansible.cfg', () => {
  async function run(argv: string[], cwd: string): Promise<{ code: number; out: string; err: string }> {
    let out = '';
    let err = '';
    const code = await main(argv, { out: (s) => (out += s), err: (s) => (err += s), env: { PATH: process.env.PATH, HOME: dir({}) }, isTTY: false, cwd, signal: new AbortController().signal });
    return { code, out, err };
  }

  it('takes the inventory from ansible.cfg when no -i is given (INI file)', async () => {
    const d = dir({ 'ansible.cfg': '[defaults]\ninventory = ./hosts\n', hosts: '[web]\nw1 ansible_connection=local\n', 'site.yml': '- hosts: web\n  gather_facts: false\n  tasks: []\n' });
    const r = await run(['--list-hosts', 'site.yml'], d);
    expect(r.code).toBe(0);
    expect(r.out).toContain('hosts (1):\n      w1');
    const inv = await run(['inventory', '--graph'], d);
    expect(inv.out).toContain('|--@web:\n  |  |--w1');
  });

  it('refuses a -c connection it does not have, with the allowed values (exit 5)', async () => {
    const d = dir({ 'site.yml': '- hosts: all\n  gather_facts: false\n  tasks: []\n' });
    const r = await run(['-i', 'h1,', '-c', 'winrm', 'site.yml'], d);
    expect(r.code).toBe(5);
    expect(r.err).toContain("error E_OPTIONS: -c/--connection 'winrm' is not a connection obiam-run has; allowed values: ssh, local");
  });

  it('-c local runs a host-list host on the controller; --flush-cache is accepted', async () => {
    const d = dir({ 'site.yml': '- hosts: all\n  gather_facts: false\n  tasks:\n    - command: echo hi\n' });
    const r = await run(['-i', 'h1,', '-c', 'local', '--flush-cache', 'site.yml'], d);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/h1\s+: ok=1\s+changed=1/);
  });
});
