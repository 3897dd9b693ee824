// `lab up --latency`: the controller's SSH to a host goes through the lab's relay, and every round
// trip on that path takes at least the configured RTT (TCP connect to the first server byte, and an
// exec over an established SSH connection); a playbook runs through the written inventory with strict
// host keys; `lab down` ends the relay. Measured figures are printed; the only time assertion is the
// lower bound that proves the delay exists.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labDown, labUp, repoRoot } from '../../../src/lab/lab.js';
import type { LabHost, LabInfo } from '../../../src/lab/types.js';
import { createSshTransport } from '../../../src/transport/ssh.js';
import { ownLabName } from '../lab-fixture.js';

const RTT = 40;
const RTT2 = { rttMs: 15, jitterMs: 6 };
let lab: LabInfo;
const name = ownLabName('lat');

beforeAll(async () => {
  lab = await labUp({ name, hosts: 2, with: [], latency: { all: { rttMs: RTT, jitterMs: 0 }, hosts: { node2: RTT2 } } });
});
afterAll(async () => {
  if (lab) await labDown({ name });
});

function host(n: string): LabHost & { relay: NonNullable<LabHost['relay']> } {
  const h = lab.hosts.find((x) => x.name === n);
  if (!h?.relay) throw new Error(`${n} has no relay`);
  return h as LabHost & { relay: NonNullable<LabHost['relay']> };
}

/** ms from connect() to the first byte of the server (its SSH banner). */
function connectToBanner(ip: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const s = net.connect(port, ip);
    s.once('data', (d: Buffer) => {
      s.destroy();
      if (!d.toString().startsWith('SSH-')) reject(new Error(`not an SSH banner: ${d.toString()}`));
      else resolve(performance.now() - t0);
    });
    s.once('error', reject);
  });
}

describe('lab up --latency', () => {
  it('records the relay of every host and writes the inventory and known_hosts for it', () => {
    expect(host('node1').relay).toMatchObject({ ip: lab.bridgeIp, rttMs: RTT, jitterMs: 0 });
    expect(host('node2').relay).toMatchObject({ ip: lab.bridgeIp, ...RTT2 });
    const inv = readFileSync(lab.inventoryFile, 'utf8');
    expect(inv).toContain(`node1: {ansible_host: ${lab.bridgeIp}, ansible_port: ${host('node1').relay.port}}`);
    expect(readFileSync(lab.knownHostsFile, 'utf8')).toContain(`[${lab.bridgeIp}]:${host('node2').relay.port} ssh-ed25519 `);
  });

  it('TCP: connect to the first server byte takes at least the RTT through the relay', async () => {
    for (const [n, min] of [['node1', RTT], ['node2', RTT2.rttMs - RTT2.jitterMs]] as const) {
      const h = host(n);
      const t = await connectToBanner(h.relay.ip, h.relay.port);
      console.log(`${n}: connect to banner ${t.toFixed(1)} ms through the relay (+${h.relay.rttMs} ms RTT)`);
      expect(t).toBeGreaterThanOrEqual(min);
    }
  });

  it('SSH: each exec on an established connection takes at least one RTT', async () => {
    const t = createSshTransport({ knownHostsFiles: [lab.knownHostsFile], hostKeyPolicy: 'strict', sshConfigFile: path.join(lab.stateDir, 'no-ssh-config') });
    for (const [n, min] of [['node1', RTT], ['node2', RTT2.rttMs - RTT2.jitterMs]] as const) {
      const h = host(n);
      const c = await t.connect({ name: n, connection: 'ssh', host: h.relay.ip, port: h.relay.port, user: 'root', privateKeyFile: lab.privateKeyFile, vars: {} });
      try {
        expect((await c.exec('hostname')).stdout.trim()).toBe(n);
        const rtts: number[] = [];
        for (let i = 0; i < 5; i++) {
          const t0 = performance.now();
          expect((await c.exec('true')).exitCode).toBe(0);
          rtts.push(performance.now() - t0);
        }
        console.log(`${n}: exec round trips ${rtts.map((x) => x.toFixed(1)).join(', ')} ms (+${h.relay.rttMs} ms RTT)`);
        for (const r of rtts) expect(r).toBeGreaterThanOrEqual(min);
      } finally {
        c.close();
      }
    }
  });

  it('a playbook runs through the inventory `lab up` wrote, host keys checked strictly', async () => {
    const cli = path.join(repoRoot(), 'bin/obiam-run.js');
    const play = path.join(repoRoot(), 'test/fixtures/latency-play.yml');
    const r = await promisify(execFile)(process.execPath, [cli, play, '-i', lab.inventoryFile], { cwd: repoRoot() });
    expect(r.stdout).toMatch(/node1\s+: ok=1 .*failed=0/);
    expect(r.stdout).toMatch(/node2\s+: ok=1 .*failed=0/);
  });

  it('lab down ends the relay', async () => {
    const state = JSON.parse(readFileSync(path.join(lab.stateDir, 'lab.json'), 'utf8')) as { created: { pids: { pid: number; what: string }[] } };
    const relay = state.created.pids.find((p) => p.what === 'latency relay');
    expect(relay).toBeDefined();
    const r = await labDown({ name });
    lab = undefined as unknown as LabInfo;
    expect(r.leftovers).toEqual([]);
    expect(r.removed).toContain(`pid ${relay!.pid} (latency relay)`);
    expect(existsSync(`/proc/${relay!.pid}`)).toBe(false);
  });
});
