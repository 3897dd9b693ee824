// The OB KM configuration of the configure role (tasks/obkm.yml), applied for real: the tasks are
// loaded, each rendered with the site defaults and a 3-node cluster's variables, and run with the
// local connection on a copy of the lab pack. Every element and attribute of every KM file is then
// compared with the pack's original (test/support/km-files.ts): the inventory's settings have the
// inventory's values, everything else is as the pack ships it, and every changed line holds an
// owned value (untouched bytes stay byte-identical). A second application changes nothing.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Block, Task, TaskNode } from '../../src/load/model.js';
import { loadTasksFile } from '../../src/load/playbook.js';
import { parseYaml } from '../../src/load/yaml.js';
import { getModule } from '../../src/modules/registry.js';
import type { ModuleResult } from '../../src/modules/types.js';
import { VarScope } from '../../src/run/vars.js';
import type { Vars } from '../../src/types.js';
import { createTemplater } from '../../src/vars/template.js';
import { compareKmHome, kmExpected, KM_FILES, readKmHome } from '../support/km-files.js';
import { localContext } from '../support/module-context.js';

const ROLE_TASKS = path.resolve('playbooks/roles/configure/tasks/obkm.yml');
const PACK = path.resolve('lab-product/pack/obkm');
const NODES = { km1: '10.0.0.11', km2: '10.0.0.12', km3: '10.0.0.13' };

// The configure role's defaults over those of common (its meta dependency), as the loader merges them.
const roleDefaults = (role: string): Vars => parseYaml(readFileSync(path.resolve(`playbooks/roles/${role}/defaults/main.yml`), 'utf8'), `${role}/defaults/main.yml`).data as Vars;
const siteDefaults = (): Vars => ({ ...roleDefaults('common'), ...roleDefaults('configure') });

function clusterVars(home: string, over: Vars = {}): Vars {
  const defaults = siteDefaults();
  const hostvars = Object.fromEntries(Object.entries(NODES).map(([h, ip]) => [h, { ansible_host: ip }]));
  return {
    ...defaults,
    playbook_dir: path.resolve('playbooks'),
    inventory_hostname: 'km2',
    group_names: ['obkm'],
    groups: { all: Object.keys(NODES), obkm: Object.keys(NODES) },
    hostvars,
    ansible_host: NODES.km2,
    ob_home: home,
    ob_user: userInfo().username,
    ob_group: execFileSync('id', ['-gn'], { encoding: 'utf8' }).trim(),
    ob_public_hostname: 'km.bank.example',
    ob_apim_hostname: 'apim.bank.example',
    ob_analytics_hostname: 'bi.bank.example',
    ob_port_offset: 5,
    ob_db_host: 'db.bank.example',
    ob_db_password: 'db-secret',
    ob_ldap_url: 'ldaps://ldap.bank.example:636',
    ob_ldap_bind_password: 'ldap-secret',
    ob_admin_username: 'bankadmin',
    ob_admin_password: 'admin-secret',
    ob_keystore_name: 'bank.jks',
    ob_keystore_alias: 'bank',
    ob_keystore_password: 'ks-secret',
    ob_truststore_name: 'bank-trust.jks',
    ob_truststore_password: 'ts-secret',
    ...over,
  };
}

function kmBlock(): Block {
  const role = { name: 'configure', path: path.dirname(path.dirname(ROLE_TASKS)), defaults: siteDefaults(), vars: {}, params: {} };
  const block = loadTasksFile(ROLE_TASKS, { role, playbookDir: path.resolve('playbooks') }).find((n): n is Block => n.kind === 'block' && n.name === 'XML configuration (OB KM)');
  if (!block) throw new Error(`no block "XML configuration (OB KM)" in ${ROLE_TASKS}`);
  return block;
}

interface Applied {
  task: string;
  changed: boolean;
}

