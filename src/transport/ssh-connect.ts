// Opening one SSH hop with ssh2: TCP (Nagle off) or a forwarded stream from the previous hop,
// strict host key verification against known_hosts, and key/agent/password authentication.
// Every failure becomes an UnreachableError with a specific code and remedy.
import net from 'node:net';
import type { Duplex } from 'node:stream';
import ssh2 from 'ssh2';
import type { AnyAuthMethod, AuthenticationType, Client as ClientT, ParsedKey } from 'ssh2';
import { UnreachableError } from '../errors.js';
import {
  appendKnownHost,
  firstWritableKnownHosts,
  knownHostsName,
  knownKeyAlgorithms,
  loadKnownHosts,
  lookupHost,
  verifyAgainst,
  type HostKeyVerdict,
} from './known-hosts.js';

const { Client } = ssh2;

export interface HopParams {
  /** inventory_hostname the errors are about. */
  name: string;
  host: string;
  port: number;
  user: string;
  keys: { file: string; key: ParsedKey }[];
  agent?: string;
  password?: string;
  knownHostsFiles: string[];
  policy: 'strict' | 'accept-new';
  connectTimeoutMs: number;
  keepaliveIntervalMs: number;
  keepaliveCountMax: number;
  /** Insecure options from the inventory we did not honour (mentioned in host key errors). */
  ignoredOptions: string[];
  /** "via bastion ..." for messages. */
  via?: string;
  /** This hop is a jump host (named so in messages). */
  jump?: boolean;
}

/** Errors worth another attempt (network and timeouts), as opposed to host key or auth refusals. */
export const retryable = new WeakSet<Error>();

function label(p: HopParams): string {
  return `${p.jump ? 'jump host ' : ''}${p.user}@${p.host}:${p.port}${p.via ? ` (via ${p.via})` : ''}`;
}

function keyscanType(keyType: string): string {
  if (keyType === 'ssh-ed25519') return 'ed25519';
  if (keyType.startsWith('ecdsa-')) return 'ecdsa';
  if (keyType === 'ssh-rsa') return 'rsa';
  return keyType;
}

function hostKeyError(p: HopParams, v: Exclude<HostKeyVerdict, { status: 'ok' }>, writeTarget: string | undefined): UnreachableError {
  const name = knownHostsName(p.host, p.port);
  const ignored = p.ignoredOptions.length
    ? ` (${p.ignoredOptions.join(', ')} from the inventory is ignored: obiam-run never accepts an unverified host key)`
    : '';
  if (v.status === 'unknown') {
    const file = writeTarget ?? p.knownHostsFiles[0] ?? '~/.ssh/known_hosts';
    return new UnreachableError(
      p.name,
      `host key for ${p.jump ? 'jump host ' : ''}${name} is not known: the server offered ${v.keyType} ${v.fingerprint}${p.via ? ` (via ${p.via})` : ''}`,
      {
        code: 'E_HOST_KEY_UNKNOWN',
        remedy:
          `verify the fingerprint ${v.fingerprint} out of band, then record it: ` +
          `ssh-keyscan -p ${p.port} -t ${keyscanType(v.keyType)} ${p.host} >> ${file}` +
          ` -- or trust it on first use with --host-key-policy accept-new${ignored}`,
      },
    );
  }
  if (v.status === 'changed') {
    return new UnreachableError(
      p.name,
      `host key for ${p.jump ? 'jump host ' : ''}${name} has CHANGED: the server offered ${v.keyType} ${v.fingerprint}, which does not match ${v.file}:${v.line}. ` +
        `This may be a man-in-the-middle attack; the connection was refused`,
      {
        code: 'E_HOST_KEY_CHANGED',
        remedy:
          `if the host was legitimately re-keyed, verify the new fingerprint out of band, remove the old entry ` +
          `(ssh-keygen -R '${name}' -f ${v.file}) and record the new key${ignored}`,
      },
    );
  }
  return new UnreachableError(p.name, `host key for ${name} is REVOKED (${v.file}:${v.line}): ${v.keyType} ${v.fingerprint}`, {
    code: 'E_HOST_KEY_REVOKED',
    remedy: `the host presents a key marked @revoked in ${v.file}:${v.line}; re-key the host and record its new key`,
  });
}

