// Inventory-level vars of a host with Ansible's precedence, and the magic vars that come from the
// inventory (group_names, groups, inventory_hostname...). The runner uses these, not the readers.
import { dirname } from 'node:path';
import type { Vars } from '../types.js';
import { IMPLICIT_LOCALHOST_NAMES, varLayersOf, type Inventory } from './model.js';

/** Longest path from `all` (all = 0), as Ansible's group depth. */
function groupDepths(inv: Inventory): Map<string, number> {
  const depth = new Map<string, number>();
  const of = (g: string, seen: Set<string>): number => {
    const known = depth.get(g);
    if (known !== undefined) return known;
    if (g === 'all' || seen.has(g)) return 0;
    seen.add(g);
    const parents = inv.groups.get(g)?.parents ?? [];
    const d = parents.length ? Math.max(...parents.map((p) => of(p, seen) + 1)) : 1;
    seen.delete(g);
    depth.set(g, d);
    return d;
  };
  for (const g of inv.groups.keys()) of(g, new Set());
  return depth;
}

/** The host's groups with their ancestors, `all` excluded. */
function allGroupsOf(inv: Inventory, host: string): Set<string> {
  const out = new Set<string>();
  const add = (g: string): void => {
    if (out.has(g) || g === 'all') return;
    out.add(g);
    for (const p of inv.groups.get(g)?.parents ?? []) add(p);
  };
  for (const g of inv.hosts.get(host)?.groups ?? []) add(g);
  return out;
}

/** Ansible's sort_groups: depth, then ansible_group_priority (default 1), then name. */
function sortGroups(inv: Inventory, groups: Iterable<string>): string[] {
  const depth = groupDepths(inv);
  const prio = varLayersOf(inv)?.priority;
  return [...groups].sort((a, b) => (depth.get(a) ?? 0) - (depth.get(b) ?? 0) || (prio?.get(a) ?? 1) - (prio?.get(b) ?? 1) || (a < b ? -1 : a > b ? 1 : 0));
}

/** Groups of a host, sorted (the `group_names` magic var: all excluded, ungrouped kept, as Ansible does). */
export function groupNamesOf(inv: Inventory, host: string): string[] {
  return [...allGroupsOf(inv, host)].sort();
}

/** The `groups` magic var: every group -> its hosts and its descendants' hosts, in inventory order. */
export function groupsMap(inv: Inventory): Record<string, string[]> {
  const members = new Map<string, Set<string>>();
  const collect = (g: string, seen: Set<string>): Set<string> => {
    const done = members.get(g);
    if (done) return done;
    const set = new Set<string>();
    if (seen.has(g)) return set;
    seen.add(g);
    const grp = inv.groups.get(g);
    for (const h of grp?.hosts ?? []) set.add(h);
    for (const c of grp?.children ?? []) for (const h of collect(c, seen)) set.add(h);
    members.set(g, set);
    return set;
  };
  const out: Record<string, string[]> = {};
  const order = [...inv.hosts.keys()];
  for (const name of inv.groups.keys()) {
    const set = name === 'all' ? new Set(order) : collect(name, new Set());
    out[name] = order.filter((h) => set.has(h));
  }
  return out;
}

/**
 * Inventory-level vars of a host with Ansible's precedence (low to high): inventory-file vars of `all`,
 * inventory-file vars of the other groups, group_vars/all, the other group_vars/ files (groups by depth,
 * parent before child, then ansible_group_priority, then name), the host's inventory-file vars, then
 * host_vars/. Adds inventory_hostname, inventory_hostname_short, group_names, inventory_file/dir.
 */
export function hostVarsOf(inv: Inventory, host: string): Vars {
  const layers = varLayersOf(inv);
  const fileVars = (g: string): Vars | undefined => (layers ? layers.groupFile.get(g) : inv.groups.get(g)?.vars);
  const dirVars = (g: string): Vars | undefined => layers?.groupDir.get(g);
  const groups = sortGroups(inv, allGroupsOf(inv, host));
  const out: Vars = {};
  // Ansible's default VARIABLE_PRECEDENCE: all_inventory, groups_inventory, all_plugins_inventory, groups_plugins_inventory.
  Object.assign(out, fileVars('all'));
  for (const g of groups) Object.assign(out, fileVars(g));
  Object.assign(out, dirVars('all'));
  for (const g of groups) Object.assign(out, dirVars(g));
  const h = inv.hosts.get(host);
  if (h) {
    if (layers) Object.assign(out, layers.hostFile.get(host), layers.hostDir.get(host));
    else Object.assign(out, h.vars);
  } else if (IMPLICIT_LOCALHOST_NAMES.has(host)) {
    // Ansible's implicit localhost: not in `all`, but gets all's vars and runs on the controller.
    out.ansible_connection = 'local';
    Object.assign(out, layers?.hostDir.get(host));
  }
  out.inventory_hostname = host;
  // Ansible keeps an IP address whole instead of cutting it at the first dot.
  out.inventory_hostname_short = /^\d+\.\d+\.\d+\.\d+$/.test(host) || host.includes(':') ? host : host.split('.')[0];
  out.group_names = groupNamesOf(inv, host);
  const file = h?.location?.file;
  if (file) {
    out.inventory_file = file;
    out.inventory_dir = dirname(file);
  }
  return out;
}

/** Group vars as `ansible-inventory --graph --vars` shows them (inventory file, then group_vars/). */
export function groupVarsOf(inv: Inventory, group: string): Vars {
  const layers = varLayersOf(inv);
  const g = inv.groups.get(group);
  if (!g) return {};
  const out: Vars = layers ? { ...layers.groupFile.get(group), ...layers.groupDir.get(group) } : { ...g.vars };
  const prio = layers?.priority.get(group);
  if (prio !== undefined && prio !== 1) out.ansible_group_priority = prio;
  return out;
}
