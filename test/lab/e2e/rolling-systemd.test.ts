// The rolling restart on `lab up --systemd` hosts: the product runs as a systemd unit, HAProxy as
// Debian's service, and the roll stops and starts the unit through systemd, under the same load.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labDown, labUp } from '../../../src/lab/lab.js';
import type { LabHost, LabInfo } from '../../../src/lab/types.js';
import { SITE, VAULT, health, overlay, tasks } from './cluster.js';
import { movedSessions, startLoad } from './load.js';
import { REPO, runCli } from './run-cli.js';
import { ownLabName } from '../lab-fixture.js';

const ROLL = path.join(REPO, 'playbooks/rolling-restart.yml');

describe('rolling restart on systemd hosts', () => {
  let lab: LabInfo;
  let nodes: LabHost[];
  let lb: LabHost;
  let inv: string;
  let invArgs: string[];

  beforeAll(async () => {
    execFileSync('bash', [path.join(REPO, 'scripts/lab-artifacts.sh')], { stdio: 'pipe' });
    lab = await labUp({ name: ownLabName('rollsd'), hosts: 3, with: ['lb', 'storage'], systemd: true });
    nodes = lab.hosts.filter((h) => h.role === 'node');
    lb = lab.hosts.find((h) => h.role === 'lb')!;
    inv = overlay('obiam', nodes);
    // systemd-nspawn mounts /proc/sys read-only: the kernel settings are written to
    // /etc/sysctl.d but not applied (ob_sysctl_set: false), as on any container host.
    const nspawn = path.join(path.dirname(inv), 'nspawn.yml');
    writeFileSync(nspawn, 'all:\n  vars:\n    ob_sysctl_set: false\n');
    invArgs = ['-i', lab.inventoryFile, '-i', inv, '-i', nspawn];
    const site = await runCli([SITE, ...invArgs, ...VAULT, '--json'], { timeoutMs: 600_000 });
    expect(site.code, site.stdout + site.stderr).toBe(0);
  }, 600_000);

  afterAll(async () => {
    if (lab) await labDown({ name: lab.name });
  }, 120_000);

  /** The unit's main PID on each node, as systemd reports it. */
  async function mainPids(): Promise<Record<string, string>> {
    const r = await tasks(lab, 'nodes', '    - command: systemctl show wso2obiam -p MainPID -p ActiveState -p FragmentPath\n      changed_when: false\n');
    const out: Record<string, string> = {};
    for (const e of r.events) if (e.event === 'host-result' && !e.isItem) out[e.host] = String(e.result.stdout);
    return out;
  }

  it('restarts every node through systemd with 0 failed requests', async () => {
    const before = await mainPids();
    for (const n of nodes) {
      expect(before[n.name]).toContain('ActiveState=active');
      expect(before[n.name]).toContain('FragmentPath=/etc/systemd/system/wso2obiam.service');
    }
    const load = startLoad(lb.ip);
    const roll = await (async () => {
      await new Promise((r) => setTimeout(r, 1000));
      return runCli([ROLL, ...invArgs, ...VAULT, '--json'], { timeoutMs: 600_000 });
    })().finally(() => load.stop(2000));
    const { sticky, all } = await load.stop(2000);
    expect(roll.code, roll.stdout + roll.stderr).toBe(0);
    const failed = all.filter((s) => !s.ok);
    expect(failed.map((f) => f.error).slice(0, 5), `${failed.length} of ${all.length} failed`).toEqual([]);
    expect(all.length).toBeGreaterThanOrEqual(2000);

    // systemd restarted each unit: a new main PID, active again.
    const after = await mainPids();
    for (const n of nodes) {
      expect(after[n.name]).toContain('ActiveState=active');
      expect(after[n.name]!.match(/MainPID=(\d+)/)![1]).not.toBe(before[n.name]!.match(/MainPID=(\d+)/)![1]);
      const h = await health(n);
      expect(h.status).toBe('UP');
      expect(h.members.length).toBe(3);
    }
    const probe = roll.events.find((e) => e.event === 'probe-report');
    expect(probe?.report.failed).toBe(0);
    console.log(`rolling restart on systemd hosts: ${all.length} requests, ${failed.length} failed, ${movedSessions(sticky)} sticky sessions moved; the roll's probe: ${probe?.report.requests} requests, ${probe?.report.failed} failed`);
  }, 900_000);
});
