// The lab's pure plan (src/lab/plan.ts): addresses, names and limits, with no root and no lab. Small labs
// keep the one /24 they always had (inventory/lab.yml and tests depend on it); a lab of more than
// NODES_PER_NET nodes takes an aligned /22 and fills each of its /24s like the first.
import { describe, expect, it } from 'vitest';
import { ObiamError } from '../../src/errors.js';
import { MAX_NODES, NODES_PER_NET, SPREAD_NODES, candidateOctets, netsFor, octetsCovered, planLab, preferredOctet, subnetOctets } from '../../src/lab/plan.js';

const ipsOf = (hosts: { ip: string }[]): string[] => hosts.map((h) => h.ip);

function optionError(f: () => unknown): ObiamError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ObiamError);
    return e as ObiamError;
  }
  throw new Error('expected an error');
}

describe('planLab: small labs (up to 80 nodes) as they always were', () => {
  it('the default lab is node1..3, lb1, storage1 on 10.231.170.0/24 (inventory/lab.yml)', () => {
    const p = planLab('default', 3, ['lb', 'storage']);
    expect(p.subnet).toBe('10.231.170.0/24');
    expect(p.prefixLen).toBe(24);
    expect(p.nets).toBe(1);
    expect(p.bridgeIp).toBe('10.231.170.1');
    expect(p.hosts.map((h) => `${h.name} ${h.ip} ${h.netns} ${h.vethHost} ${h.vethPeer}`)).toEqual([
      `node1 10.231.170.11 ${p.prefix}-node1 ${p.prefix}v0 ${p.prefix}p0`,
      `node2 10.231.170.12 ${p.prefix}-node2 ${p.prefix}v1 ${p.prefix}p1`,
      `node3 10.231.170.13 ${p.prefix}-node3 ${p.prefix}v2 ${p.prefix}p2`,
      `lb1 10.231.170.101 ${p.prefix}-lb1 ${p.prefix}v3 ${p.prefix}p3`,
      `storage1 10.231.170.102 ${p.prefix}-storage1 ${p.prefix}v4 ${p.prefix}p4`,
    ]);
  });

  it('80 nodes fill .11-.90 of one /24, below the extra roles at .101-.105', () => {
    const p = planLab('edge', NODES_PER_NET, ['lb', 'storage', 'db', 'ldap', 'bastion'], 40);
    expect(NODES_PER_NET).toBe(80);
    expect(p.subnet).toBe('10.231.40.0/24');
    expect(p.hosts.find((h) => h.name === 'node80')?.ip).toBe('10.231.40.90');
    expect(ipsOf(p.hosts.slice(-5))).toEqual(['10.231.40.101', '10.231.40.102', '10.231.40.103', '10.231.40.104', '10.231.40.105']);
    expect(new Set(ipsOf(p.hosts)).size).toBe(p.hosts.length);
  });

  it('the preferred octet of a small lab is the hash of the name in 20..219, as before', () => {
    for (const name of ['default', 'test', 'bench', 't2', 'scale']) {
      expect(preferredOctet(name)).toBe(preferredOctet(name, 1));
      expect(planLab(name, 3, []).thirdOctet).toBe(preferredOctet(name));
      expect(preferredOctet(name)).toBeGreaterThanOrEqual(20);
      expect(preferredOctet(name)).toBeLessThanOrEqual(219);
    }
  });
});

