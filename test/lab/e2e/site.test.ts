// playbooks/site.yml on the lab with the LAB STAND-IN product, through the obiam-run CLI:
// preflight refusals stop the run before any change; 3 OB IAM nodes + HAProxy + shared storage
// form one cluster, sticky through the LB, sharing userstores; a second run changes nothing;
// then OB KM 1.5.0 on 2 nodes. Artifacts come from scripts/lab-artifacts.sh.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { diffLines } from 'diff';
import { parse as parseToml } from 'smol-toml';
import { replaceUrlHosts } from '../../../src/modules/toml.js';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LabHost, LabInfo } from '../../../src/lab/types.js';
import { labDown, labUp } from '../../../src/lab/lab.js';
import { BUILD, SITE, VAULT, changedTasks, get, health, inHost, overlay, tasks, until } from './cluster.js';
import { compareKmHome, kmExpected, KM_FILES, readKmHome, type KmHome } from '../../support/km-files.js';
import { REPO, runCli, sum, type CliRun } from './run-cli.js';
import { ownLabName } from '../lab-fixture.js';

const LISTENER = (port: number, tag: string): string => `
    - name: listener ${tag}
      shell: |
        ss -Htln 'sport = :${port}' | grep -q . ||
        { setsid /usr/bin/python3 -c 'import socket,time;s=socket.socket();s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1);s.bind(("0.0.0.0",${port}));s.listen(50)
        while True: c,_=s.accept(); c.close()' </dev/null >/dev/null 2>&1 & echo $! > /run/obr-${tag}.pid; }
`;

/** Every leaf of a parsed TOML document as `a.b[0].c` -> value (JSON for comparison). */
function leaves(v: unknown, p = '', out = new Map<string, string>()): Map<string, string> {
  if (Array.isArray(v) && v.length && v.every((x) => typeof x === 'object' && x !== null && !Array.isArray(x))) v.forEach((x, i) => leaves(x, `${p}[${i}]`, out));
  else if (typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date)) for (const [k, x] of Object.entries(v)) leaves(x, p ? `${p}.${k}` : k, out);
  else out.set(p, JSON.stringify(v));
  return out;
}

/** Keys the inventory owns in deployment.toml (playbooks/roles/configure/tasks/obiam.yml). */
const OWNED = [
  /^server\.(hostname|node_ip|offset)$/, /^transport\./, /^clustering\./, /^hazelcast\./,
  /^(database\.(identity_db|shared_db|apim_db|config)|open_banking_database\.config|datasource\[0\])\.(url|username|password|driver|pool_options\..*)$/,
  /^user_store\.(type|class|connection_url|connection_name|connection_password|base_dn|properties\.(Connection|User|Group|Membership|ReadGroups|WriteGroups).*)$/,
  /^super_admin\./, /^keystore\.primary\./, /^truststore\./, /^oauth\.oidc\.id_token\.issuer$/,
];
/** URL keys whose host the inventory owns, by the host that replaces the pack's. */
const URL_HOSTS: [RegExp, string][] = [
  [/^open_banking\.berlin\.sca\.oauth_metadata_endpoint$|^open_banking\.au\.metadata_cache\.(dcr_internal_url|token_revocation_url)$/, 'obiam.lab'],
  [/^apim\.gateway\.environment\[0\]\.|^apim\.throttling\.url_group\[0\]\.traffic|^open_banking\.uk\.(account|payment|funds)|^open_banking\.event_notifications\.api_url|^open_banking\.berlin\.(.*_link|sca\..*_endpoint)$/, 'apim.obiam.lab'],
  [/^authentication\.adaptive\.event_publisher\.url$|^open_banking\.bi_server\..*(server_url|_url)$/, 'analytics.obiam.lab'],
];

/**
 * Keys of a pack's deployment.toml lost or changed by the deployment (empty = as it must be): every
 * key of the pack is still there, and each one the inventory does not own has the pack's value (URL
 * keys whose host the inventory owns: the pack's URL with that host).
 */
