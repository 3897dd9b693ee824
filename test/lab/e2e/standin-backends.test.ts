// The lab stand-in uses its back ends for real: a MariaDB and a slapd of this test's own on loopback
// (test/lab/e2e/local-backends.ts), the schema from the packs' own dbscripts/, the Debian MariaDB JDBC
// driver in repository/components/lib, the lab's own jlink'd runtime. A good configuration starts and its health check (HTTPS, with
// the key store the configuration names) shows every datasource and the user store UP, and DOWN (503)
// while a datasource's table is gone; a wrong DB password, a missing schema, a wrong bind DN and a wrong
// key store password each stop the start with a log line naming the setting. OB IAM and OB KM packs.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { createServer } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tomlModule } from '../../../src/modules/toml.js';
import { localContext } from '../../support/module-context.js';
import { startBackends, startPostgres, type LocalBackends } from './local-backends.js';
import { REPO } from './run-cli.js';

const PREFIX = process.env.OBIAM_TEST_LAB ?? 'obr';
const DRIVER_JAR = '/usr/share/java/mariadb-java-client.jar';
const KEYS = ['identity', 'shared', 'apim', 'config', 'um', 'open_banking'] as const;
const DB_USER = 'obr_app';
const DB_PASSWORD = 'lab-db-secret';

let be: LocalBackends;
let packs = '';
let java = 'java';
const running: ChildProcess[] = [];
const temps: string[] = [];
const tempDir = (what: string): string => {
  const d = mkdtempSync(path.join(tmpdir(), `${PREFIX}-${what}-`));
  temps.push(d);
  return d;
};

/** A port offset whose HTTP and HTTPS ports are both free. */
async function freeOffset(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const o = 100 + Math.floor(Math.random() * 800);
    const ok = await Promise.all([9443 + o, 9763 + o].map((p) => new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(false));
      s.listen(p, () => s.close(() => resolve(true)));
    })));
    if (ok.every(Boolean)) return o;
  }
  throw new Error('no free port offset');
}

function unpack(product: 'obiam' | 'obkm'): string {
  const version = product === 'obiam' ? '2.0.0' : '1.5.0';
  const d = tempDir(`standin-${product}`);
  execFileSync('unzip', ['-q', path.join(packs, `wso2-${product}-${version}.zip`), '-d', d]);
  const home = path.join(d, `wso2-${product}-${version}`);
  // As the product role installs it (ob_jdbc_driver_jars).
  copyFileSync(DRIVER_JAR, path.join(home, 'repository/components/lib/mariadb-java-client.jar'));
  return home;
}

const TABLES: Record<(typeof KEYS)[number], string> = {
  identity: 'database.identity_db', shared: 'database.shared_db', apim: 'database.apim_db', config: 'database.config',
  open_banking: 'open_banking_database.config', um: 'datasource[id=WSO2UM_DB]',
};

/** The OB IAM settings of a good deployment on this test's MariaDB and slapd. */
function iamSettings(offset: number): Record<string, unknown> {
  const s: Record<string, unknown> = { 'server.offset': offset };
  for (const k of KEYS) {
    // jdbc:mysql:// is accepted by the MariaDB driver too; one datasource uses it.
    const scheme = k === 'apim' ? 'jdbc:mysql://' : 'jdbc:mariadb://';
    s[`${TABLES[k]}.url`] = `${scheme}127.0.0.1:${be.dbPort}/h_${k}`;
    s[`${TABLES[k]}.username`] = DB_USER;
    s[`${TABLES[k]}.password`] = DB_PASSWORD;
    s[`${TABLES[k]}.driver`] = 'org.mariadb.jdbc.Driver';
  }
  Object.assign(s, {
    'user_store.type': 'read_write_ldap_unique_id',
    'user_store.class': 'org.wso2.carbon.user.core.ldap.UniqueIDReadWriteLDAPUserStoreManager',
    'user_store.connection_url': be.ldapUrl,
    'user_store.connection_name': be.ldapBindDn,
    'user_store.connection_password': be.ldapBindPassword,
    'user_store.base_dn': be.ldapBaseDn,
    'user_store.properties.UserSearchBase': `ou=Users,${be.ldapBaseDn}`,
    'user_store.properties.UserEntryObjectClass': 'inetOrgPerson',
    'user_store.properties.UserNameAttribute': 'uid',
    'user_store.properties.UserNameSearchFilter': '(&(objectClass=inetOrgPerson)(uid=?))',
    'user_store.properties.UserNameListFilter': '(objectClass=inetOrgPerson)',
    'user_store.properties.GroupSearchBase': `ou=Groups,${be.ldapBaseDn}`,
    'user_store.properties.GroupEntryObjectClass': 'groupOfNames',
    'user_store.properties.GroupNameAttribute': 'cn',
    'user_store.properties.GroupNameSearchFilter': '(&(objectClass=groupOfNames)(cn=?))',
    'user_store.properties.GroupNameListFilter': '(objectClass=groupOfNames)',
    'user_store.properties.MembershipAttribute': 'member',
    'user_store.properties.ReadGroups': 'true',
  });
  return s;
}

