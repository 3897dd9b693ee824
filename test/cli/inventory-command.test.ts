import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { inventoryCommand } from '../../src/cli/inventory-command.js';
import { EXIT, ObiamError } from '../../src/errors.js';
import { clearSecrets } from '../../src/redact.js';
import type { VaultDecrypter } from '../../src/vault/types.js';
import { createVaultDecrypter, encryptString } from '../../src/vault/vault.js';

const NESTED = resolve('test/fixtures/inventory/nested/inventory.yml');
const EXAMPLE = resolve('examples/inventory/example.yml');

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'obr-inv-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(args: string[], vault?: VaultDecrypter): Promise<string> {
  let out = '';
  const cmd = inventoryCommand({ out: (s) => (out += s), loadVault: async () => vault });
  cmd.exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
  await cmd.parseAsync(args, { from: 'user' });
  return out;
}

async function failure(args: string[]): Promise<ObiamError> {
  try {
    await run(args);
  } catch (e) {
    expect(e).toBeInstanceOf(ObiamError);
    return e as ObiamError;
  }
  throw new Error('expected a failure');
}

describe('obiam-run inventory', () => {
  it('--list prints ansible-inventory JSON with sorted keys and 4-space indent', async () => {
    const out = await run(['-i', NESTED, '--list']);
    const data = JSON.parse(out) as Record<string, unknown>;
    expect(data.all).toEqual({ children: ['ungrouped', 'ob', 'web', 'edge'] });
    expect(out.startsWith('{\n    "_meta": {\n        "hostvars": {\n            "gw-a": {')).toBe(true);
    expect(out.endsWith('}\n')).toBe(true);
  });

  it('merges several -i sources, repeated or listed after one -i', async () => {
    const a = JSON.parse(await run(['-i', NESTED, '-i', 'extra1,', '--list'])) as { ungrouped: { hosts: string[] } };
    // As in Ansible: host-list hosts join ungrouped at once, hosts only under all.hosts when the inventory is reconciled.
    expect(a.ungrouped.hosts).toEqual(['extra1', 'lone.example.com']);
    const b = JSON.parse(await run(['-i', NESTED, 'extra2,', '--list'])) as { ungrouped: { hosts: string[] } };
    expect(b.ungrouped.hosts).toEqual(['extra2', 'lone.example.com']);
  });

  it('--list --yaml prints the nested YAML shape', async () => {
    const y = parse(await run(['-i', EXAMPLE, '--list', '-y'])) as { all: { children: Record<string, { hosts: Record<string, Record<string, unknown>> }> } };
    expect(Object.keys(y.all.children.obiam!.hosts)).toEqual(['obiam-1', 'obiam-2', 'obiam-3']);
    expect(y.all.children.obiam!.hosts['obiam-1']).toMatchObject({ ansible_host: '192.0.2.11', ob_jvm_heap: '3072m', ob_spec: 'uk' });
  });

  it('--graph [group] and --vars', async () => {
    expect(await run(['-i', EXAMPLE, '--graph'])).toBe('@all:\n  |--@ungrouped:\n  |--@obiam:\n  |  |--obiam-1\n  |  |--obiam-2\n  |  |--obiam-3\n  |--@lb:\n  |  |--lb-1\n');
    expect(await run(['-i', EXAMPLE, '--graph', 'lb'])).toBe('@lb:\n  |--lb-1\n');
    expect(await run(['-i', EXAMPLE, '--graph', 'lb', '--vars'])).toContain('  |  |--{ob_public_hostname = iam.example.com}\n');
  });

  it('--host prints one host vars', async () => {
    const v = JSON.parse(await run(['-i', EXAMPLE, '--host', 'obiam-2'])) as Record<string, unknown>;
    expect(v).toMatchObject({ ansible_host: '192.0.2.12', env_name: 'example', ob_spec: 'uk', ob_user_store_kind: 'ldap' });
    expect(v).not.toHaveProperty('ob_jvm_heap');
  });

  it('redacts decrypted vault values and masks undecrypted ones', async () => {
    clearSecrets();
    const file = join(dir, 'vaulted.yml');
    writeFileSync(file, `all:\n  hosts:\n    h1:\n      ${encryptString('cli-s3cret', 'pw', 'db_password').replace(/\n/g, '\n      ')}\n`);
    const withPw = await run(['-i', file, '--host', 'h1'], createVaultDecrypter([{ password: 'pw', source: 't' }]));
    expect(withPw).toContain('"db_password": "********"');
    expect(withPw).not.toContain('cli-s3cret');
    const withoutPw = await run(['-i', file, '--list']);
    expect(withoutPw).toContain('"db_password": "********"');
  });

  it.each([
    [[], 'no action selected'],
    [['--list', '--graph'], '--list, --graph and --host cannot be combined'],
    [['--list', '--host', 'x'], '--list, --graph and --host cannot be combined'],
    [['--list', '--vars'], '--vars only works with --graph'],
    [['--graph', '--yaml'], '--yaml does not apply to --graph'],
  ])('rejects bad option combinations: %j', async (extra, message) => {
    const err = await failure(['-i', NESTED, ...extra]);
    expect(err.code).toBe('E_OPTIONS');
    expect(err.exitCode).toBe(EXIT.BAD_OPTIONS);
    expect(err.message).toBe(message);
  });

  it('needs an inventory, and reports unknown groups and hosts as bad options', async () => {
    expect((await failure(['--list'])).message).toBe('no inventory given');
    const g = await failure(['-i', NESTED, '--graph', 'km1']);
    expect([g.code, g.exitCode]).toEqual(['E_OPTIONS', EXIT.BAD_OPTIONS]);
    expect((await failure(['-i', NESTED, '--host', 'ob'])).message).toBe("--host needs a single host; 'ob' matches 3 hosts");
  });
});
