// What makes a lab host a host: files written into its overlay upper layer before it starts
// (host key, sshd drop-in, users, sudoers, /etc/hosts, NFS helper) and the script that boots it.
// The RDBMS and LDAP of the lab are real servers started beside the hosts (services.ts).
import { chmodSync, chownSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync, existsSync, lstatSync } from 'node:fs';
import path from 'node:path';
import type { LabPlan, PlannedHost } from './plan.js';
import { SUDO_USER } from './plan.js';

export interface HostDirs {
  dir: string;
  upper: string;
  work: string;
  root: string; // overlay mount point (mounted only inside the host's own mount namespace)
  log: string;
  init: string;
}

export function hostDirs(stateDir: string, host: string): HostDirs {
  const dir = path.join(stateDir, 'hosts', host);
  return { dir, upper: path.join(dir, 'upper'), work: path.join(dir, 'work'), root: path.join(dir, 'root'), log: path.join(dir, 'console.log'), init: path.join(dir, 'init.sh') };
}

/** Directories that start empty on every host: made opaque so the outer machine's content is hidden. */
export const OPAQUE_DIRS = ['opt', 'srv', 'root', 'etc/ssh/sshd_config.d', 'etc/sudoers.d'];

export const SSHD_DROPIN = 'etc/ssh/sshd_config.d/00-obiam-lab.conf';

function sq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

function write(file: string, text: string, mode = 0o644): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text, { mode });
  chmodSync(file, mode);
}

export function sshdDropIn(): string {
  return [
    '# obiam-run lab host: key auth for root, password or key for the sudo user.',
    'HostKey /etc/ssh/ssh_host_ed25519_key',
    'PermitRootLogin prohibit-password',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UseDNS no',
    'MaxSessions 50',
    'MaxStartups 100',
    'AllowTcpForwarding yes',
    `Match User ${SUDO_USER}`,
    '  PasswordAuthentication yes',
    '',
  ].join('\n');
}

export function etcHosts(plan: LabPlan): string {
  const lines = ['127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback', `${plan.bridgeIp}\tcontroller`];
  for (const h of plan.hosts) lines.push(`${h.ip}\t${h.name}`);
  return `${lines.join('\n')}\n`;
}

/**
 * `mount -t nfs|nfs4 storage1:/path dir` as an sshfs mount of the lab's storage host: this kernel has
 * no NFS client, and the real NFS code path (mount, fstab) should still run unchanged. Lab-only.
 */
export function nfsHelper(): string {
  return `#!/bin/sh
# obiam-run LAB ONLY (never deployed to real hosts): serves an NFS mount with sshfs to the lab's
# storage host, because the lab kernel has no NFS client. NFS options are ignored except ro.
spec="$1"; dir="$2"
[ $# -ge 2 ] && shift 2
ro=""
while [ $# -gt 0 ]; do
  case "$1" in
    -o) case ",$2," in *,ro,*) ro=",ro" ;; esac; shift; [ $# -gt 0 ] && shift ;;
    -o*) case ",\${1#-o}," in *,ro,*) ro=",ro" ;; esac; shift ;;
    *) shift ;;
  esac
done
case "$spec" in
  *:/*) ;;
  *) echo "mount.nfs: $spec: expected host:/path" >&2; exit 32 ;;
esac
host="\${spec%%:*}"
src="\${spec#*:}"
exec sshfs "root@$host:$src" "$dir" -o "fsname=$spec,IdentityFile=/etc/obiam-lab/id_ed25519,UserKnownHostsFile=/etc/obiam-lab/known_hosts,StrictHostKeyChecking=yes,BatchMode=yes,ConnectTimeout=5,ServerAliveInterval=5,reconnect,allow_other$ro"
`;
}

export interface UserEntry {
  uid: number;
  passwordHash: string;
}

/** A uid/gid free on the outer machine (the hosts share its /etc/passwd as their lower layer). */
export function freeUid(): number {
  const used = new Set<number>();
  for (const f of ['/etc/passwd', '/etc/group']) {
    for (const l of readFileSync(f, 'utf8').split('\n')) {
      const n = Number(l.split(':')[2]);
      if (Number.isInteger(n)) used.add(n);
    }
  }
  let uid = 2001;
  while (used.has(uid)) uid++;
  return uid;
}

