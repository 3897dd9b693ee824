// The latency relay on real loopback sockets: every round trip through it takes at least the
// configured RTT, a new connection reaches the target one RTT late, jitter never reorders the
// stream, and the option parser accepts exactly MS[,JITTER] and HOST=MS[,JITTER].
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseLatencyOptions } from '../../src/cli/lab-command.js';
import { ObiamError } from '../../src/errors.js';
import { parseLatency, startRelay } from '../../src/lab/latency-relay.js';

let echo: net.Server;
let echoPort: number;
const relays: net.Server[] = [];

beforeAll(async () => {
  echo = net.createServer((s) => s.pipe(s));
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  echoPort = (echo.address() as net.AddressInfo).port;
});
afterAll(() => {
  for (const s of [...relays, echo]) s.close();
});

async function relayTo(rttMs: number, jitterMs: number): Promise<number> {
  const [s] = await startRelay({ routes: [{ host: 't', listenIp: '127.0.0.1', listenPort: 0, targetIp: '127.0.0.1', targetPort: echoPort, latency: { rttMs, jitterMs } }] });
  relays.push(s);
  return (s.address() as net.AddressInfo).port;
}

/** Connects, then sends `n` one-byte pings one after the other; resolves the time of each echo. */
function pings(port: number, n: number): Promise<{ firstMs: number; rtts: number[] }> {
  return new Promise((resolve, reject) => {
    const c = net.connect(port, '127.0.0.1');
    const t0 = performance.now();
    const rtts: number[] = [];
    let firstMs = 0;
    let sent = 0;
    const ping = (): void => {
      sent = performance.now();
      c.write('x');
    };
    c.on('connect', ping);
    c.on('data', () => {
      const now = performance.now();
      if (rtts.length === 0) firstMs = now - t0;
      rtts.push(now - sent);
      if (rtts.length === n) {
        c.end();
        resolve({ firstMs, rtts });
      } else ping();
    });
    c.on('error', reject);
  });
}

describe('latency relay', () => {
  it('delays every round trip by at least the RTT, the first also by the handshake', async () => {
    const port = await relayTo(40, 0);
    const { firstMs, rtts } = await pings(port, 4);
    // The first echo waits for the simulated handshake (one RTT) and its own round trip.
    expect(firstMs).toBeGreaterThanOrEqual(2 * 40 - 2);
    for (const r of rtts.slice(1)) expect(r).toBeGreaterThanOrEqual(40 - 1);
  });

  it('keeps the byte order with jitter and passes a bulk stream intact', async () => {
    const port = await relayTo(10, 20);
    const data = Buffer.alloc(3 << 20);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7) & 0xff;
    const got = await new Promise<Buffer>((resolve, reject) => {
      const c = net.connect(port, '127.0.0.1');
      const parts: Buffer[] = [];
      let n = 0;
      c.on('data', (d: Buffer) => {
        parts.push(d);
        n += d.length;
        if (n >= data.length) {
          c.end();
          resolve(Buffer.concat(parts));
        }
      });
      c.on('error', reject);
      // Many small writes: each chunk gets its own random delay.
      for (let off = 0; off < data.length; off += 4096) c.write(data.subarray(off, off + 4096));
    });
    expect(got.equals(data)).toBe(true);
  });

  it('parses MS, MS,JITTER and HOST=MS[,JITTER]; refuses anything else with E_LAB_OPTIONS', () => {
    expect(parseLatency('20')).toEqual({ rttMs: 20, jitterMs: 0 });
    expect(parseLatency('5,2.5')).toEqual({ rttMs: 5, jitterMs: 2.5 });
    expect(parseLatency('-1')).toBeUndefined();
    expect(parseLatency('5,11')).toBeUndefined();
    expect(parseLatency('20ms')).toBeUndefined();
    expect(parseLatencyOptions([])).toBeUndefined();
    expect(parseLatencyOptions(['20', 'node2=50,4'])).toEqual({ all: { rttMs: 20, jitterMs: 0 }, hosts: { node2: { rttMs: 50, jitterMs: 4 } } });
    const e = (() => {
      try {
        parseLatencyOptions(['node1=fast']);
      } catch (x) {
        return x;
      }
    })();
    expect(e).toBeInstanceOf(ObiamError);
    expect((e as ObiamError).code).toBe('E_LAB_OPTIONS');
    expect((e as ObiamError).message).toContain("'node1=fast'");
  });
});
