// `obiam-run inventory`: what `ansible-inventory --list / --graph / --host` shows, for our YAML inventories.
import { Command } from 'commander';
import { stringify } from 'yaml';
import { EXIT, ObiamError } from '../errors.js';
import { loadInventory } from '../inventory/sources.js';
import { inventoryGraph, inventoryHost, inventoryList, inventoryYaml } from '../inventory/output.js';
import { redact } from '../redact.js';
import type { VaultDecrypter } from '../vault/types.js';

export interface InventoryCommandContext {
  /** Raw writes to stdout (no newline is added). */
  out: (s: string) => void;
  /** The vault passwords given on the command line (undefined when none). */
  loadVault: () => Promise<VaultDecrypter | undefined>;
  /** The inventory of ansible.cfg / ANSIBLE_INVENTORY, used when no -i is given. */
  configInventory?: () => string[] | undefined;
}

interface InventoryOptions {
  inventory?: string[];
  list?: boolean;
  graph?: boolean | string;
  host?: string;
  vars?: boolean;
  yaml?: boolean;
}

function badOptions(message: string, remedy: string): ObiamError {
  return new ObiamError('E_OPTIONS', message, { remedy, exitCode: EXIT.BAD_OPTIONS });
}

/** Sorts keys at every level, as ansible-inventory's json.dumps(sort_keys=True) does. */
function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object' && typeof (v as { toJSON?: unknown }).toJSON !== 'function') {
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
    );
  }
  return v;
}

function dump(value: unknown, asYaml: boolean): string {
  // Vaulted values left encrypted print as ********; decrypted ones are registered secrets: redact.
  const plain = JSON.parse(JSON.stringify(value)) as unknown;
  const text = asYaml ? stringify(plain, { sortMapEntries: true }) : `${JSON.stringify(sortKeys(plain), null, 4)}\n`;
  return redact(text);
}

export function inventoryCommand(ctx: InventoryCommandContext): Command {
  return new Command('inventory')
    .description('show the inventory like ansible-inventory: --list (JSON), --graph [group], --host NAME')
    .option('-i, --inventory <file...>', 'inventory file, directory or host list `a,b,` (repeatable)')
    .option('--list', 'all groups and hosts with their vars, as ansible-inventory --list JSON')
    .option('--graph [group]', 'the group tree from a group (default all)')
    .option('--host <name>', 'the inventory vars of one host')
    .option('--vars', 'with --graph: show vars of hosts and groups')
    .option('-y, --yaml', 'YAML instead of JSON for --list and --host')
    .action(async (o: InventoryOptions) => {
      const actions = [o.list, o.graph !== undefined, o.host !== undefined].filter(Boolean).length;
      if (actions === 0) throw badOptions('no action selected', 'give one of --list, --graph [group] or --host NAME');
      if (actions > 1) throw badOptions('--list, --graph and --host cannot be combined', 'give only one of them');
      if (o.vars && o.graph === undefined) throw badOptions('--vars only works with --graph', 'use --graph --vars, or --host NAME for one host');
      if (o.yaml && o.graph !== undefined) throw badOptions('--yaml does not apply to --graph', 'use --yaml with --list or --host');
      const sources = o.inventory?.length ? o.inventory : ctx.configInventory?.();
      if (!sources?.length) throw badOptions('no inventory given', 'pass -i FILE (a YAML or INI inventory, a directory, or `host1,host2,`), or set inventory in ansible.cfg');
      const vault = await ctx.loadVault();
      const inv = loadInventory(sources, { vault });
      if (o.list) ctx.out(dump(o.yaml ? inventoryYaml(inv) : inventoryList(inv), !!o.yaml));
      else if (o.host !== undefined) ctx.out(dump(inventoryHost(inv, o.host), !!o.yaml));
      else ctx.out(`${redact(inventoryGraph(inv, typeof o.graph === 'string' ? o.graph : 'all', !!o.vars))}\n`);
    });
}
