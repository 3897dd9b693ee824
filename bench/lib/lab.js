// The benchmark's own lab (name `bench`), driven through the built CLI, plus plain-ssh helpers on its hosts.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { mapLimit, runCmd } from './measure.js';

/** The benchmark's lab name (`--lab`, default `bench`); workload d uses `<name>-d` beside it. */
export const LAB_NAME = 'bench';

/** The most nodes `lab up` accepts: MAX_NODES of the pure planner (dist/lab/plan.js), which creates nothing. */
export async function maxLabNodes(repo) {
  const { MAX_NODES } = await import(pathToFileURL(path.join(repo, 'dist/lab/plan.js')).href);
  return MAX_NODES;
}

const cli = (repo) => path.join(repo, 'bin/obiam-run.js');

export const labExists = (repo, name) => existsSync(path.join(repo, '.lab', name, 'lab.json'));

/**
 * Brings up lab `name` with n nodes (`extra`: more `lab up` flags, e.g. --latency); a lab of that name
 * left by an interrupted run is taken down first.
 */
export async function labUp(repo, n, log, name = LAB_NAME, extra = []) {
  if (labExists(repo, name)) {
    log(`lab '${name}' exists (left by an interrupted run?): taking it down first`);
    await labDown(repo, name);
  }
  const t0 = Date.now();
  await runCmd(process.execPath, [cli(repo), 'lab', 'up', '--name', name, '--hosts', String(n), '--with', 'none', ...extra], { cwd: repo });
  const lab = readLab(repo, name);
  log(`lab '${name}' up: ${lab.hosts.length} hosts on ${lab.subnet}${extra.length ? ` (${extra.join(' ')})` : ''} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return lab;
}

export async function labDown(repo, name = LAB_NAME) {
  const r = await runCmd(process.execPath, [cli(repo), 'lab', 'down', '--name', name], { cwd: repo, allowFail: true });
  if (r.code !== 0) throw new Error(`lab down --name ${name} failed (exit ${r.code}); run it again by hand:\n${(r.stderr || r.stdout).trim()}`);
}

export function readLab(repo, name = LAB_NAME) {
  const state = JSON.parse(readFileSync(path.join(repo, '.lab', name, 'lab.json'), 'utf8'));
  return {
    name,
    subnet: state.subnet,
    bridge: state.bridge,
    key: state.privateKeyFile,
    knownHosts: state.knownHostsFile,
    hosts: state.hosts.filter((h) => h.role === 'node').map((h) => ({ name: h.name, ip: h.ip, pid: h.pid, relay: h.relay })),
  };
}

/** An inventory of the first n lab nodes in group `bench`; both tools read the same file. */
export function writeInventory(dir, lab, n, tag = '') {
  const file = path.join(dir, `inventory-${n}${tag}.yml`);
  const lines = [
    'all:',
    '  vars:',
    '    ansible_user: root',
    `    ansible_ssh_private_key_file: "${lab.key}"`,
    `    ansible_ssh_known_hosts_file: "${lab.knownHosts}"`,
    '    ansible_python_interpreter: /usr/bin/python3',
    '  children:',
    '    bench:',
    '      hosts:',
    // Through the latency relay when the lab has one (workload d): the address `lab up` wrote for the host.
    ...lab.hosts.slice(0, n).map((h) => (h.relay ? `        ${h.name}: {ansible_host: ${h.relay.ip}, ansible_port: ${h.relay.port}}` : `        ${h.name}: {ansible_host: ${h.ip}}`)),
  ];
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

/** OpenSSH arguments for root on a lab host, host key checked strictly against the lab's known_hosts. */
export function sshArgs(lab, ip) {
  return ['-i', lab.key, '-o', `UserKnownHostsFile=${lab.knownHosts}`, '-o', 'StrictHostKeyChecking=yes',
    '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=10', '-o', 'ControlMaster=no', `root@${ip}`];
}

/** Runs one shell command on each of the hosts (20 at a time); throws if any host fails. */
export async function sshAll(lab, hosts, command) {
  return mapLimit(hosts, 20, (h) => runCmd('ssh', [...sshArgs(lab, h.ip), command]));
}

/** Bytes the controller has sent into the lab: packets from the root namespace leave through the bridge. */
export function bridgeTxBytes(lab) {
  return Number(readFileSync(`/sys/class/net/${lab.bridge}/statistics/tx_bytes`, 'utf8'));
}

/**
 * CPU seconds the hosts have used so far: sshd is PID 1 of each host and reaps every session, and a
 * session's processes (shells, commands, Python) are reaped by it in turn, so its own plus its children's
 * times (utime, stime, cutime, cstime; clock ticks of 1/100 s) cover all work done on the host by finished sessions.
 */
export function hostsCpuS(hosts) {
  let ticks = 0;
  for (const h of hosts) {
    try {
      const stat = readFileSync(`/proc/${h.pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
    } catch { /* host gone: the run's recap will say unreachable */ }
  }
  return ticks / 100;
}

/**
 * The last PID handed out in each host's PID namespace. /proc/loadavg reports it for the reader's own PID
 * namespace, so `cat` runs inside the host's (nsenter -p -m): the value read is cat's own PID. The growth
 * between two readings, minus 1 for the second cat, is the number of processes (and threads) started on
 * the host in between.
 */
export async function hostsLastPid(hosts) {
  return mapLimit(hosts, 10, async (h) => {
    const r = await runCmd('nsenter', ['-t', String(h.pid), '-p', '-m', 'cat', '/proc/loadavg'], { allowFail: true });
    return Number(r.stdout.trim().split(' ')[4] ?? NaN);
  });
}
