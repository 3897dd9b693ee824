import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  appendKnownHost,
  fingerprint,
  globMatch,
  keyTypeOfBlob,
  knownKeyTypes,
  loadKnownHosts,
  lookupHost,
  parseKnownHosts,
  patternListMatches,
  verifyHostKey,
  withFileLock,
} from '../../src/transport/known-hosts.js';

let dir: string;
const keys: Record<string, { type: string; b64: string; blob: Buffer; pubFile: string }> = {};

function genKey(name: string, type: string, bits?: number): void {
  const f = path.join(dir, name);
  const args = ['-q', '-t', type, '-N', '', '-C', name, '-f', f];
  if (bits) args.push('-b', String(bits));
  execFileSync('ssh-keygen', args);
  const [t, b64] = readFileSync(`${f}.pub`, 'utf8').trim().split(/\s+/);
  keys[name] = { type: t, b64, blob: Buffer.from(b64, 'base64'), pubFile: `${f}.pub` };
}

/** Line numbers `ssh-keygen -F name -f file` reports (it prints "# Host NAME found: line N"). */
function keygenLines(name: string, file: string): number[] {
  let out = '';
  try {
    out = execFileSync('ssh-keygen', ['-F', name, '-f', file], { encoding: 'utf8' });
  } catch {
    return []; // exit 1: not found
  }
  return [...out.matchAll(/found: line (\d+)/g)].map((m) => Number(m[1]));
}

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'obr-kh-'));
  genKey('ed1', 'ed25519');
  genKey('ed2', 'ed25519');
  genKey('ec256', 'ecdsa', 256);
  genKey('ec384', 'ecdsa', 384);
  genKey('rsa', 'rsa', 2048);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('glob and pattern lists', () => {
  it('matches * and ? and is case-insensitive', () => {
    expect(globMatch('*.example.com', 'a.b.example.com')).toBe(true);
    expect(globMatch('*.example.com', 'example.com')).toBe(false);
    expect(globMatch('web?', 'web1')).toBe(true);
    expect(globMatch('web?', 'web12')).toBe(false);
    expect(globMatch('WEB*', 'web-a')).toBe(true);
    expect(globMatch('[10.0.0.*]:2222', '[10.0.0.5]:2222')).toBe(true);
    expect(globMatch('a*b*c', 'axxbyyc')).toBe(true);
    expect(globMatch('a*b*c', 'axxbyy')).toBe(false);
  });
  it('a negated pattern vetoes a positive one', () => {
    expect(patternListMatches(['*.example.com', '!bad.example.com'], 'good.example.com')).toBe(true);
    expect(patternListMatches(['*.example.com', '!bad.example.com'], 'bad.example.com')).toBe(false);
    expect(patternListMatches(['!bad.example.com'], 'good.example.com')).toBe(false);
  });
});

