// toml: format-keeping edits, as a pure function on sample text and as a module on copies of the
// lab stand-in pack's deployment.toml files (local connection).
import { existsSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse as smolParse } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { getModule } from '../../src/modules/registry.js';
import { editToml, editsFromArgs, hostsFromArgs, parseKeyPath, replaceUrlHosts, tomlModule, type TomlArgs } from '../../src/modules/toml.js';
import { localContext } from '../support/module-context.js';

const SAMPLE = `# Sample deployment.toml
[server]
hostname = "localhost"   # the public name
node_ip = "127.0.0.1"
offset = 0

[database.identity_db]
url = "jdbc:h2:./identity"
username = "wso2carbon"
pool_options.maxActive = "50"
pool_options.testOnBorrow = true

[database.shared_db]
url = "jdbc:h2:./shared"

# The user manager's datasource.
[[datasource]]
id = "WSO2UM_DB"
url = "jdbc:h2:./um"
pool_options = { maxActive = 10, minIdle = 1 }

[[datasource]]
id = "WSO2_EXTRA_DB"
url = "jdbc:h2:./extra"

[[event_listener]]
id = "token_revocation"
type = "org.wso2.carbon.identity.core.handler.AbstractIdentityHandler"
order = 1

[[event_listener]]
id = "scim_listener"
order = 90

[user_store]
type = "database_unique_id"
class = "org.example.Store"

[clustering]
members = [
    "a:4000",   # first
    "b:4000",
]
`;

const edit = (text: string, a: Omit<TomlArgs, 'path'>): ReturnType<typeof editToml> => editToml(text, editsFromArgs({ path: 'f', ...a }), 'f', hostsFromArgs({ path: 'f', ...a }));
/** Lines of b that are not in a, and of a not in b (a line diff good enough for small edits). */
function changedLines(a: string, b: string): { removed: string[]; added: string[] } {
  const la = a.split('\n');
  const lb = b.split('\n');
  return { removed: la.filter((l) => !lb.includes(l)), added: lb.filter((l) => !la.includes(l)) };
}

describe('parseKeyPath', () => {
  it('reads dotted, quoted and selected segments', () => {
    expect(parseKeyPath('database.identity_db.url')).toEqual([{ key: 'database' }, { key: 'identity_db' }, { key: 'url' }]);
    expect(parseKeyPath('hazelcast."hazelcast.max.no.heartbeat.seconds"')).toEqual([{ key: 'hazelcast' }, { key: 'hazelcast.max.no.heartbeat.seconds' }]);
    expect(parseKeyPath('datasource[id=WSO2UM_DB].pool_options.maxActive')).toEqual([{ key: 'datasource', select: { match: { id: 'WSO2UM_DB' } } }, { key: 'pool_options' }, { key: 'maxActive' }]);
    expect(parseKeyPath("x[ id = 'a b', n=2 ].y")[0]).toEqual({ key: 'x', select: { match: { id: 'a b', n: '2' } } });
    expect(parseKeyPath('event_listener[1].order')[0]).toEqual({ key: 'event_listener', select: { index: 1 } });
  });
  it('refuses bad keys with a coded error', () => {
    for (const k of ['a..b', 'a.', 'a[id=x', 'a."b', 'a b', 'a[1x]']) expect(() => parseKeyPath(k)).toThrow(expect.objectContaining({ code: 'E_TOML_KEY' }));
  });
});

