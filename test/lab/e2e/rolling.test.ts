// playbooks/rolling-restart.yml on a 3-node OB IAM cluster (lab stand-in) behind HAProxy, under a
// continuous load through the LB: sticky clients (with the SERVERID cookie) and new clients.
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labDown, labUp } from '../../../src/lab/lab.js';
import type { LabHost, LabInfo } from '../../../src/lab/types.js';
import { SITE, VAULT, health, lbStates as clusterLbStates, overlay, tasks } from './cluster.js';
import { startLoad, type Sample } from './load.js';
import { REPO, runCli, sum, type CliRun } from './run-cli.js';
import { ownLabName } from '../lab-fixture.js';

const ROLL = path.join(REPO, 'playbooks/rolling-restart.yml');
const UPGRADE = path.join(REPO, 'playbooks/rolling-upgrade.yml');

/** A stand-in pack of another version (and one that refuses to start) built from source. */
function buildPack(version: string, failStart = false): string {
  const out = mkdtempSync(path.join(tmpdir(), 'obr-pack-'));
  execFileSync('bash', [path.join(REPO, 'lab-product/build.sh'), '--out', out, '--obiam-version', version, ...(failStart ? ['--fail-start'] : [])], { stdio: 'pipe' });
  return path.join(out, `wso2-obiam-${version}.zip`);
}