async function configure(home: string, settings: Record<string, unknown>): Promise<void> {
  const r = await tomlModule.run({ path: path.join(home, 'repository/conf/deployment.toml'), settings }, await localContext());
  expect(r.failed ?? false, JSON.stringify(r)).toBe(false);
}

interface Run {
  log: string;
  started: boolean;
  proc: ChildProcess;
}

/** Starts the stand-in; resolves once it logged its start or exited. */
function start(home: string, profile: 'obiam' | 'obkm'): Promise<Run> {
  const logFile = path.join(home, 'repository/logs/wso2carbon.log');
  const proc = spawn(java, [`-Dcarbon.home=${home}`, `-Dlab.profile=${profile}`, '-Dlab.version=0', '-Dlab.startupDelayMs=100', '-Dlab.recheckMs=1000',
    '-cp', path.join(home, 'lib/lab-standin.jar'), 'lab.standin.Carbon'], { stdio: 'ignore' });
  running.push(proc);
  let exited = false;
  proc.on('exit', () => (exited = true));
  const read = (): string => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
  return new Promise((resolve) => {
    const t0 = Date.now();
    const poll = setInterval(() => {
      const log = read();
      const started = log.includes('WSO2 Carbon started');
      if (started || exited || Date.now() - t0 > 90_000) {
        clearInterval(poll);
        // Let the last lines of an exiting process land.
        setTimeout(() => resolve({ log: read(), started, proc }), exited ? 200 : 0);
      }
    }, 100);
  });
}

interface Health {
  code: number;
  body: { status: string; datasources: Record<string, { status: string; error?: string }>; user_store: { status: string; error?: string } };
  subject: string;
}