function withLine(file: string, user: string, line: string): string {
  const kept = readFileSync(file, 'utf8').split('\n').filter((l) => l !== '' && !l.startsWith(`${user}:`));
  return `${[...kept, line].join('\n')}\n`;
}

/**
 * The outer machine's `*.wants` / `*.requires` directories under /etc/systemd/system: a systemd host
 * gets them empty and opaque, so nothing the outer machine enables starts at boot (ssh is linked back
 * in), while those units stay startable on demand (`systemctl start haproxy` in a playbook).
 */
export function systemdOpaqueDirs(): string[] {
  const base = '/etc/systemd/system';
  if (!existsSync(base)) return [];
  return readdirSync(base)
    .filter((d) => d.endsWith('.wants') || d.endsWith('.requires'))
    .map((d) => `etc/systemd/system/${d}`);
}

/** Units that fail in a container without real hardware or with a read-only sysfs: masked. */
const BROKEN_IN_CONTAINER = [
  'systemd-networkd-wait-online.service',
  'systemd-timesyncd.service',
  'getty@tty1.service',
  'systemd-resolved.service',
  'cron.service',
  'e2scrub_reap.service',
  'apt-daily.timer',
  'apt-daily-upgrade.timer',
];

export interface PrepareOptions {
  plan: LabPlan;
  host: PlannedHost;
  dirs: HostDirs;
  clientPublicKey: string;
  clientPrivateKey: string;
  knownHosts: string;
  user: UserEntry;
  systemd: boolean;
  startDelayMs: number;
}

/** Writes the host's upper layer and boot script. The caller makes OPAQUE_DIRS opaque (setfattr). */
export function prepareHost(o: PrepareOptions): void {
  const { upper } = o.dirs;
  for (const d of [o.dirs.dir, upper, o.dirs.work, o.dirs.root]) mkdirSync(d, { recursive: true });
  for (const d of OPAQUE_DIRS) mkdirSync(path.join(upper, d), { recursive: true });
  chmodSync(path.join(upper, 'root'), 0o700);
  chmodSync(path.join(upper, 'etc/sudoers.d'), 0o755);
  write(path.join(upper, 'root/.ssh/authorized_keys'), o.clientPublicKey, 0o600);
  chmodSync(path.join(upper, 'root/.ssh'), 0o700);
  write(path.join(upper, SSHD_DROPIN), sshdDropIn());
  write(path.join(upper, 'etc/hosts'), etcHosts(o.plan));
  write(path.join(upper, 'etc/hostname'), `${o.host.name}\n`);
  // The sudo user: appended to copies of the outer account files, in the upper layer only.
  const { uid } = o.user;
  write(path.join(upper, 'etc/passwd'), withLine('/etc/passwd', SUDO_USER, `${SUDO_USER}:x:${uid}:${uid}:obiam-run lab sudo user:/home/${SUDO_USER}:/bin/bash`));
  write(path.join(upper, 'etc/group'), withLine('/etc/group', SUDO_USER, `${SUDO_USER}:x:${uid}:`));
  write(path.join(upper, 'etc/shadow'), withLine('/etc/shadow', SUDO_USER, `${SUDO_USER}:${o.user.passwordHash}:19000:0:99999:7:::`), 0o640);
  if (existsSync('/etc/gshadow')) write(path.join(upper, 'etc/gshadow'), withLine('/etc/gshadow', SUDO_USER, `${SUDO_USER}:!::`), 0o640);
  chownShadow(upper);
  const home = path.join(upper, 'home', SUDO_USER);
  write(path.join(home, '.ssh/authorized_keys'), o.clientPublicKey, 0o600);
  for (const p of [home, path.join(home, '.ssh'), path.join(home, '.ssh/authorized_keys')]) chownSync(p, uid, uid);
  chmodSync(path.join(home, '.ssh'), 0o700);
  chmodSync(home, 0o750);
  write(path.join(upper, 'etc/sudoers.d/obiam-lab'), `# obiam-run lab: the sudo user needs its password.\nDefaults:${SUDO_USER} lecture=never\n${SUDO_USER} ALL=(ALL:ALL) ALL\n`, 0o440);
  // The lab key and known_hosts inside the host: the NFS helper's sshfs and host-to-host ssh use them.
  write(path.join(upper, 'etc/obiam-lab/id_ed25519'), o.clientPrivateKey, 0o600);
  write(path.join(upper, 'etc/obiam-lab/known_hosts'), o.knownHosts);
  if (o.host.role === 'storage') mkdirSync(path.join(upper, 'srv/export'), { recursive: true, mode: 0o755 });
  else for (const n of ['mount.nfs', 'mount.nfs4']) write(path.join(upper, 'usr/sbin', n), nfsHelper(), 0o755);
  if (o.systemd) prepareSystemd(upper);
  write(o.dirs.init, o.systemd ? systemdInit(o) : plainInit(o), 0o755);
}