/** Runs the block's tasks as the runner would (block vars and when, loop, item when, register). */
async function applyBlock(block: Block, vars: Vars): Promise<Applied[]> {
  const templater = createTemplater();
  const raw: Vars = { ...vars, ...block.vars };
  expect(new VarScope(raw, templater).conditions(block.when)).toBe(true);
  const out: Applied[] = [];
  for (const node of block.block as TaskNode[]) {
    if (node.kind !== 'task') throw new Error(`unexpected ${node.kind} in the OB KM block`);
    const task: Task = node;
    // Only file edits under ob_home: nothing here may touch the machine running the tests.
    expect(['xml', 'stat', 'lineinfile', 'assert'], task.name).toContain(task.module);
    const scope = new VarScope({ ...raw, ...task.vars }, templater);
    if (task.module === 'assert') {
      expect(scope.conditions([String(task.args.that)]), task.name).toBe(true);
      continue;
    }
    const items = task.loop === undefined ? [undefined] : (scope.renderValue(task.loop) as unknown[]);
    const results: ModuleResult[] = [];
    for (const item of items) {
      const s = task.loop === undefined ? scope : scope.with({ item });
      if (!s.conditions(task.when)) continue;
      const args = s.renderValue(task.args) as Record<string, unknown>;
      expect(String(args.path), task.name).toMatch(new RegExp(`^${vars.ob_home as string}/`));
      const r = await getModule(task.module)!.run(args, await localContext());
      expect(r.failed, `${task.name} ${JSON.stringify(item)}: ${String(r.msg)}`).toBeFalsy();
      results.push(r);
      out.push({ task: `${task.name}${item === undefined ? '' : ` ${JSON.stringify(item)}`}`, changed: r.changed });
    }
    if (task.register) raw[task.register] = task.loop === undefined ? results[0] : { results };
  }
  return out;
}

function packCopy(): string {
  const home = mkdtempSync(path.join(tmpdir(), 'obr-km-'));
  cpSync(path.join(PACK, 'repository'), path.join(home, 'repository'), { recursive: true });
  return home;
}

/** The rendered variables the comparison needs (the test renders them as the role does). */
function rendered(vars: Vars): Vars {
  const scope = new VarScope(vars, createTemplater());
  const keys = ['ob_public_hostname', 'ob_https_port', 'ob_port_offset', 'ob_proxy_port', 'lb_http_port', 'ob_cluster_domain', 'ob_cluster_port', 'ob_node_address', 'ob_node_addresses', 'ob_datasources', 'ob_db_pool_options', 'ob_user_store_kind', 'ob_ldap_properties', 'ob_ldap_bind_password', 'ob_ldap_user_store_class', 'ob_admin_username', 'ob_admin_password', 'ob_keystore_name', 'ob_keystore_type', 'ob_keystore_alias', 'ob_keystore_password', 'ob_keystore_key_password', 'ob_truststore_name', 'ob_truststore_type', 'ob_truststore_password', 'ob_hazelcast_properties', 'ob_km_public_url', 'ob_km_apim_url', 'ob_km_apim_gateway_url', 'ob_km_analytics_url', 'ob_km_analytics_auth_url', 'ob_km_identity_endpoints', 'ob_km_authentication_endpoints', 'ob_km_conf_json'];
  return Object.fromEntries(keys.map((k) => [k, scope.renderValue(`{{ ${k} }}`)]));
}

describe('configure role: OB KM files edited in place (tasks/obkm.yml)', () => {
  for (const kind of ['ldap', 'jdbc'] as const) {
    it(`${kind} user store: owned settings have the inventory's values, everything else is the pack's, byte for byte; a second run changes nothing`, async () => {
      const home = packCopy();
      const vars = clusterVars(home, { ob_user_store_kind: kind });
      const block = kmBlock();
      const before = readKmHome(path.join(PACK));
      const first = await applyBlock(block, vars);
      expect(first.filter((a) => a.changed).length).toBeGreaterThan(20);
      const after = readKmHome(home);
      const problems = compareKmHome(before, after, kmExpected(rendered(vars)));
      expect(problems).toEqual([]);
      expect(Object.keys(after).sort()).toEqual([...KM_FILES].sort());

      const second = await applyBlock(block, vars);
      expect(second.filter((a) => a.changed)).toEqual([]);
      expect(readKmHome(home)).toEqual(after);
    }, 180_000);
  }

  it('changing one inventory value changes one line of one file', async () => {
    const home = packCopy();
    await applyBlock(kmBlock(), clusterVars(home));
    const a = readKmHome(home);
    await applyBlock(kmBlock(), clusterVars(home, { ob_cluster_domain: 'bank.km.domain' }));
    const b = readKmHome(home);
    const changed = Object.keys(a).filter((f) => a[f] !== b[f]);
    expect(changed).toEqual(['repository/conf/axis2/axis2.xml']);
    const la = a[changed[0]!]!.split('\n');
    const lb = b[changed[0]!]!.split('\n');
    expect(lb.length).toBe(la.length);
    const diff = la.map((l, i) => [l, lb[i]]).filter(([x, y]) => x !== y);
    expect(diff).toEqual([['        <parameter name="domain">wso2.obiam.domain</parameter>', '        <parameter name="domain">bank.km.domain</parameter>']]);
  }, 180_000);
});
