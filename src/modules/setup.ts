// setup: gathers facts in ONE round trip: a POSIX sh probe prints tagged sections, parsed here.
// Fact names follow Ansible's (ansible_hostname, ansible_memtotal_mb ...) so playbooks port as-is.
import { EXIT, ObiamError } from '../errors.js';
import type { ModuleDef } from './types.js';

interface SetupArgs {
  gather_subset?: string | string[];
  filter?: string | string[];
  gather_timeout?: number;
}

/** Each section starts with `@@name` on its own line; missing tools just leave a section empty. */
export const FACTS_PROBE = `
echo @@hostname; hostname 2>/dev/null || cat /proc/sys/kernel/hostname
echo @@fqdn; hostname -f 2>/dev/null || hostname
echo @@osrelease; cat /etc/os-release 2>/dev/null
echo @@kernel; uname -r; echo @@arch; uname -m; echo @@system; uname -s
echo @@nproc; nproc 2>/dev/null || getconf _NPROCESSORS_ONLN
echo @@meminfo; grep -E '^(MemTotal|MemFree|MemAvailable|SwapTotal|SwapFree):' /proc/meminfo 2>/dev/null
echo @@mounts; cat /proc/mounts 2>/dev/null
echo @@df; df -P -k 2>/dev/null | tail -n +2
echo @@route; ip -4 route get 1.1.1.1 2>/dev/null || ip -4 route show default 2>/dev/null
echo @@addrs; ip -4 -o addr show 2>/dev/null
echo @@init; cat /proc/1/comm 2>/dev/null
echo @@user; id -un; id -u; id -g; echo "$HOME"
echo @@java
if [ -n "$JAVA_HOME" ] && [ -x "$JAVA_HOME/bin/java" ]; then j="$JAVA_HOME/bin/java"; else j=$(command -v java 2>/dev/null); fi
if [ -n "$j" ]; then echo "path=$(readlink -f "$j")"; "$j" -version 2>&1 | head -n 3; fi
echo @@date; date -u +%Y-%m-%dT%H:%M:%SZ; date +%s
echo @@end
`;

export function parseSections(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let cur: string[] | undefined;
  for (const line of text.split('\n')) {
    const m = /^@@(\w+)$/.exec(line);
    if (m) {
      cur = [];
      out.set(m[1]!, cur);
    } else if (cur && line !== '') cur.push(line);
  }
  return out;
}

const OS_FAMILY: Record<string, string> = {
  debian: 'Debian', ubuntu: 'Debian', linuxmint: 'Debian', raspbian: 'Debian',
  rhel: 'RedHat', centos: 'RedHat', rocky: 'RedHat', almalinux: 'RedHat', ol: 'RedHat', fedora: 'RedHat', amzn: 'RedHat',
  sles: 'Suse', opensuse: 'Suse', 'opensuse-leap': 'Suse', alpine: 'Alpine', arch: 'Archlinux',
};

const DISTRIBUTION: Record<string, string> = {
  debian: 'Debian', ubuntu: 'Ubuntu', rhel: 'RedHat', centos: 'CentOS', rocky: 'Rocky', almalinux: 'AlmaLinux',
  ol: 'OracleLinux', fedora: 'Fedora', amzn: 'Amazon', sles: 'SLES', alpine: 'Alpine',
};

function kv(lines: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of lines) {
    const i = l.indexOf('=');
    if (i > 0) out[l.slice(0, i)] = l.slice(i + 1).replace(/^"(.*)"$/, '$1');
  }
  return out;
}

/** Parses `java -version` output: 1.8.0_151 style and 11/17 style. */
export function parseJavaVersion(lines: string[]): { version: string; major: number; vendor: string } | undefined {
  for (const l of lines) {
    const m = /version "([^"]+)"/.exec(l);
    if (!m) continue;
    const version = m[1]!;
    const parts = version.split(/[._-]/);
    const major = parts[0] === '1' ? Number(parts[1]) : Number(parts[0]);
    const vendor = /openjdk/i.test(lines.join(' ')) ? 'OpenJDK' : /java\(tm\)/i.test(lines.join(' ')) ? 'Oracle' : 'unknown';
    return { version, major, vendor };
  }
  return undefined;
}

