// The lab's Ansible inventory: groups by role, root with the lab key and strict known_hosts.
import type { LabPlan } from './plan.js';
import { EXTRA_ROLES, SUDO_USER } from './plan.js';

export interface InventoryPaths {
  privateKeyFile: string;
  knownHostsFile: string;
  /** The password itself, or a template that reads it (the checked-in inventory cannot hold it). */
  sudoPassword: string;
}

const GROUP_OF: Record<string, string> = { node: 'nodes', lb: 'lb', storage: 'storage', db: 'db', ldap: 'ldap', bastion: 'bastion' };

function q(s: string): string {
  return JSON.stringify(s);
}

/** `via`: hosts reached through another address (the latency relay) instead of their own. */
export function renderInventory(plan: LabPlan, p: InventoryPaths, header: string[], extraGroups: string[] = [], via: Record<string, { ip: string; port: number }> = {}): string {
  const lines = [...header.map((h) => `# ${h}`.trimEnd()), 'all:', '  vars:'];
  lines.push(
    '    ansible_user: root',
    `    ansible_ssh_private_key_file: ${q(p.privateKeyFile)}`,
    `    ansible_ssh_known_hosts_file: ${q(p.knownHostsFile)}`,
    `    ansible_become_password: ${q(p.sudoPassword)}`,
    `    lab_name: ${q(plan.name)}`,
    `    lab_subnet: ${q(plan.subnet)}`,
    `    lab_sudo_user: ${SUDO_USER}`,
    `    lab_sudo_password: ${q(p.sudoPassword)}`,
    '  children:',
  );
  for (const role of ['node', ...EXTRA_ROLES]) {
    const hosts = plan.hosts.filter((h) => h.role === role);
    if (hosts.length === 0) continue;
    lines.push(`    ${GROUP_OF[role]}:`, '      hosts:');
    for (const h of hosts) {
      const v = via[h.name];
      lines.push(v ? `        ${h.name}: {ansible_host: ${v.ip}, ansible_port: ${v.port}}` : `        ${h.name}: {ansible_host: ${h.ip}}`);
    }
  }
  lines.push(...extraGroups);
  return `${lines.join('\n')}\n`;
}

/** inventory/lab.yml: the default lab, paths relative to the repo root (where commands run). */
export function checkedInInventory(plan: LabPlan): string {
  const dir = `.lab/${plan.name}`;
  return renderInventory(
    plan,
    {
      privateKeyFile: `${dir}/id_ed25519`,
      knownHostsFile: `${dir}/known_hosts`,
      sudoPassword: `{{ lookup('file', inventory_dir + '/../${dir}/sudo-password') }}`,
    },
    [
      `The default lab (\`obiam-run lab up\`: ${plan.hosts.map((h) => h.name).join(', ')} on ${plan.subnet}).`,
      'Generated from src/lab/inventory.ts; test/lab/lab/inventory.test.ts keeps it in step.',
      'Key and known_hosts paths are relative to the repo root: run obiam-run from there.',
      `\`lab up\` also writes ${dir}/inventory.yml (absolute paths, the password itself).`,
      'Groups `lab` (settings in inventory/group_vars/lab/) and `obiam` (the product nodes) make it',
      'ready for playbooks/site.yml; for OB KM use .lab/<name>/inventory.yml with inventory/lab-obkm.yml.',
    ],
    [
      '    lab:',
      '      children:',
      ...['node', ...EXTRA_ROLES].filter((r) => plan.hosts.some((h) => h.role === r)).map((r) => `        ${GROUP_OF[r]}: {}`),
      '    obiam:',
      '      children:',
      '        nodes: {}',
    ],
  );
}