function health(offset: number): Promise<Health> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: 9443 + offset, path: '/api/health-check/v1.0/health', rejectUnauthorized: false }, (res) => {
      const subject = String((res.socket as TLSSocket).getPeerCertificate().subject?.CN ?? '');
      let b = '';
      res.on('data', (c: Buffer) => (b += c.toString()));
      res.on('end', () => resolve({ code: res.statusCode ?? 0, body: JSON.parse(b) as Health['body'], subject }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function waitHealth(offset: number, want: (h: Health) => boolean, ms = 30_000): Promise<Health> {
  const t0 = Date.now();
  for (;;) {
    const h = await health(offset);
    if (want(h) || Date.now() - t0 > ms) return h;
    await new Promise((r) => setTimeout(r, 300));
  }
}

describe('lab stand-in with a real MariaDB, slapd, JDBC driver and key store', () => {
  beforeAll(async () => {
    // The packs and the lab's jlink'd runtime, as the lab deploys them: the stand-in runs on that
    // runtime, so a JVM module a driver needs and the runtime lacks fails here too.
    packs = tempDir('packs');
    execFileSync('bash', [path.join(REPO, 'scripts/lab-artifacts.sh'), '--out', packs], { stdio: 'pipe' });
    const jdk = /^JDK_LAB_VERSION=(.*)$/m.exec(readFileSync(path.join(packs, 'lab-artifacts.env'), 'utf8'))?.[1] ?? '';
    execFileSync('tar', ['-C', packs, '-xzf', path.join(packs, `jdk-lab-${jdk}.tar.gz`)]);
    java = path.join(packs, `jdk-lab-${jdk}`, 'bin/java');
    be = await startBackends(PREFIX);
    // The databases and their user as the database play makes them; each schema from the pack's own script.
    const scripts = tempDir('dbscripts');
    execFileSync('unzip', ['-q', path.join(packs, 'wso2-obiam-2.0.0.zip'), 'wso2-obiam-2.0.0/dbscripts/*', '-d', scripts]);
    be.sql(`CREATE USER '${DB_USER}'@'%' IDENTIFIED BY '${DB_PASSWORD}'`);
    for (const k of [...KEYS, 'empty']) {
      be.sql(`CREATE DATABASE h_${k}`);
      be.sql(`GRANT SELECT, INSERT, UPDATE, DELETE ON h_${k}.* TO '${DB_USER}'@'%'`);
      if (k !== 'empty') be.sqlFile(path.join(scripts, 'wso2-obiam-2.0.0/dbscripts', k, 'mysql.sql'), `h_${k}`);
    }
  }, 240_000);

  afterAll(() => {
    for (const p of running) p.kill('SIGKILL');
    be?.stop();
    for (const d of temps) rmSync(d, { recursive: true, force: true });
  });

  it('OB IAM: a good configuration starts; health shows every datasource and the LDAP store UP, and DOWN while a table is gone', async () => {
    const home = unpack('obiam');
    const offset = await freeOffset();
    // The cluster's own key store (not the pack's): HTTPS must serve it.
    const sec = path.join(home, 'repository/resources/security');
    execFileSync('keytool', ['-genkeypair', '-alias', 'obr-cluster', '-keyalg', 'RSA', '-keysize', '2048', '-validity', '30', '-dname', 'CN=obr-cluster.lab',
      '-keystore', path.join(sec, 'obr-cluster.jks'), '-storetype', 'JKS', '-storepass', 'cluster-secret', '-keypass', 'cluster-secret'], { stdio: 'pipe' });
    await configure(home, { ...iamSettings(offset), 'keystore.primary.name': 'obr-cluster.jks', 'keystore.primary.password': 'cluster-secret', 'keystore.primary.alias': 'obr-cluster' });
    const r = await start(home, 'obiam');
    expect(r.started, r.log).toBe(true);
    expect(r.log).not.toContain('ERROR');
    const h = await health(offset);
    expect(h.code).toBe(200);
    expect(h.subject).toBe('obr-cluster.lab');
    expect(h.body.status).toBe('UP');
    expect(Object.keys(h.body.datasources).sort()).toEqual(['WSO2UM_DB', 'database.apim_db', 'database.config', 'database.identity_db', 'database.shared_db', 'open_banking_database.config']);
    for (const [name, d] of Object.entries(h.body.datasources)) expect(d.status, name).toBe('UP');
    expect(h.body.user_store.status).toBe('UP');

    // The recheck notices a datasource that fails after the start, and its return.
    be.sql('RENAME TABLE OB_CONSENT TO OB_CONSENT_GONE', 'h_open_banking');
    try {
      const down = await waitHealth(offset, (x) => x.code === 503);
      expect(down.code).toBe(503);
      expect(down.body.status).toBe('DOWN');
      expect(down.body.datasources['open_banking_database.config']?.status).toBe('DOWN');
      expect(down.body.datasources['open_banking_database.config']?.error).toMatch(/table OB_CONSENT cannot be read/);
      expect(down.body.datasources['database.identity_db']?.status).toBe('UP');
    } finally {
      be.sql('RENAME TABLE OB_CONSENT_GONE TO OB_CONSENT', 'h_open_banking');
    }
    const back = await waitHealth(offset, (x) => x.code === 200);
    expect(back.body.status).toBe('UP');
    r.proc.kill('SIGKILL');
  }, 180_000);

  const refusals: [string, (o: number) => Record<string, unknown>, RegExp][] = [
    ['a wrong DB password', () => ({ 'database.identity_db.password': 'not-the-password' }),
      /ERROR \{org\.wso2\.carbon\.ndatasource\.rdbms\.RDBMSDataSourceReader\} - Datasource database\.identity_db: cannot connect to jdbc:mariadb:\/\/127\.0\.0\.1:\d+\/h_identity as obr_app: .*Access denied.*\(check deployment\.toml \[database\.identity_db\] username and password\)/],
    ['a missing schema (probe table)', () => ({ 'open_banking_database.config.url': `jdbc:mariadb://127.0.0.1:${be.dbPort}/h_empty` }),
      /Datasource open_banking_database\.config: table OB_CONSENT cannot be read in jdbc:mariadb:\/\/127\.0\.0\.1:\d+\/h_empty: .*\(the schema dbscripts\/open_banking\/ has not been run on this database\)/],
    ['a wrong bind DN', () => ({ 'user_store.connection_name': `cn=nobody,${be.ldapBaseDn}` }),
      /ERROR \{org\.wso2\.carbon\.user\.core\.ldap\.LDAPConnectionContext\} - User store ldap:\/\/127\.0\.0\.1:\d+: bind to .* as cn=nobody,dc=lab,dc=obiam failed: .*Invalid Credentials.*\(check deployment\.toml \[user_store\] connection name and password\)/],
    ['a user search base that does not exist', () => ({ 'user_store.properties.UserSearchBase': `ou=People,${be.ldapBaseDn}` }),
      /User store .*: the user search base ou=People,dc=lab,dc=obiam does not exist/],
    ['a wrong key store password', () => ({ 'keystore.primary.password': 'not-the-password' }),
      /ERROR .*Invalid configuration: deployment\.toml: keystore\.primary\.password does not open the key store .*wso2carbon\.jks \(JKS\)/],
  ];
  for (const [what, change, line] of refusals) {
    it(`OB IAM: ${what} stops the start with a log line naming the setting`, async () => {
      const home = unpack('obiam');
      const offset = await freeOffset();
      await configure(home, { ...iamSettings(offset), ...change(offset) });
      const r = await start(home, 'obiam');
      expect(r.started).toBe(false);
      expect(r.log).toMatch(line);
      expect(r.log).not.toContain('WSO2 Carbon started');
    }, 120_000);
  }

  it('OB KM: the XML datasources open through the driver, health shows each UP, a wrong password in one stops the start; its LDAP store binds, a wrong bind password stops it', async () => {
    const km: Record<string, string> = { apimgtdb: 'apim', iskm_configdb: 'config', govdb: 'shared', userdb: 'um', openbankingdb: 'open_banking' };
    const point = (home: string, password: (db: string) => string): void => {
      for (const f of ['master-datasources.xml', 'open-banking-datasources.xml']) {
        const file = path.join(home, 'repository/conf/datasources', f);
        let x = readFileSync(file, 'utf8');
        x = x.replace(/<url>jdbc:mysql:\/\/localhost:3306\/openbank_(\w+)\?[^<]*<\/url>(\s*)<username>root<\/username>(\s*)<password>root<\/password>(\s*)<driverClassName>com\.mysql\.jdbc\.Driver<\/driverClassName>/g,
          (_m, db: string, a: string, b: string, c: string) => `<url>jdbc:mariadb://127.0.0.1:${be.dbPort}/h_${km[db]}</url>${a}<username>${DB_USER}</username>${b}<password>${password(db)}</password>${c}<driverClassName>org.mariadb.jdbc.Driver</driverClassName>`);
        writeFileSync(file, x);
      }
    };
    const offsetFor = async (home: string): Promise<number> => {
      const o = await freeOffset();
      const f = path.join(home, 'repository/conf/carbon.xml');
      writeFileSync(f, readFileSync(f, 'utf8').replace(/<Offset>\d+<\/Offset>/, `<Offset>${o}</Offset>`));
      return o;
    };
    const good = unpack('obkm');
    point(good, () => DB_PASSWORD);
    const offset = await offsetFor(good);
    const r = await start(good, 'obkm');
    expect(r.started, r.log).toBe(true);
    const h = await health(offset);
    expect(h.code).toBe(200);
    expect(Object.keys(h.body.datasources).sort()).toEqual(['WSO2AM_DB', 'WSO2CONFIG_DB', 'WSO2REG_DB', 'WSO2UM_DB', 'WSO2_OPEN_BANKING_DB']);
    for (const [name, d] of Object.entries(h.body.datasources)) expect(d.status, name).toBe('UP');
    r.proc.kill('SIGKILL');

    const bad = unpack('obkm');
    point(bad, (db) => (db === 'govdb' ? 'not-the-password' : DB_PASSWORD));
    await offsetFor(bad);
    const b = await start(bad, 'obkm');
    expect(b.started).toBe(false);
    expect(b.log).toMatch(/Datasource WSO2REG_DB: cannot connect .*\(check datasources\/master-datasources\.xml datasource WSO2REG_DB username and password\)/);

    // The LDAP user store of user-mgt.xml: bound with its ConnectionName/ConnectionPassword over JNDI.
    const ldapStore = (home: string, password: string): void => {
      const props: [string, string][] = [
        ['ConnectionURL', be.ldapUrl], ['ConnectionName', be.ldapBindDn], ['ConnectionPassword', password],
        ['UserSearchBase', `ou=Users,${be.ldapBaseDn}`], ['UserEntryObjectClass', 'inetOrgPerson'], ['UserNameAttribute', 'uid'],
        ['UserNameSearchFilter', '(&amp;(objectClass=inetOrgPerson)(uid=?))'], ['UserNameListFilter', '(objectClass=inetOrgPerson)'],
        ['ReadGroups', 'true'], ['GroupSearchBase', `ou=Groups,${be.ldapBaseDn}`], ['GroupEntryObjectClass', 'groupOfNames'],
        ['GroupNameAttribute', 'cn'], ['GroupNameSearchFilter', '(&amp;(objectClass=groupOfNames)(cn=?))'],
        ['GroupNameListFilter', '(objectClass=groupOfNames)'], ['MembershipAttribute', 'member'],
      ];
      const f = path.join(home, 'repository/conf/user-mgt.xml');
      const x = readFileSync(f, 'utf8');
      const y = x.replace(/<UserStoreManager class="org\.wso2\.carbon\.user\.core\.jdbc[\s\S]*?<\/UserStoreManager>/,
        `<UserStoreManager class="org.wso2.carbon.user.core.ldap.ReadWriteLDAPUserStoreManager">\n${props.map(([k, v]) => `            <Property name="${k}">${v}</Property>`).join('\n')}\n        </UserStoreManager>`);
      expect(y).not.toBe(x);
      writeFileSync(f, y);
    };
    const withLdap = unpack('obkm');
    point(withLdap, () => DB_PASSWORD);
    ldapStore(withLdap, be.ldapBindPassword);
    const lo = await offsetFor(withLdap);
    const l = await start(withLdap, 'obkm');
    expect(l.started, l.log).toBe(true);
    expect((await health(lo)).body.user_store.status).toBe('UP');
    l.proc.kill('SIGKILL');
    const wrongBind = unpack('obkm');
    point(wrongBind, () => DB_PASSWORD);
    ldapStore(wrongBind, 'not-the-password');
    await offsetFor(wrongBind);
    const w = await start(wrongBind, 'obkm');
    expect(w.started).toBe(false);
    expect(w.log).toMatch(/User store ldap:\/\/127\.0\.0\.1:\d+: bind to .* failed: .*Invalid Credentials.*\(check user-mgt\.xml UserStoreManager org\.wso2\.carbon\.user\.core\.ldap\.ReadWriteLDAPUserStoreManager connection name and password\)/);
  }, 180_000);

  it('OB IAM: a datasource on PostgreSQL opens through the PostgreSQL driver jar; a wrong password there is named', async () => {
    const pg = await startPostgres(PREFIX);
    try {
      pg.sql(`CREATE USER ${DB_USER} PASSWORD '${DB_PASSWORD}'`);
      pg.sql(`CREATE DATABASE h_identity OWNER ${DB_USER}`);
      const scripts = tempDir('pgscripts');
      execFileSync('unzip', ['-q', path.join(packs, 'wso2-obiam-2.0.0.zip'), 'wso2-obiam-2.0.0/dbscripts/identity/*', '-d', scripts]);
      pg.sqlFile(path.join(scripts, 'wso2-obiam-2.0.0/dbscripts/identity/postgresql.sql'), 'h_identity');
      pg.sql(`GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${DB_USER}`, 'h_identity');
      const onPg = { 'database.identity_db.url': `jdbc:postgresql://127.0.0.1:${pg.port}/h_identity`, 'database.identity_db.driver': 'org.postgresql.Driver' };
      const home = unpack('obiam');
      copyFileSync('/usr/share/java/postgresql.jar', path.join(home, 'repository/components/lib/postgresql.jar'));
      const offset = await freeOffset();
      await configure(home, { ...iamSettings(offset), ...onPg });
      const r = await start(home, 'obiam');
      expect(r.started, r.log).toBe(true);
      const h = await health(offset);
      expect(h.body.datasources['database.identity_db']?.status).toBe('UP');
      expect(h.body.status).toBe('UP');
      r.proc.kill('SIGKILL');

      const bad = unpack('obiam');
      copyFileSync('/usr/share/java/postgresql.jar', path.join(bad, 'repository/components/lib/postgresql.jar'));
      await configure(bad, { ...iamSettings(await freeOffset()), ...onPg, 'database.identity_db.password': 'not-the-password' });
      const b = await start(bad, 'obiam');
      expect(b.started).toBe(false);
      expect(b.log).toMatch(/Datasource database\.identity_db: cannot connect to jdbc:postgresql:.* as obr_app: .*password authentication failed.*\(check deployment\.toml \[database\.identity_db\] username and password\)/);
    } finally {
      pg.stop();
    }
  }, 180_000);

  it('a datasource whose driver jar is not in repository/components/lib stops the start naming the driver', async () => {
    const home = unpack('obiam');
    execFileSync('rm', [path.join(home, 'repository/components/lib/mariadb-java-client.jar')]);
    await configure(home, iamSettings(await freeOffset()));
    const r = await start(home, 'obiam');
    expect(r.started).toBe(false);
    expect(r.log).toMatch(/Datasource database\.identity_db: driver class org\.mariadb\.jdbc\.Driver \(deployment\.toml \[database\.identity_db\] driver\) is in no jar of repository\/components\/lib .*ob_jdbc_driver_jars/);
  }, 120_000);
});
