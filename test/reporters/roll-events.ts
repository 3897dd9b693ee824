// A small roll as events: a gate play, then a serial play over node1 and node2 going through the
// service role's drain/stop/start/wait/ready files, node2 failing its health wait; an http_probe with
// per-second samples; names and messages that try HTML injection.
import type { RunEvent } from '../../src/events/types.js';

export const T0 = 1_800_000_000_000;
export const EVIL_TASK = 'Check <img src=x onerror="alert(1)"> & more';
export const EVIL_MSG = '</pre><script>alert("x")</script>';

const tasksFile = (f: string): string => `/pb/roles/service/tasks/${f}.yml`;

export function rollEvents(): RunEvent[] {
  const ev: RunEvent[] = [];
  let t = T0;
  const at = (dt: number): number => (t += dt);
  const task = (name: string, module: string, hosts: string[], file: string, results: { host: string; status: 'ok' | 'changed' | 'failed' | 'skipped'; ms: number; msg?: string; delegatedTo?: string }[], role = 'service'): void => {
    ev.push({ event: 'task-start', task: name, module, hosts, handler: false, role, location: { file: file.startsWith('/') ? file : tasksFile(file), line: 3, col: 3 }, time: at(1) });
    const start = t;
    let end = start;
    for (const r of results) {
      end = Math.max(end, start + r.ms);
      ev.push({ event: 'host-result', task: name, host: r.host, status: r.status, ...(r.msg ? { msg: r.msg } : {}), ...(r.delegatedTo ? { delegatedTo: r.delegatedTo } : {}), result: { changed: r.status === 'changed' }, durationMs: r.ms, time: start + r.ms });
    }
    t = end;
    ev.push({ event: 'task-end', task: name, durationMs: end - start, time: at(1) });
  };
  ev.push({ event: 'run-start', playbook: '/pb/rolling-restart.yml', check: false, diff: false, time: t });
  ev.push({ event: 'play-start', play: 'Cluster state before the roll', hosts: ['node1', 'node2'], index: 0, serial: false, time: at(5) });
  ev.push({ event: 'batch-start', play: 'Cluster state before the roll', batch: 1, batches: 1, hosts: ['node1', 'node2'], time: at(1) });
  task(EVIL_TASK, 'uri', ['node1', 'node2'], 'precheck', [
    { host: 'node1', status: 'ok', ms: 300 },
    { host: 'node2', status: 'ok', ms: 250, msg: EVIL_MSG },
  ]);
  task('Load probe through the load balancer', 'http_probe', ['node1'], 'precheck', [{ host: 'node1', status: 'ok', ms: 20 }]);
  ev.push({ event: 'batch-end', play: 'Cluster state before the roll', batch: 1, batches: 1, hosts: ['node1', 'node2'], ok: ['node1', 'node2'], failed: [], durationMs: 400, time: at(1) });
  ev.push({ event: 'play-end', play: 'Cluster state before the roll', time: at(1) });
  ev.push({ event: 'play-start', play: 'Rolling restart', hosts: ['node1', 'node2'], index: 1, serial: true, time: at(1) });
  for (const [i, host] of ['node1', 'node2'].entries()) {
    const b0 = at(1);
    ev.push({ event: 'batch-start', play: 'Rolling restart', batch: i + 1, batches: 2, hosts: [host], time: b0 });
    task('Service', 'include_tasks', [host], '/pb/roles/service/tasks/main.yml', [{ host, status: 'ok', ms: 1 }]);
    task('Out of the load balancer', 'include_tasks', [host], 'restart', [{ host, status: 'ok', ms: 1 }]);
    task('Drain the node on the load balancer', 'shell', [host], 'drain', [{ host, status: 'ok', ms: 800, delegatedTo: 'lb1' }]);
    task('Node marked down in the nginx configuration', 'template', [host], 'drain', [{ host, status: 'skipped', ms: 1 }]);
    task('Service stopped', 'service', [host], 'restart', [{ host, status: 'changed', ms: 1500 }]);
    task('Started and healthy', 'include_tasks', [host], 'restart', [{ host, status: 'ok', ms: 1 }]);
    task('Service enabled and started', 'service', [host], 'start', [{ host, status: 'changed', ms: 900 }]);
    task('Wait until healthy', 'include_tasks', [host], 'start', [{ host, status: 'ok', ms: 1 }]);
    const healthy = host === 'node2' ? { host, status: 'failed' as const, ms: 4000, msg: 'node2 not healthy after 4 s' } : { host, status: 'ok' as const, ms: 3000 };
    task('Healthy with every member', 'uri', [host], 'wait', [healthy]);
    if (host === 'node1') {
      task('Back in the load balancer', 'include_tasks', [host], 'restart', [{ host, status: 'ok', ms: 1 }]);
      task('Back into the load balancer', 'shell', [host], 'ready', [{ host, status: 'ok', ms: 200, delegatedTo: 'lb1' }]);
      task('Restart done', 'set_fact', [host], 'restart', [{ host, status: 'ok', ms: 1 }]);
    }
    const failed = host === 'node2' ? [host] : [];
    ev.push({ event: 'batch-end', play: 'Rolling restart', batch: i + 1, batches: 2, hosts: [host], ok: failed.length ? [] : [host], failed, durationMs: at(1) - b0, time: t });
  }
  ev.push({ event: 'play-end', play: 'Rolling restart', time: at(1) });
  const pStart = T0 + 400;
  const samples = Array.from({ length: Math.ceil((t - pStart) / 1000) }, (_, k) => ({ t: pStart + k * 1000, requests: 80 + k, failed: k === 9 ? 3 : 0 }));
  const requests = samples.reduce((n, s) => n + s.requests, 0);
  ev.push({
    event: 'probe-report',
    name: 'http_probe https://lb1:8243/health',
    report: { url: 'https://lb1:8243/health', requests, failed: 3, failures: { 'HTTP 503': 3 }, sessionsMoved: 2, perNode: { node1: 700, node2: 600 }, durationMs: t - pStart, samples },
    time: at(5),
  });
  ev.push({ event: 'warning', message: 'every host of batch 2 failed or is unreachable; stopping the run', time: at(1) });
  ev.push({
    event: 'recap',
    hosts: { node1: { ok: 8, changed: 2, unreachable: 0, failed: 0, skipped: 1, rescued: 0, ignored: 0 }, node2: { ok: 6, changed: 2, unreachable: 0, failed: 1, skipped: 1, rescued: 0, ignored: 0 } },
    exitCode: 2,
    durationMs: t - T0,
    time: at(1),
  });
  return ev;
}
