// The tools under test: obiam-run, ansible-playbook in three set-ups, and the raw ssh pipe of workload b.
// Each one writes its configuration, runs one timed playbook run, and cleans up what the run left.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { mapLimit, runCmd, runTimed } from './measure.js';
import { sshArgs } from './lab.js';

export const ANSIBLE_PLAYBOOK = '/usr/bin/ansible-playbook';
export const MITOGEN_STRATEGY_DIR = '/usr/lib/python3/dist-packages/ansible_mitogen/plugins/strategy';

/** Environment for ansible-playbook: its own config, no colors, no Python settings of the caller's pyenv. */
function ansibleEnv(cfg) {
  const env = { ...process.env, ANSIBLE_CONFIG: cfg, ANSIBLE_NOCOLOR: '1', ANSIBLE_FORCE_COLOR: '0' };
  for (const k of ['PYTHONPATH', 'PYTHONHOME', 'PYENV_VERSION', 'ANSIBLE_STRATEGY', 'ANSIBLE_SSH_ARGS']) delete env[k];
  return env;
}

/**
 * The ansible.cfg of one variant. `tuned`: the settings the issue names as Ansible's best; `defaults`:
 * only what is needed to reach the lab at all (interpreter, strict known_hosts), everything else Ansible's;
 * `mitogen`: tuned plus the mitogen_linear strategy.
 */
function ansibleCfg(variant, { forks, knownHosts, tmp, controlDir }) {
  const strict = `-o UserKnownHostsFile=${knownHosts} -o StrictHostKeyChecking=yes`;
  const defaults = ['[defaults]', 'interpreter_python = /usr/bin/python3', 'host_key_checking = True',
    'retry_files_enabled = False', `local_tmp = ${tmp}/ansible-local`];
  const ssh = ['[ssh_connection]', `ssh_common_args = ${strict}`, `control_path_dir = ${controlDir}`];
  if (variant !== 'defaults') {
    defaults.push(`forks = ${forks}`);
    ssh.push('pipelining = True', 'ssh_args = -o ControlMaster=auto -o ControlPersist=60s');
  }
  if (variant === 'mitogen') defaults.push(`strategy_plugins = ${MITOGEN_STRATEGY_DIR}`, 'strategy = mitogen_linear');
  return `${[...defaults, '', ...ssh].join('\n')}\n`;
}

/** Settings of each tool as shown in the output and the JSON. */
export function toolSettings(id, forks) {
  switch (id) {
    case 'obiam-run': return `obiam-run -f ${forks} (one ssh2 connection and one persistent remote shell per host; strict known_hosts; files of 8 MiB and more through the system ssh, aes128-gcm first)`;
    case 'obiam-run-ssh2': return `obiam-run -f ${forks} with OBIAM_BULK_SSH=0: big files over the ssh2 connection too (encrypted on Node's one thread)`;
    case 'ansible': return `ansible-playbook: forks=${forks}, pipelining=True, ssh_args="-o ControlMaster=auto -o ControlPersist=60s", ` +
      'ssh_common_args="-o UserKnownHostsFile=<lab known_hosts> -o StrictHostKeyChecking=yes", interpreter_python=/usr/bin/python3, gather_facts: false';
    case 'ansible-defaults': return 'ansible-playbook with its defaults: forks=5, pipelining=False, ssh_args="-C -o ControlMaster=auto -o ControlPersist=60s" ' +
      '(plus the strict known_hosts and the interpreter, needed to reach the lab), gather_facts: false';
    case 'ansible-mitogen': return `ansible-playbook + Mitogen (strategy=mitogen_linear) with the tuned settings, forks=${forks}`;
    case 'raw-pipe': return 'cat FILE | ssh root@host \'cat > /srv/bench/artifact.bin\' to every host in parallel (OpenSSH defaults)';
  }
  return id;
}

/** CPU seconds and peak RSS (KiB) of a process, from /proc (clock ticks of 1/100 s on Linux). */
function procCpu(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
    const hwm = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return { cpuS: ticks / 100, rssKb: hwm ? Number(hwm[1]) : 0 };
  } catch { return { cpuS: 0, rssKb: 0 }; }
}

/**
 * Ends the ControlPersist masters a run left in its control dir. They were daemonized, so /usr/bin/time
 * never waited for them: their CPU (the encryption of the whole run) is read from /proc first and added.
 * Closing them also makes every run start cold, as obiam-run's runs do.
 */
async function closeMasters(controlDir) {
  if (!existsSync(controlDir)) return { cpuS: 0, rssKb: 0, masters: 0 };
  const socks = readdirSync(controlDir).map((s) => path.join(controlDir, s));
  const found = await mapLimit(socks, 10, async (sock) => {
    const check = await runCmd('ssh', ['-O', 'check', '-o', `ControlPath=${sock}`, 'bench-master'], { allowFail: true });
    const pid = Number(/pid=(\d+)/.exec(check.stderr + check.stdout)?.[1] ?? 0);
    const usage = pid ? procCpu(pid) : { cpuS: 0, rssKb: 0 };
    await runCmd('ssh', ['-O', 'exit', '-o', `ControlPath=${sock}`, 'bench-master'], { allowFail: true });
    if (pid) await waitGone(pid, sock);
    rmSync(sock, { force: true });
    return usage;
  });
  return { cpuS: found.reduce((s, u) => s + u.cpuS, 0), rssKb: Math.max(0, ...found.map((u) => u.rssKb)), masters: found.length };
}

