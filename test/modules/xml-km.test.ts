// The OB KM configuration of the configure role, applied for real: the role's own tasks file is
// loaded, each task of its "XML configuration (OB KM)" block rendered with the site defaults and a
// 3-node cluster's variables, and run with the local connection on a copy of the lab pack's conf
// directory. The result is read the way the lab stand-in reads it (lab-product/src/lab/standin/Config.java).
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import type { Element } from '@xmldom/xmldom';
import { describe, expect, it } from 'vitest';
import type { Block, Task, TaskNode } from '../../src/load/model.js';
import { loadTasksFile } from '../../src/load/playbook.js';
import { parseYaml } from '../../src/load/yaml.js';
import { getModule } from '../../src/modules/registry.js';
import type { ModuleResult } from '../../src/modules/types.js';
import { parseXml } from '../../src/modules/xml.js';
import { VarScope } from '../../src/run/vars.js';
import type { Vars } from '../../src/types.js';
import { createTemplater } from '../../src/vars/template.js';
import { localContext } from '../support/module-context.js';

const ROLE_TASKS = path.resolve('playbooks/roles/configure/tasks/main.yml');
const PACK_CONF = path.resolve('lab-product/pack/obkm/repository/conf');
const NODES = { km1: '10.0.0.11', km2: '10.0.0.12', km3: '10.0.0.13' };

const siteDefaults = (): Vars => parseYaml(readFileSync(path.resolve('playbooks/roles/site-defaults.yml'), 'utf8'), 'site-defaults.yml').data as Vars;

