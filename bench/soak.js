#!/usr/bin/env node
// Soak: N consecutive rolling restarts under load on a lab of its own (not part of CI).
//   npm run build && node bench/soak.js [--runs 20] [--name soak]
// Brings up the lab `--name` (3 OB IAM nodes of the stand-in, HAProxy, storage), deploys site.yml,
// then runs playbooks/rolling-restart.yml --runs times while 6 clients (3 keeping their cookies)
// ask through the LB without pause. Per run it measures the controller (the CLI process: peak RSS,
// open fds, sampled every 200 ms) and the processes on every lab host. It fails (exit 1) on any
// failed request, a failed roll, or growth: controller fds or host processes higher after the last
// run than after the first, or the controller's peak RSS more than 25 % above the first run's.
// Tears the lab down at the end, whatever happened.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import https from 'node:https';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { labUp, labDown } = await import(path.join(REPO, 'dist/lab/lab.js'));

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const runs = Number(opt('--runs', '20'));
const name = opt('--name', 'soak');
if (!Number.isInteger(runs) || runs < 1 || runs > 200) {
  console.error('--runs: a whole number from 1 to 200');
  process.exit(5);
}

const BIN = path.join(REPO, 'bin/obiam-run.js');
const VAULT = ['--vault-password-file', path.join(REPO, 'inventory/lab-vault-pass.txt')];

/** The CLI as a child process; samples its RSS and open fds every 200 ms. */
function cli(argv) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...argv], { cwd: REPO, env: { ...process.env, CI: 'true', NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let peakRss = 0;
    let fds = 0;
    const sample = () => {
      try {
        const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0);
        peakRss = Math.max(peakRss, rss);
        fds = Math.max(fds, readdirSync(`/proc/${child.pid}/fd`).length);
      } catch {
        // the process is gone
      }
    };
    const timer = setInterval(sample, 200);
    child.stdout.on('data', (b) => (out += b));
    child.stderr.on('data', (b) => (out += b));
    child.on('close', (code) => {
      clearInterval(timer);
      resolve({ code, out, peakRssKb: peakRss, peakFds: fds });
    });
  });
}

function get(host, cookie) {
  return new Promise((resolve) => {
    const req = https.get({ host, port: 443, path: '/session', rejectUnauthorized: false, agent: false, headers: cookie ? { Cookie: cookie } : {}, timeout: 10_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve({ ok: res.statusCode === 200, cookies: res.headers['set-cookie'] ?? [] }));
    });
    req.on('error', () => resolve({ ok: false, cookies: [] }));
    req.on('timeout', () => req.destroy());
  });
}

/** 3 sticky and 3 fresh clients until stopped; counts requests and failures. */
function load(lbIp) {
  let stop = false;
  const n = { requests: 0, failed: 0 };
  const client = async (sticky) => {
    const jar = new Map();
    while (!stop) {
      const r = await get(lbIp, jar.size ? [...jar].map(([k, v]) => `${k}=${v}`).join('; ') : undefined);
      n.requests++;
      if (!r.ok) n.failed++;
      if (sticky) for (const c of r.cookies) {
        const [kv] = c.split(';');
        const i = kv.indexOf('=');
        if (i > 0) jar.set(kv.slice(0, i).trim(), kv.slice(i + 1).trim());
      }
    }
  };
  const all = Promise.all([true, true, true, false, false, false].map(client));
  return { n, stop: async () => ((stop = true), await all, n) };
}

/** Processes in each lab host's pid namespace (its PID 1 and its descendants). */
function hostProcesses(lab) {
  const out = {};
  for (const h of lab.hosts) {
    try {
      out[h.name] = Number(execFileSync('nsenter', ['-t', String(h.pid), '-p', '-m', '-r', '-w', 'sh', '-c', 'ls -d /proc/[0-9]* | wc -l'], { encoding: 'utf8' }).trim());
    } catch {
      out[h.name] = -1;
    }
  }
  return out;
}

