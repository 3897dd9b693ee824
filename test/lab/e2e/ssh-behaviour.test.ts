// SSH behaviour through the CLI on real lab hosts: host key policy, jump host, sudo, and hosts
// that become unreachable before or during a play.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostLinkDown, hostLinkUp, killSshd, labDown, labUp } from '../../../src/lab/lab.js';
import type { LabInfo } from '../../../src/lab/types.js';
import { getLab, ownLabName } from '../lab-fixture.js';
import { runCli, workspace } from './run-cli.js';

const PLAY = `- hosts: all
  gather_facts: false
  tasks:
    - command: hostname
`;

function inventory(lab: LabInfo, names: string[], extra: Record<string, string> = {}, knownHosts = lab.knownHostsFile): string {
  const hosts = names
    .map((n) => {
      const h = lab.hosts.find((x) => x.name === n)!;
      return `    ${n}:\n      ansible_host: ${h.ip}`;
    })
    .join('\n');
  const vars = Object.entries({
    ansible_user: 'root',
    ansible_ssh_private_key_file: lab.privateKeyFile,
    ansible_ssh_known_hosts_file: knownHosts,
    ...extra,
  })
    .map(([k, v]) => `    ${k}: ${JSON.stringify(v)}`)
    .join('\n');
  return `all:\n  hosts:\n${hosts}\n  vars:\n${vars}\n`;
}

describe('host keys', () => {
  it('refuses an unknown host with the ssh-keyscan / accept-new remedy', async () => {
    const lab = getLab();
    const dir = workspace({ 'p.yml': PLAY, 'known_hosts': '' });
    writeFileSync(path.join(dir, 'inv.yml'), inventory(lab, ['node1'], {}, path.join(dir, 'known_hosts')));
    const r = await runCli([path.join(dir, 'p.yml'), '-i', path.join(dir, 'inv.yml'), '--json']);
    expect(r.code).toBe(3);
    expect(r.recap.node1?.unreachable).toBe(1);
    const text = r.stdout + r.stderr;
    expect(text).toContain('ssh-keyscan');
    expect(text).toContain('accept-new');
    expect(text).not.toMatch(/\n\s+at /);
  });

  it('refuses a changed key naming the known_hosts file and line, even with accept-new', async () => {
    const lab = getLab();
    const node1 = lab.hosts.find((h) => h.name === 'node1')!;
    const node2 = lab.hosts.find((h) => h.name === 'node2')!;
    // node2's key recorded under node1's address: exactly what a re-installed host looks like.
    const lines = readFileSync(lab.knownHostsFile, 'utf8').split('\n').filter((l) => l.split(' ')[0]?.split(',').includes(node2.ip));
    expect(lines.length).toBeGreaterThan(0);
    const forged = `# a comment line\n${lines.map((l) => `${node1.ip} ${l.split(' ').slice(1).join(' ')}`).join('\n')}\n`;
    const dir = workspace({ 'p.yml': PLAY, 'known_hosts': forged });
    writeFileSync(path.join(dir, 'inv.yml'), inventory(lab, ['node1'], {}, path.join(dir, 'known_hosts')));
    for (const policy of ['strict', 'accept-new']) {
      const r = await runCli([path.join(dir, 'p.yml'), '-i', path.join(dir, 'inv.yml'), '--json', '--host-key-policy', policy]);
      expect(r.code).toBe(3);
      const text = r.stdout + r.stderr;
      expect(text).toMatch(/changed|CHANGED/);
      expect(text).toContain(`${path.join(dir, 'known_hosts')}:2`);
    }
  });

  it('accept-new records a new host key once and then verifies it', async () => {
    const lab = getLab();
    const dir = workspace({ 'p.yml': PLAY, 'known_hosts': '' });
    const kh = path.join(dir, 'known_hosts');
    writeFileSync(path.join(dir, 'inv.yml'), inventory(lab, ['node1', 'node2'], {}, kh));
    const r1 = await runCli([path.join(dir, 'p.yml'), '-i', path.join(dir, 'inv.yml'), '--json', '--host-key-policy', 'accept-new']);
    expect(r1.code, r1.stdout + r1.stderr).toBe(0);
    const recorded = readFileSync(kh, 'utf8').trim().split('\n');
    expect(recorded.length).toBe(2);
    const r2 = await runCli([path.join(dir, 'p.yml'), '-i', path.join(dir, 'inv.yml'), '--json']);
    expect(r2.code, r2.stdout + r2.stderr).toBe(0);
    expect(readFileSync(kh, 'utf8').trim().split('\n')).toEqual(recorded);
  });
});

