// The inventory model the rest of the engine depends on: hosts, groups and where vars came from.
// Readers (src/inventory/yaml-inventory.ts, ini-inventory.ts) build it; src/inventory/host-vars.ts
// computes a host's inventory-level vars from it.
import type { SourceLocation } from '../errors.js';
import type { Vars } from '../types.js';

export interface InventoryHost {
  name: string;
  /** Vars set on the host in the inventory file(s) and host_vars/. */
  vars: Vars;
  /** Groups that list the host directly. */
  groups: string[];
  location?: SourceLocation;
}

export interface InventoryGroup {
  name: string;
  vars: Vars;
  hosts: string[]; // direct members
  children: string[];
  parents: string[];
  location?: SourceLocation;
}

export interface Inventory {
  /** Inventory sources, absolute paths (or the literal host list for `-i a,b,`). */
  sources: string[];
  hosts: Map<string, InventoryHost>; // in inventory order
  groups: Map<string, InventoryGroup>; // always has `all` and `ungrouped`
}

/** Names Ansible treats as the implicit localhost when a pattern names them and the inventory lacks them. */
export const IMPLICIT_LOCALHOST_NAMES: ReadonlySet<string> = new Set(['localhost', '127.0.0.1', '::1']);

/**
 * Vars by origin. Ansible ranks them: inventory-file group vars (all, then groups) < group_vars/all <
 * group_vars/<group> < inventory-file host vars < host_vars/<host>. InventoryGroup.vars and
 * InventoryHost.vars hold the merge of both origins; the split is kept here for hostVarsOf.
 */
export interface VarLayers {
  groupFile: Map<string, Vars>;
  groupDir: Map<string, Vars>;
  hostFile: Map<string, Vars>;
  hostDir: Map<string, Vars>;
  priority: Map<string, number>;
}

const layersOf = new WeakMap<Inventory, VarLayers>();

/** Keeps the origin split of a built inventory (an inventory built by hand has none: its vars are used). */
export function setVarLayers(inv: Inventory, layers: VarLayers): void {
  layersOf.set(inv, layers);
}

export function varLayersOf(inv: Inventory): VarLayers | undefined {
  return layersOf.get(inv);
}
