// The lab's external services: a real MariaDB (mariadbd) and a real OpenLDAP (slapd) on the lab's
// services host (db1 / ldap1, else storage1). Each runs from the machine with its own config, data
// dir, socket and PID file under .lab/NAME/services/, inside the host's network namespace only
// (listening on the host's lab address), so only the lab's hosts reach it. Lab infrastructure only:
// real deployments point the ob_db_* / ob_ldap_* settings at the bank's own servers.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { ObiamError } from '../errors.js';
import type { PlannedHost } from './plan.js';
import { isAlive, must, run, signal, sleep, startTimeOf, which, type RecordedPid } from './sys.js';
import type { LabDb, LabLdap, LabServices } from './types.js';

/** The lab directory's suffix and admin entry (inventory/group_vars/lab/ names the same base). */
export const LAB_LDAP_BASE_DN = 'dc=lab,dc=obiam';
export const LAB_LDAP_ADMIN_DN = `cn=admin,${LAB_LDAP_BASE_DN}`;
/** The DBA account of the lab's MariaDB: the database play creates the product's databases and users with it. */
export const LAB_DB_ADMIN_USER = 'labdba';
export const DB_PORT = 3306;
export const LDAP_PORT = 389;

type Host = Pick<PlannedHost, 'name' | 'role' | 'ip' | 'netns'>;

/** Which host serves what: the db / ldap host, else the storage host; none without either. */
export function serviceHosts<H extends Pick<Host, 'name' | 'role' | 'ip'>>(hosts: H[]): { db?: H; ldap?: H } {
  const of = (role: Host['role']): H | undefined => hosts.find((h) => h.role === role);
  return { db: of('db') ?? of('storage'), ldap: of('ldap') ?? of('storage') };
}

function secret(): string {
  return randomBytes(15).toString('base64url');
}

/** The planned services (names, paths, generated secrets); nothing is started. */
export function planServices(stateDir: string, prefix: string, hosts: Host[]): LabServices {
  const { db, ldap } = serviceHosts(hosts);
  const dir = path.join(stateDir, 'services');
  const out: LabServices = {};
  if (db) {
    const d = path.join(dir, 'db');
    out.db = {
      name: `${prefix}-db`,
      host: db.name,
      ip: db.ip,
      netns: db.netns,
      port: DB_PORT,
      adminUser: LAB_DB_ADMIN_USER,
      adminPassword: secret(),
      dir: d,
      socket: path.join(d, 'mariadbd.sock'),
      config: path.join(d, 'my.cnf'),
    };
  }
  if (ldap) {
    const d = path.join(dir, 'ldap');
    out.ldap = {
      name: `${prefix}-ldap`,
      host: ldap.name,
      ip: ldap.ip,
      netns: ldap.netns,
      port: LDAP_PORT,
      baseDn: LAB_LDAP_BASE_DN,
      adminDn: LAB_LDAP_ADMIN_DN,
      adminPassword: secret(),
      dir: d,
      config: path.join(d, 'slapd.conf'),
    };
  }
  return out;
}

export function mariadbConfig(db: LabDb): string {
  return [
    `# obiam-run lab ${db.name}: MariaDB of the lab (lab only; removed by \`lab down\`).`,
    '[mariadbd]',
    `datadir=${path.join(db.dir, 'data')}`,
    `socket=${db.socket}`,
    `pid-file=${path.join(db.dir, 'mariadbd.pid')}`,
    `log-error=${path.join(db.dir, 'error.log')}`,
    `bind-address=${db.ip}`,
    `port=${db.port}`,
    'user=root',
    'skip-name-resolve',
    // Small: one per lab on a shared machine.
    'innodb_buffer_pool_size=16M',
    'innodb_log_file_size=8M',
    'performance_schema=OFF',
    'max_connections=300',
    '',
  ].join('\n');
}

