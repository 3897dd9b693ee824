import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ObiamErrors } from '../../src/errors.js';
import { didYouMean } from '../../src/load/did-you-mean.js';
import { expandHostRange } from '../../src/inventory/host-range.js';
import { groupNamesOf, groupsMap, hostVarsOf } from '../../src/inventory/host-vars.js';
import { loadInventory } from '../../src/inventory/sources.js';
import { VaultedValue } from '../../src/load/yaml.js';
import { clearSecrets, redact } from '../../src/redact.js';
import { createVaultDecrypter, encryptString, encryptVault } from '../../src/vault/vault.js';

const NESTED = resolve('test/fixtures/inventory/nested/inventory.yml');

let dir: string;
let n = 0;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'obr-inv-loader-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The errors a load throws (ObiamErrors), or a failure when it does not throw. */
function errorsOf(fn: () => unknown): ObiamErrors['errors'] {
  try {
    fn();
  } catch (e) {
    if (e instanceof ObiamErrors) return e.errors;
    throw e;
  }
  throw new Error('expected the load to fail');
}

/** Writes files (path -> text) into a fresh case directory; returns the directory. */
function tree(files: Record<string, string>): string {
  const d = join(dir, `case${n++}`);
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(join(d, p, '..'), { recursive: true });
    writeFileSync(join(d, p), text);
  }
  return d;
}