describe('jump host and become', () => {
  it('reaches a node through the lab bastion (ProxyJump)', async () => {
    const lab = getLab();
    const bastion = lab.hosts.find((h) => h.role === 'bastion')!;
    const dir = workspace({
      'p.yml': `- hosts: all\n  gather_facts: false\n  tasks:\n    - command: cat /proc/1/comm\n      register: r\n    - assert: { that: ["r.stdout == 'sshd'"] }\n`,
    });
    writeFileSync(
      path.join(dir, 'inv.yml'),
      inventory(lab, ['node1'], { ansible_ssh_common_args: `-o ProxyJump=root@${bastion.ip}` }),
    );
    const r = await runCli([path.join(dir, 'p.yml'), '-i', path.join(dir, 'inv.yml'), '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.recap.node1?.ok).toBeGreaterThanOrEqual(2);
  });

  it('becomes root with sudo and a password, and fails clearly with a wrong one', async () => {
    const lab = getLab();
    const play = `- hosts: all\n  gather_facts: false\n  become: true\n  tasks:\n    - command: id -u\n      register: r\n    - assert: { that: ["r.stdout == '0'"] }\n`;
    const dir = workspace({ 'p.yml': play });
    writeFileSync(path.join(dir, 'good.yml'), inventory(lab, ['node1'], { ansible_user: lab.sudoUser, ansible_become_password: lab.sudoPassword }));
    const good = await runCli([path.join(dir, 'p.yml'), '-i', path.join(dir, 'good.yml'), '--json']);
    expect(good.code, good.stdout + good.stderr).toBe(0);
    expect(good.stdout + good.stderr).not.toContain(lab.sudoPassword);
    writeFileSync(path.join(dir, 'bad.yml'), inventory(lab, ['node1'], { ansible_user: lab.sudoUser, ansible_become_password: 'not-the-password' }));
    const bad = await runCli([path.join(dir, 'p.yml'), '-i', path.join(dir, 'bad.yml'), '--json'], { timeoutMs: 60_000 });
    expect(bad.code).toBe(2);
    expect(bad.stdout + bad.stderr).toMatch(/sudo|password/i);
    expect(bad.stdout + bad.stderr).not.toContain('not-the-password');
  });
});

describe('unreachable hosts', () => {
  let lab: LabInfo;
  beforeAll(async () => {
    // Its own small lab: these tests break hosts on purpose.
    lab = await labUp({ name: ownLabName('unreach'), hosts: 3, with: [] });
  }, 60_000);
  afterAll(async () => {
    await labDown({ name: ownLabName('unreach') });
  }, 60_000);

  it('a host whose link is down is counted unreachable and the others finish', async () => {
    await hostLinkDown(lab, 'node3');
    try {
      const dir = workspace({ 'p.yml': PLAY });
      const r = await runCli([path.join(dir, 'p.yml'), '-i', lab.inventoryFile, '--json', '--connect-timeout', '2'], { timeoutMs: 90_000 });
      expect(r.code).toBe(3);
      expect(r.recap.node3?.unreachable).toBe(1);
      expect(r.recap.node1?.ok).toBe(1);
      expect(r.recap.node2?.ok).toBe(1);
    } finally {
      await hostLinkUp(lab, 'node3');
    }
  }, 120_000);

  it('sshd killed in the middle of a play: that host unreachable, the others finish, exit 3', async () => {
    const dir = workspace({
      'p.yml': `- hosts: all\n  gather_facts: false\n  tasks:\n    - command: hostname\n    - name: slow step\n      command: sleep 3\n    - command: hostname\n    - command: hostname\n`,
    });
    let killed = false;
    let seen = '';
    const r = await runCli([path.join(dir, 'p.yml'), '-i', lab.inventoryFile, '--json'], {
      timeoutMs: 90_000,
      onStdout: (chunk) => {
        seen += chunk;
        if (!killed && /"event":"task-start"[^\n]*slow step/.test(seen)) {
          killed = true;
          void killSshd(lab, 'node2');
        }
      },
    });
    expect(killed).toBe(true);
    expect(r.code).toBe(3);
    expect(r.recap.node2?.unreachable).toBe(1);
    expect(r.recap.node1).toMatchObject({ ok: 4, unreachable: 0, failed: 0 });
    expect(r.recap.node3).toMatchObject({ ok: 4, unreachable: 0, failed: 0 });
  }, 120_000);
});