/** TCP connect with Nagle off (small request/reply frames must not wait for ACKs). */
function tcpConnect(p: HopParams, signal?: AbortSignal): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: p.host, port: p.port, noDelay: true });
    s.setNoDelay(true);
    const done = (e?: Error) => {
      clearTimeout(t);
      signal?.removeEventListener('abort', onAbort);
      s.removeListener('error', onErr);
      if (e) {
        s.destroy();
        reject(e);
      } else resolve(s);
    };
    const onErr = (e: NodeJS.ErrnoException) => {
      const err = new UnreachableError(p.name, `cannot connect to ${label(p)}: ${e.code ?? e.message}`, {
        cause: e,
        remedy: e.code === 'ENOTFOUND' ? `check the host name (ansible_host / HostName) of ${p.name}` : 'check that the host is up and sshd listens on that port',
      });
      if (e.code !== 'ENOTFOUND') retryable.add(err);
      done(err);
    };
    const onAbort = () => done(new UnreachableError(p.name, 'connection attempt aborted', { code: 'E_INTERRUPTED' }));
    const t = setTimeout(() => {
      const err = new UnreachableError(p.name, `timed out connecting to ${label(p)}`, {
        remedy: 'check the network path and firewall, or raise ansible_ssh_timeout',
      });
      retryable.add(err);
      done(err);
    }, p.connectTimeoutMs);
    s.once('error', onErr);
    s.once('connect', () => done());
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** A stream to host:port opened by the previous hop (ProxyJump). */
function forwardVia(prev: ClientT, p: HopParams): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    prev.forwardOut('127.0.0.1', 0, p.host, p.port, (err, stream) => {
      if (err) {
        const e = new UnreachableError(p.name, `${p.via ?? 'jump host'} could not open a connection to ${p.host}:${p.port}: ${err.message}`, {
          remedy: 'check that the target is reachable from the jump host and that the jump host allows TCP forwarding',
        });
        retryable.add(e);
        reject(e);
      } else resolve(stream);
    });
  });
}

/**
 * Connects and authenticates one hop. The returned client has a permanent 'error' listener
 * (the caller adds its own for liveness); nothing a server does later can crash the process.
 */
