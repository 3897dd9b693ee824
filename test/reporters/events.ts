// A fixed event sequence covering what the reporters must render: loop items, diff, unreachable,
// ignored and rescued failures, a handler, a no_log secret, warnings, verbose lines and the recap.
import type { RunEvent } from '../../src/events/types.js';

export const SECRET = 's3cr3t-db-pass';
const LOC = { file: '/pb/site.yml', line: 12, col: 7 };
const T = 1_700_000_000_000;

export function sampleEvents(): RunEvent[] {
  return [
    { event: 'run-start', playbook: '/pb/site.yml', check: false, diff: true, time: T },
    { event: 'play-start', play: 'Configure IAM nodes', hosts: ['node1', 'node2', 'node3'], location: LOC, time: T },
    { event: 'batch-start', play: 'Configure IAM nodes', batch: 1, batches: 1, hosts: ['node1', 'node2', 'node3'], time: T },
    { event: 'task-start', task: 'show version', module: 'debug', hosts: ['node1'], handler: false, location: LOC, time: T },
    { event: 'host-result', task: 'show version', host: 'node1', status: 'ok', msg: 'WSO2 IAM 7.0', result: { changed: false, msg: 'WSO2 IAM 7.0' }, durationMs: 3, time: T },
    { event: 'task-end', task: 'show version', durationMs: 4, time: T },
    { event: 'task-start', task: 'install packages', module: 'package', hosts: ['node1', 'node2', 'node3'], handler: false, role: 'base', location: LOC, time: T },
    { event: 'verbose', level: 1, host: 'node1', message: 'apt-get install -y unzip', time: T },
    { event: 'verbose', level: 3, host: 'node1', message: 'ESTABLISH SSH CONNECTION FOR USER: deploy', time: T },
    { event: 'host-result', task: 'install packages', host: 'node1', status: 'changed', item: 'unzip', isItem: true, result: { changed: true, item: 'unzip' }, durationMs: 1200, time: T },
    { event: 'host-result', task: 'install packages', host: 'node1', status: 'ok', item: 'openjdk-17', isItem: true, result: { changed: false, item: 'openjdk-17' }, durationMs: 310, time: T },
    { event: 'host-result', task: 'install packages', host: 'node1', status: 'changed', msg: 'All items completed', result: { changed: true, msg: 'All items completed' }, durationMs: 1510, time: T },
    { event: 'host-result', task: 'install packages', host: 'node2', status: 'failed', item: 'unzip', isItem: true, msg: 'No package matching unzip', result: { failed: true, msg: 'No package matching unzip', rc: 100 }, durationMs: 800, time: T },
    { event: 'host-result', task: 'install packages', host: 'node2', status: 'failed', msg: 'One or more items failed', result: { failed: true, msg: 'One or more items failed' }, durationMs: 800, time: T },
    { event: 'host-result', task: 'install packages', host: 'node3', status: 'unreachable', msg: 'connect ETIMEDOUT 192.0.2.13:22', result: { unreachable: true, msg: 'connect ETIMEDOUT 192.0.2.13:22' }, durationMs: 10_000, time: T },
    { event: 'task-end', task: 'install packages', durationMs: 10_002, time: T },
    { event: 'task-start', task: 'write deployment.toml', module: 'template', hosts: ['node1'], handler: false, location: LOC, time: T },
    {
      event: 'host-result', task: 'write deployment.toml', host: 'node1', status: 'changed', result: { changed: true, dest: '/opt/wso2/deployment.toml' },
      diff: [{ path: '/opt/wso2/deployment.toml', before: '[server]\nhostname = "old"\n', after: '[server]\nhostname = "iam.example.com"\n' }],
      durationMs: 45, time: T,
    },
    { event: 'task-end', task: 'write deployment.toml', durationMs: 46, time: T },
    { event: 'task-start', task: 'check optional port', module: 'command', hosts: ['node1'], handler: false, location: LOC, time: T },
    { event: 'host-result', task: 'check optional port', host: 'node1', status: 'ignored', msg: 'non-zero return code', result: { failed: true, changed: true, cmd: 'ss -ltn sport = :9446', rc: 1, stdout: '', stderr: 'nothing listening' }, durationMs: 20, time: T },
    { event: 'task-end', task: 'check optional port', durationMs: 21, time: T },
    { event: 'task-start', task: 'try the seed', module: 'shell', hosts: ['node1'], handler: false, location: LOC, time: T },
    { event: 'host-result', task: 'try the seed', host: 'node1', status: 'rescued', msg: 'seed failed', result: { failed: true, msg: 'seed failed' }, durationMs: 7, time: T },
    { event: 'task-end', task: 'try the seed', durationMs: 8, time: T },
    { event: 'task-start', task: 'set db password', module: 'set_fact', hosts: ['node1'], handler: false, location: LOC, time: T },
    { event: 'verbose', level: 2, host: 'node1', message: `db_password=${SECRET}`, time: T },
    { event: 'host-result', task: 'set db password', host: 'node1', status: 'ok', result: { changed: false, ansible_facts: { db_password: SECRET } }, durationMs: 1, time: T },
    { event: 'task-end', task: 'set db password', durationMs: 1, time: T },
    { event: 'task-start', task: 'optional task', module: 'command', hosts: ['node1'], handler: false, location: LOC, time: T },
    { event: 'host-result', task: 'optional task', host: 'node1', status: 'skipped', result: { changed: false, skipped: true, skip_reason: 'Conditional result was False' }, durationMs: 0, time: T },
    { event: 'task-end', task: 'optional task', durationMs: 0, time: T },
    { event: 'task-start', task: 'restart wso2', module: 'service', hosts: ['node1'], handler: true, location: LOC, time: T },
    { event: 'host-result', task: 'restart wso2', host: 'node1', status: 'changed', delegatedTo: 'lb-1', result: { changed: true, state: 'started' }, durationMs: 2050, time: T },
    { event: 'task-end', task: 'restart wso2', durationMs: 2051, time: T },
    { event: 'warning', message: `password ${SECRET} is weak`, location: LOC, time: T },
    { event: 'play-end', play: 'Configure IAM nodes', time: T },
    {
      event: 'recap',
      hosts: {
        node1: { ok: 7, changed: 4, unreachable: 0, failed: 0, skipped: 1, rescued: 1, ignored: 1 },
        node2: { ok: 0, changed: 0, unreachable: 0, failed: 1, skipped: 0, rescued: 0, ignored: 0 },
        node3: { ok: 0, changed: 0, unreachable: 1, failed: 0, skipped: 0, rescued: 0, ignored: 0 },
      },
      exitCode: 2,
      durationMs: 14_250,
      time: T,
    },
  ];
}
