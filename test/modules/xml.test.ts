// xml: structural edits on copies of the lab pack's own OB KM files (local connection), and the
// pure edit function as a data table.
import { chmodSync, cpSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { getModule } from '../../src/modules/registry.js';
import { editXml, parseStep, splitLastStep, xmlModule, type XmlEdit } from '../../src/modules/xml.js';
import { localContext } from '../support/module-context.js';

const PACK_CONF = path.resolve('lab-product/pack/obkm/repository/conf');
const CARBON_NS = 'http://wso2.org/projects/carbon/carbon.xml';

/** A private copy of the pack's conf directory; returns the path of one file in it. */
function packFile(rel: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'obr-xml-'));
  cpSync(PACK_CONF, dir, { recursive: true });
  return path.join(dir, rel);
}
const read = (f: string): string => readFileSync(f, 'utf8');
const modeOf = (p: string): string => (statSync(p).mode & 0o7777).toString(8).padStart(4, '0');

describe('xml module on the pack files', () => {
  it('is registered under its collection name too', () => {
    expect(getModule('community.general.xml')).toBe(xmlModule);
    expect(getModule('xml')).toBe(xmlModule);
  });

  it('sets text in a default-namespace document: changed, then unchanged; check mode writes nothing; diff', async () => {
    const f = packFile('carbon.xml');
    const orig = read(f);
    const args = { path: f, xpath: '/c:Server/c:Ports/c:Offset', namespaces: { c: CARBON_NS }, value: 7 };
    const chk = await xmlModule.run(args, await localContext({ check: true, diff: true }));
    expect(chk).toMatchObject({ changed: true, matches: 1 });
    expect(chk.diff?.[0]?.before).toBe(orig);
    expect(chk.diff?.[0]?.after).toBe(orig.replace('<Offset>3</Offset>', '<Offset>7</Offset>'));
    expect(read(f)).toBe(orig);
    expect((await xmlModule.run(args, await localContext())).changed).toBe(true);
    // Only the edited element differs: declaration, comment, layout and the final newline are kept.
    expect(read(f)).toBe(orig.replace('<Offset>3</Offset>', '<Offset>7</Offset>'));
    const again = await xmlModule.run(args, await localContext({ diff: true }));
    expect(again.changed).toBe(false);
    expect(again.diff).toBeUndefined();
  });

  it('an unprefixed xpath in a default-namespace document fails with a hint', async () => {
    const f = packFile('carbon.xml');
    const r = await xmlModule.run({ path: f, xpath: '/Server/HostName', value: 'x' }, await localContext());
    expect(r).toMatchObject({ failed: true });
    expect(r.msg).toContain(`default namespace ${CARBON_NS}`);
  });

  it('creates a missing element in the default namespace, without an xmlns of its own', async () => {
    const f = packFile('carbon.xml');
    const args = { path: f, xpath: '/c:Server/c:Ports/c:ServletTransports', namespaces: { c: CARBON_NS }, value: 'x' };
    expect(await xmlModule.run(args, await localContext())).toMatchObject({ changed: true, msg: 'c:ServletTransports created (1), text set (1)' });
    const orig = read(packFile('carbon.xml'));
    // The new element is indented like its siblings; nothing else of the file changes.
    expect(read(f)).toBe(orig.replace('10500</ThriftEntitlementReceivePort>\n', '10500</ThriftEntitlementReceivePort>\n        <ServletTransports>x</ServletTransports>\n'));
    expect((await xmlModule.run(args, await localContext())).changed).toBe(false);
  });

  it('sets an attribute, keeping the file mode', async () => {
    const f = packFile('axis2/axis2.xml');
    chmodSync(f, 0o640);
    const orig = read(f);
    const args = { path: f, xpath: '/axisconfig/clustering', attribute: 'enable', value: 'true' };
    const r = await xmlModule.run(args, await localContext({ diff: true }));
    expect(r).toMatchObject({ changed: true, msg: 'attribute enable set (1)' });
    // The tag spans two lines in the pack: only the attribute's line changes, every other byte stays.
    expect(read(f)).toBe(orig.replace('                enable="false">', '                enable="true">'));
    const before = orig.split('\n');
    const after = read(f).split('\n');
    expect(after).toHaveLength(before.length);
    expect(after.filter((l, i) => l !== before[i])).toEqual(['                enable="true">']);
    expect(modeOf(f)).toBe('0640');
    expect((await xmlModule.run(args, await localContext())).changed).toBe(false);
  });

  it('creates the missing last step from its predicates when the parent exists', async () => {
    const f = packFile('axis2/axis2.xml');
    const args = { path: f, xpath: "/axisconfig/clustering/parameter[@name='mcastBindAddress']", value: '10.0.0.11' };
    expect((await xmlModule.run(args, await localContext())).changed).toBe(true);
    expect(read(f)).toContain('        </groupManagement>\n        <parameter name="mcastBindAddress">10.0.0.11</parameter>\n    </clustering>');
    expect((await xmlModule.run(args, await localContext())).changed).toBe(false);
    const deep = await xmlModule.run({ path: f, xpath: "/axisconfig/nope/parameter[@name='x']", value: '1' }, await localContext());
    expect(deep).toMatchObject({ failed: true, msg: expect.stringContaining("no element matches its parent '/axisconfig/nope'") });
  });

  it('set_children replaces the children, then is unchanged', async () => {
    const f = packFile('axis2/axis2.xml');
    const member = (ip: string) => ({ member: { _: [{ hostName: ip }, { port: 4000 }] } });
    const args = { path: f, xpath: '/axisconfig/clustering/members', set_children: [member('10.0.0.11'), member('10.0.0.12')] };
    const r = await xmlModule.run(args, await localContext({ diff: true }));
    expect(r).toMatchObject({ changed: true, msg: 'children set (1)' });
    expect(read(f)).toContain(
      [
        '        <members>',
        '            <member>',
        '                <hostName>10.0.0.11</hostName>',
        '                <port>4000</port>',
        '            </member>',
        '            <member>',
        '                <hostName>10.0.0.12</hostName>',
        '                <port>4000</port>',
        '            </member>',
        '        </members>',
      ].join('\n'),
    );
    expect(read(f)).not.toContain('<hostName>127.0.0.1</hostName>');
    expect((await xmlModule.run(args, await localContext())).changed).toBe(false);
    // Attributes and text through the `+value` key, tags only as strings.
    const props = { path: f, xpath: '/axisconfig/clustering/members', set_children: [{ property: { name: 'a', value: 'b', '+value': 't' } }, 'empty'] };
    expect((await xmlModule.run(props, await localContext())).changed).toBe(true);
    expect(read(f)).toContain('<property name="a" value="b">t</property>\n            <empty/>');
    expect((await xmlModule.run(props, await localContext())).changed).toBe(false);
  });

  it('add_children adds only the children not there yet', async () => {
    const f = packFile('axis2/axis2.xml');
    const args = { path: f, xpath: '/axisconfig/clustering/members', add_children: [{ member: { _: [{ hostName: '127.0.0.1' }, { port: '4000' }] } }, { member: { _: [{ hostName: '10.0.0.9' }, { port: '4000' }] } }] };
    expect(await xmlModule.run(args, await localContext())).toMatchObject({ changed: true, msg: 'children added (1)' });
    expect(read(f).match(/<member>/g)).toHaveLength(2);
    expect((await xmlModule.run(args, await localContext())).changed).toBe(false);
  });

  it('state=absent removes elements, attributes and their indentation; absent twice is unchanged', async () => {
    const f = packFile('axis2/axis2.xml');
    const orig = read(f);
    const args = { path: f, xpath: "/axisconfig/clustering/parameter[@name='mcastPort']", state: 'absent' as const };
    expect(await xmlModule.run(args, await localContext())).toMatchObject({ changed: true, msg: 'removed (1)' });
    expect(read(f)).toBe(orig.replace('\n        <parameter name="mcastPort">45564</parameter>', ''));
    expect((await xmlModule.run(args, await localContext())).changed).toBe(false);
    expect((await xmlModule.run({ path: f, xpath: '/axisconfig/clustering/@enable', state: 'absent' }, await localContext())).changed).toBe(true);
    expect(read(f)).toContain('HazelcastClusteringAgent">');
    expect((await xmlModule.run({ path: f, xpath: '/axisconfig', attribute: 'name', state: 'absent' }, await localContext())).changed).toBe(true);
    expect(read(f)).toContain('<axisconfig>');
    expect(await xmlModule.run({ path: f, xpath: '/axisconfig', state: 'absent' }, await localContext())).toMatchObject({ failed: true, msg: expect.stringContaining('root element') });
  });

  it('count returns the number of matches and changes nothing', async () => {
    const f = packFile('user-mgt.xml');
    const orig = read(f);
    expect(await xmlModule.run({ path: f, xpath: '//Property', count: true }, await localContext())).toMatchObject({ changed: false, count: 22 });
    expect(read(f)).toBe(orig);
  });

  it('backup keeps the old file; pretty_print re-indents', async () => {
    const f = packFile('tomcat/catalina-server.xml');
    const orig = read(f);
    const r = await xmlModule.run({ path: f, xpath: "//Connector[@port='9443']", attribute: 'proxyPort', value: 443, backup: true }, await localContext());
    expect(r.changed).toBe(true);
    expect(read(r.backup_file as string)).toBe(orig);
    // A new attribute goes after the last one of the multi-line tag; the other lines stay as they were.
    expect(read(f)).toBe(orig.replace('truststorePass="wso2carbon"\n                   URIEncoding="UTF-8"/>', 'truststorePass="wso2carbon"\n                   URIEncoding="UTF-8" proxyPort="443"/>'));
    writeFileSync(f, '<?xml version="1.0"?>\n<a><b><c>1</c></b><d/></a>\n');
    const p = await xmlModule.run({ path: f, xpath: '/a/d', attribute: 'x', value: 'y', pretty_print: true }, await localContext());
    expect(p.changed).toBe(true);
    expect(read(f)).toBe('<?xml version="1.0"?>\n<a>\n  <b>\n    <c>1</c>\n  </b>\n  <d x="y"/>\n</a>\n');
    expect((await xmlModule.run({ path: f, xpath: '/a/d', attribute: 'x', value: 'y', pretty_print: true }, await localContext())).changed).toBe(false);
  });

  it('keeps an ISO-8859-1 file in its encoding', async () => {
    const f = packFile('carbon.xml');
    const args = { path: f, xpath: '/c:Server/c:Name', namespaces: { c: CARBON_NS }, value: 'Clé € 1' };
    expect((await xmlModule.run(args, await localContext())).changed).toBe(true);
    const bytes = readFileSync(f);
    expect(bytes.includes(Buffer.from('<Name>Cl\xe9 &#x20AC; 1</Name>', 'latin1'))).toBe(true);
    expect((await xmlModule.run(args, await localContext())).changed).toBe(false);
  });

  it('errors are clear: missing file, invalid XML with line and column, bad xpath, no match, bad arguments', async () => {
    const f = packFile('user-mgt.xml');
    const ctx = await localContext();
    expect(await xmlModule.run({ path: `${f}.none`, xpath: '/a', value: 'x' }, ctx)).toMatchObject({ failed: true, msg: `The target XML source ${f}.none does not exist.` });
    expect(await xmlModule.run({ path: f, xpath: '/UserManager/Realm[', value: 'x' }, ctx)).toMatchObject({ failed: true, msg: expect.stringMatching(/^invalid xpath '\/UserManager\/Realm\[': /) });
    expect(await xmlModule.run({ path: f, xpath: 'count(//Property)', value: 'x' }, ctx)).toMatchObject({ failed: true, msg: expect.stringContaining('must select nodes') });
    expect(await xmlModule.run({ path: f, xpath: '//x | //y', set_children: ['a'] }, ctx)).toMatchObject({ failed: true, msg: expect.stringContaining('cannot be created') });
    expect(await xmlModule.run({ path: f, xpath: '//Nothing[1]', value: 'x' }, ctx)).toMatchObject({ failed: true, msg: expect.stringContaining("xpath '//Nothing[1]' matches nothing") });
    expect(await xmlModule.run({ path: f, xpath: '/UserManager', value: 'x', set_children: ['a'] }, ctx)).toMatchObject({ failed: true, msg: 'parameters are mutually exclusive: value|set_children' });
    expect(await xmlModule.run({ path: f, xpath: '/UserManager', attribute: 'a' }, ctx)).toMatchObject({ failed: true, msg: 'value is required with attribute (state=present)' });
    expect(await xmlModule.run({ path: f, xpath: '/UserManager/Realm', set_children: [{ a: 1, b: 2 }] }, ctx)).toMatchObject({ failed: true, msg: expect.stringContaining('exactly one key') });
    writeFileSync(f, '<?xml version="1.0"?>\n<a>\n  <b></a>\n');
    const bad = await xmlModule.run({ path: f, xpath: '/a', value: 'x' }, ctx);
    expect(bad).toMatchObject({ failed: true });
    expect(bad.msg).toMatch(new RegExp(`^${f.replace(/[.]/g, '\\.')} is not well-formed XML \\(line 3, column \\d+\\): .*mismatch`));
  });
});

