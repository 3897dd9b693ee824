import { mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { waitForModule } from '../../src/modules/wait-for.js';
import { localContext } from '../support/module-context.js';

const servers: net.Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

function listen(): Promise<{ server: net.Server; port: number }> {
  return new Promise((resolve) => {
    const server = net.createServer((sock) => sock.on('error', () => undefined));
    servers.push(server);
    server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as net.AddressInfo).port }));
  });
}

describe('wait_for module', () => {
  it('returns once a port is open, and times out on a closed one', async () => {
    const { port, server } = await listen();
    const ctx = await localContext();
    const ok = await waitForModule.run({ port, timeout: 5 }, ctx);
    expect(ok.failed).toBeUndefined();
    expect(ok.changed).toBe(false);
    await new Promise<void>((r) => server.close(() => r()));
    const gone = await waitForModule.run({ port, state: 'stopped', timeout: 5 }, ctx);
    expect(gone.failed).toBeUndefined();
    const never = await waitForModule.run({ port, timeout: 1 }, ctx);
    expect(never.failed).toBe(true);
    expect(never.msg).toBe(`Timeout when waiting for 127.0.0.1:${port} to be started`);
  });

  it('waits for a regex in a file written later', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'obr-wf-'));
    const log = path.join(dir, 'wso2carbon.log');
    writeFileSync(log, 'starting\n');
    setTimeout(() => writeFileSync(log, 'starting\nWSO2 Carbon started in 3 sec\n'), 700);
    const r = await waitForModule.run({ path: log, search_regex: 'WSO2 Carbon started in [0-9]+ sec', timeout: 10 }, await localContext());
    expect(r.failed).toBeUndefined();
  });

  it('drained waits until established connections on the port are gone', async () => {
    const { port } = await listen();
    const client = net.connect(port, '127.0.0.1');
    await new Promise((r) => client.on('connect', r));
    const ctx = await localContext();
    const busy = await waitForModule.run({ port, state: 'drained', timeout: 1 }, ctx);
    expect(busy.failed).toBe(true);
    setTimeout(() => client.destroy(), 500);
    const drained = await waitForModule.run({ port, state: 'drained', timeout: 10 }, ctx);
    expect(drained.failed).toBeUndefined();
  });
});
