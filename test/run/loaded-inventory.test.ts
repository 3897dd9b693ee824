// The runner with an inventory loaded from real YAML files (inventory file, group_vars/, host_vars/).
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadInventory } from '../../src/inventory/sources.js';
import { inventory, play, playbook, runTest, task } from '../support/build.js';

function writeInventory(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'obr-inv-'));
  writeFileSync(
    path.join(dir, 'hosts.yml'),
    `all:
  vars:
    ansible_connection: scripted
    tier: all-level
  children:
    km:
      hosts:
        km1: { node_id: 1 }
        km2: { node_id: 2, tier: host-level }
    iam:
      hosts:
        iam1:
`,
  );
  mkdirSync(path.join(dir, 'group_vars'));
  mkdirSync(path.join(dir, 'host_vars'));
  writeFileSync(path.join(dir, 'group_vars', 'km.yml'), 'tier: group-level\nport: 9443\n');
  writeFileSync(path.join(dir, 'host_vars', 'km1.yml'), 'port: 9444\n');
  return path.join(dir, 'hosts.yml');
}

describe('runner with a loaded inventory', () => {
  it('selects hosts by group pattern and applies host over group vars', async () => {
    const inv = loadInventory([writeInventory()], { connections: ['ssh', 'local', 'scripted'] });
    const pb = playbook([
      play({
        hosts: 'km:!km2',
        vars: { port: 1 },
        tasks: [task('command', { _raw_params: 'run {{ tier }} {{ node_id }} {{ groups.km | length }}' }, { name: 'show' })],
      }),
      play({ name: 'second', hosts: 'km', tasks: [task('command', { _raw_params: 'port {{ port }} {{ tier }}' }, { name: 'port' })] }),
    ]);
    const r = await runTest(pb, inv);
    expect(r.transport.log('km1')).toEqual(["'run' 'group-level' '1' '2'", "'port' '9444' 'group-level'"]);
    expect(r.transport.log('km2')).toEqual(["'port' '9443' 'host-level'"]);
    expect(r.transport.log('iam1')).toEqual([]);
  });

  it('--limit narrows the play and the implicit localhost runs locally', async () => {
    const inv = loadInventory([writeInventory()], { connections: ['ssh', 'local', 'scripted'] });
    const pb = playbook([play({ hosts: 'all', tasks: [task('command', { _raw_params: 'hello' }, { name: 'hi' })] }), play({ name: 'local', hosts: 'localhost', tasks: [task('command', { argv: ['true'] }, { name: 'local true' })] })]);
    const r = await runTest(pb, inv, {}, { limit: 'iam*,localhost' });
    expect(r.transport.execs.map((e) => e.host)).toEqual(['iam1']);
    expect(r.statuses('local true')).toEqual({ localhost: 'changed' });
    // The builder inventory and the loaded one agree on the scripted default.
    expect(inventory(['x']).hosts.get('x')!.vars.ansible_connection).toBe('scripted');
  });
});
