// known_hosts parsing and host key verification, following OpenSSH's rules (sshd(8) "SSH_KNOWN_HOSTS
// FILE FORMAT"). Written here because no maintained npm parser exists and ssh2 accepts any key
// unless we verify it ourselves.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { constants as fsc, promises as fsp, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';

export type KnownHostsMarker = 'revoked' | 'cert-authority';

/** One key line of a known_hosts file. */
export interface KnownHostsEntry {
  marker?: KnownHostsMarker;
  /** Host patterns (comma list split), or one hashed entry. */
  patterns: string[];
  hashed?: { salt: Buffer; hmac: Buffer };
  keyType: string;
  keyBase64: string;
  file: string;
  line: number; // 1-based
}

export interface KnownKey {
  keyType: string;
  keyBase64: string;
  file: string;
  line: number;
}

export interface HostKeys {
  /** Plain keys accepted for the host. */
  keys: KnownKey[];
  /** Keys marked @revoked that apply to the host. */
  revoked: KnownKey[];
  /** @cert-authority keys (not used to accept plain host keys). */
  certAuthorities: KnownKey[];
}

export type HostKeyVerdict =
  | { status: 'ok'; file: string; line: number }
  | { status: 'unknown'; keyType: string; fingerprint: string }
  | { status: 'changed'; file: string; line: number; keyType: string; fingerprint: string }
  | { status: 'revoked'; file: string; line: number; keyType: string; fingerprint: string };

export const DEFAULT_KNOWN_HOSTS = path.join(homedir(), '.ssh', 'known_hosts');

/** The name OpenSSH looks up: `host` on port 22, `[host]:port` otherwise. */
export function knownHostsName(host: string, port = 22): string {
  const h = host.toLowerCase();
  return port === 22 ? h : `[${h}]:${port}`;
}

/** Parses known_hosts text; malformed lines are skipped like OpenSSH does. */
export function parseKnownHosts(text: string, file = '<memory>'): KnownHostsEntry[] {
  const out: KnownHostsEntry[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i].trim();
    if (raw === '' || raw.startsWith('#')) continue;
    const fields = raw.split(/[ \t]+/);
    let marker: KnownHostsMarker | undefined;
    if (fields[0].startsWith('@')) {
      const m = fields.shift()!;
      if (m === '@revoked') marker = 'revoked';
      else if (m === '@cert-authority') marker = 'cert-authority';
      else continue; // unknown marker: OpenSSH ignores the line
    }
    if (fields.length < 3) continue;
    const [hostField, keyType, keyBase64] = fields;
    const entry: KnownHostsEntry = { marker, patterns: [], keyType, keyBase64, file, line: i + 1 };
    if (hostField.startsWith('|1|')) {
      const parts = hostField.slice(3).split('|');
      if (parts.length !== 2) continue;
      const salt = Buffer.from(parts[0], 'base64');
      const hmac = Buffer.from(parts[1], 'base64');
      if (salt.length !== 20 || hmac.length !== 20) continue;
      entry.hashed = { salt, hmac };
    } else {
      entry.patterns = hostField.split(',').filter((p) => p !== '');
    }
    out.push(entry);
  }
  return out;
}