describe('editToml', () => {
  it('adds a new array of tables for a selector in a file that has none (the docs/modules.md example)', () => {
    const r = edit('[server]\nhostname = "x"\n', { settings: { 'datasource[id=WSO2UM_DB].url': 'jdbc:mysql://db:3306/um_db', 'server.offset': 3 } });
    expect(r.after).toBe('[server]\nhostname = "x"\noffset = 3\n\n[[datasource]]\nid = "WSO2UM_DB"\nurl = "jdbc:mysql://db:3306/um_db"\n');
    expect(smolParse(r.after)).toEqual({ server: { hostname: 'x', offset: 3 }, datasource: [{ id: 'WSO2UM_DB', url: 'jdbc:mysql://db:3306/um_db' }] });
    expect(edit(r.after, { settings: { 'datasource[id=WSO2UM_DB].url': 'jdbc:mysql://db:3306/um_db' } }).changed).toBe(false);
  });

  it('an unchanged document round-trips byte for byte', () => {
    const r = edit(SAMPLE, { key: 'server.hostname', value: 'localhost' });
    expect(r).toMatchObject({ changed: false, after: SAMPLE });
  });

  it('a one-value change is a one-line change; comments and spacing stay', () => {
    const r = edit(SAMPLE, { key: 'server.hostname', value: 'iam.bank.example' });
    expect(r.changed).toBe(true);
    expect(changedLines(SAMPLE, r.after)).toEqual({ removed: ['hostname = "localhost"   # the public name'], added: ['hostname = "iam.bank.example"   # the public name'] });
    expect(r.keys).toEqual(['server.hostname']);
  });

  it('dotted keys inside a table: set and add as dotted keys', () => {
    const r = edit(SAMPLE, { table: 'database.identity_db', settings: { 'pool_options.maxActive': 150, 'pool_options.minIdle': 5 } });
    expect(r.after).toContain('pool_options.maxActive = 150\npool_options.testOnBorrow = true\npool_options.minIdle = 5\n');
    expect(smolParse(r.after)).toMatchObject({ database: { identity_db: { pool_options: { maxActive: 150, minIdle: 5, testOnBorrow: true } } } });
  });

  it('selects an array-of-tables element by a key; the other elements are untouched', () => {
    const r = edit(SAMPLE, { settings: { 'datasource[id=WSO2UM_DB].url': 'jdbc:mysql://db/um', 'datasource[id=WSO2UM_DB].pool_options.maxActive': 150 } });
    expect(changedLines(SAMPLE, r.after)).toEqual({
      removed: ['url = "jdbc:h2:./um"', 'pool_options = { maxActive = 10, minIdle = 1 }'],
      added: ['url = "jdbc:mysql://db/um"', 'pool_options = { maxActive = 150, minIdle = 1 }'],
    });
    // The same with table + match.
    const m = edit(SAMPLE, { table: 'datasource', match: { id: 'WSO2UM_DB' }, key: 'url', value: 'jdbc:mysql://db/um' });
    expect((smolParse(m.after).datasource as { url: string }[]).map((d) => d.url)).toEqual(['jdbc:mysql://db/um', 'jdbc:h2:./extra']);
  });

  it('a selector that matches nothing appends a new element after the others', () => {
    const r = edit(SAMPLE, { settings: { 'event_listener[id=audit].order': 10, 'event_listener[id=audit].enable': true } });
    const listeners = smolParse(r.after).event_listener as { id: string }[];
    expect(listeners.map((l) => l.id)).toEqual(['token_revocation', 'scim_listener', 'audit']);
    expect(r.after.indexOf('id = "audit"')).toBeGreaterThan(r.after.indexOf('id = "scim_listener"'));
    expect(r.after.indexOf('id = "audit"')).toBeLessThan(r.after.indexOf('[user_store]'));
  });

  it('new tables: a sibling of [database.*] sections goes after them; a top-level one at the end', () => {
    const r = edit(SAMPLE, { settings: { 'database.config.url': 'jdbc:mysql://db/config', 'hazelcast."hazelcast.max.no.heartbeat.seconds"': '20' } });
    expect(r.after).toContain('[database.shared_db]\nurl = "jdbc:h2:./shared"\n\n[database.config]\nurl = "jdbc:mysql://db/config"\n\n# The user manager');
    expect(r.after.trimEnd().endsWith('[hazelcast]\n"hazelcast.max.no.heartbeat.seconds" = "20"')).toBe(true);
    expect(smolParse(r.after)).toMatchObject({ database: { config: { url: 'jdbc:mysql://db/config' } } });
  });

  it('arrays (multi-line kept when equal), inline tables and whole arrays of tables as values', () => {
    expect(edit(SAMPLE, { key: 'clustering.members', value: ['a:4000', 'b:4000'] }).changed).toBe(false);
    const r = edit(SAMPLE, { settings: { 'clustering.members': ['x:4000', 'y:4000', 'z:4000'], 'clustering.properties': { a: 1, b: 'two' } } });
    expect(smolParse(r.after)).toMatchObject({ clustering: { members: ['x:4000', 'y:4000', 'z:4000'], properties: { a: 1, b: 'two' } } });
    const t = edit(SAMPLE, { key: 'event_listener', value: [{ id: 'one', order: 1 }] });
    expect(smolParse(t.after).event_listener).toEqual([{ id: 'one', order: 1 }]);
  });

  it('state=absent removes keys and selected elements; absent twice is unchanged', () => {
    const r = edit(SAMPLE, { remove: ['user_store.class', 'datasource[id=WSO2_EXTRA_DB]'] });
    expect(r.after).not.toContain('class = ');
    expect(r.after).not.toContain('WSO2_EXTRA_DB');
    expect((smolParse(r.after).datasource as unknown[]).length).toBe(1);
    expect(edit(r.after, { remove: ['user_store.class', 'datasource[id=WSO2_EXTRA_DB]'] }).changed).toBe(false);
    expect(edit(SAMPLE, { key: 'no.such.key', state: 'absent' }).changed).toBe(false);
  });

  it('refuses what TOML cannot hold or the document does not allow, with codes', () => {
    const code = (f: () => unknown): string | undefined => {
      try {
        f();
      } catch (e) {
        return (e as { code?: string }).code;
      }
      return undefined;
    };
    expect(code(() => edit(SAMPLE, { key: 'server.hostname', value: null }))).toBe('E_TOML_VALUE');
    expect(code(() => edit(SAMPLE, { key: 'server.hostname.x', value: 1 }))).toBe('E_TOML_KEY');
    expect(code(() => edit(SAMPLE, { key: 'datasource.url', value: 1 }))).toBe('E_TOML_KEY');
    expect(code(() => edit(SAMPLE, { key: 'event_listener[7].order', value: 1 }))).toBe('E_TOML_KEY');
    expect(code(() => edit('[a]\nx = 1\n[a]\n', { key: 'a.y', value: 1 }))).toBe('E_TOML_PARSE');
    expect(code(() => editsFromArgs({ path: 'f' }))).toBe('E_TOML_ARGS');
    expect(code(() => editsFromArgs({ path: 'f', key: 'a' }))).toBe('E_TOML_ARGS');
    try {
      edit('[a]\nx = 1\ny = \n', { key: 'a.x', value: 2 });
    } catch (e) {
      expect((e as Error).message).toMatch(/^f:3:\d+: the file is not valid TOML/);
    }
  });

  it('url_hosts replaces only the host of each URL; keys the file lacks are reported, not added', () => {
    expect(replaceUrlHosts('https://localhost:8243/open-banking/v3.1/aisp', 'apim.bank')).toBe('https://apim.bank:8243/open-banking/v3.1/aisp');
    expect(replaceUrlHosts('{tcp://localhost:7612},{tcp://10.0.0.2:7612}', 'bi.bank')).toBe('{tcp://bi.bank:7612},{tcp://bi.bank:7612}');
    expect(replaceUrlHosts('${carbon.protocol}://${carbon.host}:9443/x', 'h')).toBe('${carbon.protocol}://${carbon.host}:9443/x');
    const text = '[a]\nurl = "http://localhost:8006/x"  # bi\nurls = ["tcp://localhost:9611", "ssl://old:9711/"]\n';
    const r = edit(text, { url_hosts: { 'a.url': 'bi.bank', 'a.urls': 'tm.bank', 'a.none': 'x' } });
    expect(r.after).toBe('[a]\nurl = "http://bi.bank:8006/x"  # bi\nurls = ["tcp://tm.bank:9611", "ssl://tm.bank:9711/"]\n');
    expect(r.missing).toEqual(['a.none']);
    expect(edit(r.after, { url_hosts: { 'a.url': 'bi.bank', 'a.urls': 'tm.bank' } }).changed).toBe(false);
    expect(() => edit(text, { url_hosts: { 'a.url': 'not a host/' } })).toThrow(expect.objectContaining({ code: 'E_TOML_VALUE' }));
  });

  it('CRLF line ends are kept', () => {
    const crlf = SAMPLE.replace(/\n/g, '\r\n');
    const r = edit(crlf, { settings: { 'server.offset': 3, 'database.config.url': 'u' } });
    expect(r.after.replace(/\r\n/g, '')).not.toContain('\n');
    expect(smolParse(r.after)).toMatchObject({ server: { offset: 3 }, database: { config: { url: 'u' } } });
  });
});

