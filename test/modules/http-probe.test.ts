// http_probe against a real local HTTP server that behaves like a sticky load balancer: it sets
// SERVERID on a client's first request and moves clients to another "node" when told to.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProbeReport } from '../../src/events/types.js';
import { httpProbeModule, startProbe } from '../../src/modules/http-probe.js';
import type { BackgroundJob, ModuleContext } from '../../src/modules/types.js';

let server: http.Server;
let url: string;
/** The node new and moved clients get; a client pinned to `down` is moved. */
let serving = 'node1';
let down = '';
let fail503 = 0;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    if (fail503 > 0) {
      fail503--;
      res.writeHead(503).end('busy');
      return;
    }
    const pinned = /SERVERID=(\w+)/.exec(req.headers.cookie ?? '')?.[1];
    if (pinned && pinned !== down) {
      res.writeHead(200, { 'x-node': pinned }).end('ok');
      return;
    }
    res.writeHead(200, { 'set-cookie': `SERVERID=${serving}; path=/`, 'x-node': serving }).end('ok');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/health`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('http_probe', () => {
  it('counts requests, 5xx failures, sticky sessions moved and requests per node', async () => {
    serving = 'node1';
    down = '';
    const probe = startProbe({ url, stickyClients: 2, freshClients: 1, nodeCookies: ['SERVERID'], validateCerts: true, intervalMs: 5, timeoutMs: 2000 });
    await sleep(150);
    // node1 goes out: its two sticky clients move to node2 once each.
    serving = 'node2';
    down = 'node1';
    await sleep(150);
    fail503 = 3;
    await sleep(150);
    const r = await probe.stop();
    expect(r.requests).toBeGreaterThan(20);
    expect(r.failed).toBe(3);
    expect(r.failures).toEqual({ 'HTTP 503': 3 });
    expect(r.sessionsMoved).toBe(2);
    expect(Object.keys(r.perNode).sort()).toEqual(['node1', 'node2']);
    expect(r.perNode.node1! + r.perNode.node2!).toBe(r.requests - 3);
  });

  it('counts connection errors by code', async () => {
    const probe = startProbe({ url: 'http://127.0.0.1:1/x', stickyClients: 1, freshClients: 0, nodeCookies: [], validateCerts: true, intervalMs: 10, timeoutMs: 500 });
    await sleep(100);
    const r = await probe.stop();
    expect(r.failed).toBe(r.requests);
    expect(Object.keys(r.failures)).toEqual(['ECONNREFUSED']);
  });

  it('the module starts a background job the runner stops, and does not start when the URL fails', async () => {
    serving = 'node1';
    down = '';
    const jobs: BackgroundJob[] = [];
    const ctx = { host: 'h', check: false, diff: false, vars: {}, background: (j: BackgroundJob) => jobs.push(j) } as unknown as ModuleContext;
    const started = await httpProbeModule.run({ url, interval: 5 }, ctx);
    expect(started).toMatchObject({ changed: false, started: true });
    expect(jobs).toHaveLength(1);
    await sleep(100);
    const report = (await jobs[0]!.stop()) as ProbeReport;
    expect(report.requests).toBeGreaterThan(5);
    expect(report.failed).toBe(0);

    const refused = await httpProbeModule.run({ url: 'http://127.0.0.1:1/' }, ctx);
    expect(refused).toMatchObject({ changed: false, started: false });
    expect(String(refused.msg)).toContain('ECONNREFUSED');
    expect(jobs).toHaveLength(1);
  });
});
