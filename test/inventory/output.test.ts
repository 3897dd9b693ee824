import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadInventory } from '../../src/inventory/sources.js';
import { inventoryGraph, inventoryHost, inventoryList, inventoryYaml } from '../../src/inventory/output.js';

const NESTED = resolve('test/fixtures/inventory/nested/inventory.yml');
const EXAMPLE = resolve('examples/inventory/example.yml');
const inv = loadInventory([NESTED]);

function ansibleInventory(args: string[]): string {
  return execFileSync('/usr/bin/ansible-inventory', args, { encoding: 'utf8', env: { ...process.env, ANSIBLE_INVENTORY_UNPARSED_WARNING: 'false' } });
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'obr-inv-output-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('inventoryList', () => {
  const list = inventoryList(inv);

  it('has every non-empty group with direct hosts and children, and all with children only', () => {
    expect(list.all).toEqual({ children: ['ungrouped', 'ob', 'web', 'edge'] });
    expect(list.ob).toEqual({ children: ['km', 'iam'] });
    expect(list.iam).toEqual({ hosts: ['iam1', 'km1'] });
    expect(list.ungrouped).toEqual({ hosts: ['lone.example.com'] });
  });

  it('puts merged inventory vars (no magic vars) under _meta.hostvars', () => {
    const hv = (list._meta as { hostvars: Record<string, Record<string, unknown>> }).hostvars;
    expect(Object.keys(hv)).toHaveLength(9);
    expect(hv.km1).toMatchObject({ level: 'km1_hv', role: 'km_in_iam', k: 2, shadow: 'all_dir' });
    expect(hv.km1).not.toHaveProperty('inventory_hostname');
    expect(hv.km1).not.toHaveProperty('group_names');
  });

  it('drops empty groups and hosts without vars, like ansible-inventory', () => {
    const d = join(dir, 'empty.yml');
    writeFileSync(d, 'all:\n  children:\n    empty:\n    web:\n      hosts:\n        w1:\n');
    const l = inventoryList(loadInventory([d]));
    expect(l).toEqual({ all: { children: ['ungrouped', 'empty', 'web'] }, web: { hosts: ['w1'] }, _meta: { hostvars: {} } });
  });

  it('equals ansible-inventory --list on the nested fixture and the example inventory', () => {
    for (const file of [NESTED, EXAMPLE]) {
      const real = JSON.parse(ansibleInventory(['-i', file, '--list'])) as unknown;
      expect(JSON.parse(JSON.stringify(inventoryList(loadInventory([file]))))).toEqual(real);
    }
  });
});

describe('inventoryGraph', () => {
  it('draws the tree from all', () => {
    expect(inventoryGraph(inv)).toBe(
      [
        '@all:',
        '  |--@ungrouped:',
        '  |  |--lone.example.com',
        '  |--@ob:',
        '  |  |--@km:',
        '  |  |  |--km1',
        '  |  |  |--km2',
        '  |  |--@iam:',
        '  |  |  |--iam1',
        '  |  |  |--km1',
        '  |--@web:',
        '  |  |--web01.example.com',
        '  |  |--web02.example.com',
        '  |  |--web03.example.com',
        '  |--@edge:',
        '  |  |--web02.example.com',
        '  |  |--gw-a',
        '  |  |--gw-b',
      ].join('\n'),
    );
  });

  it('starts at a group and shows vars with --vars', () => {
    const g = inventoryGraph(inv, 'iam', true).split('\n');
    expect(g[0]).toBe('@iam:');
    expect(g[1]).toBe('  |--iam1');
    expect(g).toContain('  |  |--{ports = [9443, 9446]}');
    expect(g).toContain('  |  |--{from_all = True}');
    expect(g.at(-2)).toBe('  |--{level = iam_file}');
    expect(g.at(-1)).toBe('  |--{same_depth = iam}');
  });

  it('rejects a name that is not a group', () => {
    expect(() => inventoryGraph(inv, 'km1')).toThrow("--graph needs a group name; 'km1' is not a group of the inventory");
  });

  it('equals ansible-inventory --graph --vars', () => {
    for (const group of ['all', 'ob']) {
      expect(inventoryGraph(inv, group, true)).toBe(ansibleInventory(['-i', NESTED, '--graph', group, '--vars']).trimEnd());
    }
  });
});

describe('inventoryHost and inventoryYaml', () => {
  it('gives one host vars without magic vars', () => {
    expect(inventoryHost(inv, 'km2')).toEqual({
      deep: 'from_subdir', dir_level: 'km_a', from_all: true, k: 2, level: 'km2_hv', mode: 420, nested: { a: 9 },
      ob_only: 1, role: 'km2_hv', same_depth: 'km', shadow: 'all_dir',
    });
    expect(inventoryHost(inv, 'localhost')).toMatchObject({ ansible_connection: 'local', from_all: true });
  });

  it('refuses a pattern that is not exactly one host', () => {
    expect(() => inventoryHost(inv, 'km')).toThrow("--host needs a single host; 'km' matches 2 hosts");
    expect(() => inventoryHost(inv, 'nosuch')).toThrow("--host needs a single host; 'nosuch' matches no host");
  });

  it('equals ansible-inventory --host', () => {
    expect(inventoryHost(inv, 'km1')).toEqual(JSON.parse(ansibleInventory(['-i', NESTED, '--host', 'km1'])));
  });

  it('nests groups with each host vars once (the --list --yaml shape)', () => {
    const y = inventoryYaml(inv) as { all: { children: Record<string, { hosts?: Record<string, unknown>; children?: unknown }> } };
    expect(Object.keys(y.all.children)).toEqual(['ungrouped', 'ob', 'web', 'edge']);
    expect(y.all.children.edge!.hosts!['web02.example.com']).toEqual({});
    expect(y.all.children.web!.hosts!['web02.example.com']).toMatchObject({ level: 'web02_host' });
  });
});
