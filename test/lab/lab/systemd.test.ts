// `lab up --systemd`: the host boots real systemd (systemd-nspawn) and the systemd module drives it.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labDown, labStatus, labUp } from '../../../src/lab/lab.js';
import type { LabInfo } from '../../../src/lab/types.js';
import { runCli, sum, workspace } from '../e2e/run-cli.js';
import { ownLabName } from '../lab-fixture.js';

const NAME = ownLabName('systemd');

const PLAY = `- hosts: nodes
  gather_facts: true
  tasks:
    - command: cat /proc/1/comm
      register: pid1
      changed_when: false
    - assert:
        that:
          - pid1.stdout == 'systemd'
          - ansible_service_mgr == 'systemd'
    - copy:
        dest: /etc/systemd/system/obr-sleep.service
        content: |
          [Unit]
          Description=obiam-run lab test service
          [Service]
          ExecStart=/bin/sleep 100000
    - systemd: { daemon_reload: true }
    - systemd: { name: obr-sleep, state: started, enabled: true, daemon_reload: true }
    - command: systemctl is-active obr-sleep
      changed_when: false
`;

describe('lab up --systemd', () => {
  let lab: LabInfo;
  beforeAll(async () => {
    lab = await labUp({ name: NAME, hosts: 1, with: [], systemd: true });
  }, 120_000);
  afterAll(async () => {
    await labDown({ name: NAME });
    expect((await labStatus()).some((l) => l.name === NAME)).toBe(false);
  }, 60_000);

  it('boots systemd as PID 1; a unit is installed and started, then left alone', async () => {
    const dir = workspace({ 'p.yml': PLAY });
    const first = await runCli([path.join(dir, 'p.yml'), '-i', lab.inventoryFile, '--json']);
    expect(first.code, first.stdout + first.stderr).toBe(0);
    expect(sum(first.recap, 'changed')).toBe(2);
    const second = await runCli([path.join(dir, 'p.yml'), '-i', lab.inventoryFile, '--json']);
    expect(second.code, second.stdout + second.stderr).toBe(0);
    expect(sum(second.recap, 'changed')).toBe(0);
  });
});
