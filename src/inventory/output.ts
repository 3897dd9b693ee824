// What `ansible-inventory --list / --graph / --host` print, computed from a loaded inventory.
import { EXIT, ObiamError } from '../errors.js';
import type { Vars } from '../types.js';
import type { Inventory } from './model.js';
import { groupVarsOf, hostVarsOf } from './host-vars.js';
import { selectHosts } from './patterns.js';

/** Magic and run-time vars ansible-inventory leaves out of its output. */
const INTERNAL_VARS = new Set([
  'ansible_diff_mode', 'ansible_config_file', 'ansible_facts', 'ansible_forks', 'ansible_inventory_sources',
  'ansible_limit', 'ansible_playbook_python', 'ansible_run_tags', 'ansible_skip_tags', 'ansible_verbosity',
  'ansible_version', 'inventory_dir', 'inventory_file', 'inventory_hostname', 'inventory_hostname_short',
  'groups', 'group_names', 'omit', 'playbook_dir',
]);

function withoutInternal(vars: Vars): Vars {
  return Object.fromEntries(Object.entries(vars).filter(([k]) => !INTERNAL_VARS.has(k)));
}

/** Inventory-level vars of one host, as `--host` prints them (magic vars left out). */
export function inventoryHost(inv: Inventory, name: string): Vars {
  const hosts = inv.hosts.has(name) ? [name] : selectHosts(inv, name);
  if (hosts.length !== 1) {
    throw new ObiamError('E_OPTIONS', `--host needs a single host; '${name}' matches ${hosts.length === 0 ? 'no host' : `${hosts.length} hosts`}`, {
      remedy: 'name one host of the inventory (see `obiam-run inventory --graph`)',
      exitCode: EXIT.BAD_OPTIONS,
    });
  }
  return withoutInternal(hostVarsOf(inv, hosts[0]!));
}

interface ListGroup {
  hosts?: string[];
  children?: string[];
}

/** The JSON of `ansible-inventory --list`: groups reachable from all (empty ones dropped) and _meta.hostvars. */
export function inventoryList(inv: Inventory): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const seen = new Set<string>();
  const format = (name: string): void => {
    const g = inv.groups.get(name)!;
    const entry: ListGroup = {};
    if (name !== 'all' && g.hosts.length) entry.hosts = [...g.hosts];
    if (g.children.length) entry.children = [...g.children];
    for (const c of g.children) {
      if (!seen.has(c)) {
        seen.add(c);
        format(c);
      }
    }
    if (entry.hosts || entry.children) out[name] = entry;
  };
  format('all');
  const hostvars: Record<string, Vars> = {};
  for (const h of selectHosts(inv, 'all')) {
    const v = withoutInternal(hostVarsOf(inv, h));
    if (Object.keys(v).length) hostvars[h] = v;
  }
  out._meta = { hostvars };
  return out;
}

/** The shape of `ansible-inventory --list --yaml`: a nested inventory with each host's vars once. */
export function inventoryYaml(inv: Inventory): Record<string, unknown> {
  const seen = new Set<string>();
  const format = (name: string): Record<string, unknown> => {
    const g = inv.groups.get(name)!;
    const entry: Record<string, unknown> = {};
    const children: Record<string, unknown> = {};
    for (const c of g.children) if (c !== 'all') Object.assign(children, format(c));
    if (Object.keys(children).length) entry.children = children;
    if (name !== 'all') {
      const hosts: Record<string, Vars> = {};
      for (const h of g.hosts) {
        hosts[h] = seen.has(h) ? {} : withoutInternal(hostVarsOf(inv, h));
        seen.add(h);
      }
      if (Object.keys(hosts).length) entry.hosts = hosts;
    }
    return { [name]: entry };
  };
  return format('all');
}

/** Python's repr of a value (what `'%s' % value` shows inside containers). */
function pyRepr(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'string') {
    const q = v.includes("'") && !v.includes('"') ? '"' : "'";
    return q + v.replace(/\\/g, '\\\\').replace(new RegExp(q, 'g'), `\\${q}`).replace(/\n/g, '\\n').replace(/\t/g, '\\t') + q;
  }
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(', ')}]`;
  if (typeof v === 'object' && !(typeof (v as { toJSON?: unknown }).toJSON === 'function')) {
    return `{${Object.entries(v as Record<string, unknown>).map(([k, x]) => `${pyRepr(k)}: ${pyRepr(x)}`).join(', ')}}`;
  }
  return String(v);
}

/** Python's str of a value (what `'%s' % value` shows at the top level). */
function pyStr(v: unknown): string {
  return typeof v === 'string' ? v : pyRepr(v);
}

/** The text of `ansible-inventory --graph [group] [--vars]`. */
export function inventoryGraph(inv: Inventory, group = 'all', withVars = false): string {
  if (!inv.groups.has(group)) {
    throw new ObiamError('E_OPTIONS', `--graph needs a group name; '${group}' is not a group of the inventory`, {
      remedy: `groups: ${[...inv.groups.keys()].join(', ')}`,
      exitCode: EXIT.BAD_OPTIONS,
    });
  }
  const line = (name: string, depth: number): string => (depth ? `${'  |'.repeat(depth)}--${name}` : name);
  const showVars = (vars: Vars, depth: number): string[] =>
    Object.keys(vars)
      .sort()
      .map((k) => line(`{${k} = ${pyStr(vars[k])}}`, depth));
  const walk = (name: string, depth: number): string[] => {
    const g = inv.groups.get(name)!;
    const out = [line(`@${name}:`, depth)];
    for (const c of g.children) out.push(...walk(c, depth + 1));
    if (name !== 'all') {
      for (const h of g.hosts) {
        out.push(line(h, depth + 1));
        if (withVars) out.push(...showVars(withoutInternal(hostVarsOf(inv, h)), depth + 2));
      }
    }
    if (withVars) out.push(...showVars(groupVarsOf(inv, name), depth + 1));
    return out;
  };
  return walk(group, 0).join('\n');
}