describe('rolling restart under load', () => {
  let lab: LabInfo;
  let nodes: LabHost[];
  let lb: LabHost;
  let inv: string;

  beforeAll(async () => {
    execFileSync('bash', [path.join(REPO, 'scripts/lab-artifacts.sh')], { stdio: 'pipe' });
    lab = await labUp({ name: ownLabName('roll'), hosts: 3, with: ['lb', 'storage'] });
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
    const load = startLoad(lb.ip);
    const run = await (async () => {
      await new Promise((r) => setTimeout(r, 1000));
      return runCli(args, { timeoutMs: 600_000 });
    })().finally(() => load.stop(2000));
    return { run, ...(await load.stop(2000)) };
  }

  const lbStates = (): Promise<Record<string, string>> => clusterLbStates(lab, lb.name);

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

    // The roll's own numbers (its http_probe and the batch timings), as printed at its end.
    const probe = roll.events.find((e) => e.event === 'probe-report');
    expect(probe, 'the roll reports its load numbers').toBeDefined();
    expect(probe!.report.failed).toBe(0);
    expect(probe!.report.requests).toBeGreaterThan(100);
    expect(Object.keys(probe!.report.perNode).sort()).toEqual(nodes.map((n) => n.name).sort());
    const batches = roll.events.filter((e) => e.event === 'batch-end' && e.play === 'Rolling restart');
    expect(batches.map((e) => e.hosts[0])).toEqual(nodes.map((n) => n.name));
    expect(batches.every((e) => e.durationMs > 0 && e.failed.length === 0)).toBe(true);
    console.log(`the roll's probe: ${probe!.report.requests} requests, ${probe!.report.failed} failed, ${probe!.report.sessionsMoved} sessions moved`);

    for (const n of nodes) {
      const h = await health(n);
      expect(h.status).toBe('UP');
      expect(h.members.length).toBe(3);
    }
  }, 600_000);

  it('SIGINT in the middle of node 2 finishes node 2 and stops; --resume does node 3; no node left out of the LB; 0 failed requests', async () => {
    const load = startLoad(lb.ip);
    let first: CliRun;
    let again: CliRun;
    let result: Awaited<ReturnType<typeof load.stop>>;
    try {
      await new Promise((r) => setTimeout(r, 500));
      let sent = false;
      first = await runCli([ROLL, '-i', lab.inventoryFile, '-i', inv, ...VAULT, '--json'], {
        timeoutMs: 600_000,
        onSpawn: (child) => {
          let buf = '';
          child.stdout!.on('data', (b: Buffer) => {
            buf += b.toString();
            const lines = buf.split('\n');
            buf = lines.pop()!;
            for (const l of lines) {
              const e = JSON.parse(l) as { event: string; task?: string; hosts?: string[] };
              // node2 is being stopped at this point: the interrupt must not leave it so.
              if (!sent && e.event === 'task-start' && e.task === 'Service stopped' && e.hosts?.[0] === 'node2') {
                sent = true;
                child.kill('SIGINT');
              }
            }
          });
        },
      });
      expect(sent, 'the roll reached node2').toBe(true);
      expect(first.code, first.stdout + first.stderr).toBe(99);
      expect(first.stderr).toContain('--resume');
      // node2 was finished (back in the LB), node3 not touched.
      const rolled = first.events.filter((e) => e.event === 'batch-end' && e.play === 'Rolling restart').map((e) => e.hosts[0]);
      expect(rolled).toEqual(['node1', 'node2']);
      expect(first.events.some((e) => e.event === 'task-start' && e.hosts?.includes('node3') && e.task === 'Service stopped')).toBe(false);
      expect(await lbStates()).toEqual({ node1: 'UP', node2: 'UP', node3: 'UP' });

      again = await runCli([ROLL, '-i', lab.inventoryFile, '-i', inv, ...VAULT, '--json', '--resume'], { timeoutMs: 600_000 });
      expect(again.code, again.stdout + again.stderr).toBe(0);
      const resumed = again.events.filter((e) => e.event === 'batch-end' && e.play === 'Rolling restart').map((e) => e.hosts[0]);
      expect(resumed).toEqual(['node3']);
      expect(await lbStates()).toEqual({ node1: 'UP', node2: 'UP', node3: 'UP' });
    } finally {
      result = await load.stop(1000);
    }
    const failed = result.all.filter((x) => !x.ok);
    expect(failed.map((f) => f.error).slice(0, 5), `${failed.length} of ${result.all.length} failed`).toEqual([]);
    console.log(`interrupted roll + --resume under load: ${result.all.length} requests, ${failed.length} failed`);
  }, 900_000);

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
    const stopped = run.events.filter((e) => e.event === 'host-result' && e.task === 'Service stopped for the upgrade' && e.status !== 'skipped').map((e) => e.host);
    expect(stopped).toEqual([nodes[0]!.name]);
    for (const n of nodes) {
      const h = (await health(n)) as { version?: string; status: string; members: string[] };
      expect(h.status).toBe('UP');
      expect(h.version, n.name).toBe('2.0.1');
      expect(h.members.length).toBe(3);
    }
  }, 900_000);

  it('full-stop upgrade: every node stopped, upgraded, the first node started before the others; all on the new version', async () => {
    const pack = buildPack('2.0.3');
    const args = [UPGRADE, '-i', lab.inventoryFile, '-i', inv, ...VAULT, '--json', '-e', 'product_version=2.0.3', '-e', `product_pack=${pack}`, '-e', 'roll_strategy=full-stop'];
    const run = await runCli(args, { timeoutMs: 600_000 });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    // One batch; every node stopped before any was started; node1 started first.
    const batches = run.events.filter((e) => e.event === 'batch-start' && e.play === 'Rolling upgrade');
    expect(batches.map((e) => e.hosts.length)).toEqual([3]);
    const at = (task: string, host: string): number => run.events.find((e) => e.event === 'host-result' && e.task === task && e.host === host && !e.isItem && e.status !== 'skipped')?.time ?? NaN;
    const stoppedLast = Math.max(...nodes.map((n) => at('Service stopped for the upgrade', n.name)));
    const started = nodes.map((n) => at('Service started', n.name));
    expect(Math.min(...started)).toBeGreaterThan(stoppedLast);
    expect(started[0]!).toBeLessThan(Math.min(started[1]!, started[2]!));
    for (const n of nodes) {
      const h = (await health(n)) as { version?: string; status: string; members: string[] };
      expect(h.version, n.name).toBe('2.0.3');
      expect(h.members.length).toBe(3);
    }
    expect(await lbStates()).toEqual({ node1: 'UP', node2: 'UP', node3: 'UP' });
    const again = await runCli(args, { timeoutMs: 300_000 });
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(sum(again.recap, 'changed')).toBe(0);
  }, 900_000);

  it('full-stop to a build that fails to start: every node goes back to the previous version, exit 2', async () => {
    const pack = buildPack('2.0.4', true);
    const run = await runCli([UPGRADE, '-i', lab.inventoryFile, '-i', inv, ...VAULT, '--json', '-e', 'product_version=2.0.4', '-e', `product_pack=${pack}`, '-e', 'roll_strategy=full-stop', '-e', 'ob_start_timeout=20'], { timeoutMs: 600_000 });
    expect(run.code, run.stdout + run.stderr).toBe(2);
    expect(run.stdout).toContain('the full-stop upgrade to 2.0.4 failed on node1');
    expect(run.stdout).toContain('every node is back on its previous version');
    for (const n of nodes) {
      const h = (await health(n)) as { version?: string; status: string; members: string[] };
      expect(h.status).toBe('UP');
      expect(h.version, n.name).toBe('2.0.3');
      expect(h.members.length).toBe(3);
    }
    expect(await lbStates()).toEqual({ node1: 'UP', node2: 'UP', node3: 'UP' });
  }, 900_000);

  it('full-stop is refused for a restart (it is the upgrade\'s downtime path)', async () => {
    const r = await runCli([ROLL, '-i', lab.inventoryFile, '-i', inv, ...VAULT, '--json', '-e', 'roll_strategy=full-stop'], { timeoutMs: 120_000 });
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('full-stop is for rolling-upgrade.yml');
  }, 180_000);

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