const started = new Date();
const loadAvg = os.loadavg().map((x) => x.toFixed(2)).join(' ');
let lab;
let bad = [];
const rows = [];
let total = { requests: 0, failed: 0 };
try {
  execFileSync('bash', [path.join(REPO, 'scripts/lab-artifacts.sh')], { stdio: 'inherit' });
  lab = await labUp({ name, hosts: 3, with: ['lb', 'storage'] });
  const nodes = lab.hosts.filter((h) => h.role === 'node');
  const lb = lab.hosts.find((h) => h.role === 'lb');
  const overlayDir = execFileSync('mktemp', ['-d'], { encoding: 'utf8' }).trim();
  execFileSync('mkdir', ['-p', path.join(overlayDir, 'group_vars')]);
  execFileSync('ln', ['-s', path.join(REPO, 'inventory/group_vars/lab'), path.join(overlayDir, 'group_vars/lab')]);
  const inv = path.join(overlayDir, 'site.yml');
  execFileSync('sh', ['-c', `cat > ${inv}`], { input: `lab:\n  children:\n    obiam:\n      hosts:\n${nodes.map((n) => `        ${n.name}: {}`).join('\n')}\n    lb: {}\n    storage: {}\n` });
  const base = ['-i', lab.inventoryFile, '-i', inv, ...VAULT];
  const site = await cli(['playbooks/site.yml', ...base]);
  if (site.code !== 0) throw new Error(`site.yml failed (exit ${site.code}):\n${site.out.slice(-3000)}`);
  console.log(`soak: lab '${name}' deployed; ${runs} rolling restarts under load`);
  for (let i = 1; i <= runs; i++) {
    const l = load(lb.ip);
    const t0 = Date.now();
    const r = await cli(['playbooks/rolling-restart.yml', ...base]);
    const n = await l.stop();
    total = { requests: total.requests + n.requests, failed: total.failed + n.failed };
    const row = { run: i, exit: r.code, seconds: ((Date.now() - t0) / 1000).toFixed(1), requests: n.requests, failed: n.failed, peakRssMb: (r.peakRssKb / 1024).toFixed(1), fds: r.peakFds, hostProcs: hostProcesses(lab) };
    rows.push(row);
    console.log(`run ${i}: exit ${row.exit}, ${row.seconds} s, ${row.requests} requests, ${row.failed} failed, controller peak RSS ${row.peakRssMb} MB, peak ${row.fds} fds, host processes ${JSON.stringify(row.hostProcs)}`);
    if (r.code !== 0) {
      bad.push(`run ${i} exited ${r.code}`);
      console.log(r.out.slice(-3000));
      break;
    }
  }
} catch (e) {
  bad.push(e.message);
} finally {
  if (lab) await labDown({ name });
}

if (rows.length > 0) {
  const first = rows[0];
  const last = rows[rows.length - 1];
  if (total.failed > 0) bad.push(`${total.failed} failed requests`);
  // Every run is a new CLI process, sampled every 200 ms: the first run's sample can miss its peak.
  // Growth = the last run above the highest of the first two (plus two for the sampled moment).
  const fdsBase = Math.max(...rows.slice(0, 2).map((r) => r.fds));
  if (last.fds > fdsBase + 2) bad.push(`controller fds grew: ${fdsBase} -> ${last.fds}`);
  if (Number(last.peakRssMb) > Number(first.peakRssMb) * 1.25) bad.push(`controller peak RSS grew: ${first.peakRssMb} -> ${last.peakRssMb} MB`);
  for (const h of Object.keys(first.hostProcs)) if (last.hostProcs[h] > first.hostProcs[h]) bad.push(`processes on ${h} grew: ${first.hostProcs[h]} -> ${last.hostProcs[h]}`);
  const rss = rows.map((r) => Number(r.peakRssMb));
  console.log(`\nSOAK SUMMARY (${started.toISOString()}, ${os.cpus().length} cores, load average at start ${loadAvg})`);
  console.log(`${rows.length} of ${runs} rolling restarts, ${total.requests} requests, ${total.failed} failed`);
  console.log(`controller peak RSS per run ${Math.min(...rss)}-${Math.max(...rss)} MB; peak fds per run ${rows.map((r) => r.fds).join(' ')}`);
  console.log(`processes per host after run 1: ${JSON.stringify(first.hostProcs)}, after run ${last.run}: ${JSON.stringify(last.hostProcs)}`);
  console.log(`seconds per run: ${rows.map((r) => r.seconds).join(' ')}`);
}
console.log(bad.length ? `SOAK FAILED: ${bad.join('; ')}` : 'SOAK OK');
process.exit(bad.length ? 1 : 0);