function clusterVars(home: string): Vars {
  const defaults = siteDefaults();
  const hostvars = Object.fromEntries(Object.entries(NODES).map(([h, ip]) => [h, { ob_node_address: ip, ansible_host: ip }]));
  return {
    ...defaults,
    playbook_dir: path.resolve('playbooks'),
    inventory_hostname: 'km2',
    group_names: ['obkm'],
    groups: { all: Object.keys(NODES), obkm: Object.keys(NODES) },
    hostvars,
    ob_node_address: NODES.km2,
    ob_home: home,
    ob_user: userInfo().username,
    ob_group: execFileSync('id', ['-gn'], { encoding: 'utf8' }).trim(),
    ob_public_hostname: 'km.bank.example',
    ob_port_offset: 5,
    ob_db_host: 'db.bank.example',
    ob_db_password: 'db-secret',
    ob_ldap_url: 'ldaps://ldap.bank.example:636',
    ob_ldap_bind_password: 'ldap-secret',
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
    expect(['xml', 'stat'], task.name).toContain(task.module);
    const scope = new VarScope({ ...raw, ...task.vars }, templater);
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

/** What the lab stand-in reads from the OB KM files (the same lookups as Config.readXml). */
function standInView(conf: string): Record<string, unknown> {
  const doc = (f: string) => parseXml(readFileSync(path.join(conf, f), 'utf8'), f).documentElement!;
  const text = (el: Element, tag: string): string | undefined => el.getElementsByTagName(tag).item(0)?.textContent?.trim();
  const carbon = doc('carbon.xml');
  const cl = doc('axis2/axis2.xml').getElementsByTagName('clustering').item(0)!;
  const params = Object.fromEntries(
    Array.from(cl.getElementsByTagName('parameter'))
      .filter((p) => p.parentNode === cl)
      .map((p) => [p.getAttribute('name'), p.textContent?.trim()]),
  );
  const members = Array.from(cl.getElementsByTagName('member')).map((m) => `${text(m, 'hostName')}:${text(m, 'port')}`);
  const datasources: Record<string, string> = {};
  for (const f of ['datasources/master-datasources.xml', 'datasources/open-banking-datasources.xml']) {
    for (const ds of Array.from(doc(f).getElementsByTagName('datasource'))) {
      const url = text(ds, 'url');
      if (url && !url.startsWith('jdbc:h2:')) datasources[text(ds, 'name')!] = url;
    }
  }
  const usm = Array.from(doc('user-mgt.xml').getElementsByTagName('UserStoreManager')).find((u) => u.getAttribute('class')?.includes('LDAP'));
  const ldapUrl = usm && Array.from(usm.getElementsByTagName('Property')).find((p) => p.getAttribute('name') === 'ConnectionURL')?.textContent?.trim();
  const proxyPort = Array.from(doc('tomcat/catalina-server.xml').getElementsByTagName('Connector')).find((c) => c.getAttribute('port') === '9443')?.getAttribute('proxyPort');
  return {
    hostname: text(carbon, 'HostName'),
    mgtHostname: text(carbon, 'MgtHostName'),
    offset: text(carbon, 'Offset'),
    clustering: cl.getAttribute('enable'),
    membershipScheme: params.membershipScheme,
    localMemberHost: params.localMemberHost,
    localMemberPort: params.localMemberPort,
    domain: params.domain,
    members,
    datasources,
    ldapUrl,
    proxyPort,
  };
}

function snapshot(conf: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of readdirSync(conf, { recursive: true, withFileTypes: true })) {
    if (f.isFile()) out[path.relative(conf, path.join(f.parentPath, f.name))] = readFileSync(path.join(f.parentPath, f.name), 'utf8');
  }
  return out;
}

describe('configure role: OB KM XML files edited in place', () => {
  it('sets everything the stand-in reads on the pack files, and a second application changes nothing', async () => {
    const home = mkdtempSync(path.join(tmpdir(), 'obr-km-'));
    const conf = path.join(home, 'repository/conf');
    cpSync(PACK_CONF, conf, { recursive: true });
    const vars = clusterVars(home);
    const block = kmBlock();

    const first = await applyBlock(block, vars);
    expect(first.filter((a) => a.changed).length).toBeGreaterThan(10);
    const db = 'jdbc:mysql://db.bank.example:3306/';
    expect(standInView(conf)).toEqual({
      hostname: 'km.bank.example',
      mgtHostname: 'km.bank.example',
      offset: '5',
      clustering: 'true',
      membershipScheme: 'wka',
      localMemberHost: '10.0.0.12',
      localMemberPort: '4000',
      domain: 'wso2.obiam.domain',
      members: ['10.0.0.11:4000', '10.0.0.12:4000', '10.0.0.13:4000'],
      datasources: {
        WSO2AM_DB: `${db}obiam_apim_db?useSSL=false&autoReconnect=true`,
        WSO2CONFIG_DB: `${db}obiam_config_db?useSSL=false&autoReconnect=true`,
        WSO2REG_DB: `${db}obiam_shared_db?useSSL=false&autoReconnect=true`,
        WSO2UM_DB: `${db}obiam_um_db?useSSL=false&autoReconnect=true`,
        WSO2_OPEN_BANKING_DB: `${db}obiam_ob_db?useSSL=false&autoReconnect=true`,
      },
      ldapUrl: 'ldaps://ldap.bank.example:636',
      proxyPort: '443',
    });

    // The rest of what the role sets, and what it leaves alone.
    const files = snapshot(conf);
    expect(files['datasources/master-datasources.xml']).toContain('<url>jdbc:h2:./repository/database/WSO2CARBON_DB;DB_CLOSE_ON_EXIT=FALSE</url>');
    expect(files['datasources/master-datasources.xml']).toContain(
      [
        '            <name>WSO2UM_DB</name>',
        '            <description>The datasource used for the user manager</description>',
        '            <jndiConfig>',
        '                <name>jdbc/WSO2UMDB</name>',
        '            </jndiConfig>',
        '            <definition type="RDBMS">',
        '                <configuration>',
        '                    <url>jdbc:mysql://db.bank.example:3306/obiam_um_db?useSSL=false&amp;autoReconnect=true</url>',
        '                    <username>obiam</username>',
        '                    <password>db-secret</password>',
        '                    <driverClassName>com.mysql.jdbc.Driver</driverClassName>',
        '                    <maxActive>150</maxActive>',
      ].join('\n'),
    );
    expect(files['user-mgt.xml']).toContain('<UserStoreManager class="org.wso2.carbon.user.core.ldap.ReadWriteLDAPUserStoreManager">');
    expect(files['user-mgt.xml']).toContain('<Property name="ConnectionPassword">ldap-secret</Property>');
    expect(files['user-mgt.xml']).toContain('<Property name="UserSearchBase">ou=Users,dc=wso2,dc=org</Property>');
    expect(files['user-mgt.xml']).toContain('<Property name="UserNameSearchFilter">(&amp;(objectClass=person)(uid=?))</Property>');
    expect(files['user-mgt.xml']).toContain('<Property name="dataSource">jdbc/WSO2UMDB</Property>');
    expect(files['axis2/axis2.xml']).toContain('<property name="hazelcast.shutdownhook.enabled" value="false"/>');
    expect(files['tomcat/catalina-server.xml']).toContain('port="9763" redirectPort="9443" proxyPort="80"/>');
    // The pack's comments and declarations stay.
    for (const [f, text] of Object.entries(files)) expect(text, f).toMatch(/^<\?xml version="1.0" encoding="(UTF-8|ISO-8859-1)"\?>\n<!-- LAB STAND-IN pack default/);

    const second = await applyBlock(block, vars);
    expect(second.filter((a) => a.changed)).toEqual([]);
    expect(snapshot(conf)).toEqual(files);
  });
});
