// INI inventories against Ansible itself: `ansible-inventory --list` (ansible-core 2.14, installed by
// scripts/install-deps.sh) and obiam-run's inventoryList must agree on groups, hosts and typed vars.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { inventoryList } from '../../src/inventory/output.js';
import { loadInventory } from '../../src/inventory/sources.js';

const dir = mkdtempSync(join(tmpdir(), 'obr-inv-interop-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function ansibleInventory(file: string): unknown {
  const r = spawnSync('ansible-inventory', ['-i', file, '--list'], {
    cwd: dir,
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: join(dir, 'home'), ANSIBLE_LOCAL_TEMP: join(dir, 'tmp'), ANSIBLE_NOCOLOR: '1', LC_ALL: 'C.UTF-8' },
  });
  if (r.error) throw r.error;
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

describe('INI inventories read as ansible-inventory reads them', () => {
  it.each(['test/fixtures/inventory/ini/edge-cases', 'test/fixtures/inventory/ini-web.ini', 'test/conformance/cases/inventory-ini/hosts.ini'])('%s', (f) => {
    const file = resolve(f);
    // Parsed JSON on both sides: key order aside, also 1000.0 (Python) and 1000 are the same number.
    expect(JSON.parse(JSON.stringify(inventoryList(loadInventory([file]))))).toEqual(ansibleInventory(file));
  });
});