/** Waits up to 3 s for a master to exit after `-O exit`; then TERMs it, if it is still that master. */
async function waitGone(pid, sock) {
  for (let i = 0; i < 60; i++) {
    if (!existsSync(`/proc/${pid}`)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  try {
    if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(sock)) process.kill(pid, 'SIGTERM');
  } catch { /* gone */ }
}

/** Recap lines of both tools: `host : ok=N changed=N unreachable=N failed=N ...`. */
export function parseRecap(logFile) {
  const text = readFileSync(logFile, 'utf8');
  const hosts = {};
  for (const m of text.matchAll(/^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)\s+skipped=(\d+)/gm)) {
    hosts[m[1]] = { ok: +m[2], changed: +m[3], unreachable: +m[4], failed: +m[5], skipped: +m[6] };
  }
  const sum = (k) => Object.values(hosts).reduce((s, h) => s + h[k], 0);
  return { hosts: Object.keys(hosts).length, ok: sum('ok'), changed: sum('changed'), unreachable: sum('unreachable'), failed: sum('failed') };
}

/**
 * One timed run of `tool` on a playbook. Returns the measurement; `recap` is parsed from the tool's log
 * (the raw pipe has none). ctx: { repo, tmp, lab, logDir }.
 */
export async function runTool(tool, ctx, { playbook, inventory, hosts, label }) {
  const logFile = path.join(ctx.logDir, `${label}.log`);
  const forks = hosts.length;
  if (tool === 'obiam-run' || tool === 'obiam-run-ssh2') {
    // obiam-run-ssh2 (workload b): every byte over the ssh2 connection, the option the bulk ssh path replaces.
    const m = await runTimed({
      cmd: process.execPath, args: [path.join(ctx.repo, 'bin/obiam-run.js'), playbook, '-i', inventory, '-f', String(forks)],
      cwd: ctx.repo, env: { ...process.env, NO_COLOR: '1', ...(tool === 'obiam-run-ssh2' ? { OBIAM_BULK_SSH: '0' } : {}) }, logFile,
    });
    return { ...m, recap: parseRecap(logFile), extraCpuS: 0 };
  }
  if (tool === 'raw-pipe') {
    const file = playbook; // for the raw pipe the "playbook" is the artifact itself
    const q = (s) => `'${String(s).replace(/'/g, `'\\''`)}'`;
    const lines = ['rc=0', 'pids=""'];
    for (const h of hosts) {
      lines.push(`ssh ${sshArgs(ctx.lab, h.ip).map(q).join(' ')} 'mkdir -p /srv/bench && cat > /srv/bench/artifact.bin' < ${q(file)} & pids="$pids $!"`);
    }
    lines.push('for p in $pids; do wait "$p" || rc=1; done', 'exit $rc');
    const m = await runTimed({ cmd: '/bin/sh', args: ['-c', lines.join('\n')], cwd: ctx.tmp, logFile });
    return { ...m, recap: null, extraCpuS: 0 };
  }
  const variant = tool === 'ansible' ? 'tuned' : tool.replace(/^ansible-/, '');
  const controlDir = path.join(ctx.tmp, 'cp', `${variant}-${forks}`);
  mkdirSync(controlDir, { recursive: true });
  const cfg = path.join(ctx.tmp, `ansible-${variant}-${forks}.cfg`);
  writeFileSync(cfg, ansibleCfg(variant, { forks, knownHosts: ctx.lab.knownHosts, tmp: ctx.tmp, controlDir }));
  let m;
  let masters;
  try {
    m = await runTimed({ cmd: ANSIBLE_PLAYBOOK, args: ['-i', inventory, playbook], cwd: path.dirname(playbook), env: ansibleEnv(cfg), logFile });
  } finally {
    masters = await closeMasters(controlDir);
  }
  return { ...m, recap: parseRecap(logFile), extraCpuS: masters.cpuS, maxRssKb: Math.max(m.maxRssKb, masters.rssKb), masters: masters.masters };
}

/** Whether ansible-playbook runs with the Mitogen strategy here: a one-task play on one lab host. */
export async function probeMitogen(ctx, inventory, host) {
  if (!existsSync(path.join(MITOGEN_STRATEGY_DIR, 'mitogen_linear.py'))) {
    return { ok: false, why: 'ansible-mitogen is not installed (apt-get install -y ansible-mitogen, or bash bench/install.sh)' };
  }
  const dir = path.join(ctx.tmp, 'mitogen-probe');
  mkdirSync(dir, { recursive: true });
  const pb = path.join(dir, 'probe.yml');
  writeFileSync(pb, '- hosts: bench\n  gather_facts: false\n  tasks:\n    - command: {cmd: "true"}\n');
  const r = await runTool('ansible-mitogen', ctx, { playbook: pb, inventory, hosts: [host], label: 'mitogen-probe' });
  const log = readFileSync(r.logFile, 'utf8');
  if (r.exitCode === 0 && r.recap?.failed === 0 && r.recap?.unreachable === 0 && r.recap?.ok >= 1) return { ok: true, why: 'works' };
  return { ok: false, why: `ansible-mitogen is installed but fails with this ansible-core: ${log.trim().split('\n').slice(-3).join(' | ')}` };
}