// ---- the edit function as data ---------------------------------------------------------------------

const DOC = '<?xml version="1.0" encoding="UTF-8"?>\n<!-- c -->\n<r xmlns:p="urn:p">\n  <a k="1">x</a>\n  <p:b/>\n</r>\n';
const CASES: { name: string; edit: XmlEdit; after?: string; changed?: boolean; error?: RegExp }[] = [
  { name: 'text unchanged', edit: { xpath: '/r/a', value: 'x' }, changed: false },
  { name: 'text set', edit: { xpath: '/r/a', value: 'y' }, after: DOC.replace('>x<', '>y<') },
  { name: 'text on an attribute node', edit: { xpath: '/r/a/@k', value: '2' }, after: DOC.replace('k="1"', 'k="2"') },
  { name: 'new attribute from an @ step', edit: { xpath: '/r/a/@n', value: 'v' }, after: DOC.replace('k="1"', 'k="1" n="v"') },
  { name: 'text() step', edit: { xpath: '/r/p:b/text()', namespaces: { p: 'urn:p' }, value: 't' }, after: DOC.replace('<p:b/>', '<p:b>t</p:b>') },
  { name: 'prefixed element, document prefix reused', edit: { xpath: '/r/q:c', namespaces: { q: 'urn:p' }, value: '1' }, after: DOC.replace('  <p:b/>\n', '  <p:b/>\n  <p:c>1</p:c>\n') },
  { name: 'child predicate', edit: { xpath: "/r/d[name/text()='n1' and @t=\"x\"]" }, after: DOC.replace('  <p:b/>\n', '  <p:b/>\n  <d t="x">\n    <name>n1</name>\n  </d>\n') },
  // The element keeps its start and end tag as written: only the text between them goes.
  { name: 'value emptied', edit: { xpath: '/r/a', value: '' }, after: DOC.replace('<a k="1">x</a>', '<a k="1"></a>') },
  { name: 'comment removed', edit: { xpath: '/comment()', state: 'absent' }, after: DOC.replace('<!-- c -->\n', '') },
  { name: 'absent nothing', edit: { xpath: '/r/zz', state: 'absent' }, changed: false },
  { name: 'unknown prefix', edit: { xpath: '/r/z:c', value: '1' }, error: /invalid xpath/ },
  { name: 'positional predicate cannot be created', edit: { xpath: '/r/c[2]', value: '1' }, error: /cannot be created/ },
  { name: 'descendant step cannot be created', edit: { xpath: '//c', value: '1' }, error: /cannot be created/ },
  { name: 'count with value', edit: { xpath: '/r', count: true, value: 1 }, error: /count only counts/ },
  { name: 'absent with value', edit: { xpath: '/r/a', state: 'absent', value: 1 }, error: /state=absent takes no value/ },
];

