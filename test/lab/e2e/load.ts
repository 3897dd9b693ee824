// The test's own load client for the roll suites: clients that keep their cookies (a browser session)
// and clients that send none, asking through the LB without pause. Independent of the roll's own
// http_probe, so the two can be compared.
import { get } from './cluster.js';

export interface Sample {
  t: number;
  node?: string;
  ok: boolean;
  /** The node no longer knew the session (it was restarted: sessions are node-local). */
  lost?: boolean;
  error?: string;
}

/** One client: keeps asking through the LB until stopped; a sticky one sends the cookies it got. */
async function client(lbIp: string, sticky: boolean, stop: () => boolean, out: Sample[]): Promise<void> {
  const jar = new Map<string, string>();
  while (!stop()) {
    const cookie = jar.size ? [...jar].map(([k, v]) => `${k}=${v}`).join('; ') : undefined;
    const t = Date.now();
    try {
      const r = await get(lbIp, 443, '/session', cookie);
      const body = r.status === 200 ? (JSON.parse(r.body) as { node: string; lost: boolean }) : undefined;
      out.push({ t, node: body?.node, lost: body?.lost, ok: r.status === 200, error: r.status === 200 ? undefined : `HTTP ${r.status}` });
      if (sticky) {
        // A browser's cookie jar: the LB's SERVERID and the node's JSESSIONID.
        for (const c of r.setCookie) {
          const [kv] = c.split(';');
          const i = kv!.indexOf('=');
          if (i > 0) jar.set(kv!.slice(0, i).trim(), kv!.slice(i + 1).trim());
        }
      }
    } catch (e) {
      out.push({ t, ok: false, error: (e as Error).message });
    }
  }
}

export interface Load {
  sticky: Sample[][];
  fresh: Sample[][];
  count(): number;
  /** Keeps going until at least `min` requests were made, then stops every client. */
  stop(min?: number): Promise<{ sticky: Sample[][]; all: Sample[] }>;
}

export function startLoad(lbIp: string, clients = 3): Load {
  let done = false;
  const sticky: Sample[][] = Array.from({ length: clients }, () => []);
  const fresh: Sample[][] = Array.from({ length: clients }, () => []);
  const running = Promise.all([...sticky.map((s) => client(lbIp, true, () => done, s)), ...fresh.map((s) => client(lbIp, false, () => done, s))]);
  const count = (): number => [...sticky, ...fresh].reduce((n, s) => n + s.length, 0);
  return {
    sticky,
    fresh,
    count,
    async stop(min = 0) {
      while (count() < min) await new Promise((r) => setTimeout(r, 100));
      done = true;
      await running;
      return { sticky, all: [...sticky, ...fresh].flat() };
    },
  };
}

/** Sticky sessions that changed node. */
export function movedSessions(sticky: Sample[][]): number {
  let moved = 0;
  for (const s of sticky) for (let i = 1; i < s.length; i++) if (s[i - 1]!.node && s[i]!.node && s[i - 1]!.node !== s[i]!.node) moved++;
  return moved;
}
