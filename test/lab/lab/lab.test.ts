// The lab itself: each host is a real, separate SSH host (own hostname, root, PID namespace, network
// link), sudo needs the generated password, the NFS helper shares files through storage1, and a
// second lab comes up beside the shared one and goes without leaving anything behind, as does a big lab
// (81 nodes) on a /22; what a killed run left is cleared when it holds nothing, refused when it runs.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UnreachableError } from '../../../src/errors.js';
import { hostLinkDown, hostLinkUp, killSshd, labDown, labStatus, labUp } from '../../../src/lab/lab.js';
import { planLab } from '../../../src/lab/plan.js';
import type { LabHost, LabInfo } from '../../../src/lab/types.js';
import { createSshTransport } from '../../../src/transport/ssh.js';
import type { Connection, ConnectionSpec } from '../../../src/transport/types.js';
import { getLab } from '../lab-fixture.js';

function transport(lab: LabInfo, extra: { connectTimeoutMs?: number; connectRetries?: number } = {}) {
  return createSshTransport({
    knownHostsFiles: [lab.knownHostsFile],
    hostKeyPolicy: 'strict',
    sshConfigFile: path.join(lab.stateDir, 'no-such-ssh-config'),
    ...extra,
  });
}

function spec(lab: LabInfo, h: LabHost, over: Partial<ConnectionSpec> = {}): ConnectionSpec {
  return { name: h.name, connection: 'ssh', host: h.ip, port: h.port, user: 'root', privateKeyFile: lab.privateKeyFile, knownHostsFiles: [lab.knownHostsFile], vars: {}, ...over };
}

function host(lab: LabInfo, name: string): LabHost {
  const h = lab.hosts.find((x) => x.name === name);
  if (!h) throw new Error(`no ${name} in lab ${lab.name}`);
  return h;
}

async function sh(c: Connection, script: string): Promise<string> {
  const r = await c.exec(script);
  expect(r.exitCode, `${script}\n${r.stderr}`).toBe(0);
  return r.stdout.trim();
}

/** True once the process no longer exists (a zombie waiting for its parent's reaping counts as gone soon). */
async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 100; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return true;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}

