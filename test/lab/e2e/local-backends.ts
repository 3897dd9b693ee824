// A real MariaDB and a real OpenLDAP slapd on loopback for the stand-in's back-end tests: own data
// directories under one temporary directory (prefixed with the test lab's name), own free ports,
// started from the Debian binaries and killed by stop(). Nothing here touches the machine's own
// MariaDB or slapd (--no-defaults, own slapd.conf).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** A TCP port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(what: string, ok: () => boolean, log: () => string, ms = 60_000): Promise<void> {
  const t0 = Date.now();
  while (!ok()) {
    if (Date.now() - t0 > ms) throw new Error(`${what} did not come up in ${ms} ms:\n${log()}`);
    await sleep(250);
  }
}

export interface LocalBackends {
  dir: string;
  dbPort: number;
  ldapPort: number;
  ldapUrl: string;
  ldapBaseDn: string;
  ldapBindDn: string;
  ldapBindPassword: string;
  /** Runs SQL as the database's root over its socket (database optional). */
  sql(statement: string, database?: string): string;
  /** Runs a script file as root into a database. */
  sqlFile(file: string, database: string): void;
  stop(): void;
}

export async function startBackends(prefix: string): Promise<LocalBackends> {
  const dir = mkdtempSync(path.join(tmpdir(), `${prefix}-backends-`));
  const procs: ChildProcess[] = [];
  const dbPort = await freePort();
  const ldapPort = await freePort();
  const sock = path.join(dir, 'mysqld.sock');
  execFileSync('mariadb-install-db', ['--no-defaults', `--datadir=${dir}/db`, '--auth-root-authentication-method=normal', '--skip-test-db', '--user=root'], { stdio: 'pipe' });
  procs.push(spawn('mariadbd', ['--no-defaults', `--datadir=${dir}/db`, `--socket=${sock}`, `--port=${dbPort}`, '--bind-address=127.0.0.1', '--user=root',
    `--pid-file=${dir}/mysqld.pid`, `--log-error=${dir}/mysqld.err`, '--innodb-buffer-pool-size=16M', '--skip-name-resolve'], { stdio: 'ignore' }));
  const sql = (statement: string, database?: string): string =>
    execFileSync('mariadb', ['--no-defaults', '-S', sock, '-uroot', '-N', '-B', ...(database ? [database] : []), '-e', statement], { encoding: 'utf8', stdio: 'pipe' });
  const sqlFile = (file: string, database: string): void =>
    void execFileSync('mariadb', ['--no-defaults', '-S', sock, '-uroot', database], { input: readFileSync(file), stdio: ['pipe', 'pipe', 'pipe'] });
  const dbUp = (): boolean => {
    try {
      sql('SELECT 1');
      return true;
    } catch {
      return false;
    }
  };

  const ldapBaseDn = 'dc=lab,dc=obiam';
  const ldapBindDn = `cn=admin,${ldapBaseDn}`;
  const ldapBindPassword = 'lab-ldap-secret';
  mkdirSync(path.join(dir, 'ldap'));
  writeFileSync(path.join(dir, 'slapd.conf'), [
    'include /etc/ldap/schema/core.schema', 'include /etc/ldap/schema/cosine.schema', 'include /etc/ldap/schema/inetorgperson.schema',
    'modulepath /usr/lib/ldap', 'moduleload back_mdb', `pidfile ${dir}/slapd.pid`,
    'database mdb', 'maxsize 10485760', `suffix "${ldapBaseDn}"`, `rootdn "${ldapBindDn}"`, `rootpw ${ldapBindPassword}`, `directory ${dir}/ldap`, '',
  ].join('\n'));
  const ldapUrl = `ldap://127.0.0.1:${ldapPort}`;
  // -d 0: stays in the foreground, so the child is slapd itself and kill() ends it.
  procs.push(spawn('slapd', ['-f', path.join(dir, 'slapd.conf'), '-h', `${ldapUrl}/`, '-d', '0'], { stdio: 'ignore' }));
  const ldapAdd = (ldif: string): void =>
    void execFileSync('ldapadd', ['-x', '-H', ldapUrl, '-D', ldapBindDn, '-w', ldapBindPassword], { input: ldif, stdio: 'pipe' });
  const ldapUp = (): boolean => {
    try {
      execFileSync('ldapwhoami', ['-x', '-H', ldapUrl, '-D', ldapBindDn, '-w', ldapBindPassword], { stdio: 'pipe' });
      return true;
    } catch {
      return false;
    }
  };
  const stop = (): void => {
    for (const p of procs) p.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await until('MariaDB', dbUp, () => { try { return readFileSync(`${dir}/mysqld.err`, 'utf8'); } catch { return ''; } });
    await until('slapd', ldapUp, () => '');
    ldapAdd([
      `dn: ${ldapBaseDn}`, 'objectClass: dcObject', 'objectClass: organization', 'dc: lab', 'o: obiam lab', '',
      `dn: ou=Users,${ldapBaseDn}`, 'objectClass: organizationalUnit', 'ou: Users', '',
      `dn: ou=Groups,${ldapBaseDn}`, 'objectClass: organizationalUnit', 'ou: Groups', '',
      `dn: uid=alice,ou=Users,${ldapBaseDn}`, 'objectClass: inetOrgPerson', 'uid: alice', 'cn: Alice', 'sn: Lab', '',
    ].join('\n'));
  } catch (e) {
    stop();
    throw e;
  }
  return { dir, dbPort, ldapPort, ldapUrl, ldapBaseDn, ldapBindDn, ldapBindPassword, sql, sqlFile, stop };
}

export interface LocalPostgres {
  port: number;
  /** Runs SQL as the superuser (database optional). */
  sql(statement: string, database?: string): string;
  sqlFile(file: string, database: string): void;
  stop(): void;
}

/** A PostgreSQL of its own on loopback (initdb into a temporary directory, run as the postgres user). */
export async function startPostgres(prefix: string): Promise<LocalPostgres> {
  const dir = mkdtempSync(path.join(tmpdir(), `${prefix}-postgres-`));
  const bin = '/usr/lib/postgresql/15/bin';
  const port = await freePort();
  const password = 'lab-pg-root';
  writeFileSync(path.join(dir, 'pw'), `${password}\n`);
  execFileSync('chown', ['-R', 'postgres', dir]);
  const asPostgres = (cmd: string, args: string[]): string =>
    execFileSync('runuser', ['-u', 'postgres', '--', cmd, ...args], { cwd: '/tmp', encoding: 'utf8', stdio: 'pipe' });
  asPostgres(`${bin}/initdb`, ['-D', `${dir}/data`, '-A', 'scram-sha-256', `--pwfile=${dir}/pw`, '-U', 'postgres']);
  asPostgres(`${bin}/pg_ctl`, ['-D', `${dir}/data`, '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`, '-l', `${dir}/log`, '-w', 'start']);
  const env = { ...process.env, PGPASSWORD: password };
  const psql = (database: string | undefined, args: string[], input?: Buffer): string =>
    execFileSync('psql', ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-v', 'ON_ERROR_STOP=1', '-tA', ...(database ? ['-d', database] : []), ...args],
      { env, encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] });
  return {
    port,
    sql: (statement, database) => psql(database, ['-c', statement]),
    sqlFile: (file, database) => void psql(database, [], readFileSync(file)),
    stop: () => {
      try {
        asPostgres(`${bin}/pg_ctl`, ['-D', `${dir}/data`, '-m', 'immediate', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