/** `{SSHA}` of a password, as slapd's rootpw takes it (so the plain secret is not in slapd.conf). */
export function sshaHash(password: string, salt = randomBytes(8)): string {
  const digest = createHash('sha1').update(password).update(salt).digest();
  return `{SSHA}${Buffer.concat([digest, salt]).toString('base64')}`;
}

export function slapdConfig(ldap: LabLdap): string {
  const schema = ['core', 'cosine', 'inetorgperson', 'nis'].map((s) => `include /etc/ldap/schema/${s}.schema`);
  return [
    `# obiam-run lab ${ldap.name}: OpenLDAP of the lab (lab only; removed by \`lab down\`).`,
    ...schema,
    `pidfile ${path.join(ldap.dir, 'slapd.pid')}`,
    `argsfile ${path.join(ldap.dir, 'slapd.args')}`,
    'modulepath /usr/lib/ldap',
    'moduleload back_mdb',
    'database mdb',
    'maxsize 67108864',
    `suffix "${ldap.baseDn}"`,
    `rootdn "${ldap.adminDn}"`,
    `rootpw ${sshaHash(ldap.adminPassword)}`,
    `directory ${path.join(ldap.dir, 'data')}`,
    'index objectClass eq',
    'index uid,cn eq',
    '',
  ].join('\n');
}

/** The suffix entry (dc=lab,dc=obiam): the directory has its base; the play makes the user and group bases. */
export function baseLdif(baseDn: string): string {
  const first = baseDn.split(',')[0]!;
  const [attr, value] = first.split('=') as [string, string];
  return [`dn: ${baseDn}`, 'objectClass: top', 'objectClass: dcObject', 'objectClass: organization', `${attr}: ${value}`, 'o: obiam-run lab', ''].join('\n');
}

function spawnIn(netns: string, cmd: string[], log: string): RecordedPid & { pid: number } {
  const fd = openSync(log, 'a');
  const child = spawn('nsenter', [`--net=/run/netns/${netns}`, '--', ...cmd], { detached: true, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  child.on('error', () => undefined);
  child.unref();
  const start = child.pid === undefined ? undefined : startTimeOf(child.pid);
  if (child.pid === undefined || start === undefined) throw new ObiamError('E_LAB_SERVICE', `${cmd[0]} did not start`, { remedy: `see ${log}` });
  return { pid: child.pid, start, what: '' };
}

function tailOf(file: string, lines = 12): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Waits until `ready` says so, failing early when the process died. */
async function waitFor(what: string, rec: RecordedPid, log: string, ready: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await ready()) return;
    if (!isAlive(rec)) throw new ObiamError('E_LAB_SERVICE', `${what} stopped while starting:\n${tailOf(log)}`, { remedy: `see ${log}` });
    if (Date.now() > end) throw new ObiamError('E_LAB_SERVICE', `${what} did not answer within ${timeoutMs / 1000} s:\n${tailOf(log)}`, { remedy: `see ${log}` });
    await sleep(100);
  }
}

function tcpOpen(ip: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: ip, port });
    const t = setTimeout(() => done(false), 1000);
    function done(ok: boolean): void {
      clearTimeout(t);
      s.destroy();
      resolve(ok);
    }
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

/** Runs SQL as the server's root over its socket (unix_socket auth: only root on this machine). */
export function rootSql(db: LabDb, sql: string): Promise<string> {
  return must('mariadb', ['--no-defaults', `--socket=${db.socket}`, '-u', 'root', '--batch', '--skip-column-names'], { input: sql, timeoutMs: 30_000 });
}

/** Initialises the data dir (first start only). */
export async function initDb(db: LabDb): Promise<void> {
  mkdirSync(db.dir, { recursive: true, mode: 0o700 });
  writeFileSync(db.config, mariadbConfig(db), { mode: 0o600 });
  writeFileSync(path.join(db.dir, 'admin-password'), `${db.adminPassword}\n`, { mode: 0o600 });
  await must('mariadb-install-db', [`--defaults-file=${db.config}`, '--auth-root-authentication-method=socket', '--skip-test-db'], { timeoutMs: 180_000 });
}

