// http_probe: keeps sending requests to a URL from the controller for the rest of the run, as a few
// browsers would (some keeping the load balancer's sticky cookie, some new on every request), and
// reports at the end what the service's users saw: requests, failures (connection errors, timeouts,
// 5xx), sticky sessions moved to another node, requests per node. The rolls start one at their gate.
import http from 'node:http';
import https from 'node:https';
import type { ProbeReport, ProbeSample } from './http-probe-report.js';
import type { ModuleDef } from './types.js';

export interface ProbeOptions {
  url: string;
  /** Clients that keep the cookies they are given (a browser session). */
  stickyClients: number;
  /** Clients that send no cookie (a new visitor on every request). */
  freshClients: number;
  /** Cookies that name the node serving a sticky client (HAProxy `SERVERID`, nginx `OBNODE`). */
  nodeCookies: string[];
  /** A response header that names the node, when the product sends one. */
  nodeHeader?: string;
  validateCerts: boolean;
  /** Pause between two requests of one client. */
  intervalMs: number;
  timeoutMs: number;
}

export interface Probe {
  stop(): Promise<ProbeReport>;
}

interface Answer {
  status: number;
  setCookies: string[];
  node?: string;
}

function request(url: URL, o: ProbeOptions, agent: http.Agent, cookie: string | undefined): Promise<Answer> {
  const lib = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = lib.request(
      url,
      {
        method: 'GET',
        agent,
        headers: cookie ? { cookie } : {},
        ...(url.protocol === 'https:' ? { rejectUnauthorized: o.validateCerts } : {}),
        timeout: o.timeoutMs,
      },
      (res) => {
        // The body is not needed, only that it arrives whole.
        res.on('data', () => undefined);
        res.on('end', () => {
          const header = o.nodeHeader ? res.headers[o.nodeHeader.toLowerCase()] : undefined;
          resolve({ status: res.statusCode ?? 0, setCookies: res.headers['set-cookie'] ?? [], node: typeof header === 'string' ? header : undefined });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'timeout' })));
    req.on('error', reject);
    req.end();
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Starts the clients; stop() ends them after their request in flight and returns the numbers. */
export function startProbe(o: ProbeOptions): Probe {
  const url = new URL(o.url);
  const started = Date.now();
  const report: ProbeReport = { url: o.url, requests: 0, failed: 0, failures: {}, sessionsMoved: 0, perNode: {}, durationMs: 0 };
  let stopping = false;
  // One bucket per second since the start, counted when a request ends: the report's chart.
  const samples: ProbeSample[] = [];
  const bucket = (): ProbeSample => {
    const i = Math.floor((Date.now() - started) / 1000);
    while (samples.length <= i) samples.push({ t: started + samples.length * 1000, requests: 0, failed: 0 });
    return samples[i]!;
  };
  const count = (): void => {
    report.requests++;
    bucket().requests++;
  };
  const fail = (kind: string): void => {
    report.failed++;
    report.failures[kind] = (report.failures[kind] ?? 0) + 1;
    bucket().failed++;
  };
  const client = async (sticky: boolean): Promise<void> => {
    // One keep-alive connection per client, like a browser's.
    const agent = new (url.protocol === 'https:' ? https.Agent : http.Agent)({ keepAlive: true, maxSockets: 1 });
    const jar = new Map<string, string>();
    try {
      while (!stopping) {
        const cookie = sticky && jar.size > 0 ? [...jar].map(([k, v]) => `${k}=${v}`).join('; ') : undefined;
        const before = o.nodeCookies.map((c) => jar.get(c)).find((v) => v !== undefined);
        try {
          const a = await request(url, o, agent, cookie);
          count();
          if (a.status >= 500) fail(`HTTP ${a.status}`);
          const given = new Map<string, string>();
          for (const c of a.setCookies) {
            const kv = c.split(';')[0] ?? '';
            const eq = kv.indexOf('=');
            if (eq > 0) given.set(kv.slice(0, eq).trim(), kv.slice(eq + 1).trim());
          }
          if (sticky) for (const [k, v] of given) jar.set(k, v);
          const cookieNode = o.nodeCookies.map((c) => (sticky ? jar.get(c) : given.get(c))).find((v) => v !== undefined);
          const node = a.node ?? cookieNode;
          if (node && a.status < 500) report.perNode[node] = (report.perNode[node] ?? 0) + 1;
          const after = o.nodeCookies.map((c) => jar.get(c)).find((v) => v !== undefined);
          if (sticky && before !== undefined && after !== undefined && before !== after) report.sessionsMoved++;
        } catch (e) {
          count();
          fail((e as NodeJS.ErrnoException).code ?? (e as Error).message);
        }
        if (o.intervalMs > 0 && !stopping) await sleep(o.intervalMs);
      }
    } finally {
      agent.destroy();
    }
  };
  const clients = [...Array.from({ length: o.stickyClients }, () => client(true)), ...Array.from({ length: o.freshClients }, () => client(false))];
  return {
    async stop(): Promise<ProbeReport> {
      stopping = true;
      await Promise.all(clients);
      report.durationMs = Date.now() - started;
      report.samples = samples;
      return report;
    },
  };
}

interface HttpProbeArgs {
  url: string;
  sticky_clients?: number;
  clients?: number;
  node_cookies?: string[];
  node_header?: string;
  validate_certs?: boolean;
  interval?: number;
  timeout?: number;
}

export const httpProbeModule: ModuleDef<HttpProbeArgs> = {
  name: 'http_probe',
  controllerOnly: true,
  supportsCheck: true,
  schema: {
    type: 'object',
    properties: {
      url: { type: 'string', pattern: '^https?://' },
      sticky_clients: { type: 'integer', minimum: 0, maximum: 100 },
      clients: { type: 'integer', minimum: 0, maximum: 100 },
      node_cookies: { type: 'array', items: { type: 'string' } },
      node_header: { type: 'string' },
      validate_certs: { type: 'boolean' },
      interval: { type: 'number', minimum: 0, description: 'milliseconds between two requests of a client' },
      timeout: { type: 'number', exclusiveMinimum: 0, description: 'seconds a request may take' },
    },
    required: ['url'],
    additionalProperties: false,
  },
  async run(args, ctx) {
    const o: ProbeOptions = {
      url: args.url,
      stickyClients: args.sticky_clients ?? 3,
      freshClients: args.clients ?? 3,
      nodeCookies: args.node_cookies ?? ['SERVERID', 'OBNODE'],
      nodeHeader: args.node_header,
      validateCerts: args.validate_certs ?? true,
      intervalMs: args.interval ?? 20,
      timeoutMs: (args.timeout ?? 10) * 1000,
    };
    // A probe that cannot reach the URL at all would only count its own failures: say so instead.
    const first = await request(new URL(o.url), o, new (o.url.startsWith('https:') ? https.Agent : http.Agent)(), undefined).then(
      (a) => (a.status >= 500 ? `HTTP ${a.status}` : undefined),
      (e: NodeJS.ErrnoException) => e.code ?? e.message,
    );
    if (first !== undefined) return { changed: false, started: false, msg: `not probing ${o.url}: the first request failed (${first}); no load numbers for this run` };
    if (!ctx.background) return { changed: false, started: false, msg: 'not probing: this runner keeps no background jobs' };
    const probe = startProbe(o);
    ctx.background({ name: `http_probe ${o.url}`, stop: () => probe.stop() });
    return { changed: false, started: true, msg: `probing ${o.url} with ${o.stickyClients} sticky and ${o.freshClients} new clients until the run ends` };
  },
};