function tomlProblems(packText: string, deployedText: string): { problems: string[]; deployed: Map<string, string> } {
  const deployed = leaves(parseToml(deployedText));
  const pack = leaves(parseToml(packText));
  const problems = [...pack.keys()].filter((k) => !deployed.has(k)).map((k) => `lost: ${k}`);
  const rehost = (v: unknown, host: string): unknown => (typeof v === 'string' ? replaceUrlHosts(v, host) : Array.isArray(v) ? v.map((x) => rehost(x, host)) : v);
  for (const [k, v] of pack) {
    if (!deployed.has(k) || OWNED.some((re) => re.test(k))) continue;
    const host = URL_HOSTS.find(([re]) => re.test(k))?.[1];
    const want = host ? JSON.stringify(rehost(JSON.parse(v), host)) : v;
    if (deployed.get(k) !== want) problems.push(`${k}: pack ${v}, expected ${want}, deployed ${deployed.get(k)}`);
  }
  return { problems, deployed };
}

const HOME = '/opt/wso2/current';

/** Checksum, mode, owner and mtime of every file a deployment writes on a node or the LB. */
function snapshot(h: LabHost): string {
  return inHost(
    h,
    `for d in ${HOME}/bin ${HOME}/lib ${HOME}/repository/conf ${HOME}/repository/components ${HOME}/repository/resources /etc/init.d /etc/sysctl.d /etc/security /etc/haproxy /etc/ssl/obiam /etc/nginx; do
       [ -e "$d" ] && find -L "$d" -type f -exec sh -c 'for f; do printf "%s %s\\n" "$(stat -c "%n %a %U %Y" "$f")" "$(md5sum < "$f")"; done' _ {} +
     done; md5sum /etc/hosts; readlink /opt/wso2/current || true`,
  );
}

/** The variables kmExpected reads, as the roles see them on `host` (role defaults < inventory < -e). */
const KM_VARS = [
  'ob_public_hostname', 'ob_km_public_url', 'ob_datasources', 'ob_db_pool_options', 'ob_port_offset', 'ob_keystore_name',
  'ob_keystore_type', 'ob_keystore_alias', 'ob_keystore_password', 'ob_keystore_key_password', 'ob_truststore_name',
  'ob_truststore_type', 'ob_truststore_password', 'ob_proxy_port', 'lb_http_port', 'ob_node_addresses', 'ob_cluster_domain',
  'ob_node_address', 'ob_cluster_port', 'ob_user_store_kind', 'ob_admin_username', 'ob_admin_password', 'ob_ldap_user_store_class',
  'ob_ldap_properties', 'ob_ldap_bind_password', 'ob_km_identity_endpoints', 'ob_km_authentication_endpoints', 'ob_km_apim_url',
  'ob_km_apim_gateway_url', 'ob_km_analytics_url', 'ob_km_analytics_auth_url', 'ob_km_conf_json', 'ob_hazelcast_properties',
];
async function roleVars(lab: LabInfo, args: string[], host: LabHost): Promise<Record<string, unknown>> {
  // A role whose defaults are those of every site role, so the variables render as the roles see them.
  const dir = mkdtempSync(path.join(tmpdir(), 'obr-probe-'));
  const defaults = path.join(dir, 'roles/probe/defaults/main');
  mkdirSync(defaults, { recursive: true });
  mkdirSync(path.join(dir, 'roles/probe/tasks'));
  const roles = path.join(REPO, 'playbooks/roles');
  for (const r of readdirSync(roles).sort()) {
    const f = path.join(roles, r, 'defaults/main.yml');
    try {
      readFileSync(f);
    } catch {
      continue;
    }
    symlinkSync(f, path.join(defaults, `${r === 'common' ? '00' : '10'}-${r}.yml`));
  }
  writeFileSync(path.join(dir, 'roles/probe/tasks/main.yml'), `- copy:\n    dest: /tmp/obr-probe.json\n    content: "{{ {${KM_VARS.map((v) => `'${v}': ${v}`).join(', ')}} | to_json }}"\n`);
  writeFileSync(path.join(dir, 'probe.yml'), `- hosts: ${host.name}\n  gather_facts: false\n  roles: [probe]\n`);
  const r = await runCli([path.join(dir, 'probe.yml'), ...args, '--json']);
  expect(r.code, r.stdout + r.stderr).toBe(0);
  return JSON.parse(inHost(host, 'cat /tmp/obr-probe.json; rm -f /tmp/obr-probe.json')) as Record<string, unknown>;
}

