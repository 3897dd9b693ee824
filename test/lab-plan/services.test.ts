// The pure part of the lab's database and directory: which host serves them, their files and
// configuration, the secrets, and how the inventories carry them (the servers themselves run in
// test/lab/lab/lab.test.ts).
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { checkedInInventory, renderInventory } from '../../src/lab/inventory.js';
import { planLab } from '../../src/lab/plan.js';
import { LAB_LDAP_ADMIN_DN, LAB_LDAP_BASE_DN, baseLdif, mariadbConfig, missingServicePackages, planServices, serviceHosts, slapdConfig, sshaHash } from '../../src/lab/services.js';

describe('lab services plan', () => {
  it('the storage host serves both when the lab has no db or ldap host; dedicated hosts take over', () => {
    const small = planLab('svc', 2, ['lb', 'storage']);
    expect(serviceHosts(small.hosts)).toMatchObject({ db: { name: 'storage1' }, ldap: { name: 'storage1' } });
    const big = planLab('svc', 2, ['storage', 'db', 'ldap']);
    expect(serviceHosts(big.hosts)).toMatchObject({ db: { name: 'db1', ip: big.hosts.find((h) => h.name === 'db1')!.ip }, ldap: { name: 'ldap1' } });
    expect(serviceHosts(planLab('svc', 2, ['lb']).hosts)).toEqual({ db: undefined, ldap: undefined });
  });

  it('names, paths and per-lab secrets under the lab state dir', () => {
    const plan = planLab('svc', 1, ['storage']);
    const a = planServices('/x/.lab/svc', plan.prefix, plan.hosts);
    const b = planServices('/x/.lab/svc', plan.prefix, plan.hosts);
    expect(a.db).toMatchObject({ name: `${plan.prefix}-db`, host: 'storage1', port: 3306, adminUser: 'labdba', dir: '/x/.lab/svc/services/db', socket: '/x/.lab/svc/services/db/mariadbd.sock', netns: `${plan.prefix}-storage1` });
    expect(a.ldap).toMatchObject({ name: `${plan.prefix}-ldap`, port: 389, baseDn: LAB_LDAP_BASE_DN, adminDn: LAB_LDAP_ADMIN_DN, dir: '/x/.lab/svc/services/ldap' });
    expect(a.db!.adminPassword).toMatch(/^[A-Za-z0-9_-]{20}$/);
    expect(a.db!.adminPassword).not.toBe(b.db!.adminPassword);
    expect(a.ldap!.adminPassword).not.toBe(a.db!.adminPassword);
    expect(planServices('/x', plan.prefix, planLab('svc', 1, ['lb']).hosts)).toEqual({});
  });

  it('mariadbd binds the services host address only and keeps its files in its own dir', () => {
    const plan = planLab('svc', 1, ['storage']);
    const db = planServices('/s', plan.prefix, plan.hosts).db!;
    const cnf = mariadbConfig(db);
    expect(cnf).toContain(`bind-address=${db.ip}\n`);
    for (const k of ['datadir=/s/services/db/data', 'socket=/s/services/db/mariadbd.sock', 'pid-file=/s/services/db/mariadbd.pid', 'port=3306']) expect(cnf).toContain(`${k}\n`);
    expect(cnf).not.toContain(db.adminPassword);
  });

  it("slapd.conf: mdb under its own dir, the lab suffix and root DN, the password only as {SSHA}", () => {
    const plan = planLab('svc', 1, ['storage']);
    const ldap = planServices('/s', plan.prefix, plan.hosts).ldap!;
    const conf = slapdConfig(ldap);
    expect(conf).toContain('database mdb\n');
    expect(conf).toContain('directory /s/services/ldap/data\n');
    expect(conf).toContain(`suffix "${LAB_LDAP_BASE_DN}"\n`);
    expect(conf).toContain(`rootdn "${LAB_LDAP_ADMIN_DN}"\n`);
    expect(conf).toContain('include /etc/ldap/schema/inetorgperson.schema\n');
    expect(conf).toMatch(/\nrootpw \{SSHA\}[A-Za-z0-9+/=]+\n/);
    expect(conf).not.toContain(ldap.adminPassword);
  });

  it('{SSHA} is sha1(password + salt) followed by the salt, base64', () => {
    const salt = Buffer.from('0123abcd');
    const h = sshaHash('secret', salt);
    const raw = Buffer.from(h.replace('{SSHA}', ''), 'base64');
    expect(raw.subarray(20).equals(salt)).toBe(true);
    expect(raw.subarray(0, 20).equals(createHash('sha1').update('secret').update(salt).digest())).toBe(true);
    expect(sshaHash('secret')).not.toBe(sshaHash('secret'));
  });

  it('the suffix entry carries the attribute of its first RDN', () => {
    expect(baseLdif('dc=lab,dc=obiam')).toBe('dn: dc=lab,dc=obiam\nobjectClass: top\nobjectClass: dcObject\nobjectClass: organization\ndc: lab\no: obiam-run lab\n');
  });

  it('missing packages are named by their Debian package, once each', () => {
    const plan = planLab('svc', 1, ['storage']);
    const s = planServices('/s', plan.prefix, plan.hosts);
    expect(missingServicePackages(s, () => undefined)).toEqual(['mariadb-server', 'mariadb-client', 'slapd', 'ldap-utils']);
    expect(missingServicePackages(s, (b) => (b === 'slapadd' ? undefined : `/usr/bin/${b}`))).toEqual(['slapd']);
    expect(missingServicePackages({}, () => undefined)).toEqual([]);
  });
});

describe('lab services in the inventories', () => {
  it('a running lab: host lists, VIP, URL and the generated secrets as lab_db_* / lab_ldap_*', () => {
    const plan = planLab('svc', 1, ['storage', 'db', 'ldap']);
    const text = renderInventory(plan, { privateKeyFile: 'k', knownHostsFile: 'kh', sudoPassword: 's', dbAdminPassword: 'dbpw', ldapAdminPassword: 'ldpw' }, []);
    const ip = (n: string): string => plan.hosts.find((h) => h.name === n)!.ip;
    for (const line of [
      'lab_db_hosts: ["db1"]',
      `lab_db_vip: "${ip('db1')}"`,
      'lab_db_port: 3306',
      'lab_db_admin_user: "labdba"',
      'lab_db_admin_password: "dbpw"',
      'lab_ldap_hosts: ["ldap1"]',
      `lab_ldap_url: "ldap://${ip('ldap1')}:389"`,
      'lab_ldap_base_dn: "dc=lab,dc=obiam"',
      'lab_ldap_admin_dn: "cn=admin,dc=lab,dc=obiam"',
      'lab_ldap_admin_password: "ldpw"',
    ]) expect(text).toContain(`\n    ${line}\n`);
  });

  it('the checked-in default inventory reads the secrets from the default lab with a lookup', () => {
    const text = checkedInInventory(planLab('default', 3, ['lb', 'storage']));
    expect(text).toContain(`lab_db_admin_password: "{{ lookup('file', inventory_dir + '/../.lab/default/services/db/admin-password') }}"`);
    expect(text).toContain(`lab_ldap_admin_password: "{{ lookup('file', inventory_dir + '/../.lab/default/services/ldap/admin-password') }}"`);
    expect(text).toContain('lab_db_hosts: ["storage1"]');
  });

  it('a lab without a services host has no lab_db_* / lab_ldap_*', () => {
    expect(renderInventory(planLab('svc', 1, ['lb']), { privateKeyFile: 'k', knownHostsFile: 'kh', sudoPassword: 's' }, [])).not.toMatch(/lab_(db|ldap)_/);
  });
});
