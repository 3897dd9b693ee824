// `obiam-run lab`: real SSH hosts on this machine, each a network namespace on a private bridge,
// its own mount/pid/uts/ipc namespaces, an overlay root over `/` and sshd (or systemd) as PID 1.
// Every namespace, link, PID and directory is recorded in lab.json BEFORE it is created, so `down`
// can always clean up (also after a crash) and never touches anything it did not record.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { setPriority } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { EXIT, ObiamError } from '../errors.js';
import { RELAY_PORT_BASE, type LatencySpec, type RelayConfig } from './latency-relay.js';
import { OPAQUE_DIRS, freeUid, hostDirs, prepareHost, systemdOpaqueDirs } from './host-files.js';
import { checkedInInventory, writeLabInventories, type LabProduct } from './inventory.js';
import { DEFAULT_LAB, SUBNET_BASE, SUDO_USER, candidateOctets, octetsCovered, planLab, subnetOctets, validateLabName, type ExtraRole, type LabPlan } from './plan.js';
import { dbAdmin, initDb, initLdap, missingServicePackages, planServices, startDb, startLdap, stopService } from './services.js';
import { findNamespaceInit, isAlive, mountsUnder, must, preflight, run, signal, sleep, startTimeOf, type RecordedPid } from './sys.js';
import type { LabHost, LabInfo } from './types.js';

export interface LabUpOptions {
  name?: string;
  hosts?: number;
  with?: ExtraRole[];
  systemd?: boolean;
  /** The product group of the lab's inventory.yml (default obiam); on a running lab, switches it. */
  product?: LabProduct;
  stateRoot?: string;
  /** Each host waits this long before starting sshd, and labUp returns without waiting for sshd. */
  startDelayMs?: number;
  /** A delay between the controller and the hosts (src/lab/latency-relay.ts): for all, and/or per host. */
  latency?: LabLatency;
}

export interface LabLatency {
  all?: LatencySpec;
  hosts?: Record<string, LatencySpec>;
}

export interface LabDownOptions {
  name?: string;
  stateRoot?: string;
}

export type LabStatus = LabInfo & { alive: Record<string, boolean>; status: LabState['status'] };

/** lab.json: the LabInfo plus every resource created, written before each is created. */
interface LabState extends LabInfo {
  version: 1;
  status: 'starting' | 'up' | 'failed';
  systemd: boolean;
  createdAt: string;
  created: { netns: string[]; links: string[]; pids: RecordedPid[]; mounts: string[]; dirs: string[] };
  /** fs.inotify.max_user_instances as found, when a systemd lab raised it. */
  inotify?: { previous: string; set: string };
}

const INOTIFY = '/proc/sys/fs/inotify/max_user_instances';
/**
 * The neighbour tables are one for all network namespaces. A lab keeps 2 ARP entries per host (the
 * controller's for the host, the host's for the bridge), and while it comes up up to 6 IPv6 ones per host
 * (multicast entries of link-local router solicitations and MLD reports, which age out). Past gc_thresh3
 * (default 1024) new entries fail (at 1000 hosts: 2000 ARP, about 6000 IPv6), so a big lab raises gc_thresh2/3 of both.
 */
const NEIGH_WANT: Record<string, number> = Object.fromEntries(
  ['ipv4', 'ipv6'].flatMap((v) => [
    [`/proc/sys/net/${v}/neigh/default/gc_thresh2`, 8192],
    [`/proc/sys/net/${v}/neigh/default/gc_thresh3`, 16384],
  ]),
);
/** The machine's own limits while big labs (of any checkout) have them raised; beside `ip netns`'s files. */
const NEIGH_RECORD = '/run/obiam-run-lab/neigh.json';

/** The repo root: the nearest package.json named obiam-run above this file (src/ or dist/). */
export function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'obiam-run') return dir;
      } catch {
        // not ours: keep looking upward
      }
    }
    const up = path.dirname(dir);
    if (up === dir) return process.cwd();
    dir = up;
  }
}

export function defaultStateRoot(): string {
  return path.join(repoRoot(), '.lab');
}

function stateFile(stateDir: string): string {
  return path.join(stateDir, 'lab.json');
}