describe('known_hosts parsing and lookup, checked against ssh-keygen -F', () => {
  let file: string;
  beforeAll(() => {
    const k = keys;
    const text = [
      '# comment line',
      '',
      `web1,web2,10.0.0.1 ${k.ed1.type} ${k.ed1.b64} web`, // 3
      `[web1]:2222 ${k.ec256.type} ${k.ec256.b64}`, // 4
      `*.example.com,!bad.example.com ${k.rsa.type} ${k.rsa.b64}`, // 5
      `@revoked * ${k.ed2.type} ${k.ed2.b64}`, // 6
      `@cert-authority *.corp ${k.ec384.type} ${k.ec384.b64}`, // 7
      `db? ${k.ed1.type} ${k.ed1.b64}`, // 8
      `db1 ${k.rsa.type} ${k.rsa.b64}`, // 9
      `   # indented comment`,
      `garbage-line-without-key`,
    ].join('\n');
    file = path.join(dir, 'known_hosts_plain');
    writeFileSync(file, text + '\n');
  });

  it('parses markers, patterns and line numbers', () => {
    const e = parseKnownHosts(readFileSync(file, 'utf8'), file);
    expect(e.map((x) => x.line)).toEqual([3, 4, 5, 6, 7, 8, 9]);
    expect(e[0].patterns).toEqual(['web1', 'web2', '10.0.0.1']);
    expect(e[3].marker).toBe('revoked');
    expect(e[4].marker).toBe('cert-authority');
  });

  it('agrees with ssh-keygen -F for plain, port, wildcard and negated names', () => {
    const entries = loadKnownHosts([file]);
    const cases: [string, number][] = [
      ['web1', 22],
      ['web2', 22],
      ['10.0.0.1', 22],
      ['web1', 2222],
      ['web2', 2222],
      ['a.example.com', 22],
      ['bad.example.com', 22],
      ['db1', 22],
      ['db12', 22],
      ['x.corp', 22],
      ['nothing', 22],
    ];
    for (const [host, port] of cases) {
      const hk = lookupHost(entries, host, port);
      const mine = [...hk.keys, ...hk.revoked, ...hk.certAuthorities].map((k) => k.line).sort((a, b) => a - b);
      const name = port === 22 ? host : `[${host}]:${port}`;
      expect(mine, name).toEqual(keygenLines(name, file));
    }
  });

  it('keeps several keys per host, revoked and CA keys apart', () => {
    const hk = lookupHost(loadKnownHosts([file]), 'db1', 22);
    expect(hk.keys.map((k) => k.line)).toEqual([8, 9]);
    expect(hk.revoked.map((k) => k.line)).toEqual([6]);
    expect(lookupHost(loadKnownHosts([file]), 'x.corp', 22).certAuthorities.map((k) => k.line)).toEqual([7]);
    expect(lookupHost(loadKnownHosts([file]), 'x.corp', 22).keys).toEqual([]);
  });

  it('verifies: ok, unknown, changed (file:line), revoked; CA keys do not accept a plain key', () => {
    const k = keys;
    expect(verifyHostKey('web1', 22, k.ed1.blob, [file])).toEqual({ status: 'ok', file, line: 3 });
    expect(verifyHostKey('web1', 2222, k.ec256.blob, [file])).toMatchObject({ status: 'ok', line: 4 });
    // Port 2222 has only an ecdsa key: an ed25519 key there is a changed key, never accepted.
    expect(verifyHostKey('web1', 2222, k.ed1.blob, [file])).toMatchObject({ status: 'changed', file, line: 4 });
    expect(verifyHostKey('web1', 2223, k.ed1.blob, [file])).toMatchObject({ status: 'unknown', keyType: 'ssh-ed25519' });
    const changed = verifyHostKey('web2', 22, Buffer.from(k.ed1.b64, 'base64').fill(1, 30), [file]);
    expect(changed).toMatchObject({ status: 'changed', file, line: 3 });
    expect(verifyHostKey('web1', 22, k.ed2.blob, [file])).toMatchObject({ status: 'revoked', line: 6 });
    expect(verifyHostKey('x.corp', 22, k.ec384.blob, [file])).toMatchObject({ status: 'unknown' });
    expect(verifyHostKey('a.example.com', 22, k.rsa.blob, [file])).toMatchObject({ status: 'ok', line: 5 });
    expect(verifyHostKey('bad.example.com', 22, k.rsa.blob, [file])).toMatchObject({ status: 'unknown' });
  });

  it('reports key algorithms ssh2 accepts for the known types', () => {
    expect(knownKeyTypes('web1', 22, [file])).toEqual(['ssh-ed25519']);
    expect(knownKeyTypes('web1', 2222, [file])).toEqual(['ecdsa-sha2-nistp256']);
    expect(knownKeyTypes('db1', 22, [file])).toEqual(['ssh-ed25519', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']);
    expect(knownKeyTypes('nothing', 22, [file])).toEqual([]);
  });

  it('fingerprints like ssh-keygen -l', () => {
    const out = execFileSync('ssh-keygen', ['-l', '-f', keys.ed1.pubFile], { encoding: 'utf8' });
    expect(out).toContain(fingerprint(keys.ed1.blob));
    expect(keyTypeOfBlob(keys.rsa.blob)).toBe('ssh-rsa');
  });
});

describe('hashed entries made by ssh-keygen -H', () => {
  it('match the hashed names, including [host]:port', () => {
    const file = path.join(dir, 'known_hosts_hashed');
    writeFileSync(
      file,
      [`h1.lab ${keys.ed1.type} ${keys.ed1.b64}`, `[h2.lab]:2200 ${keys.ec256.type} ${keys.ec256.b64}`, `h3.lab ${keys.ed2.type} ${keys.ed2.b64}`].join('\n') + '\n',
    );
    execFileSync('ssh-keygen', ['-q', '-H', '-f', file], { stdio: 'ignore' });
    // ssh-keygen -H leaves marker lines alone: mark the third (hashed) line as revoked ourselves.
    const lines = readFileSync(file, 'utf8').split('\n');
    lines[2] = `@revoked ${lines[2]}`;
    writeFileSync(file, lines.join('\n'));
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain('h1.lab');
    expect(text).toMatch(/^\|1\|/m);
    const entries = loadKnownHosts([file]);
    expect(entries.every((e) => e.hashed)).toBe(true);
    expect(verifyHostKey('h1.lab', 22, keys.ed1.blob, [file])).toMatchObject({ status: 'ok', line: 1 });
    expect(verifyHostKey('H1.LAB', 22, keys.ed1.blob, [file])).toMatchObject({ status: 'ok' });
    expect(verifyHostKey('h1.lab', 2222, keys.ed1.blob, [file])).toMatchObject({ status: 'unknown' });
    expect(verifyHostKey('h2.lab', 2200, keys.ec256.blob, [file])).toMatchObject({ status: 'ok', line: 2 });
    expect(verifyHostKey('h3.lab', 22, keys.ed2.blob, [file])).toMatchObject({ status: 'revoked', line: 3 });
    for (const name of ['h1.lab', '[h2.lab]:2200', 'h3.lab', 'h4.lab']) {
      const hk = lookupHost(entries, name.startsWith('[') ? 'h2.lab' : name, name.startsWith('[') ? 2200 : 22);
      expect([...hk.keys, ...hk.revoked].map((k) => k.line)).toEqual(keygenLines(name, file));
    }
  });
});

describe('accept-new recording', () => {
  it('appends one line with [host]:port, once even when racing, and never a changed key', async () => {
    const file = path.join(dir, 'sub', 'known_hosts_new');
    const results = await Promise.all(
      Array.from({ length: 8 }, () => appendKnownHost(file, '127.0.0.1', 2022, keys.ed1.blob, [file])),
    );
    expect(results.filter((r) => r.status === 'added')).toHaveLength(1);
    expect(results.filter((r) => r.status === 'present')).toHaveLength(7);
    const text = readFileSync(file, 'utf8');
    expect(text).toBe(`[127.0.0.1]:2022 ssh-ed25519 ${keys.ed1.b64}\n`);
    expect(verifyHostKey('127.0.0.1', 2022, keys.ed1.blob, [file])).toMatchObject({ status: 'ok', line: 1 });
    // Port 22 is written without brackets, and the line number is reported.
    const r22 = await appendKnownHost(file, 'Web9', 22, keys.rsa.blob, [file]);
    expect(r22).toEqual({ status: 'added', file, line: 2 });
    expect(readFileSync(file, 'utf8').split('\n')[1]).toBe(`web9 ssh-rsa ${keys.rsa.b64}`);
    // A different ed25519 key for the recorded host is refused and nothing is written.
    const before = readFileSync(file, 'utf8');
    const ch = await appendKnownHost(file, '127.0.0.1', 2022, keys.ed2.blob, [file]);
    expect(ch).toMatchObject({ status: 'changed', line: 1 });
    expect(readFileSync(file, 'utf8')).toBe(before);
    expect(existsSync(`${file}.lock`)).toBe(false);
  });

  it('adds a newline before appending to a file without one', async () => {
    const file = path.join(dir, 'kh_nonl');
    writeFileSync(file, `other ssh-ed25519 ${keys.ed2.b64}`);
    const r = await appendKnownHost(file, 'h', 22, keys.ed1.blob, [file]);
    expect(r).toEqual({ status: 'added', file, line: 2 });
    expect(readFileSync(file, 'utf8')).toBe(`other ssh-ed25519 ${keys.ed2.b64}\nh ssh-ed25519 ${keys.ed1.b64}\n`);
  });

  it('the lock waits for a live holder and takes over a stale one', async () => {
    const file = path.join(dir, 'locked');
    writeFileSync(`${file}.lock`, '1\n');
    const order: string[] = [];
    const p = withFileLock(file, async () => {
      order.push('second');
    });
    await new Promise((r) => setTimeout(r, 150));
    order.push('first-done');
    rmSync(`${file}.lock`);
    await p;
    expect(order).toEqual(['first-done', 'second']);
    // A lock older than 30 s belongs to a dead writer.
    writeFileSync(`${file}.lock`, '1\n');
    const old = new Date(Date.now() - 60_000);
    utimesSync(`${file}.lock`, old, old);
    let ran = false;
    await withFileLock(file, async () => {
      ran = true;
    });
    expect(ran).toBe(true);
  });
});
