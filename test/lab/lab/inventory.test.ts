// The lab's inventories: the checked-in inventory/lab.yml is exactly the default lab `lab up` plans,
// and the running lab's own inventory loads with every host, group and connection variable.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadInventory, hostVarsOf, groupNamesOf } from '../../../src/load/inventory-loader.js';
import { defaultLabInventory, repoRoot } from '../../../src/lab/lab.js';
import { planLab } from '../../../src/lab/plan.js';
import { getLab } from '../lab-fixture.js';

describe('lab inventories', () => {
  it('inventory/lab.yml is the default lab (node1..3, lb1, storage1) as lab up plans it', () => {
    const checkedIn = readFileSync(path.join(repoRoot(), 'inventory/lab.yml'), 'utf8');
    expect(checkedIn).toBe(defaultLabInventory());
    const plan = planLab('default', 3, ['lb', 'storage']);
    expect(plan.hosts.map((h) => h.name)).toEqual(['node1', 'node2', 'node3', 'lb1', 'storage1']);
    for (const h of plan.hosts) expect(checkedIn).toContain(`${h.name}: {ansible_host: ${h.ip}}`);
  });

  it('the running lab inventory loads: groups by role, root, lab key and known_hosts', () => {
    const lab = getLab();
    const inv = loadInventory([lab.inventoryFile]);
    for (const h of lab.hosts) {
      const v = hostVarsOf(inv, h.name);
      expect(v.ansible_host).toBe(h.ip);
      expect(v.ansible_user).toBe('root');
      expect(v.ansible_ssh_private_key_file).toBe(lab.privateKeyFile);
      expect(v.ansible_ssh_known_hosts_file).toBe(lab.knownHostsFile);
      expect(v.lab_sudo_user).toBe(lab.sudoUser);
      expect(v.ansible_become_password).toBe(lab.sudoPassword);
      expect(groupNamesOf(inv, h.name)).toEqual([{ node: 'nodes' }[h.role as 'node'] ?? h.role]);
    }
  });
});
