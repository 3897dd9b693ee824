// `lab up --latency`: a TCP relay that puts a WAN-like delay between the controller and lab hosts.
// The kernel here has no netem qdisc, so the delay is made in user space: one relay process per lab,
// listening on the lab bridge's address, one port per host, forwarding to the host's sshd. Each
// direction holds every chunk for half the round trip (plus jitter, order kept); a new connection
// reaches the host 1.5 round trips late (the TCP handshake it stands for).
//
// Run as `node latency-relay.js CONFIG.json`; it writes `ready` to CONFIG.ready once every port listens.
import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';

export interface LatencySpec {
  /** Added round-trip time in ms. */
  rttMs: number;
  /** Spread of each direction's delay: uniform in +-jitterMs/2 around rttMs/2 (order kept). */
  jitterMs: number;
}

export interface RelayRoute {
  host: string; // lab host name (for messages)
  listenIp: string;
  listenPort: number;
  targetIp: string;
  targetPort: number;
  latency: LatencySpec;
}

export interface RelayConfig {
  routes: RelayRoute[];
}

/** First relay port; host i listens on RELAY_PORT_BASE + i on the bridge address. */
export const RELAY_PORT_BASE = 20000;

/** Parses `MS` or `MS,JITTER` (ms, >= 0); undefined when malformed. */
export function parseLatency(v: string): LatencySpec | undefined {
  const m = /^(\d+(?:\.\d+)?)(?:,(\d+(?:\.\d+)?))?$/.exec(v.trim());
  if (!m) return undefined;
  const rttMs = Number(m[1]);
  const jitterMs = m[2] === undefined ? 0 : Number(m[2]);
  if (rttMs > 60_000 || jitterMs > 2 * rttMs) return undefined;
  return { rttMs, jitterMs };
}

/** One direction's delay for the next chunk. */
function oneWay(l: LatencySpec): number {
  const j = l.jitterMs > 0 ? (Math.random() - 0.5) * l.jitterMs : 0;
  return Math.max(0, l.rttMs / 2 + j);
}

/**
 * Copies `from` to `to`, each chunk delivered no earlier than its arrival plus one way's delay and
 * never before the previous one (jitter does not reorder a TCP stream): one FIFO and one timer per
 * direction, since timers of different lengths may fire out of order. While more than 4 MiB wait,
 * `from` is paused, so a bulk transfer through the relay is bounded by the bandwidth-delay product.
 */
function pipeDelayed(from: net.Socket, to: net.Socket, l: LatencySpec, notBefore: number, beforeWrite: () => void = () => undefined): void {
  const queue: { due: number; chunk?: Buffer }[] = []; // no chunk: the end of the stream
  let last = 0;
  let held = 0;
  let timer: NodeJS.Timeout | undefined;
  const HIGH = 4 << 20;
  const flush = (): void => {
    timer = undefined;
    const now = Date.now();
    while (queue.length > 0 && queue[0].due <= now) {
      const { chunk } = queue.shift()!;
      beforeWrite();
      if (to.destroyed) continue;
      if (chunk) {
        held -= chunk.length;
        to.write(chunk);
      } else to.end();
    }
    if (held <= HIGH && from.isPaused()) from.resume();
    if (queue.length > 0) timer = setTimeout(flush, Math.max(1, queue[0].due - Date.now()));
  };
  const push = (chunk?: Buffer): void => {
    last = Math.max(Date.now() + oneWay(l), last, notBefore);
    queue.push({ due: last, chunk });
    if (chunk) {
      held += chunk.length;
      if (held > HIGH) from.pause();
    }
    timer ??= setTimeout(flush, Math.max(0, queue[0].due - Date.now()));
  };
  from.on('data', (chunk: Buffer) => push(chunk));
  from.on('end', () => push());
}

function relay(client: net.Socket, r: RelayRoute): void {
  client.setNoDelay(true);
  // As over a real path, the host accepts 1.5 RTT after connect() (SYN, SYN-ACK, ACK) and the client's
  // first reply comes 2 RTT after it: the controller's local connect() returns at once, so the relay
  // holds the host's side back for the handshake's 1.5 RTT.
  const upAt = Date.now() + 1.5 * r.latency.rttMs;
  const upstream = new net.Socket();
  upstream.setNoDelay(true);
  const kill = (): void => {
    client.destroy();
    upstream.destroy();
  };
  client.on('error', kill);
  upstream.on('error', kill);
  client.on('close', () => setTimeout(() => upstream.destroy(), r.latency.rttMs));
  upstream.on('close', () => setTimeout(() => client.destroy(), r.latency.rttMs));
  // Client bytes sent before the "handshake" is over wait for it; the host's bytes start after it.
  // Client bytes sent before that wait for it (a socket buffers writes until it is connected).
  let started = false;
  const start = (): void => {
    if (started || upstream.destroyed) return;
    started = true;
    upstream.connect(r.targetPort, r.targetIp);
  };
  pipeDelayed(client, upstream, r.latency, upAt, start);
  pipeDelayed(upstream, client, r.latency, 0);
  setTimeout(start, 1.5 * r.latency.rttMs);
}

export async function startRelay(cfg: RelayConfig): Promise<net.Server[]> {
  return Promise.all(
    cfg.routes.map(
      (r) =>
        new Promise<net.Server>((resolve, reject) => {
          const s = net.createServer((c) => relay(c, r));
          s.once('error', (e) => reject(new Error(`relay for ${r.host} cannot listen on ${r.listenIp}:${r.listenPort}: ${e.message}`)));
          s.listen(r.listenPort, r.listenIp, 1024, () => resolve(s));
        }),
    ),
  );
}

async function main(file: string): Promise<void> {
  const cfg = JSON.parse(readFileSync(file, 'utf8')) as RelayConfig;
  await startRelay(cfg);
  writeFileSync(`${file}.ready`, 'ready\n');
  process.on('SIGTERM', () => process.exit(0));
}

if (process.argv[1] && /latency-relay\.[jt]s$/.test(process.argv[1])) {
  main(process.argv[2] ?? '').catch((e: unknown) => {
    process.stderr.write(`latency relay: ${(e as Error).message}\n`);
    process.exit(1);
  });
}