describe('loadInventory: structure', () => {
  const inv = loadInventory([NESTED]);

  it('keeps hosts in inventory order, with ranges expanded', () => {
    expect([...inv.hosts.keys()]).toEqual([
      'lone.example.com', 'km1', 'km2', 'iam1', 'web01.example.com', 'web02.example.com', 'web03.example.com', 'gw-a', 'gw-b',
    ]);
  });

  it('records direct groups, children and parents at any depth', () => {
    expect(inv.hosts.get('km1')!.groups).toEqual(['km', 'iam']);
    expect(inv.hosts.get('web02.example.com')!.groups).toEqual(['web', 'edge']);
    expect(inv.groups.get('ob')!.children).toEqual(['km', 'iam']);
    expect(inv.groups.get('km')!.parents).toEqual(['ob']);
    expect(inv.groups.get('all')!.children).toEqual(['ungrouped', 'ob', 'web', 'edge']);
    expect(inv.groups.get('edge')!.parents).toEqual(['all']);
    expect(inv.groups.get('km')!.hosts).toEqual(['km1', 'km2']);
  });

  it('always has all and ungrouped; hosts under all.hosts only are ungrouped', () => {
    expect(inv.groups.get('ungrouped')!.hosts).toEqual(['lone.example.com']);
    expect(inv.hosts.get('lone.example.com')!.groups).toEqual(['all', 'ungrouped']);
    const bare = loadInventory([join(tree({ 'i.yml': 'web:\n  hosts:\n    w1:\n' }), 'i.yml')]);
    expect([...bare.groups.keys()]).toEqual(['all', 'ungrouped', 'web']);
    expect(bare.groups.get('ungrouped')!.hosts).toEqual([]);
  });

  it('records where hosts and groups are defined', () => {
    expect(inv.hosts.get('iam1')!.location).toEqual({ file: NESTED, line: 30, col: 13 });
    expect(inv.groups.get('edge')!.location).toEqual({ file: NESTED, line: 37, col: 1 });
  });

  it('groupsMap lists each group with its descendants hosts; groupNamesOf sorts and keeps ungrouped', () => {
    const g = groupsMap(inv);
    expect(g.ob).toEqual(['km1', 'km2', 'iam1']);
    expect(g.all).toEqual([...inv.hosts.keys()]);
    expect(g.ungrouped).toEqual(['lone.example.com']);
    expect(groupNamesOf(inv, 'km1')).toEqual(['iam', 'km', 'ob']);
    expect(groupNamesOf(inv, 'lone.example.com')).toEqual(['ungrouped']);
  });

  it('reads a comma host list like -i a,b, (ports too) into ungrouped', () => {
    const list = loadInventory(['alpha, beta:2222,']);
    expect([...list.hosts.keys()]).toEqual(['alpha', 'beta']);
    expect(list.groups.get('ungrouped')!.hosts).toEqual(['alpha', 'beta']);
    expect(hostVarsOf(list, 'beta').ansible_port).toBe(2222);
    expect(list.sources).toEqual(['alpha, beta:2222,']);
  });

  it('merges several sources; a host grouped in one leaves ungrouped from the other', () => {
    const d = tree({ 'a.yml': 'all:\n  hosts:\n    h1:\n      v: 1\n', 'b.yml': 'db:\n  hosts:\n    h1:\n      v: 2\n    h2:\n' });
    const both = loadInventory([join(d, 'a.yml'), join(d, 'b.yml'), 'h3,']);
    expect(both.groups.get('ungrouped')!.hosts).toEqual(['h3']);
    expect(hostVarsOf(both, 'h1').v).toBe(2);
    expect(both.sources).toEqual([join(d, 'a.yml'), join(d, 'b.yml'), 'h3,']);
  });

  it('reads an inventory directory: its YAML files in order, vars dirs inside it', () => {
    const d = tree({
      'inv/10-a.yml': 'web:\n  hosts:\n    w1:\n',
      'inv/20-b.yaml': 'db:\n  hosts:\n    d1:\n',
      'inv/README.md': '# not an inventory',
      'inv/group_vars/web.yml': 'x: from_dir\n',
    });
    const di = loadInventory([join(d, 'inv')]);
    expect([...di.hosts.keys()]).toEqual(['w1', 'd1']);
    expect(hostVarsOf(di, 'w1').x).toBe('from_dir');
  });

  it('reads INI files of an inventory directory too (no extension or another one), skipping .ini as Ansible does', () => {
    const d = tree({
      'inv/01-hosts': '[web]\nw1 port=8080\n',
      'inv/02-more.yml': 'db:\n  hosts:\n    d1:\n',
      'inv/03-prod.hosts': '[cache]\nc1\n',
      'inv/04-skipped.ini': '[skipped]\ns1\n',
      'inv/group_vars/web': 'x: 1\n',
    });
    const di = loadInventory([join(d, 'inv')]);
    expect([...di.hosts.keys()]).toEqual(['w1', 'd1', 'c1']);
    expect(hostVarsOf(di, 'w1')).toMatchObject({ port: 8080, x: 1 });
  });

  it('an inventory directory skips ignored extensions (a vault password .txt) and names a dangling link', () => {
    const d = tree({
      'inv/hosts.yml': 'web:\n  hosts:\n    w1:\n',
      'inv/vault-pass.txt': 'not: [an inventory',
      'inv/hosts.yml.bak': 'not: [an inventory',
      'inv/sub/more.yml': 'db:\n  hosts:\n    d1:\n',
    });
    expect([...loadInventory([join(d, 'inv')]).hosts.keys()]).toEqual(['w1', 'd1']);
    symlinkSync(join(d, 'gone.yml'), join(d, 'inv/broken.yml'));
    const errs = errorsOf(() => loadInventory([join(d, 'inv')]));
    expect(errs.map((e) => e.code)).toEqual(['E_INVENTORY_BROKEN_LINK']);
    expect(errs[0]!.message).toContain(`broken.yml -> ${join(d, 'gone.yml')} in inventory directory`);
    expect(errs[0]!.message).toContain('it points to nothing');
  });

  it("a lab's state directory given as -i says which file to use", () => {
    const d = tree({ 'lab/lab.json': '{}', 'lab/inventory.yml': 'all:\n  hosts:\n    n1:\n' });
    const errs = errorsOf(() => loadInventory([join(d, 'lab')]));
    expect(errs.map((e) => e.code)).toEqual(['E_INVENTORY_DIR']);
    expect(errs[0]!.remedy).toBe(`use its inventory file: -i ${join(d, 'lab/inventory.yml')}`);
  });

  it('accepts the shorthand forms Ansible accepts: hosts: name, children: name, empty groups', () => {
    const d = tree({ 'i.yml': 'all:\n  children:\n    web:\n      hosts: w1\n    db:\n      children: pg\n    empty:\npg:\n  hosts:\n    p1:\n' });
    const s = loadInventory([join(d, 'i.yml')]);
    expect(s.groups.get('web')!.hosts).toEqual(['w1']);
    expect(s.groups.get('db')!.children).toEqual(['pg']);
    expect(s.groups.get('pg')!.parents).toEqual(['db']);
    expect(s.groups.get('empty')!.hosts).toEqual([]);
  });

  it('resolves YAML merge keys in the structure', () => {
    const d = tree({ 'i.yml': 'all:\n  children:\n    a: &base\n      hosts:\n        h1:\n    b:\n      <<: *base\n      vars:\n        x: 1\n' });
    const m = loadInventory([join(d, 'i.yml')]);
    expect(m.groups.get('b')!.hosts).toEqual(['h1']);
    expect(hostVarsOf(m, 'h1').x).toBe(1);
  });
});

