// The fault matrix of the rolls (docs/rolling.md, "When things go wrong"), on ONE lab of its own
// (3 OB IAM nodes of the stand-in behind HAProxy, storage) brought up and deployed once: each test
// breaks something on purpose, checks what the user sees and the state left behind, and ends with
// the cluster whole and serving again. Under load where requests could be lost: none may fail.
import { execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostLinkDown, hostLinkUp, labDown, labUp } from '../../../src/lab/lab.js';
import type { LabHost, LabInfo } from '../../../src/lab/types.js';
import { SITE, VAULT, health, inHost, lbStates, overlay, until } from './cluster.js';
import { startLoad, type Sample } from './load.js';
import { REPO, runCli, workspace, type CliRun } from './run-cli.js';
import { ownLabName } from '../lab-fixture.js';

const ROLL = path.join(REPO, 'playbooks/rolling-restart.yml');
const UPGRADE = path.join(REPO, 'playbooks/rolling-upgrade.yml');
const ALL_UP = { node1: 'UP', node2: 'UP', node3: 'UP' };
const SMALL_DISK_OK = ['-e', 'preflight_min_disk_gb=0'];

type Event = Record<string, any>;

/** Calls `act` (once) on the first JSON event of the child's stdout that `pred` accepts. */
function onEvent(pred: (e: Event) => boolean, act: (child: ChildProcess) => void): { spawn: (child: ChildProcess) => void; fired: () => boolean } {
  let fired = false;
  return {
    fired: () => fired,
    spawn: (child) => {
      let buf = '';
      child.stdout!.on('data', (b: Buffer) => {
        buf += b.toString();
        const lines = buf.split('\n');
        buf = lines.pop()!;
        for (const l of lines) {
          if (fired || !l.trim()) continue;
          if (pred(JSON.parse(l) as Event)) {
            fired = true;
            act(child);
          }
        }
      });
    },
  };
}

const taskStart = (task: string, host: string) => (e: Event): boolean => e.event === 'task-start' && e.task === task && e.hosts?.[0] === host;
const failedOf = (all: Sample[]): Sample[] => all.filter((s) => !s.ok);
const rolled = (r: CliRun, play: string): string[] => r.events.filter((e) => e.event === 'batch-end' && e.play === play).map((e) => e.hosts[0]);
const touched = (r: CliRun): boolean => r.events.some((e) => e.event === 'host-result' && e.status !== 'skipped' && ['Drain the node on the load balancer', 'Service stopped', 'Service stopped for the upgrade'].includes(e.task));

