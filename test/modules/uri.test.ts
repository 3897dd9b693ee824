import http from 'node:http';
import type net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uriModule } from '../../src/modules/uri.js';
import { localContext } from '../support/module-context.js';

let server: http.Server;
let base = '';
const seen: { method?: string; body: string; headers: http.IncomingHttpHeaders }[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ method: req.method, body, headers: req.headers });
      if (req.url === '/health') {
        res.setHeader('Content-Type', 'application/json');
        res.setHeader('Set-Cookie', 'JSESSIONID=abc123; Path=/');
        res.end(JSON.stringify({ node: 'node1', members: 3 }));
      } else if (req.url === '/moved') {
        res.statusCode = 302;
        res.setHeader('Location', '/health');
        res.end();
      } else {
        res.statusCode = 404;
        res.end('not here');
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
});
afterAll(() => server.close());

describe('uri module', () => {
  it('GETs JSON with headers, cookies and content', async () => {
    const r = await uriModule.run({ url: `${base}/health`, return_content: true, headers: { 'X-Probe': 'yes' } }, await localContext());
    expect(r).toMatchObject({ changed: false, status: 200, json: { node: 'node1', members: 3 }, content_type: 'application/json', cookies_string: 'JSESSIONID=abc123' });
    expect(seen.at(-1)?.headers['x-probe']).toBe('yes');
  });

  it('follows redirects and fails on an unexpected status', async () => {
    const ctx = await localContext();
    expect(await uriModule.run({ url: `${base}/moved` }, ctx)).toMatchObject({ status: 200, redirected: true });
    const bad = await uriModule.run({ url: `${base}/nothing` }, ctx);
    expect(bad).toMatchObject({ failed: true, status: 404 });
    expect(String(bad.msg)).toContain('Status code was 404 and not [200]');
    expect(await uriModule.run({ url: `${base}/nothing`, status_code: [200, 404] }, ctx)).not.toHaveProperty('failed');
  });

  it('sends a JSON body, and not at all in check mode', async () => {
    const before = seen.length;
    await uriModule.run({ url: `${base}/health`, method: 'POST', body: { a: 1 }, body_format: 'json' }, await localContext());
    expect(seen.at(-1)).toMatchObject({ method: 'POST', body: '{"a":1}' });
    expect(seen.at(-1)?.headers['content-type']).toBe('application/json');
    const checked = await uriModule.run({ url: `${base}/health`, method: 'POST', body: 'x' }, await localContext({ check: true }));
    expect(checked.skipped).toBe(true);
    expect(seen.length).toBe(before + 1);
  });

  it('reports a refused connection as status -1', async () => {
    const r = await uriModule.run({ url: 'http://127.0.0.1:1/', timeout: 2 }, await localContext());
    expect(r).toMatchObject({ failed: true, status: -1 });
  });
});