describe('lab hosts', () => {
  let lab: LabInfo;
  const conns = new Map<string, Connection>();
  beforeAll(async () => {
    lab = getLab();
    const t = transport(lab);
    for (const h of lab.hosts) conns.set(h.name, await t.connect(spec(lab, h)));
  });
  afterAll(async () => {
    for (const c of conns.values()) await c.close();
  });

  it('has the requested hosts on one private /24', () => {
    expect(lab.hosts.map((h) => `${h.name}:${h.role}`)).toEqual(['node1:node', 'node2:node', 'node3:node', 'lb1:lb', 'storage1:storage', 'bastion1:bastion']);
    const net = lab.subnet.replace(/\.0\/24$/, '.');
    for (const h of lab.hosts) expect(h.ip.startsWith(net), h.ip).toBe(true);
    expect(new Set(lab.hosts.map((h) => h.ip)).size).toBe(lab.hosts.length);
    // Every host's key under its name and its address, so strict checking works either way.
    const kh = readFileSync(lab.knownHostsFile, 'utf8');
    for (const h of lab.hosts) expect(kh).toMatch(new RegExp(`^${h.name},${h.ip.replace(/\./g, '\\.')} ssh-ed25519 `, 'm'));
  });

  it('keeps its secrets owner-only: the state dir 0700, the client key, sudo password and state 0600', () => {
    const mode = (f: string): string => (statSync(f).mode & 0o777).toString(8);
    expect(mode(lab.stateDir)).toBe('700');
    for (const f of [lab.privateKeyFile, path.join(lab.stateDir, 'sudo-password'), path.join(lab.stateDir, 'lab.json')]) expect(mode(f), f).toBe('600');
  });

  // The shared lab is used by other suites first, so the empty /opt /srv /root of a new host is
  // checked on the fresh lab below.
  it('each host has its own name and sshd as PID 1 of its own PID namespace', async () => {
    for (const h of lab.hosts) {
      const c = conns.get(h.name)!;
      expect(await sh(c, 'hostname')).toBe(h.name);
      expect(await sh(c, 'cat /proc/1/comm')).toBe('sshd');
      // Only this host's processes are visible (sshd, this session, the shell).
      expect(Number(await sh(c, 'ls /proc | grep -c "^[0-9]*$"'))).toBeLessThan(20);
      expect(await sh(c, `getent hosts node2 | awk '{print $1}'`)).toBe(host(lab, 'node2').ip);
    }
  });

  it('the storage host serves a real MariaDB and OpenLDAP, reachable from the nodes only on its lab address', async () => {
    // The test lab has no db/ldap hosts, so storage1 serves both.
    const c = conns.get('node1')!;
    const storage = host(lab, 'storage1');
    const { db, ldap } = lab.services!;
    expect(db!.host).toBe('storage1');
    expect(ldap!.host).toBe('storage1');
    // A query as the lab DBA and a bind as the directory admin, from a node over the lab network.
    expect(await sh(c, `mariadb -h ${storage.ip} -u ${db!.adminUser} -p'${db!.adminPassword}' --batch --skip-column-names -e 'SELECT 6*7'`)).toBe('42');
    expect(await sh(c, `ldapwhoami -x -H ldap://${storage.ip} -D '${ldap!.adminDn}' -w '${ldap!.adminPassword}'`)).toBe(`dn:${ldap!.adminDn}`);
    expect(await sh(c, `ldapsearch -x -LLL -H ldap://${storage.ip} -D '${ldap!.adminDn}' -w '${ldap!.adminPassword}' -b '${ldap!.baseDn}' -s base dn`)).toBe(`dn: ${ldap!.baseDn}`);
    // A wrong password is refused by both.
    expect((await c.exec(`mariadb -h ${storage.ip} -u ${db!.adminUser} -pwrong -e 'SELECT 1'`)).stderr).toMatch(/Access denied/);
    expect((await c.exec(`ldapwhoami -x -H ldap://${storage.ip} -D '${ldap!.adminDn}' -w wrong`)).stderr).toMatch(/Invalid credentials/);
    // Nothing listens on the nodes, and the servers bind the storage host's address only.
    expect(await sh(conns.get('node2')!, "ss -Htln 'sport = :3306' | wc -l")).toBe('0');
    expect(await sh(conns.get('storage1')!, "ss -Htln 'sport = :3306 or sport = :389' | awk '{print $4}' | sort")).toBe(`${storage.ip}:3306\n${storage.ip}:389`);
    // Secrets are generated per lab and readable by root only.
    for (const f of [path.join(db!.dir, 'admin-password'), path.join(ldap!.dir, 'admin-password')]) expect(statSync(f).mode & 0o077).toBe(0);
  });

  it('hosts do not share files: a write on node1 is not seen on node2', async () => {
    await sh(conns.get('node1')!, 'echo mine > /opt/only-node1');
    expect((await conns.get('node2')!.exec('cat /opt/only-node1')).exitCode).not.toBe(0);
    await sh(conns.get('node1')!, 'rm /opt/only-node1');
  });

  it('the sudo user logs in with its password and sudo needs that password', async () => {
    const c = await transport(lab).connect(spec(lab, host(lab, 'node1'), { user: lab.sudoUser, privateKeyFile: undefined, password: lab.sudoPassword }));
    try {
      expect(await sh(c, 'id -un')).toBe(lab.sudoUser);
      expect(await sh(c, 'sudo -n true 2>&1; echo $?')).toMatch(/password is required[\s\S]*1$/);
      // Wrong first: after a good password sudo caches the credential for this session, as on any host.
      await expect(c.exec('id -u', { become: { method: 'sudo', user: 'root', password: 'not-the-password' } })).rejects.toMatchObject({ code: 'E_BECOME_PASSWORD' });
      const good = await c.exec('id -u', { become: { method: 'sudo', user: 'root', password: lab.sudoPassword } });
      expect(good.exitCode).toBe(0);
      expect(good.stdout.trim()).toBe('0');
    } finally {
      await c.close();
    }
  });

  it('mount -t nfs4 storage1:/srv/export shares files between two nodes', async () => {
    const [n1, n2] = [conns.get('node1')!, conns.get('node2')!];
    try {
      await sh(n1, 'mkdir -p /mnt/x && mount -t nfs4 storage1:/srv/export /mnt/x');
      await sh(n2, 'mkdir -p /mnt/x && mount -t nfs4 -o rw,hard storage1:/srv/export /mnt/x');
      await sh(n1, 'echo shared-by-node1 > /mnt/x/lab-test-file');
      expect(await sh(n2, 'cat /mnt/x/lab-test-file')).toBe('shared-by-node1');
      expect(await sh(conns.get('storage1')!, 'cat /srv/export/lab-test-file')).toBe('shared-by-node1');
      // Mounted under the NFS source name, so fstab-style "is it mounted" checks match.
      expect(await sh(n1, `awk '$2 == "/mnt/x" {print $1}' /proc/mounts`)).toBe('storage1:/srv/export');
    } finally {
      await n1.exec('umount /mnt/x');
      await n2.exec('umount /mnt/x');
      await conns.get('storage1')!.exec('rm -f /srv/export/lab-test-file');
    }
  });

  it('reaches a node through the bastion (ProxyJump)', async () => {
    const bastion = host(lab, 'bastion1');
    const c = await transport(lab).connect(spec(lab, host(lab, 'node2'), { commonArgs: `-o ProxyJump=root@${bastion.ip}` }));
    try {
      expect(await sh(c, 'hostname')).toBe('node2');
      // The connection came from the bastion, not from the controller's bridge address.
      expect(await sh(c, `echo "$SSH_CLIENT" | cut -d' ' -f1`)).toBe(bastion.ip);
    } finally {
      await c.close();
    }
  });

  it('link down makes a host unreachable; link up brings it back', async () => {
    const node3 = host(lab, 'node3');
    const t = transport(lab, { connectTimeoutMs: 1500, connectRetries: 0 });
    await hostLinkDown(lab, 'node3');
    try {
      await expect(t.connect(spec(lab, node3))).rejects.toBeInstanceOf(UnreachableError);
    } finally {
      await hostLinkUp(lab, 'node3');
    }
    const c = await transport(lab).connect(spec(lab, node3));
    expect(await sh(c, 'hostname')).toBe('node3');
    await c.close();
  });
});

