// Every flag of `npm run bench` declared once: the parser and the --help text both come from this table.

/** @typedef {{ workloads: string[], runs: number, hosts: number[] | null, rtts: number[] | null, lab: string, quick: boolean, keepLogs: boolean, help: boolean }} BenchOptions */

export const WORKLOADS = ['a', 'b', 'c', 'd', 'e'];

export const FLAGS = [
  { name: '--workload', value: 'a|b|c|d|e|all', help: 'which workloads to run (comma list allowed)', default: 'all' },
  { name: '--rtt', value: 'MS[,MS...]', help: 'workload d: round-trip times to add (lab up --latency); default 0,5,20,50' },
  { name: '--lab', value: 'NAME', help: 'name of the benchmark lab (default bench; d uses NAME-d)' },
  { name: '--runs', value: 'N', help: 'measured runs per tool (A B A B ...); default 3, 1 with --quick' },
  { name: '--hosts', value: 'N[,N...]', help: 'host counts to run each selected workload at (replaces the defaults)' },
  { name: '--quick', help: 'smoke sizes: a 5 hosts x 10 tasks (no Ansible-defaults run), b 20 MiB to 5 hosts, c 5/10/20 hosts' },
  { name: '--keep-logs', help: 'keep the temp dir (playbooks, configs, every tool log) and print its path' },
  { name: '--help', help: 'print this help' },
];

export function usage() {
  const rows = FLAGS.map((f) => [`${f.name}${f.value ? ` ${f.value}` : ''}`, f.help]);
  const w = Math.max(...rows.map((r) => r[0].length));
  return ['usage: npm run bench -- [options]   (or: node bench/run.js [options])', '',
    ...rows.map(([a, b]) => `  ${a.padEnd(w)}  ${b}`)].join('\n');
}

/** Parses argv; throws an Error with a one-line message on a bad flag. */
export function parseOptions(argv) {
  /** @type {BenchOptions} */
  const o = { workloads: [...WORKLOADS], runs: 0, hosts: null, rtts: null, lab: 'bench', quick: false, keepLogs: false, help: false };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s, 2);
    const known = FLAGS.find((f) => f.name === flag);
    if (!known) throw new Error(`unknown option '${argv[i]}'`);
    const value = known.value ? (inline ?? argv[++i]) : undefined;
    if (known.value && (value === undefined || value === '')) throw new Error(`${flag} needs a value (${known.value})`);
    switch (flag) {
      case '--workload': {
        const parts = value.split(',').map((s) => s.trim().toLowerCase());
        if (parts.includes('all')) { o.workloads = [...WORKLOADS]; break; }
        for (const p of parts) if (!WORKLOADS.includes(p)) throw new Error(`--workload: '${p}' is not ${WORKLOADS.join(', ')} or all`);
        o.workloads = WORKLOADS.filter((w) => parts.includes(w));
        break;
      }
      case '--runs':
        o.runs = Number(value);
        if (!Number.isInteger(o.runs) || o.runs < 1) throw new Error(`--runs must be a whole number >= 1, got '${value}'`);
        break;
      case '--hosts':
        o.hosts = value.split(',').map(Number);
        if (o.hosts.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`--hosts must be whole numbers >= 1, got '${value}'`);
        break;
      case '--rtt':
        o.rtts = value.split(',').map(Number);
        if (o.rtts.some((n) => !Number.isFinite(n) || n < 0 || n > 1000)) throw new Error(`--rtt must be milliseconds 0..1000, got '${value}'`);
        break;
      case '--lab':
        if (!/^[a-z0-9][a-z0-9-]{0,29}$/.test(value)) throw new Error(`--lab: '${value}' is not a lab name (lower-case letters, digits, -; at most 30)`);
        o.lab = value;
        break;
      case '--quick': o.quick = true; break;
      case '--keep-logs': o.keepLogs = true; break;
      case '--help': o.help = true; break;
    }
  }
  if (o.runs === 0) o.runs = o.quick ? 1 : 3;
  return o;
}