function chownShadow(upper: string): void {
  // Debian keeps /etc/shadow as root:shadow 0640; copy the outer ownership.
  for (const f of ['shadow', 'gshadow']) {
    const p = path.join(upper, 'etc', f);
    if (!existsSync(p) || !existsSync(`/etc/${f}`)) continue;
    const st = lstatSync(`/etc/${f}`);
    chownSync(p, st.uid, st.gid);
  }
}

function prepareSystemd(upper: string): void {
  const sys = path.join(upper, 'etc/systemd/system');
  mkdirSync(sys, { recursive: true });
  for (const u of BROKEN_IN_CONTAINER) {
    const p = path.join(sys, u);
    if (!existsSync(p)) symlinkSync('/dev/null', p);
  }
  for (const d of systemdOpaqueDirs()) mkdirSync(path.join(upper, d), { recursive: true });
  const wants = path.join(sys, 'multi-user.target.wants');
  mkdirSync(wants, { recursive: true });
  const unit = ['/lib/systemd/system/ssh.service', '/usr/lib/systemd/system/ssh.service'].find((p) => existsSync(p));
  if (unit && !existsSync(path.join(wants, 'ssh.service'))) symlinkSync(unit, path.join(wants, 'ssh.service'));
}

function overlayMount(d: HostDirs): string {
  return `mount -t overlay overlay -o lowerdir=/,upperdir=${sq(d.upper)},workdir=${sq(d.work)} ${sq(d.root)}`;
}

/** Runs inside fresh mount/uts/ipc/pid namespaces (and the host's netns): root switch, then sshd as PID 1. */
function plainInit(o: PrepareOptions): string {
  const R = sq(o.dirs.root);
  const delay = o.startDelayMs > 0 ? `sleep ${(o.startDelayMs / 1000).toFixed(3)}\n` : '';
  return `#!/bin/sh
# obiam-run lab host ${o.host.name}: overlay root over /, fresh /proc /run /tmp, sshd as PID 1.
set -e
mount --make-rprivate /
${overlayMount(o.dirs)}
mount -t proc proc ${R}/proc
mount -t sysfs -o ro sysfs ${R}/sys
mount --rbind /dev ${R}/dev
mount -t tmpfs -o mode=1777 tmpfs ${R}/dev/shm
mount -t tmpfs -o mode=755 tmpfs ${R}/run
mkdir -m 755 ${R}/run/sshd
mount -t tmpfs -o mode=1777 tmpfs ${R}/tmp
hostname ${sq(o.host.name)}
mkdir -p ${R}/.obr-oldroot
cd ${R}
pivot_root . .obr-oldroot
cd /
umount -l /.obr-oldroot
rmdir /.obr-oldroot
${delay}exec /usr/sbin/sshd -D -e
`;
}

/** Runs in a private mount namespace: overlay root, then systemd-nspawn boots systemd in the host's netns. */
function systemdInit(o: PrepareOptions): string {
  const delay = o.startDelayMs > 0 ? `sleep ${(o.startDelayMs / 1000).toFixed(3)}\n` : '';
  return `#!/bin/sh
# obiam-run lab host ${o.host.name} (systemd): overlay root over /, systemd as PID 1 via systemd-nspawn.
set -e
mount --make-rprivate /
${overlayMount(o.dirs)}
${delay}exec systemd-nspawn --quiet --boot --register=no --keep-unit --console=read-only \\
  --directory=${sq(o.dirs.root)} --machine=${sq(o.host.netns)} --hostname=${sq(o.host.name)} \\
  --network-namespace-path=/run/netns/${sq(o.host.netns)} --bind=/dev/fuse --capability=all
`;
}
