// playbooks/site.yml's tags (issue 14 item 5): `-t config` selects the configuration tasks and the
// rolling restart that applies them; preflight always runs; every documented tag selects something.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';

async function listTasks(extra: string[]): Promise<string> {
  let out = '';
  const code = await main(['playbooks/site.yml', '-i', 'inventory/lab.yml', '--list-tasks', ...extra], {
    out: (s) => (out += s),
    err: () => undefined,
    env: { PATH: process.env.PATH, HOME: process.env.HOME },
    isTTY: false,
    cwd: path.resolve('.'),
    signal: new AbortController().signal,
  });
  expect(code).toBe(0);
  return out;
}

const tasksOf = (listing: string): string[] => listing.split('\n').filter((l) => l.startsWith('      ') && l.includes('TAGS:')).map((l) => l.trim());

describe('site.yml tags', () => {
  it('-t config: preflight, the configure role and the rolling restart; no jdk, product or lb tasks', async () => {
    const tasks = tasksOf(await listTasks(['-t', 'config']));
    expect(tasks.some((t) => t.startsWith('preflight : '))).toBe(true);
    expect(tasks.some((t) => t.startsWith('configure : '))).toBe(true);
    expect(tasks.some((t) => t.startsWith('service : '))).toBe(true);
    expect(tasks.filter((t) => /^(jdk|product|storage_server) : /.test(t))).toEqual([]);
    // Of the loadbalancer role only the node's drain and return (tasks_from drain.yml / ready.yml), which
    // the rolling restart uses; the LB play itself is not selected.
    const lbTasks = tasks.filter((t) => t.startsWith('loadbalancer : ')).map((t) => t.split('\t')[0]);
    expect(lbTasks).toContain('loadbalancer : Drain the node on the load balancer');
    expect(lbTasks.filter((t) => /^loadbalancer : (HAProxy configuration|nginx configuration|PEM bundle for HAProxy|Load balancer package)$/.test(t))).toEqual([]);
  });

  it('each documented tag selects tasks beyond preflight', async () => {
    for (const tag of ['jdk', 'product', 'config', 'storage', 'service', 'lb']) {
      const tasks = tasksOf(await listTasks(['-t', tag])).filter((t) => !t.startsWith('preflight : '));
      expect(tasks.length, tag).toBeGreaterThan(0);
    }
  });

  it('--skip-tags preflight leaves preflight out', async () => {
    const tasks = tasksOf(await listTasks(['--skip-tags', 'preflight']));
    expect(tasks.some((t) => t.startsWith('preflight : '))).toBe(false);
  });
});
