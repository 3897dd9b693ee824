// Malformed inventories: each must fail with every error at its exact file:line:col, a clear message,
// a remedy, and no stack trace in what the user sees.
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXIT, formatError, ObiamError, ObiamErrors } from '../../src/errors.js';
import { loadInventory } from '../../src/inventory/sources.js';

const B = 'test/fixtures/inventory/bad';
const ABS = resolve(B);

/** [source, expected `where: error CODE message` lines (first line of formatError, path relative)]. */
const CORPUS: Array<[string, string[]]> = [
  ['host-key.yml', ["host-key.yml:4:7: error E_INVENTORY_UNKNOWN_KEY: unknown key 'host' in group 'web': did you mean 'hosts'?"]],
  ['hosts-list.yml', ["hosts-list.yml:5:9: error E_INVENTORY_HOSTS_NOT_MAPPING: hosts of group 'web' must be a mapping of host names, got a list"]],
  ['children-list.yml', ["children-list.yml:3:5: error E_INVENTORY_CHILDREN_NOT_MAPPING: children of group 'all' must be a mapping of group names, got a list"]],
  ['vars-list.yml', ["vars-list.yml:5:5: error E_INVENTORY_VARS_NOT_MAPPING: vars of group 'web' must be a mapping of variable names to values, got a list"]],
  ['group-scalar.yml', ["group-scalar.yml:3:10: error E_INVENTORY_GROUP_NOT_MAPPING: group 'web' must be a mapping with hosts, children or vars, got the string 'web1'"]],
  ['cycle-nested.yml', ["cycle-nested.yml:7:13: error E_INVENTORY_GROUP_CYCLE: group 'a' is its own ancestor: a > b > a"]],
  ['cycle-across.yml', ["cycle-across.yml:9:5: error E_INVENTORY_GROUP_CYCLE: group 'a' is its own ancestor: a > b > c > a"]],
  ['all-child.yml', ["all-child.yml:3:5: error E_INVENTORY_GROUP_CYCLE: group 'all' cannot be a child of 'web': every group is already inside 'all'"]],
  ['bool-group.yml', ["bool-group.yml:3:5: error E_INVENTORY_KEY_TYPE: a child group name of 'all' must be a string, got boolean true"]],
  ['number-host.yml', ["number-host.yml:3:5: error E_INVENTORY_KEY_TYPE: a host name in group 'web' must be a string, got number 8080"]],
  ['number-var.yml', ['number-var.yml:3:5: error E_INVENTORY_KEY_TYPE: a variable name must be a string, got number 1']],
  ['host-vars-list.yml', ["host-vars-list.yml:4:7: error E_INVENTORY_HOST_NOT_MAPPING: host 'web1' in group 'web' must have a mapping of variables or nothing, got a list"]],
  ['empty.yml', ['empty.yml:1:1: error E_INVENTORY_EMPTY: the inventory file is empty']],
  ['list-root.yml', ['list-root.yml:1:1: error E_INVENTORY_NOT_MAPPING: a YAML inventory must be a mapping of group names, got a list']],
  ['duplicate-host.yml', ['duplicate-host.yml:5:5: error E_YAML_DUPLICATE_KEY: duplicate key in mapping']],
  ['syntax.yml', ['syntax.yml:5:14: error E_YAML_SYNTAX: All mapping items must start at the same column']],
  ['top-hosts.yml', ["top-hosts.yml:1:1: error E_INVENTORY_TOP_LEVEL_KEY: 'hosts' at the top level would be read as a group named 'hosts'"]],
  ['bad-range.yml', ["bad-range.yml:3:5: error E_INVENTORY_HOST_RANGE: bad host range in 'web[3:1]': a host range must have begin <= end"]],
  ['plugin.yml', ['plugin.yml:1:1: error E_INVENTORY_PLUGIN: inventory plugin configuration files are not supported']],
  [
    'two-errors.yml',
    [
      "two-errors.yml:4:7: error E_INVENTORY_UNKNOWN_KEY: unknown key 'childs' in group 'web': did you mean 'children'?",
      "two-errors.yml:9:7: error E_INVENTORY_UNKNOWN_KEY: unknown key 'host' in group 'db': did you mean 'hosts'?",
    ],
  ],
  [
    'conn-vars.yml',
    [
      'conn-vars.yml:3:25: error E_INVENTORY_BAD_VALUE: ansible_connection must be ssh or local, got "shh"',
      'conn-vars.yml:8:25: error E_INVENTORY_BAD_VALUE: ansible_port must be a TCP port number (1-65535), got "twenty-two"',
      'conn-vars.yml:9:27: error E_INVENTORY_BAD_VALUE: ansible_become must be true or false (yes/no), got "maybe"',
      'conn-vars.yml:13:34: error E_INVENTORY_BAD_VALUE: ansible_become_method must be sudo or su, got "suod"',
    ],
  ],
  ['gv-not-mapping/inventory.yml', ['gv-not-mapping/group_vars/web.yml:1:1: error E_INVENTORY_VARS_NOT_MAPPING: group_vars/web.yml must be a mapping of variable names to values, got a list']],
  ['gv-syntax/inventory.yml', ['gv-syntax/host_vars/web1.yml:2:6: error E_YAML_SYNTAX: this [ is never closed: a flow sequence must end with ]']],
];

function errorsOf(sources: string[]): ObiamError[] {
  try {
    loadInventory(sources);
  } catch (e) {
    expect(e).toBeInstanceOf(ObiamErrors);
    return (e as ObiamErrors).errors;
  }
  throw new Error(`expected ${sources.join(' ')} to fail`);
}

describe('malformed inventory corpus', () => {
  it.each(CORPUS)('%s', (file, expected) => {
    const errors = errorsOf([`${B}/${file}`]);
    const shown = errors.map((e) => formatError(e));
    expect(shown.map((s) => s.split('\n')[0]!.replace(`${ABS}/`, ''))).toEqual(expected);
    for (const [i, s] of shown.entries()) {
      expect(s).not.toContain('    at ');
      expect(errors[i]!.remedy, `remedy for ${file}`).toBeTruthy();
      expect(errors[i]!.location!.file.startsWith(ABS)).toBe(true);
    }
  });

  it('reports the errors of every file in one pass, with a parse exit code', () => {
    const e = (() => {
      try {
        loadInventory([`${B}/host-key.yml`, `${B}/hosts-list.yml`, `${B}/gv-not-mapping/inventory.yml`]);
      } catch (x) {
        return x as ObiamErrors;
      }
      throw new Error('expected a failure');
    })();
    expect(e.errors.map((x) => x.code)).toEqual(['E_INVENTORY_UNKNOWN_KEY', 'E_INVENTORY_HOSTS_NOT_MAPPING', 'E_INVENTORY_VARS_NOT_MAPPING']);
    expect(e.exitCode).toBe(EXIT.PARSE);
  });

  it('reports a missing source as a bad option without a location', () => {
    const [err] = errorsOf([`${B}/nope.yml`]);
    expect(err!.code).toBe('E_INVENTORY_NOT_FOUND');
    expect(err!.exitCode).toBe(EXIT.BAD_OPTIONS);
    expect(formatError(err!)).toBe(`error E_INVENTORY_NOT_FOUND: inventory source ${B}/nope.yml does not exist\n  hint: pass -i with an inventory file (YAML or INI), an inventory directory, or a host list such as \`host1,host2,\``);
  });
});