describe('a second lab beside the shared one', () => {
  it('comes up on its own subnet with its database on db1 and directory on ldap1, dies with killSshd, and labDown leaves nothing behind', async () => {
    const shared = getLab();
    const t2Name = `${shared.name}-t2`;
    const t2 = await labUp({ name: t2Name, hosts: 1, with: ['db', 'ldap'] });
    let downed = false;
    try {
      expect(t2.subnet).not.toBe(shared.subnet);
      expect(t2.prefix).not.toBe(shared.prefix);
      const state = JSON.parse(readFileSync(path.join(t2.stateDir, 'lab.json'), 'utf8')) as { created: { pids: { pid: number }[] } };
      const pids = state.created.pids.map((p) => p.pid);
      expect(pids).toContain(t2.hosts[0].pid);
      // mariadbd and slapd of this lab, named by its prefix, on its dedicated hosts.
      expect(t2.services?.db).toMatchObject({ name: `${t2.prefix}-db`, host: 'db1' });
      expect(t2.services?.ldap).toMatchObject({ name: `${t2.prefix}-ldap`, host: 'ldap1' });
      const servicePids = (state.created.pids as { pid: number; what: string }[]).filter((p) => p.what.startsWith('service ')).map((p) => p.pid);
      expect(servicePids.map((p) => readFileSync(`/proc/${p}/comm`, 'utf8').trim()).sort()).toEqual(['mariadbd', 'slapd']);
      const c = await transport(t2).connect(spec(t2, t2.hosts[0]));
      expect(await sh(c, 'hostname')).toBe('node1');
      expect(await sh(c, 'ls -A /opt')).toBe('');
      expect(await sh(c, 'ls -A /root')).toBe('.ssh');
      expect(await sh(c, 'ls -A /srv')).toBe('');
      // Its hosts cannot reach the other lab (no route out of a lab subnet).
      expect((await c.exec(`timeout 2 bash -c 'echo > /dev/tcp/${shared.hosts[0].ip}/22' 2>&1 || echo unreachable`)).stdout).toContain('unreachable');
      await c.close();

      await killSshd(t2, 'node1');
      expect((await labStatus({ name: t2Name }))[0].alive).toEqual({ node1: false, db1: true, ldap1: true });

      const r = await labDown({ name: t2Name });
      downed = true;
      expect(r.leftovers).toEqual([]);
      expect(r.removed.some((x) => x.startsWith('netns '))).toBe(true);
      expect(execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })).not.toContain(t2.prefix);
      expect(execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' })).not.toContain(t2.prefix);
      for (const pid of pids) expect(await gone(pid), `pid ${pid}`).toBe(true);
      expect(readFileSync('/proc/mounts', 'utf8')).not.toContain(t2.stateDir);
      // The shared lab is untouched.
      expect((await labStatus({ name: shared.name }))[0].alive).toEqual(Object.fromEntries(shared.hosts.map((h) => [h.name, true])));
    } finally {
      if (!downed) await labDown({ name: t2Name });
    }
  });
});

