import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLocalTransport } from '../../src/transport/local.js';

const spec = { name: 'localhost', connection: 'local', host: 'localhost', port: 22, vars: {} };

describe('local transport', () => {
  it('runs sh with cwd, env and stdin and reports the exit code', async () => {
    const conn = await createLocalTransport().connect(spec);
    const dir = mkdtempSync(path.join(tmpdir(), 'obr-local-'));
    const r = await conn.exec('pwd; echo "$GREETING"; cat; exit 3', { cwd: dir, env: { GREETING: "it's ok" }, stdin: 'from stdin' });
    expect(r.stdout).toBe(`${dir}\nit's ok\nfrom stdin`);
    expect(r.exitCode).toBe(3);
    expect(r.timedOut).toBe(false);
  });

  it('fails when the working directory does not exist', async () => {
    const conn = await createLocalTransport().connect(spec);
    const r = await conn.exec('echo never', { cwd: '/nonexistent/obr' });
    expect(r.exitCode).not.toBe(0);
    expect(r.stdout).toBe('');
  });

  it('kills a command at its timeout', async () => {
    const conn = await createLocalTransport().connect(spec);
    const r = await conn.exec('sleep 5; echo late', { timeoutMs: 200 });
    expect(r.timedOut).toBe(true);
    expect(r.stdout).toBe('');
    expect(r.durationMs).toBeLessThan(4000);
  });

  it('keeps multi-byte output intact', async () => {
    const conn = await createLocalTransport().connect(spec);
    const r = await conn.exec(`i=0; while [ $i -lt 5000 ]; do printf 'ä€'; i=$((i+1)); done`);
    expect(r.stdout).toBe('ä€'.repeat(5000));
  });

  it('puts and gets files with a mode', async () => {
    const conn = await createLocalTransport().connect(spec);
    const dir = mkdtempSync(path.join(tmpdir(), 'obr-local-'));
    writeFileSync(path.join(dir, 'src'), 'content\n');
    await conn.putFile(path.join(dir, 'src'), path.join(dir, 'dest'), { mode: 0o640 });
    expect(readFileSync(path.join(dir, 'dest'), 'utf8')).toBe('content\n');
    expect(statSync(path.join(dir, 'dest')).mode & 0o777).toBe(0o640);
    await conn.getFile(path.join(dir, 'dest'), path.join(dir, 'back'));
    expect(readFileSync(path.join(dir, 'back'), 'utf8')).toBe('content\n');
  });

  it('puts a file to a caller-owned temp name in place', async () => {
    const conn = await createLocalTransport().connect(spec);
    const dir = mkdtempSync(path.join(tmpdir(), 'obr-local-'));
    writeFileSync(path.join(dir, 'src'), 'content\n');
    mkdirSync(path.join(dir, 'out'));
    await conn.putFile(path.join(dir, 'src'), path.join(dir, 'out', '.x.tmp'), { mode: 0o600, temp: true });
    expect(readdirSync(path.join(dir, 'out'))).toEqual(['.x.tmp']);
    expect(statSync(path.join(dir, 'out', '.x.tmp')).mode & 0o777).toBe(0o600);
  });
});