const SPECS = path.resolve('lab-product/pack/obiam/spec');

describe('toml module on the stand-in pack files', () => {
  const specs = existsSync(SPECS) ? readdirSync(SPECS).map((s) => path.join(s, 'repository/conf/deployment.toml')) : [];

  it('is registered', () => {
    expect(getModule('toml')).toBe(tomlModule);
  });

  it('the packs carry deployment.toml files that round-trip unchanged', () => {
    expect(specs.sort()).toEqual(['au', 'berlin', 'uk'].map((s) => path.join(s, 'repository/conf/deployment.toml')));
    for (const f of specs) {
      const text = readFileSync(path.join(SPECS, f), 'utf8');
      expect(edit(text, { key: 'server.offset', value: (smolParse(text).server as { offset: number }).offset })).toMatchObject({ changed: false, after: text });
    }
  });

  it('first run changed, second unchanged, check mode writes nothing, diff is the one line, mode and backup kept', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'obr-toml-'));
    const f = path.join(dir, 'deployment.toml');
    const orig = readFileSync(path.join(SPECS, specs[0]!), 'utf8');
    writeFileSync(f, orig);
    chmodSync(f, 0o640);
    const args: TomlArgs = { path: f, key: 'server.hostname', value: 'iam.bank.example', backup: true };
    const chk = await tomlModule.run(args, await localContext({ check: true, diff: true }));
    expect(chk.changed).toBe(true);
    expect(readFileSync(f, 'utf8')).toBe(orig);
    const d = changedLines(chk.diff![0]!.before as string, chk.diff![0]!.after as string);
    expect(d.removed.length).toBe(1);
    expect(d.added).toEqual([d.removed[0]!.replace(/"[^"]*"/, '"iam.bank.example"')]);
    const first = await tomlModule.run(args, await localContext());
    expect(first).toMatchObject({ changed: true, keys: ['server.hostname'] });
    expect(typeof first.backup_file).toBe('string');
    expect(readFileSync(first.backup_file as string, 'utf8')).toBe(orig);
    expect((statSync(f).mode & 0o777).toString(8)).toBe('640');
    const again = await tomlModule.run(args, await localContext({ diff: true }));
    expect(again.changed).toBe(false);
    expect(again.diff).toBeUndefined();
  });

  it('a missing file fails; an edit of a file that does not parse is refused with E_TOML_PARSE', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'obr-toml-'));
    const missing = await tomlModule.run({ path: path.join(dir, 'nope.toml'), key: 'a', value: 1 }, await localContext());
    expect(missing).toMatchObject({ failed: true, msg: expect.stringContaining('does not exist') });
    const bad = path.join(dir, 'bad.toml');
    writeFileSync(bad, '[server]\nhostname = "x"\n[server]\n');
    await expect(tomlModule.run({ path: bad, key: 'server.offset', value: 1 }, await localContext())).rejects.toMatchObject({ code: 'E_TOML_PARSE' });
    expect(readFileSync(bad, 'utf8')).toBe('[server]\nhostname = "x"\n[server]\n');
  });
});