describe('hostVarsOf: precedence', () => {
  const inv = loadInventory([NESTED]);

  it('child group vars override parent group vars; all is lowest', () => {
    const v = hostVarsOf(inv, 'iam1');
    expect(v.level).toBe('iam_file');
    expect(v.ob_only).toBe(1);
    expect(v.from_all).toBe(true);
    expect(v.mode).toBe(0o644);
  });

  it('groups of the same depth apply alphabetically (km after iam)', () => {
    const v = hostVarsOf(inv, 'km1');
    expect(v.same_depth).toBe('km');
    expect(v.dir_level).toBe('km_a');
  });

  it('group_vars/ files outrank inventory-file group vars, group_vars/all included (Ansible)', () => {
    expect(hostVarsOf(inv, 'iam1').shadow).toBe('all_dir');
    expect(hostVarsOf(inv, 'iam1').dir_level).toBe('iam_dir');
  });

  it('a group_vars directory wins over <name>.yml and merges its files in sorted order, recursively', () => {
    const v = hostVarsOf(inv, 'km2');
    expect(v.k).toBe(2);
    expect(v.nested).toEqual({ a: 9 });
    expect(v.deep).toBe('from_subdir');
  });

  it('host vars beat group vars; host_vars/ beats inventory host vars; a later listing of a host wins', () => {
    expect(hostVarsOf(inv, 'web02.example.com').level).toBe('web02_host');
    expect(hostVarsOf(inv, 'km2').role).toBe('km2_hv');
    expect(hostVarsOf(inv, 'km2').level).toBe('km2_hv');
    expect(hostVarsOf(inv, 'km1').role).toBe('km_in_iam');
    expect(hostVarsOf(inv, 'km1').level).toBe('km1_hv');
    expect(hostVarsOf(inv, 'km1').from_hv_dir).toBe(1);
  });

  it('a deeper group beats a shallower one even when the shallower sorts later by name', () => {
    const d = tree({ 'i.yml': 'all:\n  children:\n    zeta:\n      vars: {x: zeta}\n      children:\n        alpha:\n          vars: {x: alpha}\n          hosts: {h:}\n    omega:\n      vars: {x: omega}\n      hosts: {h:}\n' });
    const p = loadInventory([join(d, 'i.yml')]);
    expect(hostVarsOf(p, 'h').x).toBe('alpha');
    expect(hostVarsOf(inv, 'gw-a').level).toBe('edge_file');
  });

  it('ansible_group_priority reorders groups of the same depth and is not itself a var', () => {
    const d = tree({ 'i.yml': 'a:\n  vars:\n    x: a\n    ansible_group_priority: 10\n  hosts:\n    h:\nb:\n  vars:\n    x: b\n  hosts:\n    h:\n' });
    const p = loadInventory([join(d, 'i.yml')]);
    expect(hostVarsOf(p, 'h').x).toBe('a');
    expect(hostVarsOf(p, 'h')).not.toHaveProperty('ansible_group_priority');
  });

  it('adds the magic vars', () => {
    const v = hostVarsOf(inv, 'web01.example.com');
    expect(v.inventory_hostname).toBe('web01.example.com');
    expect(v.inventory_hostname_short).toBe('web01');
    expect(v.group_names).toEqual(['web']);
    expect(v.inventory_file).toBe(NESTED);
    expect(v.inventory_dir).toBe(resolve('test/fixtures/inventory/nested'));
    const ip = loadInventory(['10.0.0.7,']);
    expect(hostVarsOf(ip, '10.0.0.7').inventory_hostname_short).toBe('10.0.0.7');
  });

  it('gives the implicit localhost all vars and a local connection', () => {
    const v = hostVarsOf(inv, 'localhost');
    expect(v.ansible_connection).toBe('local');
    expect(v.from_all).toBe(true);
    expect(v.group_names).toEqual([]);
    expect(inv.hosts.has('localhost')).toBe(false);
  });
});

