// The lab's Ansible inventories: groups by role, root with the lab key and strict known_hosts.
// `lab up` writes two beside its state: hosts.yml (hosts and connection only, for ad hoc playbooks and
// tests that add their own groups) and inventory.yml (the same plus groups `lab` and the product's,
// and a group_vars/ link to inventory/group_vars/), so `-i .lab/NAME/inventory.yml` alone is ready for
// playbooks/site.yml, as inventory/lab.yml is for the default lab.
import { lstatSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { LabPlan } from './plan.js';
import { EXTRA_ROLES, SUDO_USER } from './plan.js';
import { DB_PORT, LAB_DB_ADMIN_USER, LAB_LDAP_ADMIN_DN, LAB_LDAP_BASE_DN, LDAP_PORT, serviceHosts } from './services.js';

export interface InventoryPaths {
  privateKeyFile: string;
  knownHostsFile: string;
  /** The password itself, or a template that reads it (the checked-in inventory cannot hold it). */
  sudoPassword: string;
  /** The lab DBA's and the directory admin's passwords, or templates that read them (services.ts). */
  dbAdminPassword?: string;
  ldapAdminPassword?: string;
}

/** The product site.yml deploys on the lab's nodes: its group name (site.yml's plays target obiam:obkm). */
export type LabProduct = 'obiam' | 'obkm';
export const LAB_PRODUCTS: readonly LabProduct[] = ['obiam', 'obkm'];
const PRODUCT_NAME: Record<LabProduct, string> = { obiam: 'OB IAM 2.0', obkm: 'OB Key Manager 1.5.0' };

/** What an inventory needs of a lab: its plan (default lab) or its state (a running one). */
export interface InventoryLab {
  name: string;
  subnet: string;
  hosts: Pick<LabPlan['hosts'][number], 'name' | 'role' | 'ip'>[];
}

const GROUP_OF: Record<string, string> = { node: 'nodes', lb: 'lb', storage: 'storage', db: 'db', ldap: 'ldap', bastion: 'bastion' };

function q(s: string): string {
  return JSON.stringify(s);
}

/** `via`: hosts reached through another address (the latency relay) instead of their own. */
export function renderInventory(plan: InventoryLab, p: InventoryPaths, header: string[], extraGroups: string[] = [], via: Record<string, { ip: string; port: number }> = {}): string {
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
    ...serviceVars(plan, p),
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

/**
 * The lab's database and directory (services.ts) as lists of hosts plus the address clients use
 * (`*_vip`): one host here, and the same shape holds an HA pair behind a virtual IP.
 * inventory/group_vars/lab/ maps them onto the ob_db_* / ob_ldap_* settings the roles read.
 */
function serviceVars(plan: InventoryLab, p: InventoryPaths): string[] {
  const { db, ldap } = serviceHosts(plan.hosts);
  const out: string[] = [];
  if (db) {
    out.push(
      `    lab_db_hosts: [${q(db.name)}]`,
      `    lab_db_vip: ${q(db.ip)}`,
      `    lab_db_port: ${DB_PORT}`,
      `    lab_db_admin_user: ${q(LAB_DB_ADMIN_USER)}`,
      `    lab_db_admin_password: ${q(p.dbAdminPassword ?? '')}`,
    );
  }
  if (ldap) {
    out.push(
      `    lab_ldap_hosts: [${q(ldap.name)}]`,
      `    lab_ldap_vip: ${q(ldap.ip)}`,
      `    lab_ldap_url: ${q(`ldap://${ldap.ip}:${LDAP_PORT}`)}`,
      `    lab_ldap_base_dn: ${q(LAB_LDAP_BASE_DN)}`,
      `    lab_ldap_admin_dn: ${q(LAB_LDAP_ADMIN_DN)}`,
      `    lab_ldap_admin_password: ${q(p.ldapAdminPassword ?? '')}`,
    );
  }
  return out;
}

/** Group `lab` over every role group (it picks up inventory/group_vars/lab/), the product's over the nodes. */
function siteGroups(plan: InventoryLab, product: LabProduct): string[] {
  return [
    '    lab:',
    '      children:',
    ...['node', ...EXTRA_ROLES].filter((r) => plan.hosts.some((h) => h.role === r)).map((r) => `        ${GROUP_OF[r]}: {}`),
    `    ${product}:`,
    '      children:',
    '        nodes: {}',
  ];
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
      dbAdminPassword: `{{ lookup('file', inventory_dir + '/../${dir}/services/db/admin-password') }}`,
      ldapAdminPassword: `{{ lookup('file', inventory_dir + '/../${dir}/services/ldap/admin-password') }}`,
    },
    [
      `The default lab (\`obiam-run lab up\`: ${plan.hosts.map((h) => h.name).join(', ')} on ${plan.subnet}).`,
      'Generated from src/lab/inventory.ts; test/lab/lab/inventory.test.ts keeps it in step.',
      'Key and known_hosts paths are relative to the repo root: run obiam-run from there.',
      'Groups `lab` (settings in inventory/group_vars/lab/) and `obiam` (the product nodes) make it',
      'ready for playbooks/site.yml. This is the only inventory in inventory/, so `-i inventory/` is it too.',
      `\`lab up\` writes the same as ${dir}/inventory.yml (absolute paths); any other lab writes its own`,
      '.lab/NAME/inventory.yml, ready for site.yml alone (`lab up --name NAME --product obkm` for OB KM).',
    ],
    siteGroups(plan, 'obiam'),
  );
}

export interface LabInventoryFiles {
  /** Hosts and connection only. */
  hostsFile: string;
  /** hostsFile plus groups `lab` and the product's, with group_vars/ beside it: ready for site.yml. */
  inventoryFile: string;
}

/**
 * Writes a running lab's hosts.yml and inventory.yml (0600: they hold the sudo password) and links
 * group_vars/ beside them to the repo's inventory/group_vars/, where Ansible (and obiam-run) look for
 * the vars of an inventory file's groups. Rewriting them is how `lab up --product` switches a lab.
 */
export function writeLabInventories(
  plan: InventoryLab,
  p: InventoryPaths,
  files: LabInventoryFiles,
  product: LabProduct,
  repoGroupVars: string,
  via: Record<string, { ip: string; port: number }> = {},
): void {
  const name = plan.name;
  writeFileSync(
    files.hostsFile,
    renderInventory(plan, p, [
      `obiam-run lab '${name}': hosts and connection only (written by \`obiam-run lab up\`; removed by \`lab down\`).`,
      `For playbooks/site.yml use ${path.basename(files.inventoryFile)} beside it.`,
    ], [], via),
    { mode: 0o600 },
  );
  writeFileSync(
    files.inventoryFile,
    renderInventory(
      plan,
      p,
      [
        `obiam-run lab '${name}' with ${PRODUCT_NAME[product]} on its nodes (written by \`obiam-run lab up --product ${product}\`; removed by \`lab down\`).`,
        'Groups `lab` and `' + product + '` make it ready for playbooks/site.yml alone; group_vars/ beside it links to',
        `${repoGroupVars} (the lab's settings and vaulted secrets; vault password in inventory/lab-vault-pass.txt).`,
      ],
      siteGroups(plan, product),
      via,
    ),
    { mode: 0o600 },
  );
  const link = path.join(path.dirname(files.inventoryFile), 'group_vars');
  if (isLink(link)) rmSync(link);
  symlinkSync(repoGroupVars, link);
}

function isLink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}
