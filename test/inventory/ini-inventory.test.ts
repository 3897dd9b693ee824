// The INI reader: Python-literal typing of values, shlex splitting of host lines, sections, and the
// errors a user gets (file:line, a stable code, a remedy). The differential case
// test/conformance/cases/inventory-ini checks the same file against ansible-playbook itself.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatError, ObiamErrors } from '../../src/errors.js';
import { hostVarsOf } from '../../src/inventory/host-vars.js';
import { pythonLiteral, shlexSplit } from '../../src/inventory/ini-inventory.js';
import { loadInventory } from '../../src/inventory/sources.js';

const dir = mkdtempSync(join(tmpdir(), 'obr-ini-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
}

function errorsOf(file: string): string[] {
  try {
    loadInventory([file]);
  } catch (e) {
    return (e as ObiamErrors).errors.map((x) => formatError(x).split('\n')[0]!.replace(dir + '/', ''));
  }
  throw new Error(`${file} loaded`);
}

describe('python literals (ast.literal_eval)', () => {
  it.each([
    ['1', 1], ['-3', -3], ['+2', 2], ['1_000', 1000], ['0x1F', 31], ['0o17', 15], ['0b11', 3], ['1.5', 1.5], ['.5', 0.5], ['1e3', 1000],
    ['True', true], ['False', false], ['None', null], ['0', 0], ['00', 0],
    ['"a" "b"', 'ab'], ["'q'", 'q'], ['"\\x41\\n"', 'A\n'], ['r"\\n"', '\\n'], ['"""t"""', 't'],
    ['[1, "two"]', [1, 'two']], ['(1,2)', [1, 2]], ['(1)', 1], ['[1,]', [1]], ['{"a": [1, {"b": None}]}', { a: [1, { b: null }] }], ['{}', {}],
    ['1 # a comment', 1],
  ])('%s', (text, value) => {
    expect(pythonLiteral(text)).toEqual(value);
  });

  it.each(['yes', 'true', '0644', '01', '-', 'hello world', 'a=b', '[1, 2', '1.2.3', '10.0.0.1', '1abc', ''])('%s stays a string', (text) => {
    expect(pythonLiteral(text)).toBe(text);
  });
});

describe('shlex split with comments', () => {
  it.each([
    ['a=b#c d=e', ['a=b']],
    ['h  x="a b"  y=\'c d\'', ['h', 'x=a b', 'y=c d']],
    ['a="x\\y\\"z" b=c\\ d', ['a=x\\y"z', 'b=c d']],
    ["q='a\\b'", ['q=a\\b']],
    ['x=""', ['x=']],
    ['h #c', ['h']],
  ])('%s', (line, tokens) => {
    expect(shlexSplit(line)).toEqual(tokens);
  });

  it('refuses an open quote', () => {
    expect(() => shlexSplit('a x="open')).toThrow('No closing quotation');
  });
});

describe('INI inventory files', () => {
  it('reads sections, vars, children declared before their group, ranges and ports', () => {
    const inv = loadInventory([
      write('hosts', '# c\nsolo a=1 b=yes\n[web]\nweb[1:2] ansible_port=2222\nweb3:2201\n[web:vars]\nx = hello world\n[top:children]\nweb\nlater\n[later]\n[all:vars]\nsite=lab\n'),
    ]);
    expect([...inv.hosts.keys()]).toEqual(['solo', 'web1', 'web2', 'web3']);
    expect(inv.groups.get('top')!.children).toEqual(['web', 'later']);
    expect(inv.groups.get('ungrouped')!.hosts).toEqual(['solo']);
    expect(hostVarsOf(inv, 'web3')).toMatchObject({ ansible_port: 2201, x: 'hello world', site: 'lab', group_names: ['top', 'web'] });
    expect(hostVarsOf(inv, 'solo')).toMatchObject({ a: 1, b: 'yes', site: 'lab' });
  });

  it('reads a file without extension as YAML when it is a YAML mapping', () => {
    const inv = loadInventory([write('yaml-noext', 'all:\n  hosts:\n    h1:\n')]);
    expect([...inv.hosts.keys()]).toEqual(['h1']);
  });

  it('reads a .yml file that is INI as INI (Ansible tries yaml, then ini)', () => {
    const inv = loadInventory([write('ini.yml', '[web]\nw1\n')]);
    expect(inv.groups.get('web')!.hosts).toEqual(['w1']);
  });

  it.each([
    ['vars-undefined', '[g:vars]\nx=1\n', 'vars-undefined:1:1: error E_INVENTORY_INI_UNDEFINED_GROUP: section [g:vars] is not valid for undefined group: g'],
    ['child-undefined', '[g:children]\nnope\n', 'child-undefined:2:1: error E_INVENTORY_INI_UNDEFINED_GROUP: section [g:children] includes undefined group: nope'],
    ['bad-type', '[g:foo]\nh\n', 'bad-type:1:1: error E_INVENTORY_INI_SECTION: section [g:foo] has unknown type: foo'],
    ['not-kv', 'a b\n', 'not-kv:1:1: error E_INVENTORY_INI_HOST: expected key=value host variable assignment, got: b'],
    ['space-section', '[bad group]\na\n', "space-section:1:1: error E_INVENTORY_INI_SECTION: invalid section entry: '[bad group]'"],
    ['open-quote', 'a x="open\n', `open-quote:1:1: error E_INVENTORY_INI_HOST: error parsing host definition 'a x="open': No closing quotation`],
    ['bad-port.ini', 'a ansible_port=twenty\n', 'bad-port.ini:1:1: error E_INVENTORY_BAD_VALUE: ansible_port must be a TCP port number (1-65535), got "twenty"'],
    ['vars-no-eq.ini', '[g]\n[g:vars]\njustaword\n', 'vars-no-eq.ini:3:1: error E_INVENTORY_INI_VARS: expected key=value, got: justaword'],
  ])('%s', (name, text, line) => {
    expect(errorsOf(write(name, text))).toEqual([line]);
  });

  it('reads an empty file without extension as an empty INI inventory (Ansible does); refuses TOML', () => {
    expect([...loadInventory([write('empty-noext', '# nothing yet\n')]).hosts.keys()]).toEqual([]);
    expect(errorsOf(write('hosts.toml', '[web.hosts]\nw1 = {}\n'))).toEqual(['hosts.toml:1:1: error E_INVENTORY_TOML: TOML inventories are not supported']);
  });

  it('refuses an executable inventory (a script) with a remedy', () => {
    const f = write('script.sh', '#!/bin/sh\necho {}\n');
    chmodSync(f, 0o755);
    expect(errorsOf(f)).toEqual(['script.sh:1:1: error E_INVENTORY_SCRIPT: inventory scripts are not supported: this inventory file is executable']);
  });
});