export function buildFacts(text: string): Record<string, unknown> {
  const s = parseSections(text);
  const first = (k: string): string => (s.get(k) ?? [])[0]?.trim() ?? '';
  const os = kv(s.get('osrelease') ?? []);
  const id = (os.ID ?? '').toLowerCase();
  const mem: Record<string, number> = {};
  for (const l of s.get('meminfo') ?? []) {
    const m = /^(\w+):\s+(\d+)/.exec(l);
    if (m) mem[m[1]!] = Math.floor(Number(m[2]) / 1024);
  }
  const dfBy = new Map<string, { size: number; avail: number }>();
  for (const l of s.get('df') ?? []) {
    const f = l.trim().split(/\s+/);
    if (f.length >= 6) dfBy.set(f.slice(5).join(' '), { size: Number(f[1]) * 1024, avail: Number(f[3]) * 1024 });
  }
  const mounts = (s.get('mounts') ?? [])
    .map((l) => l.split(' '))
    .filter((f) => f.length >= 4 && dfBy.has(f[1]!))
    .map((f) => {
      const d = dfBy.get(f[1]!)!;
      return { device: f[0], mount: f[1], fstype: f[2], options: f[3], size_total: d.size, size_available: d.avail };
    });
  const route = (s.get('route') ?? []).join(' ');
  const dev = /\bdev (\S+)/.exec(route)?.[1];
  const gw = /\bvia (\S+)/.exec(route)?.[1];
  const addrs: { iface: string; address: string; prefix: number }[] = [];
  for (const l of s.get('addrs') ?? []) {
    const m = /^\d+:\s+(\S+)\s+inet\s+([\d.]+)\/(\d+)/.exec(l);
    if (m) addrs.push({ iface: m[1]!, address: m[2]!, prefix: Number(m[3]) });
  }
  const src = /\bsrc (\S+)/.exec(route)?.[1];
  const defAddr = addrs.find((a) => a.address === src) ?? addrs.find((a) => a.iface === dev) ?? addrs.find((a) => a.iface !== 'lo');
  const init = first('init');
  const [userName, uid, gid, home] = s.get('user') ?? [];
  const javaLines = s.get('java') ?? [];
  const javaPath = javaLines.find((l) => l.startsWith('path='))?.slice(5);
  const java = parseJavaVersion(javaLines);
  const version = os.VERSION_ID ?? '';
  return {
    ansible_hostname: first('hostname').split('.')[0],
    ansible_nodename: first('hostname'),
    ansible_fqdn: first('fqdn'),
    ansible_system: first('system'),
    ansible_kernel: first('kernel'),
    ansible_architecture: first('arch'),
    ansible_os_family: OS_FAMILY[id] ?? (os.ID_LIKE ? OS_FAMILY[os.ID_LIKE.split(' ')[0]!] : undefined) ?? (os.NAME ?? 'unknown'),
    ansible_distribution: DISTRIBUTION[id] ?? os.NAME ?? 'unknown',
    ansible_distribution_version: version,
    ansible_distribution_major_version: version.split('.')[0] ?? '',
    ansible_distribution_release: os.VERSION_CODENAME ?? '',
    ansible_processor_vcpus: Number(first('nproc')) || 1,
    ansible_processor_nproc: Number(first('nproc')) || 1,
    ansible_memtotal_mb: mem.MemTotal ?? 0,
    ansible_memfree_mb: mem.MemFree ?? 0,
    ansible_memavailable_mb: mem.MemAvailable ?? mem.MemFree ?? 0,
    ansible_swaptotal_mb: mem.SwapTotal ?? 0,
    ansible_mounts: mounts,
    ansible_default_ipv4: defAddr ? { address: defAddr.address, interface: defAddr.iface, prefix: String(defAddr.prefix), gateway: gw ?? '' } : {},
    ansible_all_ipv4_addresses: addrs.filter((a) => !a.address.startsWith('127.')).map((a) => a.address),
    // Ansible reports the init's name; a non-systemd PID 1 (sshd in the lab, sysvinit) is not 'systemd'.
    ansible_service_mgr: init === 'systemd' ? 'systemd' : init === 'init' ? 'sysvinit' : init || 'unknown',
    ansible_user_id: userName ?? '',
    ansible_user_uid: Number(uid),
    ansible_user_gid: Number(gid),
    ansible_user_dir: home ?? '',
    ansible_java: java ? { present: true, version: java.version, major: java.major, vendor: java.vendor, path: javaPath ?? '' } : { present: false },
    ansible_date_time: { iso8601: first('date'), epoch: (s.get('date') ?? [])[1] ?? '' },
  };
}

function globToRe(glob: string): RegExp {
  return new RegExp(`^${glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
}

export const setupModule: ModuleDef<SetupArgs> = {
  name: 'setup',
  gathersFacts: true,
  aliases: ['ansible.builtin.setup', 'gather_facts', 'ansible.builtin.gather_facts'],
  supportsCheck: true,
  schema: {
    type: 'object',
    properties: {
      gather_subset: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] },
      filter: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] },
      gather_timeout: { type: 'integer', minimum: 1 },
    },
    additionalProperties: false,
  },
  async run(args, ctx) {
    const r = await ctx.conn.exec(FACTS_PROBE, { timeoutMs: (args.gather_timeout ?? 30) * 1000 });
    if (r.timedOut || !r.stdout.includes('@@end')) {
      throw new ObiamError('E_FACTS', `gathering facts on ${ctx.host} ${r.timedOut ? 'timed out' : 'failed'}: ${r.stderr.trim().slice(0, 300)}`, {
        host: ctx.host,
        exitCode: EXIT.HOST_FAILED,
        remedy: 'check that /bin/sh and coreutils work on the host, or set gather_facts: false',
      });
    }
    let facts = buildFacts(r.stdout);
    const filters = args.filter === undefined ? [] : Array.isArray(args.filter) ? args.filter : [args.filter];
    if (filters.length > 0) {
      const res = filters.map(globToRe);
      facts = Object.fromEntries(Object.entries(facts).filter(([k]) => res.some((re) => re.test(k))));
    }
    return { changed: false, ansible_facts: facts };
  },
};
