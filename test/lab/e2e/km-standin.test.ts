// The lab stand-in's OB KM start-up checks (lab-product/src/lab/standin/KmConfig.java), run for real
// with java on copies of the stand-in pack: the pack as shipped passes them (the start then stops at
// the first datasource, which the pack points at a database that is not there), a renamed JNDI name
// and an LDAP user store without GroupNameListFilter are refused with a log line naming the file and
// the setting, and `WSO2 Carbon started` is never logged. No lab host is needed.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO } from './run-cli.js';

const SRC = path.join(REPO, 'lab-product/src/lab/standin');
let classes = '';

function home(): string {
  const h = mkdtempSync(path.join(tmpdir(), 'obr-kmstandin-'));
  cpSync(path.join(REPO, 'lab-product/pack/obkm/repository'), path.join(h, 'repository'), { recursive: true });
  const sec = path.join(h, 'repository/resources/security');
  mkdirSync(sec, { recursive: true });
  const kt = (...a: string[]): void => void execFileSync('keytool', a, { stdio: 'ignore' });
  kt('-genkeypair', '-alias', 'wso2carbon', '-keyalg', 'RSA', '-keysize', '2048', '-validity', '30', '-dname', 'CN=localhost', '-keystore', `${sec}/wso2carbon.jks`, '-storetype', 'JKS', '-storepass', 'wso2carbon', '-keypass', 'wso2carbon');
  kt('-exportcert', '-alias', 'wso2carbon', '-keystore', `${sec}/wso2carbon.jks`, '-storepass', 'wso2carbon', '-rfc', '-file', `${sec}/c.pem`);
  kt('-importcert', '-noprompt', '-alias', 'wso2carbon', '-file', `${sec}/c.pem`, '-keystore', `${sec}/client-truststore.jks`, '-storetype', 'JKS', '-storepass', 'wso2carbon');
  return h;
}

/** Starts the stand-in in KM mode and returns its log once it has exited. */
function start(h: string): string {
  const r = spawnSync('java', ['-cp', classes, `-Dcarbon.home=${h}`, '-Dlab.profile=obkm', '-Dlab.version=1.5.0', 'lab.standin.Carbon'], { timeout: 60_000 });
  expect(r.status, String(r.stderr)).not.toBe(0);
  return readFileSync(path.join(h, 'repository/logs/wso2carbon.log'), 'utf8');
}

const edit = (h: string, rel: string, from: string | RegExp, to: string): void => {
  const f = path.join(h, 'repository/conf', rel);
  const text = readFileSync(f, 'utf8');
  const out = text.replace(from, to);
  expect(out).not.toBe(text);
  writeFileSync(f, out);
};

describe('lab stand-in OB KM start-up checks', () => {
  beforeAll(() => {
    classes = mkdtempSync(path.join(tmpdir(), 'obr-kmclasses-'));
    const files = readdirSync(SRC).filter((f) => f.endsWith('.java')).map((f) => path.join(SRC, f));
    execFileSync('javac', ['--release', '8', '-Xlint:-options', '-d', classes, ...files], { stdio: 'pipe' });
  }, 120_000);

  it('the pack as shipped passes them: the start stops only at the first datasource (no driver, no database)', () => {
    const log = start(home());
    expect(log).not.toContain('Invalid configuration');
    expect(log).toContain('Datasource WSO2AM_DB: ');
    expect(log).not.toContain('WSO2 Carbon started');
  }, 90_000);

  it('refuses a master-datasources.xml whose JNDI name registry.xml references was renamed', () => {
    const h = home();
    edit(h, 'datasources/master-datasources.xml', '<name>jdbc/WSO2REG_DB</name>', '<name>jdbc/WSO2RegDB</name>');
    const log = start(h);
    expect(log).toMatch(/ERROR .*Invalid configuration: registry\.xml: dbConfig govregistry dataSource names jdbc\/WSO2REG_DB, which no datasource in datasources\/master-datasources\.xml/);
    expect(log).not.toContain('WSO2 Carbon started');
  }, 90_000);

  it('refuses an LDAP user store without GroupNameListFilter while ReadGroups is true', () => {
    const h = home();
    const props: [string, string][] = [
      ['ConnectionURL', 'ldap://127.0.0.1:10389'], ['ConnectionName', 'uid=admin,ou=system'], ['ConnectionPassword', 'x'],
      ['UserSearchBase', 'ou=Users,dc=lab'], ['UserEntryObjectClass', 'inetOrgPerson'], ['UserNameAttribute', 'uid'],
      ['UserNameSearchFilter', '(&amp;(objectClass=inetOrgPerson)(uid=?))'], ['UserNameListFilter', '(objectClass=inetOrgPerson)'],
      ['ReadGroups', 'true'], ['GroupSearchBase', 'ou=Groups,dc=lab'], ['GroupEntryObjectClass', 'groupOfNames'],
      ['GroupNameAttribute', 'cn'], ['GroupNameSearchFilter', '(&amp;(objectClass=groupOfNames)(cn=?))'], ['MembershipAttribute', 'member'],
    ];
    const store = `<UserStoreManager class="org.wso2.carbon.user.core.ldap.ReadWriteLDAPUserStoreManager">\n${props.map(([k, v]) => `            <Property name="${k}">${v}</Property>`).join('\n')}\n        </UserStoreManager>\n\n        <!-- Role`;
    edit(h, 'user-mgt.xml', /<UserStoreManager class="org\.wso2\.carbon\.user\.core\.jdbc[\s\S]*?<\/UserStoreManager>\s*<!-- Role/, store);
    const log = start(h);
    expect(log).toMatch(/Invalid configuration: user-mgt\.xml: the user store org\.wso2\.carbon\.user\.core\.ldap\.ReadWriteLDAPUserStoreManager lacks the properties \[GroupNameListFilter\] \(required while ReadGroups is true\)/);
    expect(log).not.toContain('WSO2 Carbon started');
  }, 90_000);

  it('refuses a carbon.xml key store password that does not open the key store', () => {
    const h = home();
    edit(h, 'carbon.xml', /(<KeyStore>[\s\S]*?<Password>)wso2carbon(<\/Password>)/, '$1wrong$2');
    const log = start(h);
    expect(log).toMatch(/Invalid configuration: carbon\.xml: Security\/KeyStore: the key store .*wso2carbon\.jks \(JKS\) does not open with its password/);
  }, 90_000);
});
