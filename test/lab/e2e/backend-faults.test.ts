// The database and the directory for real: on ONE lab of its own (3 OB IAM nodes of the stand-in behind
// HAProxy, storage1 serving the lab's MariaDB and slapd), site.yml creates the databases, users, schemas
// and LDAP bases once (a second run changes nothing and scripts nothing), then each backend fault is
// refused with a message naming the setting and the host before any node is touched, and the cluster
// stays whole in the LB: the database stopped, a wrong DB password, a missing schema in DBA mode, a
// wrong bind DN.
import { execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labDown, labServiceStart, labServiceStop, labUp } from '../../../src/lab/lab.js';
import type { LabHost, LabInfo } from '../../../src/lab/types.js';
import { SITE, VAULT, changedTasks, health, inHost, lbStates, overlay, until } from './cluster.js';
import { REPO, runCli, sum, type CliRun } from './run-cli.js';
import { ownLabName } from '../lab-fixture.js';

const ROLL = path.join(REPO, 'playbooks/rolling-restart.yml');
const UPGRADE = path.join(REPO, 'playbooks/rolling-upgrade.yml');
const ALL_UP = { node1: 'UP', node2: 'UP', node3: 'UP' };
const SMALL_DISK_OK = ['-e', 'preflight_min_disk_gb=0'];
const DBS = ['obiam_identity_db', 'obiam_shared_db', 'obiam_apim_db', 'obiam_config_db', 'obiam_um_db', 'obiam_ob_db'];

/** Did the run drain or stop any node? */
const touched = (r: CliRun): boolean =>
  r.events.some((e) => e.event === 'host-result' && e.status !== 'skipped' && ['Out of the load balancer', 'Drain the node on the load balancer', 'Service stopped'].includes(e.task));
/** A stand-in pack of another version, built from source as the lab's own are. */
function buildPack(version: string): string {
  const out = mkdtempSync(path.join(tmpdir(), 'obr-pack-'));
  execFileSync('bash', [path.join(REPO, 'lab-product/build.sh'), '--out', out, '--obiam-version', version], { stdio: 'pipe' });
  return path.join(out, `wso2-obiam-${version}.zip`);
}

/** Runs `act` on each JSON event of the child's stdout that `pred` accepts (each pair once). */
function onEvents(pairs: [(e: Record<string, any>) => boolean, () => void][]): (child: ChildProcess) => void {
  const done = new Set<number>();
  return (child) => {
    let buf = '';
    child.stdout!.on('data', (b: Buffer) => {
      buf += b.toString();
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const l of lines) {
        if (!l.trim()) continue;
        const e = JSON.parse(l) as Record<string, any>;
        pairs.forEach(([pred, act], i) => {
          if (!done.has(i) && pred(e)) {
            done.add(i);
            act();
          }
        });
      }
    });
  };
}

const results = (r: CliRun, task: string): any[] => r.events.filter((e) => e.event === 'host-result' && e.task === task);