describe('what a killed run left', () => {
  const ip = (...args: string[]): string => execFileSync('ip', args, { encoding: 'utf8' });

  it('empty namespaces and links with the lab prefix but no state are removed before the lab starts', async () => {
    const name = `${getLab().name}-orphan`;
    const { prefix } = planLab(name, 1, []);
    ip('netns', 'add', `${prefix}-node1`);
    ip('link', 'add', `${prefix}br`, 'type', 'bridge');
    let up: LabInfo | undefined;
    try {
      up = await labUp({ name, hosts: 1, with: [] });
      expect(up.reclaimed).toEqual([`netns ${prefix}-node1`, `link ${prefix}br`]);
      const c = await transport(up).connect(spec(up, up.hosts[0]));
      expect(await sh(c, 'hostname')).toBe('node1');
      await c.close();
    } finally {
      if (up) expect((await labDown({ name })).leftovers).toEqual([]);
      if (ip('netns', 'list').includes(`${prefix}-node1`)) ip('netns', 'del', `${prefix}-node1`);
      if (ip('-o', 'link', 'show').includes(`${prefix}br`)) ip('link', 'del', `${prefix}br`);
    }
  });

  it('a namespace with a process in it is another live lab: refused, nothing touched', async () => {
    const name = `${getLab().name}-orphan`;
    const { prefix } = planLab(name, 1, []);
    ip('netns', 'add', `${prefix}-node1`);
    const sleeper = spawn('ip', ['netns', 'exec', `${prefix}-node1`, 'sleep', '60'], { stdio: 'ignore' });
    try {
      const end = Date.now() + 5_000;
      while (ip('netns', 'pids', `${prefix}-node1`).trim() === '' && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
      await expect(labUp({ name, hosts: 1, with: [] })).rejects.toMatchObject({ code: 'E_LAB_EXISTS', message: expect.stringContaining('processes in it') });
      expect(ip('netns', 'list')).toContain(`${prefix}-node1`);
      expect(existsSync(path.join(path.dirname(getLab().stateDir), name))).toBe(false);
    } finally {
      sleeper.kill('SIGKILL');
      await new Promise((r) => sleeper.once('exit', r));
      ip('netns', 'del', `${prefix}-node1`);
    }
  });
});

describe('a big lab (more than 80 nodes) beside the shared one', () => {
  const NEIGH = ['ipv4', 'ipv6'].flatMap((v) => ['gc_thresh2', 'gc_thresh3'].map((k) => `/proc/sys/net/${v}/neigh/default/${k}`));
  const neigh = (): string[] => NEIGH.map((f) => readFileSync(f, 'utf8').trim());
  // A lab bridge with a prefix shorter than /24 is a big lab (of this or another checkout).
  const bigLabUp = (): boolean => /^\d+:\s+obr[0-9a-f]{5}br\s+inet\s+[\d.]+\/(1\d|2[0-3])\s/m.test(execFileSync('ip', ['-o', '-4', 'addr', 'show'], { encoding: 'utf8' }));

  it('takes a /22: node81 on the next /24 answers and reaches lb1 on the first; neighbour limits raised, then restored; nothing left', async () => {
    const name = `${getLab().name}-big`;
    const before = neigh();
    const raisedBefore = existsSync('/run/obiam-run-lab/neigh.json');
    const big = await labUp({ name, hosts: 81, with: ['lb'] });
    let downed = false;
    try {
      expect(big.subnet).toMatch(/^10\.231\.\d+\.0\/22$/);
      const x = Number(big.subnet.split('.')[2]);
      expect(x % 4).toBe(0);
      const node81 = host(big, 'node81');
      const lb1 = host(big, 'lb1');
      expect([big.bridgeIp, host(big, 'node80').ip, node81.ip, lb1.ip]).toEqual([`10.231.${x}.1`, `10.231.${x}.90`, `10.231.${x + 1}.11`, `10.231.${x}.101`]);
      const c = await transport(big).connect(spec(big, node81));
      try {
        expect(await sh(c, 'hostname')).toBe('node81');
        expect(await sh(c, "ip -o -4 addr show eth0 | awk '{print $4}'")).toBe(`${node81.ip}/22`);
        // Across the /24 boundary inside the block, with no router.
        expect(await sh(c, `timeout 3 bash -c 'echo > /dev/tcp/${lb1.ip}/22' && echo open`)).toBe('open');
      } finally {
        await c.close();
      }
      for (const v of neigh().filter((_, i) => i % 2 === 1)) expect(Number(v)).toBeGreaterThanOrEqual(4096);

      const r = await labDown({ name });
      downed = true;
      expect(r.leftovers).toEqual([]);
      expect(execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })).not.toContain(big.prefix);
      expect(execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' })).not.toContain(big.prefix);
      expect(readFileSync('/proc/mounts', 'utf8')).not.toContain(big.stateDir);
      // Put back, unless another big lab still needs them or had raised them before this one.
      if (!raisedBefore && !bigLabUp()) expect(neigh()).toEqual(before);
    } finally {
      if (!downed) await labDown({ name });
    }
  });
});