function save(st: LabState): void {
  const file = stateFile(st.stateDir);
  writeFileSync(`${file}.tmp`, `${JSON.stringify(st, null, 2)}\n`, { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
}

function load(stateDir: string): LabState | undefined {
  const file = stateFile(stateDir);
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as LabState;
}

function infoOf(st: LabState): LabInfo {
  return {
    name: st.name,
    prefix: st.prefix,
    subnet: st.subnet,
    bridge: st.bridge,
    bridgeIp: st.bridgeIp,
    hosts: st.hosts.map((h) => ({ ...h })),
    stateDir: st.stateDir,
    privateKeyFile: st.privateKeyFile,
    knownHostsFile: st.knownHostsFile,
    inventoryFile: st.inventoryFile,
    siteInventoryFile: st.siteInventoryFile,
    product: st.product,
    sudoUser: st.sudoUser,
    sudoPassword: st.sudoPassword,
    ...(st.services ? { services: st.services } : {}),
  };
}

function notFound(name: string, stateDir: string): ObiamError {
  return new ObiamError('E_LAB_NOT_FOUND', `no lab '${name}' (no ${stateFile(stateDir)})`, {
    remedy: `start it with \`obiam-run lab up --name ${name}\`; \`obiam-run lab status\` lists the labs`,
    exitCode: EXIT.ERROR,
  });
}

/** Network namespaces and links that exist now (names only). */
async function netnsNames(): Promise<Set<string>> {
  const r = await run('ip', ['netns', 'list']);
  return new Set(r.stdout.split('\n').map((l) => l.trim().split(/\s+/)[0]).filter(Boolean));
}

async function linkNames(): Promise<Set<string>> {
  const r = await run('ip', ['-o', 'link', 'show']);
  return new Set(r.stdout.split('\n').map((l) => /^\d+:\s+([^:@\s]+)/.exec(l)?.[1]).filter((s): s is string => !!s));
}

/**
 * A free block of `nets` 10.231.X.0/24s (X aligned to `nets`): none of its third octets on any interface
 * or route here (a route or address with a shorter prefix covers several), nor claimed by another lab's state.
 */
async function pickOctet(name: string, stateRoot: string, nets: number): Promise<number> {
  const used = new Set<number>();
  const re = new RegExp(`\\b${SUBNET_BASE.replace('.', '\\.')}\\.(\\d+)\\.\\d+(?:/(\\d+))?`, 'g');
  for (const args of [['-o', '-4', 'addr', 'show'], ['-4', 'route', 'show', 'table', 'all']]) {
    for (const m of (await run('ip', args)).stdout.matchAll(re)) {
      for (const x of octetsCovered(Number(m[1]), m[2] === undefined ? 32 : Number(m[2]))) used.add(x);
    }
  }
  if (existsSync(stateRoot)) {
    for (const d of readdirSync(stateRoot)) {
      if (d === name) continue;
      try {
        const st = load(path.join(stateRoot, d));
        if (st) for (const x of subnetOctets(st.subnet)) used.add(x);
      } catch {
        // an unreadable state file claims nothing
      }
    }
  }
  for (const x of candidateOctets(name, nets)) {
    if (Array.from({ length: nets }, (_, i) => x + i).every((o) => !used.has(o))) return x;
  }
  const what = nets === 1 ? '/24 subnet' : `block of ${nets} /24 subnets`;
  throw new ObiamError('E_LAB_NO_SUBNET', `every ${SUBNET_BASE}.20-219.0 ${what} is in use`, { remedy: 'take down labs you no longer need (`obiam-run lab status`)' });
}

function sshBanner(ip: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: ip, port: 22 });
    const done = (ok: boolean): void => {
      clearTimeout(t);
      s.destroy();
      resolve(ok);
    };
    const t = setTimeout(() => done(false), timeoutMs);
    s.once('data', (d) => done(d.toString().startsWith('SSH-')));
    s.once('error', () => done(false));
    s.once('close', () => done(false));
  });
}

function tail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

async function waitReady(st: LabState, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  await Promise.all(
    st.hosts.map(async (h) => {
      const rec = st.created.pids.find((p) => p.what === `init ${h.name}`);
      for (;;) {
        if (await sshBanner(h.ip, 1000)) return;
        const log = hostDirs(st.stateDir, h.name).log;
        if (!rec || !isAlive(rec)) {
          throw new ObiamError('E_LAB_HOST_DIED', `lab host ${h.name} stopped while starting:\n${tail(log)}`, { remedy: `see ${log}` });
        }
        if (Date.now() > end) throw new ObiamError('E_LAB_TIMEOUT', `lab host ${h.name} did not answer on ${h.ip}:22 within ${timeoutMs / 1000} s:\n${tail(log)}`, { remedy: `see ${log}` });
        await sleep(50);
      }
    }),
  );
}

