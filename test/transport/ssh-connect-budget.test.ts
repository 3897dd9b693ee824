// The connect timeout is the whole budget for reaching a host: attempts and their backoff fit in it,
// and the message names the timeout and the attempts. Loopback only: a port nobody listens on, and a
// server that accepts TCP but never says a word of SSH (a host whose sshd hangs).
import net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { UnreachableError } from '../../src/errors.js';
import { createSshTransport } from '../../src/transport/ssh.js';
import type { ConnectionSpec } from '../../src/transport/types.js';

const work = mkdtempSync(path.join(tmpdir(), 'obr-budget-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const spec = (port: number): ConnectionSpec => ({ name: 'h1', connection: 'ssh', host: '127.0.0.1', port, user: 'nobody', vars: {} });
const transport = () => createSshTransport({ connectTimeoutMs: 1500, knownHostsFiles: [path.join(work, 'kh')], sshConfigFile: path.join(work, 'no-config') });

async function listen(onConn: (s: net.Socket) => void): Promise<net.Server> {
  const srv = net.createServer(onConn);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return srv;
}

describe('ssh connect budget', () => {
  it('a refused port: retries with backoff inside the timeout, then one message naming timeout and attempts', async () => {
    const srv = await listen(() => undefined);
    const port = (srv.address() as net.AddressInfo).port;
    await new Promise((r) => srv.close(r));
    const log: string[] = [];
    const e = (await transport().connect(spec(port), undefined, (m) => log.push(m)).catch((x: unknown) => x)) as UnreachableError;
    expect(e.code).toBe('E_UNREACHABLE');
    expect(e.message).toMatch(/ECONNREFUSED \(connect timeout 1\.5 s, 3 attempts\)$/);
    // -vvv: what happened on the way (what the CLI shows as <h1> lines).
    expect(log[0]).toMatch(/^ESTABLISH SSH CONNECTION FOR USER: nobody to 127\.0\.0\.1:\d+ \(connect timeout 1\.5 s, up to 3 attempts\)$/);
    expect(log.filter((l) => /^attempt \d failed/.test(l))).toHaveLength(3);
    expect(log.filter((l) => l.startsWith('retrying in'))).toHaveLength(2);
  });

  it('a host that never answers: one attempt that uses the whole budget, no retry past it', async () => {
    const conns: net.Socket[] = [];
    const srv = await listen((s) => conns.push(s));
    const port = (srv.address() as net.AddressInfo).port;
    try {
      const log: string[] = [];
      const e = (await transport().connect(spec(port), undefined, (m) => log.push(m)).catch((x: unknown) => x)) as UnreachableError;
      expect(e.code).toBe('E_UNREACHABLE');
      expect(e.message).toMatch(/timed out during the SSH handshake with .*127\.0\.0\.1.* \(connect timeout 1\.5 s, 1 attempt\)$/);
      expect(conns).toHaveLength(1);
      expect(log.some((l) => l.startsWith('retrying'))).toBe(false);
    } finally {
      for (const s of conns) s.destroy();
      await new Promise((r) => srv.close(r));
    }
  });
});
