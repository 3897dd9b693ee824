// The lab's inventories: the checked-in inventory/lab.yml is exactly the default lab `lab up` plans;
// a running lab's hosts.yml loads with every host, group and connection variable; a named lab's
// inventory.yml alone deploys playbooks/site.yml (`lab up --product obkm` switches it to OB KM);
// `lab status` exits 1 naming a host that is down.
import { execFileSync } from 'node:child_process';
import { lstatSync, readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadInventory } from '../../../src/inventory/sources.js';
import { hostVarsOf, groupNamesOf } from '../../../src/inventory/host-vars.js';
import { defaultLabInventory, killSshd, labDown, labUp, repoRoot } from '../../../src/lab/lab.js';
import { planLab } from '../../../src/lab/plan.js';
import type { LabInfo } from '../../../src/lab/types.js';
import { EXIT } from '../../../src/errors.js';
import { get, HEALTH, SITE, VAULT } from '../e2e/cluster.js';
import { REPO, runCli, sum } from '../e2e/run-cli.js';
import { getLab, ownLabName } from '../lab-fixture.js';

describe('lab inventories', () => {
  it('inventory/lab.yml is the default lab (node1..3, lb1, storage1) as lab up plans it', () => {
    const checkedIn = readFileSync(path.join(repoRoot(), 'inventory/lab.yml'), 'utf8');
    expect(checkedIn).toBe(defaultLabInventory());
    const plan = planLab('default', 3, ['lb', 'storage']);
    expect(plan.hosts.map((h) => h.name)).toEqual(['node1', 'node2', 'node3', 'lb1', 'storage1']);
    for (const h of plan.hosts) expect(checkedIn).toContain(`${h.name}: {ansible_host: ${h.ip}}`);
  });

  it('the running lab hosts.yml loads: groups by role, root, lab key and known_hosts', () => {
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

  it('the running lab inventory.yml adds groups lab and obiam, and the lab settings through group_vars/', () => {
    const lab = getLab();
    expect(readlinkSync(path.join(path.dirname(lab.siteInventoryFile), 'group_vars'))).toBe(path.join(repoRoot(), 'inventory/group_vars'));
    const inv = loadInventory([lab.siteInventoryFile]);
    const node = lab.hosts.find((h) => h.role === 'node')!;
    expect(groupNamesOf(inv, node.name).sort()).toEqual(['lab', 'nodes', 'obiam']);
    expect(hostVarsOf(inv, node.name).ob_jvm_heap).toBe('128m');
  });
});

describe('a named lab: site.yml with only its inventory.yml', () => {
  let lab: LabInfo;

  beforeAll(async () => {
    execFileSync('bash', [path.join(REPO, 'scripts/lab-artifacts.sh')], { stdio: 'pipe' });
    // Its own lab: site.yml installs users, /opt and services on every host.
    lab = await labUp({ name: ownLabName('inv'), hosts: 1, with: ['lb', 'storage'] });
  }, 180_000);

  afterAll(async () => {
    if (lab) await labDown({ name: lab.name });
  }, 120_000);

  it('deploys OB IAM with -i .lab/NAME/inventory.yml alone; the LB answers healthy', async () => {
    const run = await runCli([SITE, '-i', lab.siteInventoryFile, ...VAULT, '--json'], { timeoutMs: 400_000 });
    expect(run.code, run.stdout.slice(-3000) + run.stderr).toBe(0);
    expect(Object.keys(run.recap).sort()).toEqual(lab.hosts.map((h) => h.name).sort());
    expect(sum(run.recap, 'failed') + sum(run.recap, 'unreachable')).toBe(0);
    const lb = lab.hosts.find((h) => h.role === 'lb')!;
    const r = await get(lb.ip, 443, HEALTH);
    expect(r.status, r.body).toBe(200);
  }, 420_000);

  it('lab up --product obkm on the running lab switches its inventory.yml to group obkm', async () => {
    const r = await runCli(['lab', 'up', '--name', lab.name, '--hosts', '1', '--with', 'lb,storage', '--product', 'obkm']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`lab '${lab.name}' is already up`);
    expect(r.stdout).toContain(`inventory:   ${lab.siteInventoryFile} (groups lab, obkm: ready for playbooks/site.yml)`);
    const inv = loadInventory([lab.siteInventoryFile]);
    expect(groupNamesOf(inv, 'node1').sort()).toEqual(['lab', 'nodes', 'obkm']);
    expect(lstatSync(path.join(lab.stateDir, 'group_vars')).isSymbolicLink()).toBe(true);
    const hosts = await runCli([SITE, '-i', lab.siteInventoryFile, ...VAULT, '--list-hosts']);
    expect(hosts.code, hosts.stderr).toBe(0);
    expect(hosts.stdout).toMatch(/play #3 \(obiam:obkm\): Product nodes[^\n]*\n.*\n\s+hosts \(1\):\n\s+node1\n/);
    // Only the OB IAM group is missing now.
    expect(hosts.stderr).toContain('Could not match supplied host pattern, ignoring: obiam');
    expect(hosts.stderr).not.toContain('ignoring: obkm');
  });

  it('lab status exits 1 (E_LAB_HOST_DOWN) naming the host that is down', async () => {
    await killSshd(lab, 'storage1');
    const r = await runCli(['lab', 'status', '--name', lab.name]);
    expect(r.code).toBe(EXIT.ERROR);
    expect(r.stdout).toMatch(/storage1\s+\S+\s+storage\s+down/);
    expect(r.stdout).toContain(`${lab.name}: up, ${lab.hosts.length - 1}/${lab.hosts.length} hosts alive`);
    expect(r.stderr).toContain(`error E_LAB_HOST_DOWN: 1 lab host(s) down: ${lab.name}/storage1`);
    expect(r.stderr).toContain(`hint: a lab host does not come back by itself; start the lab again: \`obiam-run lab down --name ${lab.name} && obiam-run lab up --name ${lab.name} --hosts 1 --with lb,storage --product obkm\``);
  });
});