/** Starts mariadbd in the services host's netns and waits for it to answer on its socket and address. */
export async function startDb(db: LabDb, record: (rec: RecordedPid) => void): Promise<RecordedPid> {
  const log = path.join(db.dir, 'console.log');
  const rec = { ...spawnIn(db.netns, ['mariadbd', `--defaults-file=${db.config}`], log), what: `service ${db.name}` };
  record(rec);
  await waitFor(`MariaDB ${db.name}`, rec, path.join(db.dir, 'error.log'), async () => (await run('mariadb', ['--no-defaults', `--socket=${db.socket}`, '-u', 'root', '-e', 'SELECT 1'], { timeoutMs: 5000 })).code === 0, 120_000);
  return rec;
}

/** The lab DBA account (idempotent: also after a restart of the server). */
export async function dbAdmin(db: LabDb): Promise<void> {
  const pw = db.adminPassword.replace(/\\/g, '\\\\').replace(/'/g, "\\'");
  await rootSql(
    db,
    `CREATE USER IF NOT EXISTS '${db.adminUser}'@'%' IDENTIFIED BY '${pw}';\nALTER USER '${db.adminUser}'@'%' IDENTIFIED BY '${pw}';\nGRANT ALL PRIVILEGES ON *.* TO '${db.adminUser}'@'%' WITH GRANT OPTION;\nFLUSH PRIVILEGES;\n`,
  );
}

/** slapd.conf and the suffix entry (first start only). */
export async function initLdap(ldap: LabLdap): Promise<void> {
  mkdirSync(path.join(ldap.dir, 'data'), { recursive: true, mode: 0o700 });
  writeFileSync(ldap.config, slapdConfig(ldap), { mode: 0o600 });
  writeFileSync(path.join(ldap.dir, 'admin-password'), `${ldap.adminPassword}\n`, { mode: 0o600 });
  const ldif = path.join(ldap.dir, 'base.ldif');
  writeFileSync(ldif, baseLdif(ldap.baseDn), { mode: 0o600 });
  await must('slapadd', ['-f', ldap.config, '-l', ldif], { timeoutMs: 60_000 });
}

/** Starts slapd in the foreground (-d 0: it does not fork, so its PID is the one recorded). */
export async function startLdap(ldap: LabLdap, record: (rec: RecordedPid) => void): Promise<RecordedPid> {
  const log = path.join(ldap.dir, 'console.log');
  const rec = { ...spawnIn(ldap.netns, ['slapd', '-d', '0', '-f', ldap.config, '-h', `ldap://${ldap.ip}:${ldap.port}/`], log), what: `service ${ldap.name}` };
  record(rec);
  await waitFor(`slapd ${ldap.name}`, rec, log, () => tcpOpen(ldap.ip, ldap.port), 60_000);
  return rec;
}

/** SIGTERM, then SIGKILL after `graceMs`; true when it is gone. */
export async function stopService(rec: RecordedPid, graceMs = 20_000): Promise<boolean> {
  if (!isAlive(rec)) return true;
  signal(rec, 'SIGTERM');
  const end = Date.now() + graceMs;
  while (isAlive(rec) && Date.now() < end) await sleep(50);
  if (isAlive(rec)) signal(rec, 'SIGKILL');
  const killEnd = Date.now() + 2000;
  while (isAlive(rec) && Date.now() < killEnd) await sleep(25);
  return !isAlive(rec);
}

/** Debian packages missing for the services this lab runs. */
export function missingServicePackages(s: LabServices, find: (bin: string) => string | undefined = which): string[] {
  const need: [string, string][] = [];
  if (s.db) need.push(['mariadbd', 'mariadb-server'], ['mariadb-install-db', 'mariadb-server'], ['mariadb', 'mariadb-client']);
  if (s.ldap) need.push(['slapd', 'slapd'], ['slapadd', 'slapd'], ['ldapwhoami', 'ldap-utils']);
  return [...new Set(need.filter(([bin]) => !find(bin)).map(([, pkg]) => pkg))];
}
