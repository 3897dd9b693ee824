// playbooks/rolling-restart.yml on a 3-node OB IAM cluster (lab stand-in) behind HAProxy, under a
// continuous load through the LB: sticky clients (with the SERVERID cookie) and new clients.
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labDown, labUp } from '../../../src/lab/lab.js';
import type { LabHost, LabInfo } from '../../../src/lab/types.js';
import { SITE, VAULT, get, health, overlay, tasks } from './cluster.js';
import { REPO, runCli, sum, type CliRun } from './run-cli.js';

const ROLL = path.join(REPO, 'playbooks/rolling-restart.yml');
const UPGRADE = path.join(REPO, 'playbooks/rolling-upgrade.yml');

/** A stand-in pack of another version (and one that refuses to start) built from source. */
function buildPack(version: string, failStart = false): string {
  const out = mkdtempSync(path.join(tmpdir(), 'obr-pack-'));
  execFileSync('bash', [path.join(REPO, 'lab-product/build.sh'), '--out', out, '--obiam-version', version, ...(failStart ? ['--fail-start'] : [])], { stdio: 'pipe' });
  return path.join(out, `wso2-obiam-${version}.zip`);
}

interface Sample {
  t: number;
  node?: string;
  ok: boolean;
  /** The node no longer knew the session (it was restarted: sessions are node-local). */
  lost?: boolean;
  error?: string;
}

/** One client: keeps asking through the LB until stopped; a sticky one sends the cookie it got. */
async function client(lbIp: string, sticky: boolean, stop: () => boolean, out: Sample[]): Promise<void> {
  const jar = new Map<string, string>();
  while (!stop()) {
    const cookie = jar.size ? [...jar].map(([k, v]) => `${k}=${v}`).join('; ') : undefined;
    const t = Date.now();
    try {
      const r = await get(lbIp, 443, '/session', cookie);
      const body = r.status === 200 ? (JSON.parse(r.body) as { node: string; lost: boolean }) : undefined;
      out.push({ t, node: body?.node, lost: body?.lost, ok: r.status === 200, error: r.status === 200 ? undefined : `HTTP ${r.status}` });
      if (sticky) {
        // A browser's cookie jar: the LB's SERVERID and the node's JSESSIONID.
        for (const c of r.setCookie) {
          const [kv] = c.split(';');
          const i = kv!.indexOf('=');
          if (i > 0) jar.set(kv!.slice(0, i).trim(), kv!.slice(i + 1).trim());
        }
      }
    } catch (e) {
      out.push({ t, ok: false, error: (e as Error).message });
    }
  }
}

