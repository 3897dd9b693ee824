// The pure part of a lab: names, ids, addresses and host list, derived from the lab name alone so
// the same `lab up` gives the same inventory (inventory/lab.yml is checked in for the default lab).
import { createHash } from 'node:crypto';
import { EXIT, ObiamError } from '../errors.js';
import type { LabHost } from './types.js';

export type ExtraRole = 'lb' | 'storage' | 'db' | 'ldap' | 'bastion';
export const EXTRA_ROLES: readonly ExtraRole[] = ['lb', 'storage', 'db', 'ldap', 'bastion'];
export const DEFAULT_LAB = { name: 'default', hosts: 3, with: ['lb', 'storage'] as ExtraRole[] };
export const SUDO_USER = 'obiam';
/** Lab subnets are 10.231.X.0/24 (a /22 for a big lab); X comes from the name, moved on when taken. */
export const SUBNET_BASE = '10.231';
/** Third octets labs may use: 20..219. */
const FIRST_OCTET = 20;
const OCTETS = 200;
/** Nodes per /24: .11-.90, below the extra roles' fixed .101-.105. */
export const NODES_PER_NET = 80;
/** A lab of more nodes takes 4 consecutive /24s (one /22) and fills each like the first. */
const BLOCK_NETS = 4;
/** Up to this many nodes a /22 is filled /24 by /24 (node81 on X+1.11), as labs have always been laid out. */
export const SPREAD_NODES = NODES_PER_NET * BLOCK_NETS;
/** Past SPREAD_NODES the /22 is filled densely from X.11 (1001 addresses free), below the 1024 ports of a Linux bridge. */
export const MAX_NODES = 1000;
const EXTRA_LAST = { lb: 101, storage: 102, db: 103, ldap: 104, bastion: 105 } as const;

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
  /** First third octet of the lab's block. */
  thirdOctet: number;
  /** How many /24s the block spans (1, or 4 for more than NODES_PER_NET nodes). */
  nets: number;
  /** 24, or 22 for a 4-net block: the bridge's and every eth0's prefix length. */
  prefixLen: number;
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

/** /24s a lab of that many nodes needs: small labs keep the one /24 they always had. */
export function netsFor(nodes: number): number {
  return nodes > NODES_PER_NET ? BLOCK_NETS : 1;
}

/** The preferred first third octet for a lab name (20..219, a multiple of `nets`); the caller moves on when taken. */
export function preferredOctet(name: string, nets = 1): number {
  const h = parseInt(createHash('sha256').update(`subnet:${name}`).digest('hex').slice(0, 8), 16) % OCTETS;
  return FIRST_OCTET + h - (h % nets);
}

/** Every block start to try, the preferred one first, wrapping round 20..219. */
export function candidateOctets(name: string, nets = 1): number[] {
  const first = preferredOctet(name, nets) - FIRST_OCTET;
  return Array.from({ length: OCTETS / nets }, (_, k) => FIRST_OCTET + ((first + k * nets) % OCTETS));
}

/** Third octets of 10.231.0.0/16 that an address or network `a.b.X.y/len` covers (len < 24 covers several). */
export function octetsCovered(x: number, len: number): number[] {
  if (len >= 24) return [x];
  if (len <= 16) return Array.from({ length: 256 }, (_, i) => i);
  const size = 2 ** (24 - len);
  return Array.from({ length: size }, (_, i) => x - (x % size) + i);
}

/** The third octets a lab subnet such as `10.231.20.0/22` occupies. */
export function subnetOctets(subnet: string): number[] {
  const m = /^\d+\.\d+\.(\d+)\.\d+(?:\/(\d+))?$/.exec(subnet);
  return m ? octetsCovered(Number(m[1]), m[2] === undefined ? 24 : Number(m[2])) : [];
}

export function planLab(name: string, nodes: number, extras: readonly ExtraRole[], thirdOctet = preferredOctet(name, netsFor(nodes))): LabPlan {
  validateLabName(name);
  if (!Number.isInteger(nodes) || nodes < 0 || nodes > MAX_NODES) throw badLabOption(`--hosts must be 0..${MAX_NODES}, got ${nodes}`, 'give a whole number of nodes, e.g. --hosts 3');
  for (const r of extras) if (!EXTRA_ROLES.includes(r)) throw badLabOption(`unknown --with role '${r}'`, `choose from ${EXTRA_ROLES.join(', ')}`);
  const nets = netsFor(nodes);
  // A block must be aligned to be one network; pickOctet only hands out aligned starts.
  if (thirdOctet % nets !== 0 || thirdOctet < 0 || thirdOctet + nets > 256) throw new Error(`lab block 10.231.${thirdOctet}.0 cannot hold ${nets} /24s`);
  const prefixLen = 24 - Math.log2(nets);
  const id = labId(name);
  const prefix = `obr${id}`;
  const hosts: PlannedHost[] = [];
  const add = (hostName: string, role: LabHost['role'], octet: number, last: number): void => {
    const i = hosts.length;
    hosts.push({ name: hostName, role, ip: `${SUBNET_BASE}.${octet}.${last}`, netns: `${prefix}-${hostName}`, vethHost: `${prefix}v${i}`, vethPeer: `${prefix}p${i}` });
  };
  if (nodes <= SPREAD_NODES) {
    // Node 1..80 on .11-.90 of the first /24, 81..160 on the same addresses of the next, and so on.
    for (let i = 0; i < nodes; i++) add(`node${i + 1}`, 'node', thirdOctet + Math.floor(i / NODES_PER_NET), 11 + (i % NODES_PER_NET));
  } else {
    // Densely from .11 of the first /24 (node1-80 where they always are), past the extra roles' .101-.105,
    // never a .0 or .255 (valid inside a /22, but tools treat them as network/broadcast addresses).
    let off = 11;
    for (let i = 0; i < nodes; off++) {
      const last = off % 256;
      if (last === 0 || last === 255 || (off >= EXTRA_LAST.lb && off <= EXTRA_LAST.bastion)) continue;
      add(`node${++i}`, 'node', thirdOctet + Math.floor(off / 256), last);
    }
  }
  // Fixed addresses per role, whatever else is present, so inventories stay stable.
  for (const r of EXTRA_ROLES) if (extras.includes(r)) add(`${r}1`, r, thirdOctet, EXTRA_LAST[r]);
  if (hosts.length === 0) throw badLabOption('a lab needs at least one host', 'give --hosts 1 or more, or --with some roles');
  const net = `${SUBNET_BASE}.${thirdOctet}`;
  return { name, id, prefix, bridge: `${prefix}br`, thirdOctet, nets, prefixLen, subnet: `${net}.0/${prefixLen}`, bridgeIp: `${net}.1`, hosts };
}

/** Parses `--with lb,storage` (also accepts `none` / empty for no extra hosts). */
export function parseWith(value: string): ExtraRole[] {
  const parts = value.split(',').map((s) => s.trim()).filter((s) => s !== '' && s !== 'none');
  for (const p of parts) if (!EXTRA_ROLES.includes(p as ExtraRole)) throw badLabOption(`unknown --with role '${p}'`, `choose from ${EXTRA_ROLES.join(', ')}`);
  return [...new Set(parts)] as ExtraRole[];
}