/** `*` and `?` glob, whole-string, case-insensitive. */
export function globMatch(pattern: string, text: string): boolean {
  const p = pattern.toLowerCase();
  const t = text.toLowerCase();
  // Iterative wildcard matching with backtracking to the last `*` (linear-ish, no regex injection).
  let pi = 0;
  let ti = 0;
  let star = -1;
  let mark = 0;
  while (ti < t.length) {
    if (pi < p.length && (p[pi] === '?' || p[pi] === t[ti])) {
      pi++;
      ti++;
    } else if (pi < p.length && p[pi] === '*') {
      star = pi++;
      mark = ti;
    } else if (star !== -1) {
      pi = star + 1;
      ti = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.length && p[pi] === '*') pi++;
  return pi === p.length;
}

/** OpenSSH match_hostname: any negated match vetoes, otherwise one positive match is needed. */
export function patternListMatches(patterns: string[], name: string): boolean {
  let positive = false;
  for (const pat of patterns) {
    if (pat.startsWith('!')) {
      if (globMatch(pat.slice(1), name)) return false;
    } else if (globMatch(pat, name)) {
      positive = true;
    }
  }
  return positive;
}

export function hashHostName(name: string, salt: Buffer): Buffer {
  return createHmac('sha1', salt).update(name).digest();
}

export function entryMatches(entry: KnownHostsEntry, host: string, port = 22): boolean {
  const name = knownHostsName(host, port);
  if (entry.hashed) {
    const h = hashHostName(name, entry.hashed.salt);
    return timingSafeEqual(h, entry.hashed.hmac);
  }
  return patternListMatches(entry.patterns, name);
}

/** Reads and parses files; a missing file counts as empty (like OpenSSH). */
export function loadKnownHosts(files: string[]): KnownHostsEntry[] {
  const out: KnownHostsEntry[] = [];
  for (const f of files) {
    let text: string;
    try {
      text = readFileSync(expandHome(f), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') continue;
      throw e;
    }
    out.push(...parseKnownHosts(text, f));
  }
  return out;
}

export function lookupHost(entries: KnownHostsEntry[], host: string, port = 22): HostKeys {
  const res: HostKeys = { keys: [], revoked: [], certAuthorities: [] };
  for (const e of entries) {
    if (!entryMatches(e, host, port)) continue;
    const k: KnownKey = { keyType: e.keyType, keyBase64: e.keyBase64, file: e.file, line: e.line };
    if (e.marker === 'revoked') res.revoked.push(k);
    else if (e.marker === 'cert-authority') res.certAuthorities.push(k);
    else res.keys.push(k);
  }
  return res;
}

/** The key type named inside an SSH wire-format public key blob. */
export function keyTypeOfBlob(blob: Buffer): string {
  if (blob.length < 4) return '';
  const len = blob.readUInt32BE(0);
  if (len > blob.length - 4) return '';
  return blob.subarray(4, 4 + len).toString('latin1');
}

/** `SHA256:...` as `ssh-keygen -l` prints it. */
export function fingerprint(blob: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(blob).digest('base64').replace(/=+$/, '');
}

function sameKey(k: KnownKey, blob: Buffer): boolean {
  const known = Buffer.from(k.keyBase64, 'base64');
  return known.length === blob.length && timingSafeEqual(known, blob);
}

/**
 * Verifies a presented host key. A revoked key is refused even if also listed as known; a key of a
 * type the host already has a different key for is `changed`; a host with no key of that type is `unknown`.
 */
export function verifyHostKey(host: string, port: number, keyBlob: Buffer, files: string[]): HostKeyVerdict {
  return verifyAgainst(lookupHost(loadKnownHosts(files), host, port), keyBlob);
}

export function verifyAgainst(known: HostKeys, keyBlob: Buffer): HostKeyVerdict {
  const keyType = keyTypeOfBlob(keyBlob);
  const fp = fingerprint(keyBlob);
  const rev = known.revoked.find((k) => sameKey(k, keyBlob));
  if (rev) return { status: 'revoked', file: rev.file, line: rev.line, keyType, fingerprint: fp };
  const ok = known.keys.find((k) => sameKey(k, keyBlob));
  if (ok) return { status: 'ok', file: ok.file, line: ok.line };
  const sameType = known.keys.find((k) => k.keyType === keyType);
  if (sameType) return { status: 'changed', file: sameType.file, line: sameType.line, keyType, fingerprint: fp };
  // Keys of other types only: OpenSSH treats this as a new key too, but we restrict the negotiated
  // algorithms to the known types, so this only happens when the server no longer offers them.
  const other = known.keys[0];
  if (other) return { status: 'changed', file: other.file, line: other.line, keyType, fingerprint: fp };
  return { status: 'unknown', keyType, fingerprint: fp };
}

/** ssh2 `algorithms.serverHostKey` names usable for each known_hosts key type. */
const ALGOS_FOR_TYPE: Record<string, string[]> = {
  'ssh-ed25519': ['ssh-ed25519'],
  'ecdsa-sha2-nistp256': ['ecdsa-sha2-nistp256'],
  'ecdsa-sha2-nistp384': ['ecdsa-sha2-nistp384'],
  'ecdsa-sha2-nistp521': ['ecdsa-sha2-nistp521'],
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
};
const ALGO_PREFERENCE = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
];

/** Host key algorithms to offer so the server presents a key type we can verify (empty: host unknown). */
export function knownKeyAlgorithms(known: HostKeys): string[] {
  const set = new Set<string>();
  for (const k of known.keys) for (const a of ALGOS_FOR_TYPE[k.keyType] ?? []) set.add(a);
  return ALGO_PREFERENCE.filter((a) => set.has(a));
}

/** Host key algorithms for a host from files (see knownKeyAlgorithms). */
export function knownKeyTypes(host: string, port: number, files: string[]): string[] {
  return knownKeyAlgorithms(lookupHost(loadKnownHosts(files), host, port));
}

export function expandHome(p: string): string {
  if (p === '~') return homedir();
  if (p.startsWith('~/')) return path.join(homedir(), p.slice(2));
  return p;
}

/** The first file we may append to: an existing writable file, or a missing one in a creatable dir. */
export async function firstWritableKnownHosts(files: string[]): Promise<string | undefined> {
  for (const raw of files) {
    const f = expandHome(raw);
    try {
      await fsp.access(f, fsc.W_OK);
      return f;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') continue;
    }
    // Missing: fine if its directory exists (writable) or can be created.
    const dir = path.dirname(f);
    try {
      await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
      await fsp.access(dir, fsc.W_OK);
      return f;
    } catch {
      continue;
    }
  }
  return undefined;
}

const LOCK_STALE_MS = 30_000;
const LOCK_WAIT_MS = 15_000;

/** Runs fn while holding `<file>.lock` (O_EXCL create), so one writer at a time across processes. */
export async function withFileLock<T>(file: string, fn: () => Promise<T>): Promise<T> {
  const lock = `${file}.lock`;
  const start = Date.now();
  let delay = 10;
  for (;;) {
    try {
      const fh = await fsp.open(lock, 'wx', 0o600);
      await fh.writeFile(`${process.pid}\n`);
      await fh.close();
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      // A lock left by a crashed writer is taken over after LOCK_STALE_MS.
      const st = await fsp.stat(lock).catch(() => undefined);
      if (st && Date.now() - st.mtimeMs > LOCK_STALE_MS) {
        await fsp.unlink(lock).catch(() => undefined);
        continue;
      }
      if (Date.now() - start > LOCK_WAIT_MS) throw new Error(`timed out waiting for lock ${lock}`);
      await new Promise((r) => setTimeout(r, delay + Math.random() * delay));
      delay = Math.min(delay * 2, 200);
    }
  }
  try {
    return await fn();
  } finally {
    await fsp.unlink(lock).catch(() => undefined);
  }
}

export type AppendResult = { status: 'added'; file: string; line: number } | { status: 'present'; file: string; line: number };

/**
 * accept-new: records `name keytype base64` in `file`, under the lock. Re-checks all files inside the
 * lock so concurrent first connections write the line once; a changed or revoked key is never written.
 */
export async function appendKnownHost(
  file: string,
  host: string,
  port: number,
  keyBlob: Buffer,
  allFiles: string[],
): Promise<AppendResult | Exclude<HostKeyVerdict, { status: 'ok' } | { status: 'unknown' }>> {
  const target = expandHome(file);
  await fsp.mkdir(path.dirname(target), { recursive: true, mode: 0o700 });
  return withFileLock(target, async () => {
    const files = allFiles.map(expandHome).includes(target) ? allFiles : [...allFiles, target];
    const v = verifyHostKey(host, port, keyBlob, files);
    if (v.status === 'ok') return { status: 'present', file: v.file, line: v.line };
    if (v.status !== 'unknown') return v;
    let existing = '';
    try {
      existing = await fsp.readFile(target, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    const prefix = existing !== '' && !existing.endsWith('\n') ? '\n' : '';
    const entry = `${knownHostsName(host, port)} ${keyTypeOfBlob(keyBlob)} ${keyBlob.toString('base64')}\n`;
    await fsp.appendFile(target, prefix + entry, { mode: 0o600 });
    // "a\nb\n" splits into 3 parts: the new entry is line 3; without a final newline we add one first.
    const line = existing === '' ? 1 : existing.split('\n').length + (prefix ? 1 : 0);
    return { status: 'added', file: target, line };
  });
}
