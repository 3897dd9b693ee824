// Shared by the cluster e2e suites (site, rolling): HTTPS requests to the lab, health of a node,
// lab overlay inventories for a product, ad hoc tasks through the CLI.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import type { LabHost, LabInfo } from '../../../src/lab/types.js';
import { REPO, runCli, workspace, type CliRun } from './run-cli.js';

export const SITE = path.join(REPO, 'playbooks/site.yml');
export const VAULT = ['--vault-password-file', path.join(REPO, 'inventory/lab-vault-pass.txt')];
export const BUILD = path.join(REPO, 'lab-product/build');
export const HEALTH = '/api/health-check/v1.0/health';

export interface Reply {
  status: number;
  body: string;
  setCookie: string[];
}

/** One HTTPS request; the lab's certificates are self-signed. */
export function get(host: string, port: number, p: string, cookie?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = https.get(
      { host, port, path: p, rejectUnauthorized: false, agent: false, headers: cookie ? { Cookie: cookie } : {}, timeout: 10_000 },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, setCookie: res.headers['set-cookie'] ?? [] }));
      },
    );
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error(`timeout ${host}:${port}${p}`)));
  });
}

export async function health(h: LabHost): Promise<{ status: string; node: string; members: string[]; userstores: string[] }> {
  const r = await get(h.ip, 9446, HEALTH);
  return JSON.parse(r.body) as { status: string; node: string; members: string[]; userstores: string[] };
}

export async function until<T>(what: string, fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 45_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    try {
      last = await fn();
      if (ok(last)) return last;
    } catch {
      // not there yet
    }
    if (Date.now() > end) throw new Error(`${what}: still not true after ${timeoutMs} ms (last: ${JSON.stringify(last)})`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** A lab overlay inventory: product group `group` over `nodes`, lab vars from inventory/group_vars/lab/. */
export function overlay(group: 'obiam' | 'obkm', nodes: LabHost[]): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'obr-site-'));
  mkdirSync(path.join(dir, 'group_vars'));
  symlinkSync(path.join(REPO, 'inventory/group_vars/lab'), path.join(dir, 'group_vars/lab'));
  const hosts = nodes.map((n) => `        ${n.name}: {}`).join('\n');
  writeFileSync(path.join(dir, 'site.yml'), `lab:\n  children:\n    ${group}:\n      hosts:\n${hosts}\n    lb: {}\n    storage: {}\n`);
  return path.join(dir, 'site.yml');
}

/** `host: task` of every changed result, so a failed idempotence check says what changed. */
export function changedTasks(r: CliRun): string {
  return r.events.filter((e) => e.event === 'host-result' && e.status === 'changed').map((e) => `${e.host}: ${e.task} ${JSON.stringify(e.result).slice(0, 300)}`).join('\n');
}

/** Runs a few ad hoc tasks on lab hosts through the CLI (listeners, files, stopping services). */
export async function tasks(lab: LabInfo, hosts: string, body: string): Promise<CliRun> {
  const dir = workspace({ 'pb.yml': `- hosts: ${hosts}\n  gather_facts: false\n  tasks:\n${body}` });
  const r = await runCli([path.join(dir, 'pb.yml'), '-i', lab.inventoryFile, '--json']);
  expect(r.code, r.stdout + r.stderr).toBe(0);
  return r;
}


/** HAProxy's view of every node: `UP` unless drained (DRAIN) or in maintenance (MAINT). */
export async function lbStates(lab: LabInfo, lbName: string): Promise<Record<string, string>> {
  const py = "import socket;s=socket.socket(socket.AF_UNIX);s.connect('/run/haproxy/admin.sock');s.sendall(b'show stat\\n');s.shutdown(socket.SHUT_WR);print(s.recv(65536).decode())";
  const r = await tasks(lab, lbName, `    - command: python3 -c "${py}"\n      changed_when: false\n`);
  const text = String(r.events.find((e) => e.event === 'host-result' && !e.isItem)?.result.stdout ?? '');
  const states: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const f = line.split(',');
    // `UP 1/3` (a check failed since) is still up: only the state word counts.
    if (f[1]?.startsWith('node')) states[f[1]] = f[17]!.split(' ')[0]!;
  }
  return states;
}

/**
 * A shell script run inside a lab host's namespaces at once (no SSH round trip): for faults that must
 * land at a given moment of a run, e.g. killing the product while the roll waits for it.
 */
export function inHost(h: LabHost, script: string): string {
  return execFileSync('nsenter', ['-t', String(h.pid), '-m', '-u', '-i', '-n', '-p', '-r', '-w', 'sh', '-c', script], { encoding: 'utf8' });
}
