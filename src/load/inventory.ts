// Ansible-compatible YAML inventory: all/hosts/children/vars to any depth, group_vars/ and host_vars/.
// (Types fixed here; the loader is implemented by the inventory work.)
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