async function sshKeygen(file: string, comment: string): Promise<string> {
  rmSync(file, { force: true });
  rmSync(`${file}.pub`, { force: true });
  mkdirSync(path.dirname(file), { recursive: true });
  await must('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file]);
  return readFileSync(`${file}.pub`, 'utf8');
}

async function createNetwork(st: LabState, plan: LabPlan): Promise<void> {
  // Record first, then create: a crash in between leaves names `down` knows about.
  st.created.links.push(plan.bridge, ...plan.hosts.map((h) => h.vethHost));
  st.created.netns.push(...plan.hosts.map((h) => h.netns));
  save(st);
  const root = [`link add ${plan.bridge} type bridge`, `addr add ${plan.bridgeIp}/${plan.prefixLen} dev ${plan.bridge}`, `link set ${plan.bridge} up`];
  for (const h of plan.hosts) {
    root.push(`netns add ${h.netns}`, `link add ${h.vethHost} type veth peer name ${h.vethPeer} netns ${h.netns}`, `link set ${h.vethHost} master ${plan.bridge} up`);
  }
  await must('ip', ['-batch', '-'], { input: `${root.join('\n')}\n` });
  await Promise.all(
    plan.hosts.map((h) =>
      must('ip', ['-n', h.netns, '-batch', '-'], {
        input: [`link set ${h.vethPeer} name eth0`, `addr add ${h.ip}/${plan.prefixLen} dev eth0`, 'link set eth0 up', 'link set lo up', ''].join('\n'),
      }),
    ),
  );
}

function startHost(st: LabState, h: LabHost): RecordedPid {
  const d = hostDirs(st.stateDir, h.name);
  const log = openSync(d.log, 'a');
  // The plain host joins its netns and gets new mount/uts/ipc/pid namespaces; the systemd host only a
  // private mount namespace for its overlay (systemd-nspawn makes the rest and joins the netns).
  const args = st.systemd
    ? ['unshare', '--mount', '--propagation', 'private', '--', '/bin/sh', d.init]
    : ['nsenter', `--net=/run/netns/${h.netns}`, '--', 'unshare', '--mount', '--uts', '--ipc', '--pid', '--fork', '--kill-child', '--', '/bin/sh', d.init];
  // Detached: the hosts outlive `lab up` and a Ctrl-C in its terminal.
  const child = spawn(args[0], args.slice(1), { detached: true, stdio: ['ignore', log, log] });
  closeSync(log);
  child.on('error', () => undefined);
  child.unref();
  const pid = child.pid;
  const start = pid === undefined ? undefined : startTimeOf(pid);
  if (pid === undefined || start === undefined) throw new ObiamError('E_LAB_HOST_DIED', `lab host ${h.name} did not start:\n${tail(d.log)}`, { remedy: `see ${d.log}` });
  return { pid, start, what: `launcher ${h.name}` };
}

async function findInit(st: LabState, h: LabHost, launcher: RecordedPid): Promise<RecordedPid> {
  // Hosts start all at once: the last of a big lab waits for the CPU behind the others.
  const end = Date.now() + (st.systemd ? 20_000 : 5_000) + 50 * st.hosts.length;
  for (;;) {
    const pid = findNamespaceInit(launcher.pid);
    const start = pid === undefined ? undefined : startTimeOf(pid);
    if (pid !== undefined && start !== undefined) return { pid, start, what: `init ${h.name}` };
    if (!isAlive(launcher) || Date.now() > end) {
      const log = hostDirs(st.stateDir, h.name).log;
      throw new ObiamError('E_LAB_HOST_DIED', `lab host ${h.name} did not start:\n${tail(log)}`, { remedy: `see ${log}` });
    }
    await sleep(10);
  }
}

/** Raises the neighbour table limits for a big lab, recording the machine's own values first. */
function raiseNeigh(): void {
  const files = Object.keys(NEIGH_WANT).filter((f) => existsSync(f)); // no ipv6 directory in a kernel without IPv6
  const now = Object.fromEntries(files.map((f) => [f, readFileSync(f, 'utf8').trim()]));
  // A record is live only while the limits are raised: after a reboot or a reset by hand it is stale.
  if (!existsSync(NEIGH_RECORD) || files.some((f) => Number(now[f]) < NEIGH_WANT[f])) {
    mkdirSync(path.dirname(NEIGH_RECORD), { recursive: true });
    writeFileSync(NEIGH_RECORD, `${JSON.stringify(now)}\n`);
  }
  for (const f of files) if (Number(now[f]) < NEIGH_WANT[f]) writeFileSync(f, String(NEIGH_WANT[f]));
}

/** Puts the recorded limits back once no big lab is left on the machine; a limit changed since by hand stays. */
async function restoreNeigh(): Promise<void> {
  if (!existsSync(NEIGH_RECORD)) return;
  // Any checkout's big lab shows as a lab bridge with a prefix shorter than /24.
  const addrs = (await run('ip', ['-o', '-4', 'addr', 'show'])).stdout;
  if ([...addrs.matchAll(/^\d+:\s+obr[0-9a-f]{5}br\s+inet\s+[\d.]+\/(\d+)/gm)].some((m) => Number(m[1]) < 24)) return;
  const previous = JSON.parse(readFileSync(NEIGH_RECORD, 'utf8')) as Record<string, string>;
  for (const [f, v] of Object.entries(previous)) {
    const set = String(Math.max(Number(v), NEIGH_WANT[f] ?? 0));
    if (existsSync(f) && readFileSync(f, 'utf8').trim() === set) writeFileSync(f, v);
  }
  rmSync(NEIGH_RECORD, { force: true });
  try {
    rmdirSync(path.dirname(NEIGH_RECORD));
  } catch {
    // not empty: not ours to remove
  }
}

/** Raises the inotify instance limit for systemd hosts (each systemd takes several). */
function raiseInotify(st: LabState): void {
  const previous = readFileSync(INOTIFY, 'utf8').trim();
  const want = Math.max(Number(previous), 1024 + 64 * st.hosts.length);
  if (want === Number(previous)) return;
  st.inotify = { previous, set: String(want) };
  save(st);
  writeFileSync(INOTIFY, String(want));
}

/** Brings up a lab and returns its LabInfo once every sshd answers. */
export async function labUp(opts: LabUpOptions = {}): Promise<LabInfo> {
  const name = opts.name ?? DEFAULT_LAB.name;
  validateLabName(name);
  const systemd = opts.systemd ?? false;
  preflight(systemd);
  const stateRoot = path.resolve(opts.stateRoot ?? defaultStateRoot());
  const stateDir = path.join(stateRoot, name);
  const old = load(stateDir);
  if (old) {
    // A lab whose processes are all gone (machine rebooted, killed) is cleaned and replaced.
    const alive = old.created.pids.some(isAlive);
    if (alive) {
      // `lab up` again with the same shape is a no-op (like re-running a playbook); another shape is refused.
      const want = planLab(name, opts.hosts ?? DEFAULT_LAB.hosts, opts.with ?? DEFAULT_LAB.with).hosts.map((h) => `${h.name}/${h.role}`);
      const have = old.hosts.map((h) => `${h.name}/${h.role}`);
      const allAlive = old.hosts.every((h) => {
        const rec = recordOf(old, h.name);
        return rec !== undefined && isAlive(rec);
      }) && old.created.pids.filter((p) => p.what.startsWith('service ')).every(isAlive);
      const sameLatency = JSON.stringify(old.hosts.map((h) => h.relay ?? null)) === JSON.stringify(relayPlan(old, opts.latency).map((h) => h.relay ?? null));
      if (old.status === 'up' && allAlive && old.systemd === systemd && sameLatency && want.join(',') === have.join(',')) {
        if (opts.product && opts.product !== old.product) {
          old.product = opts.product;
          writeInventories(old);
          save(old);
        }
        return { ...infoOf(old), alreadyUp: true };
      }
      throw exists(name, `it is running with other hosts or not all of them alive (state in ${stateDir})`);
    }
    const { leftovers } = await teardown(old);
    if (leftovers.length > 0) throw exists(name, `a previous run left: ${leftovers.join(', ')}`);
  }
  const draft = planLab(name, opts.hosts ?? DEFAULT_LAB.hosts, opts.with ?? DEFAULT_LAB.with);
  const reclaimed = await reclaimOrphans(name, draft.prefix);
  const plan = planLab(name, opts.hosts ?? DEFAULT_LAB.hosts, opts.with ?? DEFAULT_LAB.with, await pickOctet(name, stateRoot, draft.nets));

  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const sudoPassword = randomBytes(15).toString('base64url');
  const st: LabState = {
    version: 1,
    status: 'starting',
    systemd,
    createdAt: new Date().toISOString(),
    name,
    prefix: plan.prefix,
    subnet: plan.subnet,
    bridge: plan.bridge,
    bridgeIp: plan.bridgeIp,
    hosts: plan.hosts.map((h) => ({ name: h.name, ip: h.ip, port: 22, role: h.role, netns: h.netns, pid: 0, systemd, link: h.vethHost })),
    stateDir,
    privateKeyFile: path.join(stateDir, 'id_ed25519'),
    knownHostsFile: path.join(stateDir, 'known_hosts'),
    inventoryFile: path.join(stateDir, 'hosts.yml'),
    siteInventoryFile: path.join(stateDir, 'inventory.yml'),
    product: opts.product ?? 'obiam',
    sudoUser: SUDO_USER,
    sudoPassword,
    created: { netns: [], links: [], pids: [], mounts: [], dirs: [] },
  };
  const services = planServices(stateDir, plan.prefix, plan.hosts);
  if (services.db || services.ldap) {
    const missing = missingServicePackages(services);
    if (missing.length > 0) {
      throw new ObiamError('E_LAB_MISSING_PACKAGE', `missing package${missing.length > 1 ? 's' : ''} for the lab's database and directory: ${missing.join(', ')}`, {
        remedy: `apt-get install -y ${missing.join(' ')} (or bash scripts/install-deps.sh)`,
      });
    }
    st.services = services;
  }
  if (opts.latency) {
    const unknown = Object.keys(opts.latency.hosts ?? {}).filter((n) => !st.hosts.some((h) => h.name === n));
    if (unknown.length > 0) {
      throw new ObiamError('E_LAB_OPTIONS', `--latency names host(s) not in the lab: ${unknown.join(', ')}`, { remedy: `hosts: ${st.hosts.map((h) => h.name).join(', ')}`, exitCode: EXIT.BAD_OPTIONS });
    }
    st.hosts = relayPlan(st, opts.latency);
  }
  save(st);
  try {
    await build(st, plan, opts.startDelayMs ?? 0);
  } catch (e) {
    st.status = 'failed';
    save(st);
    await teardown(st).catch(() => undefined);
    throw e;
  }
  return reclaimed.length > 0 ? { ...infoOf(st), reclaimed } : infoOf(st);
}

/**
 * Namespaces and links with this lab's prefix but no state here: a run killed before its teardown
 * (its state root deleted with a checkout, or a machine restarted mid-run). With no process left in any
 * of them they hold nothing and are removed; a process in one means a live lab of another state root.
 */
async function reclaimOrphans(name: string, prefix: string): Promise<string[]> {
  const ns = [...(await netnsNames())].filter((n) => n.startsWith(`${prefix}-`));
  const links = [...(await linkNames())].filter((l) => l.startsWith(prefix));
  if (ns.length === 0 && links.length === 0) return [];
  for (const n of ns) {
    const pids = (await run('ip', ['netns', 'pids', n])).stdout.trim();
    if (pids !== '') throw exists(name, `namespace ${n} exists with processes in it (${pids.split(/\s+/).length}): a lab of another state root is running`);
  }
  const { removed, left } = await removeNetwork(ns, links);
  if (left.length > 0) throw exists(name, `could not remove what a killed run left: ${left.join(', ')}`);
  return removed;
}

/**
 * Deletes those of these namespaces, then links, that exist, each kind with one `ip -force -batch` (a
 * process per namespace is seconds at 200 hosts); a veth goes with its namespace, so links are
 * listed after. What went and what is still there are read back.
 */
async function removeNetwork(netns: string[], links: string[]): Promise<{ removed: string[]; left: string[] }> {
  const removed: string[] = [];
  const left: string[] = [];
  for (const [kind, names, list] of [['netns', netns, netnsNames], ['link', links, linkNames]] as const) {
    const present = await list();
    const here = names.filter((n) => present.has(n));
    if (here.length === 0) continue;
    await run('ip', ['-force', '-batch', '-'], { input: here.map((n) => `${kind} del ${n}\n`).join('') });
    const after = await list();
    for (const n of here) (after.has(n) ? left : removed).push(`${kind} ${n}`);
  }
  return { removed, left };
}

function exists(name: string, why: string): ObiamError {
  return new ObiamError('E_LAB_EXISTS', `lab '${name}' already exists: ${why}`, {
    remedy: `take it down first: \`obiam-run lab down --name ${name}\` (or pick another --name)`,
  });
}

async function build(st: LabState, plan: LabPlan, startDelayMs: number): Promise<void> {
  const { stateDir } = st;
  writeFileSync(path.join(stateDir, 'sudo-password'), `${st.sudoPassword}\n`, { mode: 0o600 });
  const clientPub = await sshKeygen(st.privateKeyFile, `obiam-run-lab-${st.name}`);
  const passwordHash = (await must('openssl', ['passwd', '-6', '-stdin'], { input: `${st.sudoPassword}\n` })).trim();
  const dirs = plan.hosts.map((h) => hostDirs(stateDir, h.name));
  st.created.dirs.push(path.join(stateDir, 'hosts'));
  save(st);
  const hostPubs = await Promise.all(plan.hosts.map((h, i) => sshKeygen(path.join(dirs[i].upper, 'etc/ssh/ssh_host_ed25519_key'), `root@${h.name}`)));
  const knownHosts = plan.hosts.map((h, i) => `${h.name},${h.ip} ${hostPubs[i].trim().split(/\s+/).slice(0, 2).join(' ')}`).join('\n') + '\n';
  writeFileSync(st.knownHostsFile, knownHosts);
  const user = { uid: freeUid(), passwordHash };
  const clientPriv = readFileSync(st.privateKeyFile, 'utf8');
  plan.hosts.forEach((h, i) =>
    prepareHost({ plan, host: h, dirs: dirs[i], clientPublicKey: clientPub, clientPrivateKey: clientPriv, knownHosts, user, systemd: st.systemd, startDelayMs }),
  );
  const opaque = [...OPAQUE_DIRS, ...(st.systemd ? systemdOpaqueDirs() : [])];
  await must('setfattr', ['-n', 'trusted.overlay.opaque', '-v', 'y', ...dirs.flatMap((d) => opaque.map((o) => path.join(d.upper, o)))]);
  if (plan.nets > 1) raiseNeigh();
  await createNetwork(st, plan);
  // The database and directory come up while the hosts start (mariadb-install-db takes seconds).
  const servicesUp = startServices(st).then(() => undefined, (e: unknown) => e);
  if (st.systemd) raiseInotify(st);
  const launchers: RecordedPid[] = [];
  for (const h of st.hosts) {
    const l = startHost(st, h);
    st.created.pids.push(l);
    launchers.push(l);
  }
  save(st);
  const inits = await Promise.all(st.hosts.map((h, i) => findInit(st, h, launchers[i])));
  st.hosts.forEach((h, i) => (h.pid = inits[i].pid));
  // Hosts first: SIGTERM to PID 1 ends the whole host.
  st.created.pids.unshift(...inits);
  save(st);
  if (startDelayMs <= 0) await waitReady(st, (st.systemd ? 90_000 : 20_000) + 100 * st.hosts.length);
  const servicesErr = await servicesUp;
  if (servicesErr) throw servicesErr;
  if (st.hosts.some((h) => h.relay)) await startLatencyRelay(st, hostPubs);
  writeInventories(st);
  st.status = 'up';
  save(st);
}

/** Initialises and starts the lab's MariaDB and slapd (each recorded in lab.json before it is created). */
async function startServices(st: LabState): Promise<void> {
  const s = st.services;
  if (!s) return;
  st.created.dirs.push(path.join(st.stateDir, 'services'));
  save(st);
  const started = (rec: RecordedPid): void => {
    st.created.pids.push(rec);
    save(st);
  };
  await Promise.all([
    s.db &&
      (async () => {
        await initDb(s.db!);
        await startDb(s.db!, started);
        await dbAdmin(s.db!);
      })(),
    s.ldap &&
      (async () => {
        await initLdap(s.ldap!);
        await startLdap(s.ldap!, started);
      })(),
  ]);
}

/** The hosts with their relay address and delay (`--latency`): host i on the bridge address, port RELAY_PORT_BASE + i. */
function relayPlan(st: Pick<LabState, 'hosts' | 'bridgeIp'>, latency: LabLatency | undefined): LabHost[] {
  return st.hosts.map((h, i) => {
    const l = latency?.hosts?.[h.name] ?? latency?.all;
    const { relay: _old, ...rest } = h;
    return l ? { ...rest, relay: { ip: st.bridgeIp, port: RELAY_PORT_BASE + i, rttMs: l.rttMs, jitterMs: l.jitterMs } } : rest;
  });
}

/**
 * Starts the lab's latency relay (one Node process for all its hosts, recorded before it starts like
 * every host) and adds `[bridge ip]:port` host keys to known_hosts, which is how OpenSSH and obiam-run
 * look up a host on a port other than 22.
 */
async function startLatencyRelay(st: LabState, hostPubs: string[]): Promise<void> {
  const script = path.join(repoRoot(), 'dist/lab/latency-relay.js');
  if (!existsSync(script)) throw new ObiamError('E_LAB_COMMAND', `the latency relay ${script} is not built`, { remedy: 'run `npm run build` first' });
  const cfgFile = path.join(st.stateDir, 'latency-relay.json');
  const cfg: RelayConfig = {
    routes: st.hosts.flatMap((h) => (h.relay ? [{ host: h.name, listenIp: h.relay.ip, listenPort: h.relay.port, targetIp: h.ip, targetPort: h.port, latency: { rttMs: h.relay.rttMs, jitterMs: h.relay.jitterMs } }] : [])),
  };
  writeFileSync(cfgFile, `${JSON.stringify(cfg, null, 2)}\n`);
  const log = openSync(path.join(st.stateDir, 'latency-relay.log'), 'a');
  const child = spawn(process.execPath, [script, cfgFile], { detached: true, stdio: ['ignore', log, log] });
  closeSync(log);
  child.on('error', () => undefined);
  child.unref();
  const start = child.pid === undefined ? undefined : startTimeOf(child.pid);
  if (child.pid === undefined || start === undefined) throw new ObiamError('E_LAB_COMMAND', 'the latency relay did not start', { remedy: `see ${st.stateDir}/latency-relay.log` });
  const rec = { pid: child.pid, start, what: 'latency relay' };
  st.created.pids.push(rec);
  save(st);
  // A wire does not wait for a CPU: on a busy machine the relay's timers would otherwise fire late and
  // add the scheduler's delay to every hop. Best effort (root may raise priority; others keep 0).
  try {
    setPriority(child.pid, -10);
  } catch {
    // not permitted: the delay is then at least as long as asked, only less exact
  }
  const end = Date.now() + 15_000;
  while (!existsSync(`${cfgFile}.ready`)) {
    if (!isAlive(rec) || Date.now() > end) {
      throw new ObiamError('E_LAB_COMMAND', `the latency relay did not come up:\n${tail(path.join(st.stateDir, 'latency-relay.log'))}`, { remedy: `see ${st.stateDir}/latency-relay.log` });
    }
    await sleep(20);
  }
  const lines = st.hosts.flatMap((h, i) => (h.relay ? [`[${h.relay.ip}]:${h.relay.port} ${hostPubs[i].trim().split(/\s+/).slice(0, 2).join(' ')}`] : []));
  writeFileSync(st.knownHostsFile, `${readFileSync(st.knownHostsFile, 'utf8')}${lines.join('\n')}\n`);
}

function writeInventories(st: LabState): void {
  writeLabInventories(
    st,
    { privateKeyFile: st.privateKeyFile, knownHostsFile: st.knownHostsFile, sudoPassword: st.sudoPassword, dbAdminPassword: st.services?.db?.adminPassword, ldapAdminPassword: st.services?.ldap?.adminPassword },
    { hostsFile: st.inventoryFile, inventoryFile: st.siteInventoryFile },
    st.product,
    path.join(repoRoot(), 'inventory', 'group_vars'),
    Object.fromEntries(st.hosts.filter((h) => h.relay).map((h) => [h.name, { ip: h.relay!.ip, port: h.relay!.port }])),
  );
}

/** Stops and removes exactly what lab.json records, then checks that none of it is left. */
async function teardown(st: LabState): Promise<{ removed: string[]; leftovers: string[] }> {
  const removed: string[] = [];
  const { pids } = st.created;
  const wasAlive = pids.filter(isAlive);
  for (const p of wasAlive) signal(p, 'SIGTERM');
  // A big lab's hosts take longer to die on a busy machine (each unmounts its overlay and namespaces).
  const end = Date.now() + (st.systemd ? 10_000 : 3_000) + 25 * st.hosts.length;
  while (wasAlive.some(isAlive) && Date.now() < end) await sleep(25);
  for (const p of wasAlive) signal(p, 'SIGKILL');
  const killEnd = Date.now() + 2_000;
  while (wasAlive.some(isAlive) && Date.now() < killEnd) await sleep(25);
  for (const p of wasAlive) if (!isAlive(p)) removed.push(`pid ${p.pid} (${p.what})`);

  for (const m of st.created.mounts) {
    if (mountsUnder(m).includes(m) && (await run('umount', ['-l', m])).code === 0) removed.push(`mount ${m}`);
  }
  removed.push(...(await removeNetwork(st.created.netns, st.created.links)).removed);

  for (const d of st.created.dirs) {
    // Never recurse into a mounted file system: an overlay of `/` would take the machine with it.
    if (existsSync(d) && mountsUnder(d).length === 0) {
      rmSync(d, { recursive: true, force: true });
      removed.push(`dir ${d}`);
    }
  }
  if (st.inotify && st.systemd) restoreInotify(st);
  await restoreNeigh();

  const leftovers: string[] = [];
  for (const p of pids) if (isAlive(p)) leftovers.push(`pid ${p.pid} (${p.what})`);
  const nsAfter = await netnsNames();
  for (const n of st.created.netns) if (nsAfter.has(n)) leftovers.push(`netns ${n}`);
  const linksAfter = await linkNames();
  for (const l of st.created.links) if (linksAfter.has(l)) leftovers.push(`link ${l}`);
  for (const m of mountsUnder(st.stateDir)) leftovers.push(`mount ${m}`);
  for (const d of st.created.dirs) if (existsSync(d)) leftovers.push(`dir ${d}`);

  if (leftovers.length === 0) {
    if (mountsUnder(st.stateDir).length === 0) rmSync(st.stateDir, { recursive: true, force: true });
  } else {
    st.status = 'failed';
    save(st);
  }
  return { removed, leftovers };
}

function restoreInotify(st: LabState): void {
  // Only if no other systemd lab still needs the raised limit, and nobody changed it since.
  const root = path.dirname(st.stateDir);
  const others = existsSync(root)
    ? readdirSync(root).filter((d) => {
        if (d === st.name) return false;
        try {
          const o = load(path.join(root, d));
          return !!o && o.systemd && o.created.pids.some(isAlive);
        } catch {
          return false;
        }
      })
    : [];
  if (others.length === 0 && st.inotify && readFileSync(INOTIFY, 'utf8').trim() === st.inotify.set) writeFileSync(INOTIFY, st.inotify.previous);
}

/** Takes a lab down: SIGTERM (then SIGKILL) to recorded PIDs, delete recorded namespaces/links/dirs. */
export async function labDown(opts: LabDownOptions = {}): Promise<{ removed: string[]; leftovers: string[] }> {
  const name = opts.name ?? DEFAULT_LAB.name;
  validateLabName(name);
  const stateDir = path.join(path.resolve(opts.stateRoot ?? defaultStateRoot()), name);
  const st = load(stateDir);
  if (!st) throw notFound(name, stateDir);
  return teardown(st);
}

/** Every lab under the state root (or the one named), with which hosts' PID 1 is alive. */
export async function labStatus(opts: LabDownOptions = {}): Promise<LabStatus[]> {
  const root = path.resolve(opts.stateRoot ?? defaultStateRoot());
  let names: string[];
  if (opts.name !== undefined) {
    validateLabName(opts.name);
    if (!existsSync(stateFile(path.join(root, opts.name)))) throw notFound(opts.name, path.join(root, opts.name));
    names = [opts.name];
  } else {
    names = existsSync(root) ? readdirSync(root).filter((d) => existsSync(stateFile(path.join(root, d)))).sort() : [];
  }
  return names.map((n) => {
    const st = load(path.join(root, n))!;
    const alive = Object.fromEntries(st.hosts.map((h) => [h.name, recordOf(st, h.name) !== undefined && isAlive(recordOf(st, h.name)!)]));
    return { ...infoOf(st), alive, status: st.status };
  });
}

function recordOf(st: LabState, host: string): RecordedPid | undefined {
  return st.created.pids.find((p) => p.what === `init ${host}`);
}

function hostOf(info: LabInfo, hostName: string): LabHost {
  const h = info.hosts.find((x) => x.name === hostName);
  if (!h) throw new ObiamError('E_LAB_NO_HOST', `lab '${info.name}' has no host '${hostName}'`, { remedy: `hosts: ${info.hosts.map((x) => x.name).join(', ')}` });
  return h;
}

function linkOf(info: LabInfo, h: LabHost): string {
  return h.link ?? `${info.prefix}v${info.hosts.indexOf(h)}`;
}

/** Sets the host's veth down on the bridge side: the host stays up but nothing reaches it. */
export async function hostLinkDown(info: LabInfo, hostName: string): Promise<void> {
  await must('ip', ['link', 'set', linkOf(info, hostOf(info, hostName)), 'down']);
}

export async function hostLinkUp(info: LabInfo, hostName: string): Promise<void> {
  await must('ip', ['link', 'set', linkOf(info, hostOf(info, hostName)), 'up']);
}

/** Kills the host's PID 1 (sshd, or systemd): the host dies at once, as on a power cut. */
export async function killSshd(info: LabInfo, hostName: string): Promise<void> {
  hostOf(info, hostName);
  const st = load(info.stateDir);
  const rec = st && recordOf(st, hostName);
  if (!rec) throw notFound(info.name, info.stateDir);
  signal(rec, 'SIGKILL');
  const end = Date.now() + 5_000;
  while (isAlive(rec) && Date.now() < end) await sleep(10);
}

/** The recorded PID of the lab's MariaDB ('db') or slapd ('ldap'). */
function serviceRecord(st: LabState, kind: 'db' | 'ldap'): RecordedPid | undefined {
  const svc = st.services?.[kind];
  return svc && st.created.pids.find((p) => p.what === `service ${svc.name}`);
}

function noService(info: LabInfo, kind: 'db' | 'ldap'): ObiamError {
  return new ObiamError('E_LAB_NO_SERVICE', `lab '${info.name}' has no ${kind === 'db' ? 'database' : 'directory'} service`, { remedy: 'bring the lab up with a storage, db or ldap host' });
}

/** Stops the lab's MariaDB or slapd (a database or directory outage); labServiceStart brings it back. */
export async function labServiceStop(info: LabInfo, kind: 'db' | 'ldap'): Promise<void> {
  const st = load(info.stateDir);
  if (!st) throw notFound(info.name, info.stateDir);
  const rec = serviceRecord(st, kind);
  if (!rec) throw noService(info, kind);
  if (!(await stopService(rec))) throw new ObiamError('E_LAB_SERVICE', `${rec.what} did not stop`, { remedy: `obiam-run lab down --name ${info.name}` });
}

/** Starts the lab's MariaDB or slapd again on its data (no-op while it runs). */
export async function labServiceStart(info: LabInfo, kind: 'db' | 'ldap'): Promise<void> {
  const st = load(info.stateDir);
  if (!st) throw notFound(info.name, info.stateDir);
  const old = serviceRecord(st, kind);
  if (!old) throw noService(info, kind);
  if (isAlive(old)) return;
  const replace = (rec: RecordedPid): void => {
    st.created.pids = st.created.pids.map((p) => (p === old ? rec : p));
    save(st);
  };
  if (kind === 'db') await startDb(st.services!.db!, replace);
  else await startLdap(st.services!.ldap!, replace);
}

/** The content inventory/lab.yml must have: the default lab as `lab up` plans it. */
export function defaultLabInventory(): string {
  return checkedInInventory(planLab(DEFAULT_LAB.name, DEFAULT_LAB.hosts, DEFAULT_LAB.with));
}