export async function connectHop(p: HopParams, prev: ClientT | undefined, signal?: AbortSignal): Promise<ClientT> {
  const known = lookupHost(loadKnownHosts(p.knownHostsFiles), p.host, p.port);
  const algos = knownKeyAlgorithms(known);
  const writeTarget = p.policy === 'accept-new' ? await firstWritableKnownHosts(p.knownHostsFiles) : undefined;
  const sock: Duplex = prev ? await forwardVia(prev, p) : await tcpConnect(p, signal);

  const client = new Client();
  let verdict: Exclude<HostKeyVerdict, { status: 'ok' }> | undefined;
  let verifyFailure: Error | undefined;
  const tried: string[] = [];

  const hostVerifier = (key: Buffer, verify: (ok: boolean) => void): void => {
    const v = verifyAgainst(known, key);
    if (v.status === 'ok') return verify(true);
    if (v.status === 'unknown' && p.policy === 'accept-new' && writeTarget) {
      // Re-checked under the lock: another process may have recorded the host meanwhile.
      appendKnownHost(writeTarget, p.host, p.port, key, p.knownHostsFiles).then(
        (r) => {
          if (r.status === 'added' || r.status === 'present') verify(true);
          else {
            verdict = r;
            verify(false);
          }
        },
        (e: Error) => {
          verifyFailure = e;
          verdict = v;
          verify(false);
        },
      );
      return;
    }
    verdict = v;
    verify(false);
  };

  const methods: AnyAuthMethod[] = [];
  for (const k of p.keys) methods.push({ type: 'publickey', username: p.user, key: k.key });
  if (p.agent) methods.push({ type: 'agent', username: p.user, agent: p.agent });
  if (p.password !== undefined) {
    const pw = p.password;
    methods.push({ type: 'password', username: p.user, password: pw });
    methods.push({
      type: 'keyboard-interactive',
      username: p.user,
      prompt: (_n, _i, _l, prompts, finish) => finish(prompts.map(() => pw)),
    });
  }
  const describe = (m: AnyAuthMethod, i: number): string =>
    m.type === 'publickey' ? `publickey ${p.keys[i]?.file ?? ''}`.trim() : m.type === 'agent' ? 'ssh-agent' : m.type;
  let mi = 0;
  const authHandler = (left: AuthenticationType[] | null, _partial: boolean | null, next: (m: AnyAuthMethod | false) => void): void => {
    while (mi < methods.length) {
      const i = mi++;
      const m = methods[i];
      const wire = m.type === 'agent' ? 'publickey' : m.type;
      if (left && !left.includes(wire as AuthenticationType)) continue;
      tried.push(describe(m, i));
      return next(m);
    }
    next(false);
  };

  return new Promise<ClientT>((resolve, reject) => {
    let settled = false;
    const fail = (e: Error) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      client.end();
      sock.destroy();
      reject(e);
    };
    const onAbort = () => fail(new UnreachableError(p.name, 'connection attempt aborted', { code: 'E_INTERRUPTED' }));
    signal?.addEventListener('abort', onAbort, { once: true });
    client.on('error', (e: Error & { level?: string; code?: string }) => {
      if (settled) return; // later errors are handled by the connection's own listener
      if (verdict) return fail(hostKeyError(p, verdict, writeTarget));
      if (verifyFailure) return fail(new UnreachableError(p.name, `cannot record the host key: ${verifyFailure.message}`));
      if (e.level === 'client-authentication') {
        return fail(
          new UnreachableError(p.name, `authentication failed for ${label(p)} (tried: ${tried.join(', ') || 'nothing: no key, agent or password'})`, {
            code: 'E_SSH_AUTH',
            remedy: 'set ansible_user / ansible_ssh_private_key_file (or load the key into ssh-agent), and check authorized_keys on the host',
          }),
        );
      }
      if (/no matching host key/i.test(e.message) && algos.length) {
        const k = known.keys[0];
        return fail(
          new UnreachableError(
            p.name,
            `${knownHostsName(p.host, p.port)} offers none of the host key types known for it (${algos.join(', ')}, ${k.file}:${k.line}); its host key has changed`,
            { code: 'E_HOST_KEY_CHANGED', remedy: `verify the host's new key out of band and update ${k.file}` },
          ),
        );
      }
      const err = new UnreachableError(
        p.name,
        e.level === 'client-timeout'
          ? `timed out during the SSH handshake with ${label(p)}`
          : `SSH connection to ${label(p)} failed: ${e.message}`,
        { cause: e },
      );
      if (e.level === 'client-timeout' || e.level === 'client-socket' || e.code !== undefined) retryable.add(err);
      fail(err);
    });
    client.on('close', () => fail(new UnreachableError(p.name, `connection to ${label(p)} closed during the handshake`)));
    client.on('ready', () => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      resolve(client);
    });
    client.connect({
      sock: sock as unknown as net.Socket,
      username: p.user,
      authHandler: authHandler as never,
      hostVerifier: hostVerifier as never,
      ...(algos.length ? { algorithms: { serverHostKey: algos as never } } : {}),
      readyTimeout: p.connectTimeoutMs,
      keepaliveInterval: p.keepaliveIntervalMs,
      keepaliveCountMax: p.keepaliveCountMax,
    });
  });
}