function failureText(run: CliRun, host: string): string {
  return run.events
    .filter((e) => e.host === host)
    .map((e) => JSON.stringify(e))
    .filter((s) => s.includes('preflight failed'))
    .join('\n');
}

describe('playbooks/site.yml on the lab', () => {
  let lab: LabInfo;
  let nodes: LabHost[];
  let lb: LabHost;

  beforeAll(async () => {
    execFileSync('bash', [path.join(REPO, 'scripts/lab-artifacts.sh')], { stdio: 'pipe' });
    // A lab of its own: the deployment changes a lot on its hosts (users, /opt, services, mounts).
    lab = await labUp({ name: ownLabName('site'), hosts: 3, with: ['lb', 'storage'] });
    nodes = lab.hosts.filter((h) => h.role === 'node');
    lb = lab.hosts.find((h) => h.role === 'lb')!;
    expect(nodes.length, 'the lab needs 3 nodes').toBeGreaterThanOrEqual(3);
    expect(lb && lab.hosts.some((h) => h.role === 'storage'), 'the lab needs lb and storage hosts').toBeTruthy();
    // The RDBMS and LDAP stand-ins are the lab's own (listeners on the storage host).
  }, 180_000);

  afterAll(async () => {
    // labDown ends every process of the lab (products, LB, listeners) and removes its mounts.
    if (lab) await labDown({ name: lab.name });
  }, 120_000);

  it('preflight lists every failure on every node and stops before any change', async () => {
    const three = nodes.slice(0, 3);
    await tasks(lab, three[1].name, LISTENER(9446, 'taken-port'));
    try {
      const run = await runCli([
        SITE, '-i', lab.inventoryFile, '-i', overlay('obiam', three), ...VAULT, '--json',
        '-e', `jdk_tarball=${BUILD}/jdk-lab-1.8.0_151.tar.gz`,
        '-e', 'preflight_min_memory_mb=99999999',
        '-e', 'ob_db_port=3999',
      ], { timeoutMs: 120_000 });
      expect(run.code, run.stdout + run.stderr).not.toBe(0);
      for (const n of three) {
        const text = failureText(run, n.name);
        expect(text, n.name).toContain('memory:');
        expect(text, n.name).toContain('1.8.0_151 is refused');
        expect(text, n.name).toContain(`:3999 does not answer from ${n.name}`);
        if (n === three[1]) expect(text).toContain('port 9446 is in use');
        else expect(text).not.toContain('port 9446');
      }
      expect(sum(run.recap, 'changed')).toBe(0);
      // Nothing after the preflight play ran.
      expect(run.events.some((e) => e.task === 'Pack uploaded' || e.task === 'JDK tarball uploaded')).toBe(false);
    } finally {
      await tasks(lab, three[1].name, '    - shell: kill $(cat /run/obr-taken-port.pid); rm -f /run/obr-taken-port.pid\n');
    }
  }, 180_000);

  describe('OB IAM 2.0 on 3 nodes', () => {
    let inv: string;
    let first: CliRun;

    beforeAll(async () => {
      inv = overlay('obiam', nodes.slice(0, 3));
      first = await runCli([SITE, '-i', lab.inventoryFile, '-i', inv, ...VAULT, '--json'], { timeoutMs: 600_000 });
    }, 600_000);

    it('deploys a cluster whose every node lists all 3 members', async () => {
      expect(first.code, first.stdout + first.stderr).toBe(0);
      const expected = nodes.slice(0, 3).map((n) => `${n.ip}:4000`).sort();
      for (const n of nodes.slice(0, 3)) {
        const h = await health(n);
        expect(h.status).toBe('UP');
        expect([...h.members].sort()).toEqual(expected);
      }
    });

    it('keeps a client with a cookie on one node and spreads new clients over all nodes', async () => {
      const first = await get(lb.ip, 443, '/session');
      expect(first.status).toBe(200);
      const cookie = first.setCookie.map((c) => c.split(';')[0]).join('; ');
      expect(cookie).toContain('SERVERID=');
      const pinned = (JSON.parse(first.body) as { node: string }).node;
      for (let i = 0; i < 6; i++) {
        const r = JSON.parse((await get(lb.ip, 443, '/session', cookie)).body) as { node: string; lost: boolean; count: number };
        expect(r.node).toBe(pinned);
        expect(r.lost).toBe(false);
        expect(r.count).toBe(i + 2);
      }
      const seen = new Set<string>();
      for (let i = 0; i < 9; i++) seen.add((JSON.parse((await get(lb.ip, 443, '/session')).body) as { node: string }).node);
      expect([...seen].sort()).toEqual(nodes.slice(0, 3).map((n) => n.name).sort());
    });

    it('shares userstores: a file made on node 1 appears on nodes 2 and 3', async () => {
      const name = `OBR-${Date.now()}.xml`;
      await tasks(lab, nodes[0].name, `    - copy: { content: "<UserStoreManager/>\\n", dest: "/opt/wso2/current/repository/deployment/server/userstores/${name}", owner: wso2carbon, group: wso2 }\n`);
      for (const n of nodes.slice(1, 3)) {
        await until(`${name} on ${n.name}`, () => health(n), (h) => h.userstores.includes(name));
      }
    });

    it('changes nothing and restarts nothing on a second run', async () => {
      const second = await runCli([SITE, '-i', lab.inventoryFile, '-i', inv, ...VAULT, '--json'], { timeoutMs: 300_000 });
      expect(second.code, second.stdout + second.stderr).toBe(0);
      expect(sum(second.recap, 'changed'), changedTasks(second)).toBe(0);
      expect(second.events.some((e) => e.task === 'Service stopped' && e.status !== 'skipped')).toBe(false);
    }, 300_000);

    it('--check --diff on the converged cluster: exit 0, nothing to change, nothing written', async () => {
      const hosts = [...nodes.slice(0, 3), lb];
      const before = hosts.map(snapshot);
      const run = await runCli([SITE, '-i', lab.inventoryFile, '-i', inv, ...VAULT, '--json', '--check', '--diff'], { timeoutMs: 300_000 });
      expect(run.code, run.stdout + run.stderr).toBe(0);
      expect(sum(run.recap, 'changed'), changedTasks(run)).toBe(0);
      expect(run.events.filter((e) => e.event === 'host-result' && (e.diff?.length ?? 0) > 0).map((e) => `${e.host}: ${e.task}`)).toEqual([]);
      expect(hosts.map(snapshot)).toEqual(before);
    }, 300_000);

    it('--check --diff after one inventory change shows that one line on each node and writes nothing', async () => {
      const hosts = [...nodes.slice(0, 3), lb];
      const before = hosts.map(snapshot);
      // One Hazelcast setting differs from the inventory: 20 -> 31 seconds.
      const hz = { 'hazelcast.shutdownhook.enabled': 'false', 'hazelcast.logging.type': 'log4j', 'hazelcast.heartbeat.interval.seconds': '1', 'hazelcast.max.no.heartbeat.seconds': '31', 'hazelcast.master.confirmation.interval.seconds': '5', 'hazelcast.max.no.master.confirmation.seconds': '30' };
      const run = await runCli([SITE, '-i', lab.inventoryFile, '-i', inv, ...VAULT, '--json', '--check', '--diff', '-e', JSON.stringify({ ob_hazelcast_properties: hz })], { timeoutMs: 300_000 });
      expect(run.code, run.stdout + run.stderr).toBe(0);
      const withDiff = run.events.filter((e) => e.event === 'host-result' && !e.isItem && (e.diff?.length ?? 0) > 0);
      expect(withDiff.map((e) => e.host).sort()).toEqual(nodes.slice(0, 3).map((n) => n.name).sort());
      for (const e of withDiff) {
        const diffs = e.diff as { path?: string; before: string; after: string }[];
        expect(diffs.length, `${e.host}: ${e.task}`).toBe(1);
        expect(diffs[0]!.path).toBe(`/opt/wso2/wso2-obiam-2.0.0/repository/conf/deployment.toml`);
        const parts = diffLines(diffs[0]!.before, diffs[0]!.after).filter((p) => p.added || p.removed);
        expect(parts.map((p) => `${p.added ? '+' : '-'}${p.value.trim()}`)).toEqual(['-"hazelcast.max.no.heartbeat.seconds" = "20"', '+"hazelcast.max.no.heartbeat.seconds" = "31"']);
      }
      // Besides that edit, the run only reports the rolling restart the change would cause.
      const changed = [...new Set(run.events.filter((e) => e.event === 'host-result' && !e.isItem && e.status === 'changed').map((e) => e.task as string))].sort();
      expect(changed, changedTasks(run)).toEqual(['Restart of the node (check mode: not done)', withDiff[0]!.task as string].sort());
      expect(hosts.map(snapshot)).toEqual(before);
      for (const n of nodes.slice(0, 3)) expect((await health(n)).members.length).toBe(3);
    }, 300_000);

    it('deployment.toml keeps every vendor key of the pack; the owned ones have the inventory values', async () => {
      const deployedText = inHost(nodes[0], `cat ${HOME}/repository/conf/deployment.toml`);
      const { problems, deployed } = tomlProblems(readFileSync(path.join(REPO, 'lab-product/pack/obiam/spec/uk/repository/conf/deployment.toml'), 'utf8'), deployedText);
      expect(problems, 'vendor keys lost or changed').toEqual([]);
      const n1 = nodes[0];
      expect(deployed.get('server.hostname')).toBe('"obiam.lab"');
      expect(deployed.get('server.node_ip')).toBe(JSON.stringify(n1.ip));
      expect(deployed.get('super_admin.username')).toBe('"labadmin"');
      expect(deployed.get('super_admin.password')).toBe('"lab-admin-secret"');
      expect(deployed.get('super_admin.create_admin_account')).toBe('false');
      // The lab's vars: the MariaDB driver and its own URL scheme (ob_db_driver, ob_db_url_scheme).
      expect(deployed.get('datasource[0].url')).toMatch(/^"jdbc:mariadb:\/\/.*\/obiam_um_db/);
      expect(deployed.get('open_banking_database.config.url')).toMatch(/^"jdbc:mariadb:\/\/.*\/obiam_ob_db/);
      expect(deployed.get('database.identity_db.driver')).toBe('"org.mariadb.jdbc.Driver"');
      expect(deployed.get('database.identity_db.pool_options.maxActive')).toBe('150');
      expect(deployed.get('user_store.type')).toBe('"read_write_ldap_unique_id"');
      expect(deployed.get('user_store.properties.GroupNameListFilter')).toBe('"(objectClass=groupOfNames)"');
      expect(deployed.get('apim.gateway.environment[0].https_endpoint')).toBe('"https://apim.obiam.lab:8243"');
      expect(deployed.get('apim.throttling.url_group[0].traffic_manager_urls')).toBe('["tcp://apim.obiam.lab:9611"]');
      expect(deployed.get('open_banking.bi_server.data_publishing.server_url')).toBe('"{tcp://analytics.obiam.lab:7612}"');
      expect(deployed.get('clustering.members')).toBe(JSON.stringify(nodes.slice(0, 3).map((n) => `${n.ip}:4000`)));
      expect(deployed.get('open_banking.deployed_spec')).toBe('"UK"');
    });

    it('-l node1 reconfigures one node alone (the other members come from the inventory)', async () => {
      const one = await runCli([SITE, '-i', lab.inventoryFile, '-i', inv, ...VAULT, '--json', '-l', nodes[0].name], { timeoutMs: 300_000 });
      expect(one.code, one.stdout + one.stderr).toBe(0);
      expect(sum(one.recap, 'changed'), changedTasks(one)).toBe(0);
      expect(Object.keys(one.recap)).toEqual([nodes[0].name]);
    }, 300_000);

    it('a configuration change restarts each node once, one at a time, while the LB keeps serving', async () => {
      // Clients keep asking through the LB during the roll; none may fail.
      let stop = false;
      let ok = 0;
      const failures: string[] = [];
      const load = (async () => {
        while (!stop) {
          try {
            const r = await get(lb.ip, 443, '/session');
            if (r.status === 200) ok++;
            else failures.push(`HTTP ${r.status}`);
          } catch (e) {
            failures.push((e as Error).message);
          }
        }
      })();
      let roll: CliRun;
      try {
        roll = await runCli([SITE, '-i', lab.inventoryFile, '-i', inv, ...VAULT, '--json', '-e', 'ob_jvm_heap=160m'], { timeoutMs: 300_000 });
      } finally {
        stop = true;
        await load;
      }
      expect(roll.code, roll.stdout + roll.stderr).toBe(0);
      const stops = roll.events.filter((e) => e.event === 'task-start' && e.task === 'Service stopped');
      // serial: 1 -> one node per batch, each node exactly once.
      expect(stops.map((e) => e.hosts.length)).toEqual([1, 1, 1]);
      expect(stops.flatMap((e) => e.hosts).sort()).toEqual(nodes.slice(0, 3).map((n) => n.name).sort());
      expect(failures, failures.slice(0, 5).join('\n')).toEqual([]);
      expect(ok).toBeGreaterThan(20);
      for (const n of nodes.slice(0, 3)) {
        const h = await health(n);
        expect(h.status).toBe('UP');
        expect(h.members.length).toBe(3);
      }
      const again = await runCli([SITE, '-i', lab.inventoryFile, '-i', inv, ...VAULT, '--json', '-e', 'ob_jvm_heap=160m'], { timeoutMs: 300_000 });
      expect(sum(again.recap, 'changed'), changedTasks(again)).toBe(0);
    }, 600_000);
  });

  describe('OB IAM packs of the Berlin and AU specs, one node each', () => {
    // The third node, alone (the others stopped): its home is removed and the pack of the spec
    // deployed with -l, so the LB and the other nodes are left alone.
    const redeploy = async (spec: 'berlin' | 'au', packDir: string): Promise<CliRun> => {
      const n3 = nodes[2]!;
      await tasks(lab, nodes.slice(0, 3).map((n) => n.name).join(':'), '    - service: { name: wso2obiam, state: stopped }\n');
      inHost(n3, 'rm -rf /opt/wso2');
      const run = await runCli([
        SITE, '-i', lab.inventoryFile, '-i', overlay('obiam', [n3]), ...VAULT, '--json', '-l', n3.name,
        '-e', `ob_spec=${spec}`, '-e', `ob_pack_file=${packDir}/wso2-obiam-2.0.0.zip`,
      ], { timeoutMs: 300_000 });
      expect(run.code, run.stdout + run.stderr).toBe(0);
      const h = await health(n3);
      expect(h.status).toBe('UP');
      expect(h.members).toEqual([`${n3.ip}:4000`]);
      return run;
    };

    it('Berlin, with the vendor-shaped file of an overlay (lab-artifacts.sh --conf-from): every key kept, only owned ones differ', async () => {
      // A vendor-shaped deployment.toml: the Berlin pack's, plus settings and comments of the kind a
      // vendor file carries that the stand-in pack does not have.
      const vendor = mkdtempSync(path.join(tmpdir(), 'obr-vendor-'));
      mkdirSync(path.join(vendor, 'repository/conf'), { recursive: true });
      const text = readFileSync(path.join(REPO, 'lab-product/pack/obiam/spec/berlin/repository/conf/deployment.toml'), 'utf8')
        + '\n# Vendor settings kept by the deployment (not owned by the inventory).\n[open_banking.berlin.vendor_extension]\nretry_count = 7\nlabels = ["a", "b"]\n\n[[event_listener]]\nid = "vendor_listener"\ntype = "org.wso2.carbon.identity.core.handler.AbstractIdentityHandler"\nname = "com.example.VendorListener"\norder = 977\nenable = true\n';
      writeFileSync(path.join(vendor, 'repository/conf/deployment.toml'), text);
      const out = mkdtempSync(path.join(tmpdir(), 'obr-berlin-'));
      const built = execFileSync('bash', [path.join(REPO, 'scripts/lab-artifacts.sh'), '--out', out, '--obiam-spec', 'berlin', '--conf-from', `obiam=${vendor}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      expect(built).toContain('wso2-obiam-2.0.0.zip');
      await redeploy('berlin', out);
      const { problems, deployed } = tomlProblems(text, inHost(nodes[2]!, `cat ${HOME}/repository/conf/deployment.toml`));
      expect(problems, 'vendor keys lost or changed').toEqual([]);
      expect(deployed.get('open_banking.deployed_spec')).toBe('"Berlin"');
      expect(deployed.get('open_banking.berlin.vendor_extension.retry_count')).toBe('7');
      expect(deployed.get('server.hostname')).toBe('"obiam.lab"');
      expect(deployed.get('open_banking.berlin.sca.oauth_metadata_endpoint')).toMatch(/^"https:\/\/obiam\.lab[:/]/);
      expect(deployed.get('clustering.members')).toBe(JSON.stringify([`${nodes[2]!.ip}:4000`]));
    }, 400_000);

    it('AU: every key kept, only owned ones differ, and the stand-in started with it', async () => {
      const out = mkdtempSync(path.join(tmpdir(), 'obr-au-'));
      execFileSync('bash', [path.join(REPO, 'lab-product/build.sh'), '--out', out, '--obiam-spec', 'au'], { stdio: 'pipe' });
      await redeploy('au', out);
      const pack = readFileSync(path.join(REPO, 'lab-product/pack/obiam/spec/au/repository/conf/deployment.toml'), 'utf8');
      const { problems, deployed } = tomlProblems(pack, inHost(nodes[2]!, `cat ${HOME}/repository/conf/deployment.toml`));
      expect(problems, 'vendor keys lost or changed').toEqual([]);
      expect(deployed.get('open_banking.deployed_spec')).toBe('"AU"');
      expect(deployed.get('open_banking.au.metadata_cache.token_revocation_url')).toMatch(/^"https:\/\/obiam\.lab:9446\//);
      expect(inHost(nodes[2]!, `cat ${HOME}/repository/logs/wso2carbon.log`)).toContain('WSO2 Carbon started');
    }, 400_000);
  });

  describe('OB KM 1.5.0 on 2 nodes behind nginx', () => {
    it('deploys a 2-member cluster, and a second run changes nothing', async () => {
      await tasks(lab, nodes.slice(0, 3).map((n) => n.name).join(':'), '    - service: { name: wso2obiam, state: stopped }\n');
      // This deployment uses nginx as the LB (the alternative to HAProxy): HAProxy goes first.
      await tasks(lab, lb.name, '    - shell: kill $(cat /run/haproxy.pid) && rm -f /run/haproxy.pid\n');
      const two = nodes.slice(0, 2);
      const inv = overlay('obkm', two);
      const nginx = ['-e', 'lb_kind=nginx'];
      const run = await runCli([SITE, '-i', lab.inventoryFile, '-i', inv, ...VAULT, '--json', ...nginx], { timeoutMs: 600_000 });
      expect(run.code, run.stdout + run.stderr).toBe(0);
      for (const n of two) {
        const h = await health(n);
        expect(h.status).toBe('UP');
        expect([...h.members].sort()).toEqual(two.map((x) => `${x.ip}:4000`).sort());
      }
      const first = await get(lb.ip, 443, '/session');
      const pinned = (JSON.parse(first.body) as { node: string }).node;
      expect(two.map((n) => n.name)).toContain(pinned);
      const cookie = first.setCookie.map((c) => c.split(';')[0]).join('; ');
      for (let i = 0; i < 4; i++) expect((JSON.parse((await get(lb.ip, 443, '/session', cookie)).body) as { node: string }).node).toBe(pinned);
      const second = await runCli([SITE, '-i', lab.inventoryFile, '-i', inv, ...VAULT, '--json', ...nginx], { timeoutMs: 300_000 });
      expect(second.code, second.stdout + second.stderr).toBe(0);
      expect(sum(second.recap, 'changed'), `${changedTasks(second)}\nFIRST RUN:\n${changedTasks(run)}`).toBe(0);

      // Every KM file on each node against the pack's original: owned settings have the inventory's
      // values, everything else (elements, attributes, comments, other lines) is as the pack ships it.
      const pack = readKmHome(path.join(REPO, 'lab-product/pack/obkm'));
      for (const n of two) {
        const deployed: KmHome = Object.fromEntries(KM_FILES.map((f) => [f, inHost(n, `cat ${HOME}/${f}`)]));
        const v = await roleVars(lab, ['-i', lab.inventoryFile, '-i', inv, ...VAULT, ...nginx], n);
        expect(v.ob_node_address).toBe(n.ip);
        expect(compareKmHome(pack, deployed, kmExpected(v)), n.name).toEqual([]);
      }
    }, 900_000);
  });
});