describe('loadInventory: vault', () => {
  const secrets = [{ password: 'inv-pass', source: 'test' }];

  it('decrypts !vault values and whole vault-encrypted vars files, registering the secrets', () => {
    clearSecrets();
    const d = tree({
      'i.yml': `all:\n  hosts:\n    h1:\n      ${encryptString('s3cr3t-db', 'inv-pass', 'db_password').replace(/\n/g, '\n      ')}\n`,
      'group_vars/all.yml': encryptVault('admin_password: adm1n-pw\n', 'inv-pass'),
    });
    const inv = loadInventory([join(d, 'i.yml')], { vault: createVaultDecrypter(secrets) });
    const v = hostVarsOf(inv, 'h1');
    expect(v.db_password).toBe('s3cr3t-db');
    expect(v.admin_password).toBe('adm1n-pw');
    expect(redact('pw=adm1n-pw')).toBe('pw=********');
  });

  it('keeps !vault values opaque without a password, and fails on a vaulted file with a location', () => {
    const d = tree({
      'i.yml': `all:\n  hosts:\n    h1:\n      ${encryptString('x-secret', 'inv-pass', 'pw').replace(/\n/g, '\n      ')}\n`,
      'group_vars/all.yml': encryptVault('a: 1\n', 'inv-pass'),
    });
    try {
      loadInventory([join(d, 'i.yml')]);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ObiamErrors);
      const [err] = (e as ObiamErrors).errors;
      expect(err!.code).toBe('E_VAULT_NO_PASSWORD');
      expect(err!.location).toEqual({ file: join(d, 'group_vars/all.yml'), line: 1, col: 1 });
    }
    const plain = loadInventory([join(tree({ 'i.yml': `all:\n  hosts:\n    h1:\n      ${encryptString('x-secret', 'inv-pass', 'pw').replace(/\n/g, '\n      ')}\n` }), 'i.yml')]);
    expect(hostVarsOf(plain, 'h1').pw).toBeInstanceOf(VaultedValue);
  });

  it('reports positions inside a vault-encrypted inventory file from its plain text', () => {
    const d = tree({ 'i.yml': encryptVault('all:\n  children:\n    web:\n      host:\n        w1:\n', 'inv-pass') });
    try {
      loadInventory([join(d, 'i.yml')], { vault: createVaultDecrypter(secrets) });
      expect.unreachable();
    } catch (e) {
      expect((e as ObiamErrors).errors[0]!.location).toEqual({ file: join(d, 'i.yml'), line: 4, col: 7 });
    }
  });
});

describe('helpers', () => {
  it('expands host ranges like Ansible', () => {
    expect(expandHostRange('web[01:03].x')).toEqual(['web01.x', 'web02.x', 'web03.x']);
    expect(expandHostRange('n[0:10:5]')).toEqual(['n0', 'n5', 'n10']);
    expect(expandHostRange('db-[a:c]')).toEqual(['db-a', 'db-b', 'db-c']);
    expect(expandHostRange('r[1:2]-[a:b]')).toEqual(['r1-a', 'r1-b', 'r2-a', 'r2-b']);
    expect(expandHostRange('[:2]x')).toEqual(['0x', '1x', '2x']);
    expect(expandHostRange('plain')).toEqual(['plain']);
    expect(() => expandHostRange('w[3:1]')).toThrow('begin <= end');
    expect(() => expandHostRange('w[01:100]')).toThrow('same width');
  });

  it('didYouMean suggests near keys and nothing for unrelated words', () => {
    expect(didYouMean('host', ['hosts', 'children', 'vars'])).toBe('hosts');
    expect(didYouMean('childs', ['hosts', 'children', 'vars'])).toBe('children');
    expect(didYouMean('Var', ['hosts', 'children', 'vars'])).toBe('vars');
    expect(didYouMean('web1', ['hosts', 'children', 'vars'])).toBeUndefined();
  });
});
