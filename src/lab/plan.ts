// The pure part of a lab: names, ids, addresses and host list, derived from the lab name alone so
// the same `lab up` gives the same inventory (inventory/lab.yml is checked in for the default lab).
import { createHash } from 'node:crypto';
import { EXIT, ObiamError } from '../errors.js';
import type { LabHost } from './types.js';

export type ExtraRole = 'lb' | 'storage' | 'db' | 'ldap' | 'bastion';
export const EXTRA_ROLES: readonly ExtraRole[] = ['lb', 'storage', 'db', 'ldap', 'bastion'];
export const DEFAULT_LAB = { name: 'default', hosts: 3, with: ['lb', 'storage'] as ExtraRole[] };
export const SUDO_USER = 'obiam';
/** Lab subnets are 10.231.X.0/24; X comes from the name, moved on when taken. */
export const SUBNET_BASE = '10.231';
const MAX_NODES = 80;

export interface PlannedHost {
  name: string;
  role: LabHost['role'];
  ip: string;
  netns: string;
  /** Root-namespace end of the veth pair (on the bridge); hostLinkDown sets it down. */
  vethHost: string;
  /** The other end, moved into the netns and renamed eth0. */
  vethPeer: string;
}

export interface LabPlan {
  name: string;
  id: string;
  prefix: string;
  bridge: string;
  thirdOctet: number;
  subnet: string;
  bridgeIp: string;
  hosts: PlannedHost[];
}

export function badLabOption(message: string, remedy: string): ObiamError {
  return new ObiamError('E_LAB_OPTIONS', message, { remedy, exitCode: EXIT.BAD_OPTIONS });
}

export function validateLabName(name: string): void {
  if (!/^[a-z0-9][a-z0-9-]{0,31}$/.test(name)) {
    throw badLabOption(`invalid lab name '${name}'`, 'use 1-32 characters: lower-case letters, digits and -, starting with a letter or digit');
  }
}

/** Short id from the name: keeps interface names under Linux's 15-character limit. */
export function labId(name: string): string {
  return createHash('sha256').update(name).digest('hex').slice(0, 5);
}

/** The preferred third octet for a lab name (20..219); the caller moves on when it is taken. */
export function preferredOctet(name: string): number {
  return 20 + (parseInt(createHash('sha256').update(`subnet:${name}`).digest('hex').slice(0, 8), 16) % 200);
}

export function planLab(name: string, nodes: number, extras: readonly ExtraRole[], thirdOctet = preferredOctet(name)): LabPlan {
  validateLabName(name);
  if (!Number.isInteger(nodes) || nodes < 0 || nodes > MAX_NODES) throw badLabOption(`--hosts must be 0..${MAX_NODES}, got ${nodes}`, 'give a whole number of nodes, e.g. --hosts 3');
  for (const r of extras) if (!EXTRA_ROLES.includes(r)) throw badLabOption(`unknown --with role '${r}'`, `choose from ${EXTRA_ROLES.join(', ')}`);
  const id = labId(name);
  const prefix = `obr${id}`;
  const net = `${SUBNET_BASE}.${thirdOctet}`;
  const hosts: PlannedHost[] = [];
  const add = (hostName: string, role: LabHost['role'], last: number): void => {
    const i = hosts.length;
    hosts.push({ name: hostName, role, ip: `${net}.${last}`, netns: `${prefix}-${hostName}`, vethHost: `${prefix}v${i}`, vethPeer: `${prefix}p${i}` });
  };
  for (let i = 1; i <= nodes; i++) add(`node${i}`, 'node', 10 + i);
  // Fixed addresses per role, whatever else is present, so inventories stay stable.
  const extraIp: Record<ExtraRole, number> = { lb: 101, storage: 102, db: 103, ldap: 104, bastion: 105 };
  for (const r of EXTRA_ROLES) if (extras.includes(r)) add(`${r}1`, r, extraIp[r]);
  if (hosts.length === 0) throw badLabOption('a lab needs at least one host', 'give --hosts 1 or more, or --with some roles');
  return { name, id, prefix, bridge: `${prefix}br`, thirdOctet, subnet: `${net}.0/24`, bridgeIp: `${net}.1`, hosts };
}

/** Parses `--with lb,storage` (also accepts `none` / empty for no extra hosts). */
export function parseWith(value: string): ExtraRole[] {
  const parts = value.split(',').map((s) => s.trim()).filter((s) => s !== '' && s !== 'none');
  for (const p of parts) if (!EXTRA_ROLES.includes(p as ExtraRole)) throw badLabOption(`unknown --with role '${p}'`, `choose from ${EXTRA_ROLES.join(', ')}`);
  return [...new Set(parts)] as ExtraRole[];
}