describe('rolling restart under load', () => {
  let lab: LabInfo;
  let nodes: LabHost[];
  let lb: LabHost;
  let inv: string;

  beforeAll(async () => {
    execFileSync('bash', [path.join(REPO, 'scripts/lab-artifacts.sh')], { stdio: 'pipe' });
    lab = await labUp({ name: 'e2e-roll', hosts: 3, with: ['lb', 'storage'] });
    nodes = lab.hosts.filter((h) => h.role === 'node');
    lb = lab.hosts.find((h) => h.role === 'lb')!;
    inv = overlay('obiam', nodes);
    const site = await runCli([SITE, '-i', lab.inventoryFile, '-i', inv, ...VAULT, '--json'], { timeoutMs: 600_000 });
    expect(site.code, site.stdout + site.stderr).toBe(0);
  }, 600_000);

  afterAll(async () => {
    if (lab) await labDown({ name: lab.name });
  }, 120_000);

  /** Runs `args` through the CLI while 6 clients load the LB; keeps the load on until 2000 requests. */
  async function underLoad(args: string[]): Promise<{ run: CliRun; sticky: Sample[][]; all: Sample[] }> {
    let done = false;
    const sticky: Sample[][] = [[], [], []];
    const fresh: Sample[][] = [[], [], []];
    const load = Promise.all([...sticky.map((s) => client(lb.ip, true, () => done, s)), ...fresh.map((s) => client(lb.ip, false, () => done, s))]);
    let run: CliRun;
    try {
      await new Promise((r) => setTimeout(r, 1000));
      run = await runCli(args, { timeoutMs: 600_000 });
      while ([...sticky, ...fresh].reduce((n, s) => n + s.length, 0) < 2000) await new Promise((r) => setTimeout(r, 100));
    } finally {
      done = true;
      await load;
    }
    return { run, sticky, all: [...sticky, ...fresh].flat() };
  }

  it('restarts every node once with 0 failed requests; sticky clients move only off the node being rolled', async () => {
    const { run: roll, sticky, all } = await underLoad([ROLL, '-i', lab.inventoryFile, '-i', inv, ...VAULT, '--json']);
    expect(roll.code, roll.stdout + roll.stderr).toBe(0);

    const failed = all.filter((s) => !s.ok);
    expect(failed.map((f) => f.error).slice(0, 5), `${failed.length} of ${all.length} failed`).toEqual([]);
    expect(all.length).toBeGreaterThanOrEqual(2000);

    // Each node rolled once, one at a time, in its own window: drain ... back in the LB.
    const window = new Map<string, [number, number]>();
    for (const e of roll.events) {
      if (e.event === 'task-start' && e.task === 'Drain the node on the load balancer') window.set(e.hosts[0], [e.time, Infinity]);
      if (e.event === 'host-result' && e.task === 'Back into the load balancer' && !e.isItem) window.get(e.host)![1] = e.time;
    }
    expect([...window.keys()].sort()).toEqual(nodes.map((n) => n.name).sort());
    const spans = [...window.values()].sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < spans.length; i++) expect(spans[i]![0]).toBeGreaterThanOrEqual(spans[i - 1]![1]);

    // A sticky client leaves its node only while that node is being rolled.
    let moved = 0;
    for (const s of sticky) {
      for (let i = 1; i < s.length; i++) {
        const prev = s[i - 1]!.node;
        const cur = s[i]!.node;
        if (!prev || !cur || prev === cur) continue;
        moved++;
        const w = window.get(prev);
        expect(w, `client left ${prev} at ${s[i]!.t}, which was not rolled`).toBeDefined();
        expect(s[i]!.t).toBeGreaterThanOrEqual(w![0]);
        expect(s[i]!.t).toBeLessThanOrEqual(w![1] + 1000);
      }
    }
    const perNode = [...window].map(([n, [a, b]]) => `${n} ${((b - a) / 1000).toFixed(1)} s`).join(', ');
    const lost = sticky.flat().filter((x) => x.lost).length;
    console.log(`rolling restart under load: ${all.length} requests, ${failed.length} failed, ${moved} sticky sessions moved to another node, ${lost} found their node restarted; per node: ${perNode}`);

    for (const n of nodes) {
      const h = await health(n);
      expect(h.status).toBe('UP');
      expect(h.members.length).toBe(3);
    }
  }, 600_000);

  it('behind nginx too: 0 failed requests while every node is restarted', async () => {
    // The LB becomes nginx (HAProxy stopped), the roll drains by configuration and graceful reload.
    await tasks(lab, lb.name, '    - shell: kill $(cat /run/haproxy.pid) && rm -f /run/haproxy.pid\n');
    const nginx = ['-e', 'lb_kind=nginx'];
    const site = await runCli([SITE, '-i', lab.inventoryFile, '-i', inv, ...VAULT, '--json', ...nginx], { timeoutMs: 300_000 });
    expect(site.code, site.stdout + site.stderr).toBe(0);
    try {
      const { run, all } = await underLoad([ROLL, '-i', lab.inventoryFile, '-i', inv, ...VAULT, '--json', ...nginx]);
      expect(run.code, run.stdout + run.stderr).toBe(0);
      const failed = all.filter((x) => !x.ok);
      expect(failed.map((f) => f.error).slice(0, 5), `${failed.length} of ${all.length} failed`).toEqual([]);
      const downs = run.events.filter((e) => e.event === 'task-start' && e.task === 'Node marked down in the nginx configuration');
      expect(downs.map((e) => e.hosts.length)).toEqual([1, 1, 1]);
      console.log(`rolling restart behind nginx: ${all.length} requests, ${failed.length} failed`);
    } finally {
      // Back to HAProxy for the tests that follow.
      await tasks(lab, lb.name, '    - shell: kill $(cat /run/nginx-obiam.pid) && rm -f /run/nginx-obiam.pid\n');
      const back = await runCli([SITE, '-i', lab.inventoryFile, '-i', inv, ...VAULT, '--json'], { timeoutMs: 300_000 });
      expect(back.code, back.stdout + back.stderr).toBe(0);
    }
  }, 900_000);

  it('upgrades every node to a new build with 0 failed requests; a second run changes nothing', async () => {
    const pack = buildPack('2.0.1');
    const args = [UPGRADE, '-i', lab.inventoryFile, '-i', inv, ...VAULT, '--json', '-e', 'product_version=2.0.1', '-e', `product_pack=${pack}`];
    const { run, all } = await underLoad(args);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const failed = all.filter((x) => !x.ok);
    expect(failed.map((f) => f.error).slice(0, 5), `${failed.length} of ${all.length} failed`).toEqual([]);
    for (const n of nodes) {
      const h = (await health(n)) as { version?: string; status: string; members: string[] };
      expect(h.version, n.name).toBe('2.0.1');
      expect(h.members.length).toBe(3);
    }
    console.log(`rolling upgrade under load: ${all.length} requests, ${failed.length} failed`);
    const again = await runCli(args, { timeoutMs: 300_000 });
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(sum(again.recap, 'changed')).toBe(0);
  }, 900_000);

  it('a build that fails to start: the first node is rolled back, the rest untouched, 0 failed requests, exit 2', async () => {
    const pack = buildPack('2.0.2', true);
    const { run, all } = await underLoad([UPGRADE, '-i', lab.inventoryFile, '-i', inv, ...VAULT, '--json', '-e', 'product_version=2.0.2', '-e', `product_pack=${pack}`, '-e', 'ob_start_timeout=20']);
    expect(run.code).toBe(2);
    expect(run.stdout).toContain('the upgrade to 2.0.2 failed');
    const failed = all.filter((x) => !x.ok);
    expect(failed.map((f) => f.error).slice(0, 5), `${failed.length} of ${all.length} failed`).toEqual([]);
    // Only the first node was touched, and it is back on 2.0.1 like the others.
    const stopped = run.events.filter((e) => e.event === 'host-result' && e.task === 'Service stopped for the upgrade').map((e) => e.host);
    expect(stopped).toEqual([nodes[0]!.name]);
    for (const n of nodes) {
      const h = (await health(n)) as { version?: string; status: string; members: string[] };
      expect(h.status).toBe('UP');
      expect(h.version, n.name).toBe('2.0.1');
      expect(h.members.length).toBe(3);
    }
  }, 900_000);

  it('refuses a batch larger than roll_max_unavailable or one taking every member out', async () => {
    for (const [extra, text] of [
      [['-e', 'roll_serial=2'], 'takes 2 of 3 nodes out at once; roll_max_unavailable is 1'],
      [['-e', 'roll_serial=100%', '-e', 'roll_max_unavailable=3'], 'takes 3 of 3 nodes out at once'],
    ] as const) {
      const r = await runCli([ROLL, '-i', lab.inventoryFile, '-i', inv, ...VAULT, '--json', ...extra], { timeoutMs: 120_000 });
      expect(r.code).toBe(2);
      expect(r.stdout).toContain(text);
      expect(r.events.some((e) => e.task === 'Drain the node on the load balancer' || e.task === 'Service stopped')).toBe(false);
    }
  }, 180_000);

  it('refuses to start when a node is down, and touches nothing', async () => {
    await tasks(lab, nodes[2]!.name, '    - service: { name: wso2obiam, state: stopped }\n');
    try {
      const r = await runCli([ROLL, '-i', lab.inventoryFile, '-i', inv, ...VAULT, '--json'], { timeoutMs: 120_000 });
      expect(r.code).toBe(2);
      const text = r.stdout;
      expect(text).toContain('not rolling: node3');
      expect(r.events.some((e) => e.task === 'Drain the node on the load balancer' || e.task === 'Service stopped')).toBe(false);
    } finally {
      await tasks(lab, nodes[2]!.name, '    - service: { name: wso2obiam, state: started }\n');
    }
  }, 180_000);
});