describe('planLab: big labs (81..MAX_NODES nodes) on a /22', () => {
  it('81 nodes: node81 is the first node of the next /24, the extra roles stay on the first', () => {
    const p = planLab('big', 81, ['lb', 'storage'], 100);
    expect(p.nets).toBe(4);
    expect(p.prefixLen).toBe(22);
    expect(p.subnet).toBe('10.231.100.0/22');
    expect(p.bridgeIp).toBe('10.231.100.1');
    const ip = (n: string): string | undefined => p.hosts.find((h) => h.name === n)?.ip;
    expect([ip('node1'), ip('node80'), ip('node81'), ip('lb1'), ip('storage1')]).toEqual(['10.231.100.11', '10.231.100.90', '10.231.101.11', '10.231.100.101', '10.231.100.102']);
  });

  it(`200 and ${MAX_NODES} nodes: unique addresses inside the block, never a .0, .255 or the bridge's address, interface names under 15 characters`, () => {
    for (const nodes of [200, SPREAD_NODES, SPREAD_NODES + 1, MAX_NODES]) {
      const p = planLab('scale', nodes, ['lb', 'storage', 'db', 'ldap', 'bastion']);
      expect(p.thirdOctet % 4).toBe(0);
      expect(p.hosts).toHaveLength(nodes + 5);
      expect(new Set(ipsOf(p.hosts)).size).toBe(p.hosts.length);
      expect(new Set(p.hosts.map((h) => h.name)).size).toBe(p.hosts.length);
      for (const h of p.hosts) {
        const [a, b, c, d] = h.ip.split('.').map(Number);
        expect([a, b]).toEqual([10, 231]);
        expect(c - p.thirdOctet).toBeGreaterThanOrEqual(0);
        expect(c - p.thirdOctet).toBeLessThan(4);
        expect(h.ip).not.toBe(p.bridgeIp);
        expect(d).toBeGreaterThan(0);
        expect(d).toBeLessThan(255);
      }
      // Linux interface names hold at most 15 characters (IFNAMSIZ 16 with the NUL).
      for (const n of [p.bridge, ...p.hosts.flatMap((h) => [h.vethHost, h.vethPeer])]) expect(n.length, n).toBeLessThanOrEqual(15);
    }
    expect(planLab('scale', 200, []).hosts[199]).toMatchObject({ name: 'node200', ip: `10.231.${planLab('scale', 200, []).thirdOctet + 2}.50` });
    expect(planLab('scale', SPREAD_NODES, []).hosts[SPREAD_NODES - 1].ip).toBe(`10.231.${planLab('scale', SPREAD_NODES, []).thirdOctet + 3}.90`);
  });

  it(`more than ${SPREAD_NODES} nodes fill the /22 densely from .11, past .101-.105, without .0/.255; ${MAX_NODES} fit`, () => {
    expect(MAX_NODES).toBeGreaterThanOrEqual(1000);
    const p = planLab('huge', MAX_NODES, ['lb', 'storage'], 40);
    const ip = (n: string): string | undefined => p.hosts.find((h) => h.name === n)?.ip;
    expect([ip('node1'), ip('node80'), ip('node90'), ip('node91'), ip('lb1'), ip('storage1')]).toEqual(['10.231.40.11', '10.231.40.90', '10.231.40.100', '10.231.40.106', '10.231.40.101', '10.231.40.102']);
    // 40.106-254 hold node91-239, 41.1 is node240 (41.0 and 40.255 are skipped).
    expect([ip('node239'), ip('node240')]).toEqual(['10.231.40.254', '10.231.41.1']);
    expect(ip(`node${MAX_NODES}`)).toBe('10.231.43.253');
    expect(p.hosts).toHaveLength(MAX_NODES + 2);
    expect(new Set(ipsOf(p.hosts)).size).toBe(p.hosts.length);
    // A Linux bridge takes 1024 ports: every host is one.
    expect(planLab('huge', MAX_NODES, ['lb', 'storage', 'db', 'ldap', 'bastion']).hosts.length).toBeLessThan(1024);
  });

  it('a block must start on a multiple of 4 (only pickOctet chooses it, from candidateOctets)', () => {
    expect(() => planLab('big', 100, [], 21)).toThrow(/cannot hold 4/);
    expect(() => planLab('big', 100, [], 0)).not.toThrow();
  });
});

describe('planLab: limits', () => {
  it(`at least ${MAX_NODES} (>= 200) nodes; more is E_LAB_OPTIONS (exit 5) naming the limit`, () => {
    expect(MAX_NODES).toBeGreaterThanOrEqual(250);
    expect(() => planLab('scale', MAX_NODES, [])).not.toThrow();
    const e = optionError(() => planLab('scale', MAX_NODES + 1, []));
    expect(e.code).toBe('E_LAB_OPTIONS');
    expect(e.exitCode).toBe(5);
    expect(e.message).toBe(`--hosts must be 0..${MAX_NODES}, got ${MAX_NODES + 1}`);
    for (const bad of [-1, 1.5, Number.NaN]) expect(optionError(() => planLab('scale', bad, [])).code).toBe('E_LAB_OPTIONS');
    expect(optionError(() => planLab('scale', 0, [])).message).toBe('a lab needs at least one host');
    expect(optionError(() => planLab('Bad_Name', 1, [])).code).toBe('E_LAB_OPTIONS');
  });

  it('netsFor: one /24 up to 80 nodes, 4 above', () => {
    expect([0, 1, 80, 81, 200, MAX_NODES].map(netsFor)).toEqual([1, 1, 1, 4, 4, 4]);
  });
});

describe('subnet choice', () => {
  it('candidateOctets: every /24 of 20..219 once, the preferred first', () => {
    const c = candidateOctets('test');
    expect(c[0]).toBe(preferredOctet('test'));
    expect(new Set(c).size).toBe(200);
    expect(Math.min(...c)).toBe(20);
    expect(Math.max(...c)).toBe(219);
  });

  it('candidateOctets for a /22: 50 aligned blocks inside 20..219, the preferred first', () => {
    const c = candidateOctets('scale', 4);
    expect(c[0]).toBe(preferredOctet('scale', 4));
    expect(new Set(c).size).toBe(50);
    for (const x of c) {
      expect(x % 4).toBe(0);
      expect(x).toBeGreaterThanOrEqual(20);
      expect(x + 3).toBeLessThanOrEqual(219);
    }
  });

  it('octetsCovered / subnetOctets: what an address or network takes of 10.231.0.0/16', () => {
    expect(octetsCovered(102, 32)).toEqual([102]);
    expect(octetsCovered(102, 24)).toEqual([102]);
    expect(octetsCovered(102, 23)).toEqual([102, 103]);
    expect(octetsCovered(103, 22)).toEqual([100, 101, 102, 103]);
    expect(octetsCovered(0, 16)).toHaveLength(256);
    expect(subnetOctets('10.231.76.0/22')).toEqual([76, 77, 78, 79]);
    expect(subnetOctets('10.231.170.0/24')).toEqual([170]);
    expect(subnetOctets('garbage')).toEqual([]);
  });
});