describe('fault matrix of the rolls', () => {
  let lab: LabInfo;
  let nodes: LabHost[];
  let lb: LabHost;
  let inv: string;
  let base: string[];

  /** Every node UP with every member, every node UP at HAProxy, and the LB answering. */
  async function serving(): Promise<void> {
    for (const n of nodes) await until(`${n.name} healthy with 3 members`, () => health(n), (h) => h.status === 'UP' && h.members.length === 3, 60_000);
    // HAProxy's own checks bring a node back UP a few seconds after it answers again.
    await until('every node UP at HAProxy', () => lbStates(lab, lb.name), (s) => JSON.stringify(s) === JSON.stringify(ALL_UP), 60_000);
  }

  beforeAll(async () => {
    execFileSync('bash', [path.join(REPO, 'scripts/lab-artifacts.sh')], { stdio: 'pipe' });
    lab = await labUp({ name: ownLabName('faults'), hosts: 3, with: ['lb', 'storage'] });
    nodes = lab.hosts.filter((h) => h.role === 'node');
    lb = lab.hosts.find((h) => h.role === 'lb')!;
    inv = overlay('obiam', nodes);
    base = ['-i', lab.inventoryFile, '-i', inv, ...VAULT, '--json'];
    // node1's install root is a small file system of its own, for the disk-full upgrade below.
    inHost(nodes[0]!, 'mkdir -p /opt/wso2 && mount -t tmpfs -o size=24m,mode=0755 obr-lab-small /opt/wso2');
    // (Preflight wants 1 GB free for the install root; node1's is small on purpose.)
    const site = await runCli([SITE, ...base, ...SMALL_DISK_OK], { timeoutMs: 600_000 });
    expect(site.code, site.stdout + site.stderr).toBe(0);
  }, 600_000);

  afterAll(async () => {
    if (lab) await labDown({ name: lab.name });
  }, 120_000);

  it('two site.yml runs on one inventory at once: the second is refused by the lock and changes nothing', async () => {
    let second: Promise<CliRun> | undefined;
    const hook = onEvent((e) => e.event === 'task-start', () => {
      second = runCli([SITE, ...base, ...SMALL_DISK_OK], { timeoutMs: 120_000 });
    });
    const first = await runCli([SITE, ...base, ...SMALL_DISK_OK], { timeoutMs: 600_000, onSpawn: hook.spawn });
    expect(hook.fired()).toBe(true);
    const other = await second!;
    expect(first.code, first.stdout + first.stderr).toBe(0);
    expect(other.code, other.stdout + other.stderr).toBe(1);
    expect(other.stderr).toContain('E_LOCKED');
    expect(other.stderr).toMatch(/another run against .* is going on: pid \d+/);
    expect(other.events.filter((e) => e.event === 'task-start')).toEqual([]);
    await serving();
  }, 900_000);

  it('the LB host unreachable at the start of a roll: refused before any node is touched, exit 2', async () => {
    await hostLinkDown(lab, lb.name);
    let r: CliRun;
    try {
      r = await runCli([ROLL, ...base], { timeoutMs: 300_000 });
    } finally {
      await hostLinkUp(lab, lb.name);
    }
    expect(r.code, r.stdout + r.stderr).toBe(2);
    expect(r.stdout).toContain('not rolling:');
    expect(r.stdout).toContain(`load balancers answering: [] of ['${lb.name}']`);
    expect(touched(r)).toBe(false);
    // Nothing was rolled, so there is nothing to resume.
    expect(r.stderr).not.toContain('--resume');
    await serving();
  }, 600_000);

  it('a node down (network cut) at the gate: exit 2 with a `not rolling:` line naming it, nothing touched', async () => {
    await hostLinkDown(lab, 'node3');
    let r: CliRun;
    try {
      r = await runCli([ROLL, ...base], { timeoutMs: 300_000 });
    } finally {
      await hostLinkUp(lab, 'node3');
    }
    expect(r.code, r.stdout + r.stderr).toBe(2);
    expect(r.stdout).toContain('not rolling: node3');
    expect(touched(r)).toBe(false);
    expect(r.stderr).not.toContain('--resume');
    await serving();
  }, 600_000);

  it("a node's network cut in the middle of a task: unreachable, counted toward max_fail_percentage, the others finish, exit 3", async () => {
    const dir = workspace({
      'check.yml': `- name: Check every node
  hosts: obiam
  gather_facts: false
  max_fail_percentage: 50
  tasks:
    - name: before
      command: hostname
    - name: slow step
      command: sleep 8
    - name: after
      command: hostname
`,
    });
    const hook = onEvent(taskStart('slow step', 'node1'), () => void hostLinkDown(lab, 'node3'));
    let r: CliRun;
    try {
      // Keepalives of 1 s: the dead link is noticed in seconds rather than after the default 45 s.
      r = await runCli([path.join(dir, 'check.yml'), ...base, '-e', JSON.stringify({ ansible_ssh_common_args: '-o ServerAliveInterval=1 -o ServerAliveCountMax=2' })], { timeoutMs: 300_000, onSpawn: hook.spawn });
    } finally {
      await hostLinkUp(lab, 'node3');
    }
    expect(hook.fired()).toBe(true);
    expect(r.code, r.stdout + r.stderr).toBe(3);
    expect(r.recap.node3).toMatchObject({ unreachable: 1, failed: 0 });
    expect(r.recap.node1).toMatchObject({ ok: 3, unreachable: 0, failed: 0 });
    expect(r.recap.node2).toMatchObject({ ok: 3, unreachable: 0, failed: 0 });
    expect(r.events.filter((e) => e.event === 'host-result' && e.task === 'after').map((e) => e.host).sort()).toEqual(['node1', 'node2']);
    await serving();
  }, 600_000);

  it("a node's product killed while the roll waits for it: the roll stops, the node is left out of the LB with a clear message (exit 2); --resume finishes; 0 failed requests", async () => {
    const load = startLoad(lb.ip);
    let first: CliRun;
    let again: CliRun;
    try {
      await new Promise((r) => setTimeout(r, 500));
      const hook = onEvent(taskStart("'WSO2 Carbon started' in the log", 'node2'), () => {
        inHost(nodes[1]!, 'kill -9 "$(cat /opt/wso2/current/wso2carbon.pid)"');
      });
      first = await runCli([ROLL, ...base], { timeoutMs: 600_000, onSpawn: hook.spawn });
      expect(hook.fired(), 'the roll reached node2').toBe(true);
      expect(first.code, first.stdout + first.stderr).toBe(2);
      expect(first.stdout).toContain('node2: the restart failed at');
      expect(first.stdout).toContain('left out of the load balancer');
      expect(rolled(first, 'Rolling restart')).toEqual(['node1', 'node2']);
      expect(first.events.some((e) => e.event === 'task-start' && e.hosts?.includes('node3') && e.task === 'Service stopped')).toBe(false);
      expect(first.stderr).toContain('--resume');
      expect(await lbStates(lab, lb.name)).toEqual({ node1: 'UP', node2: 'MAINT', node3: 'UP' });

      again = await runCli([ROLL, ...base, '--resume'], { timeoutMs: 600_000 });
      expect(again.code, again.stdout + again.stderr).toBe(0);
      expect(rolled(again, 'Rolling restart')).toEqual(['node2', 'node3']);
    } finally {
      const result = await load.stop(500);
      const failed = failedOf(result.all);
      expect(failed.map((f) => f.error).slice(0, 5), `${failed.length} of ${result.all.length} failed`).toEqual([]);
      console.log(`product killed mid-roll + --resume under load: ${result.all.length} requests, ${failed.length} failed`);
    }
    await serving();
  }, 900_000);

  it('the controller killed with SIGKILL mid-roll: the next run takes over the stale lock, names the node left half done, and --resume finishes with the LB consistent', async () => {
    const load = startLoad(lb.ip);
    try {
      await new Promise((r) => setTimeout(r, 500));
      const hook = onEvent(taskStart('Service stopped', 'node2'), (child) => child.kill('SIGKILL'));
      const killed = await runCli([ROLL, ...base], { timeoutMs: 600_000, onSpawn: hook.spawn });
      expect(hook.fired(), 'the roll reached node2').toBe(true);
      expect(killed.code).toBe(-1);

      // A plain run refuses at the gate or rolls from the start; either way it says what is half done.
      const resumed = await runCli([ROLL, ...base, '--resume'], { timeoutMs: 600_000 });
      const said = resumed.stdout + resumed.stderr;
      expect(resumed.code, said).toBe(0);
      expect(said).toMatch(/took over the lock of pid \d+, which is gone/);
      // The journal is written per step and the kill comes from the event stream, so the last step
      // recorded may be the drain just before 'Service stopped': any step of node2's roll is right.
      expect(said).toMatch(/node2: in 'Rolling restart' at '(loadbalancer : [^']+|service : Service stopped)'/);
      expect(rolled(resumed, 'Rolling restart')).toEqual(['node2', 'node3']);
    } finally {
      const result = await load.stop(500);
      const failed = failedOf(result.all);
      expect(failed.map((f) => f.error).slice(0, 5), `${failed.length} of ${result.all.length} failed`).toEqual([]);
      console.log(`controller SIGKILL mid-roll + --resume under load: ${result.all.length} requests, ${failed.length} failed`);
    }
    await serving();
  }, 900_000);

  it("disk full on a node during an upgrade's unpack: the node is back on its old home, untouched and serving; the rest untouched (exit 2)", async () => {
    // A 2.0.1 pack with 4 MiB that does not compress, and node1's small install root left with 6 MiB:
    // the upload fits, the unpack does not.
    const out = mkdtempSync(path.join(tmpdir(), 'obr-pack-'));
    execFileSync('bash', [path.join(REPO, 'lab-product/build.sh'), '--out', out, '--obiam-version', '2.0.1'], { stdio: 'pipe' });
    const pack = path.join(out, 'wso2-obiam-2.0.1.zip');
    execFileSync('bash', ['-c', `cd ${out} && mkdir -p wso2-obiam-2.0.1/lib && head -c 4194304 /dev/urandom > wso2-obiam-2.0.1/lib/lab-padding.bin && zip -q -0 ${pack} wso2-obiam-2.0.1/lib/lab-padding.bin && sha256sum wso2-obiam-2.0.1.zip > wso2-obiam-2.0.1.zip.sha256`]);
    const oldHome = "cd /opt/wso2/wso2-obiam-2.0.0 && find . -path ./repository/logs -prune -o -type f ! -name wso2carbon.pid -print0 | sort -z | xargs -0 sha256sum | sha256sum";
    const before = inHost(nodes[0]!, oldHome);
    inHost(nodes[0]!, 'avail=$(df -B1 --output=avail /opt/wso2 | tail -1); fallocate -l $((avail - 6291456)) /opt/wso2/lab-filler');
    const load = startLoad(lb.ip);
    let r: CliRun;
    try {
      await new Promise((res) => setTimeout(res, 500));
      r = await runCli([UPGRADE, ...base, '-e', 'product_version=2.0.1', '-e', `product_pack=${pack}`], { timeoutMs: 600_000 });
    } finally {
      const result = await load.stop(500);
      inHost(nodes[0]!, 'rm -f /opt/wso2/lab-filler /opt/wso2/dist/wso2-obiam-2.0.1.zip');
      const failed = failedOf(result.all);
      expect(failed.map((f) => f.error).slice(0, 5), `${failed.length} of ${result.all.length} failed`).toEqual([]);
      console.log(`disk full during an upgrade under load: ${result.all.length} requests, ${failed.length} failed`);
    }
    expect(r.code, r.stdout + r.stderr).toBe(2);
    expect(r.stdout).toContain('node1: the upgrade to 2.0.1 failed');
    expect(r.stdout).toMatch(/No space left on device|ENOSPC|disk full/i);
    const stopped = r.events.filter((e) => e.event === 'host-result' && e.task === 'Service stopped for the upgrade' && e.status !== 'skipped').map((e) => e.host);
    expect(stopped).toEqual(['node1']);
    expect(inHost(nodes[0]!, oldHome)).toBe(before);
    expect(inHost(nodes[0]!, 'readlink /opt/wso2/current; [ -e /opt/wso2/wso2-obiam-2.0.1 ] && echo half-unpacked home left || echo no new home').trim()).toBe('/opt/wso2/wso2-obiam-2.0.0\nno new home');
    for (const n of nodes) {
      const h = (await health(n)) as { version?: string; status: string; members: string[] };
      expect(h.version, n.name).toBe('2.0.0');
    }
    await serving();
  }, 900_000);
});