describe('editXml cases', () => {
  for (const c of CASES) {
    it(c.name, () => {
      if (c.error) {
        expect(() => editXml(DOC, c.edit)).toThrow(c.error);
        return;
      }
      const r = editXml(DOC, c.edit);
      if (c.after !== undefined) expect(r.after).toBe(c.after);
      expect(r.changed).toBe(c.changed ?? true);
      if (r.changed) expect(editXml(r.after, c.edit).changed).toBe(false);
    });
  }

  it('CRLF line ends and an unindented document are kept', () => {
    const crlf = '<?xml version="1.0"?>\r\n<r>\r\n  <a/>\r\n</r>\r\n';
    expect(editXml(crlf, { xpath: '/r/b', value: '1' }).after).toBe('<?xml version="1.0"?>\r\n<r>\r\n  <a/>\r\n  <b>1</b>\r\n</r>\r\n');
    expect(editXml('<r><a/></r>', { xpath: '/r/b', value: '1' }).after).toBe('<r><a/><b>1</b></r>');
  });

  it('splits and parses last steps', () => {
    expect(splitLastStep("/a/b[c='/x']/d[@e='f/g']")).toEqual({ parent: "/a/b[c='/x']", step: "d[@e='f/g']" });
    expect(splitLastStep('/a')).toBeUndefined();
    expect(parseStep("p:d[@a='1'][b=\"2\" and .='t']")).toEqual({ kind: 'element', el: { name: 'p:d', attrs: [['a', '1']], text: 't', children: [{ name: 'b', attrs: [], text: '2', children: [] }] } });
    expect(parseStep('d[last()]')).toBeUndefined();
  });
});