describe('database and directory faults', () => {
  let lab: LabInfo;
  let nodes: LabHost[];
  let base: string[];

  /** SQL as the server's root on its socket (the test's view of the database, not the playbook's). */
  function sql(q: string): string {
    return execFileSync('mariadb', ['--no-defaults', `--socket=${lab.services!.db!.socket}`, '-u', 'root', '--batch', '--skip-column-names', '-e', q], { encoding: 'utf8' }).trim();
  }

  async function serving(): Promise<void> {
    for (const n of nodes) await until(`${n.name} healthy with 3 members`, () => health(n), (h) => h.status === 'UP' && h.members.length === 3, 60_000);
    await until('every node UP at HAProxy', () => lbStates(lab, 'lb1'), (s) => JSON.stringify(s) === JSON.stringify(ALL_UP), 60_000);
  }

  /** A refused run: exit 2, the message, nothing drained or stopped, and no node left out of the LB (the
   * stand-in re-checks its datasources every 5 s, so while a fault lasts HAProxy's health check may see a
   * node DOWN; once the fault is gone every node is back UP without anything being done to it). */
  async function refused(r: CliRun, ...texts: string[]): Promise<void> {
    expect(r.code, r.stdout + r.stderr).toBe(2);
    for (const t of texts) expect(r.stdout + r.stderr).toContain(t);
    expect(touched(r)).toBe(false);
    await until('every node UP at HAProxy', () => lbStates(lab, 'lb1'), (s) => JSON.stringify(s) === JSON.stringify(ALL_UP), 60_000);
  }

  beforeAll(async () => {
    execFileSync('bash', [path.join(REPO, 'scripts/lab-artifacts.sh')], { stdio: 'pipe' });
    lab = await labUp({ name: ownLabName('backend'), hosts: 3, with: ['lb', 'storage'] });
    nodes = lab.hosts.filter((h) => h.role === 'node');
    base = ['-i', lab.inventoryFile, '-i', overlay('obiam', nodes), ...VAULT, '--json'];
  }, 300_000);

  afterAll(async () => {
    if (lab) await labDown({ name: lab.name });
  }, 120_000);

  it('site.yml creates the databases, least-privilege users, schemas and LDAP bases once; the second run changes nothing', async () => {
    const first = await runCli([SITE, ...base, ...SMALL_DISK_OK], { timeoutMs: 600_000 });
    expect(first.code, first.stdout + first.stderr).toBe(0);
    // Every datasource scripted once, from the admin host (node1) only.
    const scripted = results(first, 'Schema script of the datasource (once)').filter((e) => e.isItem && e.status === 'changed');
    expect(scripted.length).toBe(6);
    expect(new Set(scripted.map((e) => e.host))).toEqual(new Set(['node1']));
    for (const db of DBS) expect(Number(sql(`SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '${db}'`))).toBeGreaterThanOrEqual(2);
    // The product user has data privileges on its databases only: no DDL, nothing global.
    const grants = sql("SHOW GRANTS FOR 'obiam'@'%'");
    expect(grants).toContain('GRANT USAGE ON *.* TO `obiam`@`%`');
    expect(grants).toContain('GRANT SELECT, INSERT, UPDATE, DELETE, CREATE TEMPORARY TABLES, LOCK TABLES, EXECUTE ON `obiam_identity_db`.*');
    expect(grants).not.toMatch(/\b(CREATE|DROP|ALTER),/);
    // The user logs in with the vaulted password from a node, and reads a table the script made.
    const { ldap } = lab.services!;
    const ldapOut = execFileSync('ldapsearch', ['-x', '-LLL', '-H', `ldap://${ldap!.ip}`, '-D', ldap!.adminDn, '-w', ldap!.adminPassword, '-b', ldap!.baseDn, '-s', 'one', 'dn'], { encoding: 'utf8' });
    expect(ldapOut.trim().split(/\n+/).sort()).toEqual([`dn: ou=Groups,${ldap!.baseDn}`, `dn: ou=Users,${ldap!.baseDn}`]);
    await serving();

    // A table the product wrote to survives: the scripts never run again and nothing is dropped.
    sql("INSERT INTO obiam_ob_db.OB_CONSENT (CONSENT_ID) VALUES ('kept')");
    const second = await runCli([SITE, ...base, ...SMALL_DISK_OK], { timeoutMs: 600_000 });
    expect(second.code, second.stdout + second.stderr).toBe(0);
    expect(sum(second.recap, 'changed'), changedTasks(second)).toBe(0);
    expect(results(second, 'Schema script of the datasource (once)').every((e) => e.status === 'skipped')).toBe(true);
    expect(sql("SELECT CONSENT_ID FROM obiam_ob_db.OB_CONSENT WHERE CONSENT_ID = 'kept'")).toBe('kept');
  }, 1_200_000);

  it('a rolling restart refuses to start while the database is down, naming the database and the node', async () => {
    await labServiceStop(lab, 'db');
    let r: CliRun;
    try {
      r = await runCli([ROLL, ...base], { timeoutMs: 300_000 });
    } finally {
      await labServiceStart(lab, 'db');
    }
    const db = lab.services!.db!;
    await refused(r, 'not rolling: node1', `database: ${db.ip}:3306 does not answer from node1`, 'is the database server up? (ob_db_host, ob_db_port)');
    await serving();
  }, 600_000);

  it('a wrong DB password (-e ob_db_password): the roll is refused naming the setting and the node', async () => {
    const r = await runCli([ROLL, ...base, '-e', 'ob_db_password=not-the-vaulted-one'], { timeoutMs: 300_000 });
    await refused(r, 'not rolling: node2', 'datasource identity (user obiam, database obiam_identity_db) cannot log in', 'check ob_db_passwords.identity (or ob_db_password, vault)');
    expect(r.stdout + r.stderr).not.toContain('not-the-vaulted-one');
  }, 600_000);

  it('DBA mode with a schema missing: site.yml stops in preflight naming the datasource, the table and the node', async () => {
    sql('RENAME TABLE obiam_ob_db.OB_CONSENT TO obiam_ob_db.OB_CONSENT_AWAY');
    let r: CliRun;
    try {
      r = await runCli([SITE, ...base, ...SMALL_DISK_OK, '-e', 'ob_db_managed_by=dba'], { timeoutMs: 300_000 });
    } finally {
      sql('RENAME TABLE obiam_ob_db.OB_CONSENT_AWAY TO obiam_ob_db.OB_CONSENT');
    }
    await refused(r, 'datasource open_banking (user obiam, database obiam_ob_db): table OB_CONSENT does not exist', 'checked from node3', 'ob_db_managed_by is dba, so the DBA creates it');
    // Nothing after preflight ran: no database was created or scripted.
    expect(results(r, 'Schema script of the datasource (once)')).toEqual([]);
    // And in DBA mode with the schema there, the run goes through without creating anything.
    const ok = await runCli([SITE, ...base, ...SMALL_DISK_OK, '-e', 'ob_db_managed_by=dba'], { timeoutMs: 600_000 });
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(sum(ok.recap, 'changed'), changedTasks(ok)).toBe(0);
    expect(results(ok, 'What the database server has').every((e) => e.status === 'skipped')).toBe(true);
  }, 900_000);

  it('a wrong LDAP bind DN: the roll is refused naming the setting and the node', async () => {
    const dn = `cn=nobody,${lab.services!.ldap!.baseDn}`;
    const r = await runCli([ROLL, ...base, '-e', `ob_ldap_bind_dn=${dn}`], { timeoutMs: 300_000 });
    await refused(r, 'not rolling: node1', `LDAP: the bind as '${dn}' to ldap://${lab.services!.ldap!.ip}:389 is refused from node1`, 'check ob_ldap_bind_dn / ob_ldap_bind_password');
  }, 600_000);

  it('a wrong key store password (-e ob_keystore_password): site.yml stops before any node is touched, naming the setting', async () => {
    const r = await runCli([SITE, ...base, ...SMALL_DISK_OK, '-e', 'ob_keystore_password=not-the-keystore-one'], { timeoutMs: 600_000 });
    await refused(r, 'does not open with ob_keystore_password (vault)', 'nothing was changed on them');
    expect(sum(r.recap, 'changed'), changedTasks(r)).toBe(0);
    // Every node stops at the check: nothing of the configure or service roles ran.
    expect(r.events.some((e) => e.event === 'host-result' && e.task === 'Keystore (identical on every node)')).toBe(false);
    expect(r.stdout + r.stderr).not.toContain('not-the-keystore-one');
  }, 900_000);

  // Last: it leaves node1 on the same version as the others, but the test's pack is gone afterwards.
  it('a node that cannot reach the database during a rolling upgrade is rolled back and put back in the LB', async () => {
    const pack = buildPack('2.0.1');
    const db = lab.services!.db!;
    const n1 = nodes[0]!;
    // node1 alone loses the database (TCP to its port refused by a routing rule in node1's network
    // namespace; LDAP and the shared storage on the same host still answer) from the moment its service
    // is stopped for the upgrade until the upgrade's rescue starts: the gate passed, the new version
    // cannot open its datasources, and the previous one can again.
    const rule = ['-n', n1.netns, 'rule', 'add', 'to', `${db.ip}/32`, 'ipproto', 'tcp', 'dport', String(db.port), 'prohibit'];
    const unrule = ['-n', n1.netns, 'rule', 'del', 'to', `${db.ip}/32`, 'ipproto', 'tcp', 'dport', String(db.port), 'prohibit'];
    let cut = false;
    const heal = (): void => {
      if (cut) execFileSync('ip', unrule);
      cut = false;
    };
    let r: CliRun;
    try {
      r = await runCli([UPGRADE, ...base, '-e', 'product_version=2.0.1', '-e', `product_pack=${pack}`, '-e', 'ob_start_timeout=20'], {
        timeoutMs: 600_000,
        onSpawn: onEvents([
          [(e) => e.event === 'host-result' && e.task === 'Service stopped for the upgrade' && e.host === n1.name, () => {
            execFileSync('ip', rule);
            cut = true;
          }],
          [(e) => e.event === 'task-start' && e.task === 'Where current pointed when the upgrade failed', heal],
        ]),
      });
    } finally {
      heal();
    }
    expect(r.code, r.stdout + r.stderr).toBe(2);
    expect(r.stdout).toContain(`${n1.name}: the upgrade to 2.0.1 failed`);
    expect(r.stdout).toContain('back on wso2-obiam-2.0.0, healthy and in the load balancer');
    // The new version refused to start, naming a datasource and the database it could not reach.
    const log = inHost(n1, 'cat /opt/wso2/wso2-obiam-2.0.1/repository/logs/wso2carbon.log');
    expect(log).toMatch(new RegExp(`ERROR .*Datasource \\S+: .*${db.ip.replace(/\./g, '\\.')}`));
    expect(log).not.toContain('WSO2 Carbon started');
    // Only node1 was touched; it runs the previous version again, and every node is UP in the LB.
    const stopped = r.events.filter((e) => e.event === 'host-result' && e.task === 'Service stopped for the upgrade' && e.status !== 'skipped').map((e) => e.host);
    expect(stopped).toEqual([n1.name]);
    for (const n of nodes) {
      const h = (await health(n)) as { version?: string; status: string; members: string[] };
      expect(h.status, n.name).toBe('UP');
      expect(h.version, n.name).toBe('2.0.0');
    }
    expect(await lbStates(lab, 'lb1')).toEqual(ALL_UP);
  }, 900_000);
});
