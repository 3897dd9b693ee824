// Resolves where and how to connect: inventory vars first (like Ansible), then ~/.ssh/config
// (HostName, Port, User, IdentityFile, ProxyJump, UserKnownHostsFile), then defaults.
// The ssh-config package does not follow `Include` and does not expand `~`: we expand `~` here and
// document that Include is not supported (`ssh -G host` is authoritative when in doubt).
import { readFileSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import path from 'node:path';
import SSHConfig from 'ssh-config';
import { ObiamError, EXIT } from '../errors.js';
import type { ConnectionSpec } from './types.js';
import { expandHome } from './known-hosts.js';

export const DEFAULT_SSH_CONFIG = path.join(homedir(), '.ssh', 'config');

export interface JumpHop {
  host: string;
  port: number;
  user: string;
  identityFiles: string[];
}

export interface ResolvedTarget {
  name: string;
  host: string;
  port: number;
  user: string;
  /** Explicit key files (inventory, then ssh config); empty means "try the default identities". */
  identityFiles: string[];
  password?: string;
  jumps: JumpHop[];
  /** Extra known_hosts files named by inventory, ssh config or common args. */
  knownHostsFiles: string[];
  /** StrictHostKeyChecking from common args/ssh config, if it asked for accept-new. */
  hostKeyPolicy?: 'accept-new';
  /** Insecure options we refuse to honour (reported in host key errors). */
  ignoredOptions: string[];
  connectTimeoutMs?: number;
  keepaliveIntervalMs?: number;
  keepaliveCountMax?: number;
}

export type SshConfigValues = Record<string, string | string[]>;

/** Computed ssh config for a host alias (lower-cased keys), or {} when the file is missing. */
export function loadSshConfig(file: string | undefined): (host: string) => SshConfigValues {
  const f = expandHome(file ?? DEFAULT_SSH_CONFIG);
  let text: string;
  try {
    text = readFileSync(f, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return () => ({});
    throw e;
  }
  let cfg: SSHConfig;
  try {
    cfg = SSHConfig.parse(text);
  } catch (e) {
    throw new ObiamError('E_SSH_CONFIG', `cannot parse ${f}: ${(e as Error).message}`, { exitCode: EXIT.BAD_OPTIONS });
  }
  // matchExec false: computing a config must not run `Match exec` commands behind the user's back.
  return (host) => {
    const raw = cfg.compute(host, { ignoreCase: true, matchExec: false });
    const out: SshConfigValues = {};
    for (const [k, v] of Object.entries(raw)) out[k.toLowerCase()] = v;
    return out;
  };
}

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
function all(v: string | string[] | undefined): string[] {
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).flatMap((x) => x.split(/\s+/)).filter((x) => x !== '');
}

/** ssh config tokens we can expand: %h host, %p port, %r user, %% and ~. */
function expandTokens(p: string, t: { host: string; port: number; user: string }): string {
  return expandHome(p.replace(/%([hpr%])/g, (_, c: string) => (c === 'h' ? t.host : c === 'p' ? String(t.port) : c === 'r' ? t.user : '%')));
}

/** Shell-like word splitting with quotes and backslashes (enough for ansible_ssh_common_args). */
export function splitArgs(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let has = false;
  let q: '"' | "'" | undefined;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (q) {
      if (c === q) q = undefined;
      else if (c === '\\' && q === '"' && i + 1 < s.length) cur += s[++i];
      else cur += c;
    } else if (c === '"' || c === "'") {
      q = c;
      has = true;
    } else if (c === '\\' && i + 1 < s.length) {
      cur += s[++i];
      has = true;
    } else if (/\s/.test(c)) {
      if (has) out.push(cur);
      cur = '';
      has = false;
    } else {
      cur += c;
      has = true;
    }
  }
  if (q) throw new Error('unterminated quote');
  if (has) out.push(cur);
  return out;
}

export interface CommonArgs {
  /** `-o Key=Value` options, keys lower-cased. */
  options: Record<string, string>;
  proxyJump?: string;
  port?: number;
  user?: string;
  identityFiles: string[];
}

/** Parses ansible_ssh_common_args / ansible_ssh_extra_args: -o K=V, -J, -p, -l, -i; other flags ignored. */
export function parseCommonArgs(args: string, where = 'ansible_ssh_common_args'): CommonArgs {
  let words: string[];
  try {
    words = splitArgs(args);
  } catch (e) {
    throw new ObiamError('E_SSH_ARGS', `${where}: ${(e as Error).message}: ${args}`, { exitCode: EXIT.PARSE });
  }
  const res: CommonArgs = { options: {}, identityFiles: [] };
  const val = (i: number, flag: string): string => {
    const v = words[i];
    if (v === undefined) throw new ObiamError('E_SSH_ARGS', `${where}: ${flag} needs a value`, { exitCode: EXIT.PARSE });
    return v;
  };
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    const flag = w.slice(0, 2);
    if (!w.startsWith('-') || w.length < 2) continue;
    // Flags with a value accept both `-Jx` and `-J x`.
    if (['-o', '-J', '-p', '-l', '-i'].includes(flag)) {
      const v = w.length > 2 ? w.slice(2) : val(++i, flag);
      if (flag === '-o') {
        const m = /^\s*([A-Za-z]+)\s*(?:=\s*|\s+)(.*)$/.exec(v);
        if (!m) throw new ObiamError('E_SSH_ARGS', `${where}: cannot read option -o ${v}`, { exitCode: EXIT.PARSE });
        res.options[m[1].toLowerCase()] = m[2].trim();
      } else if (flag === '-J') res.proxyJump = v;
      else if (flag === '-p') res.port = Number(v);
      else if (flag === '-l') res.user = v;
      else res.identityFiles.push(v);
    }
  }
  if (res.options.proxyjump !== undefined) res.proxyJump = res.options.proxyjump;
  if (res.options.proxycommand !== undefined && res.options.proxycommand.toLowerCase() !== 'none') {
    throw new ObiamError('E_SSH_PROXYCOMMAND', `${where}: ProxyCommand is not supported (${res.options.proxycommand})`, {
      exitCode: EXIT.BAD_OPTIONS,
      remedy: 'use ProxyJump instead: -o ProxyJump=user@bastion:22 (or -J user@bastion), which is verified hop by hop',
    });
  }
  return res;
}

/** Parses one ProxyJump list: `[user@]host[:port]`, `[v6]:port`, `ssh://user@host:port`, comma separated. */
export function parseProxyJump(v: string): { host: string; port?: number; user?: string }[] {
  if (v.trim().toLowerCase() === 'none') return [];
  return v.split(',').map((raw) => {
    let s = raw.trim().replace(/^ssh:\/\//, '');
    let user: string | undefined;
    const at = s.lastIndexOf('@');
    if (at >= 0) {
      user = s.slice(0, at);
      s = s.slice(at + 1);
    }
    let host = s;
    let port: number | undefined;
    const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
    if (v6) {
      host = v6[1];
      if (v6[2]) port = Number(v6[2]);
    } else if (/^[^:]+:\d+$/.test(s)) {
      const i = s.lastIndexOf(':');
      host = s.slice(0, i);
      port = Number(s.slice(i + 1));
    }
    if (host === '' || (port !== undefined && !(port > 0 && port < 65536))) {
      throw new ObiamError('E_SSH_PROXYJUMP', `invalid ProxyJump hop "${raw}"`, { exitCode: EXIT.BAD_OPTIONS });
    }
    return { host, port, user };
  });
}

function num(v: unknown): number | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}
function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : undefined;
}

/**
 * Merges inventory (spec + vars), common args and ssh config. Inventory wins; ssh config fills the
 * rest; the host name looked up in ssh config is the one ssh would be given (ansible_host or name).
 */
export function resolveTarget(spec: ConnectionSpec, sshConfig: (host: string) => SshConfigValues): ResolvedTarget {
  const v = spec.vars ?? {};
  const explicitHost = str(v.ansible_host) ?? str(v.ansible_ssh_host);
  const explicitPort = num(v.ansible_port) ?? num(v.ansible_ssh_port);
  const alias = spec.host || spec.name;
  const cfg = sshConfig(alias);
  const argText = [spec.commonArgs ?? str(v.ansible_ssh_common_args), str(v.ansible_ssh_extra_args)].filter(Boolean).join(' ');
  const args = argText ? parseCommonArgs(argText) : { options: {} as Record<string, string>, identityFiles: [] as string[] };
  const opt = args.options;

  const host = explicitHost ?? opt.hostname ?? first(cfg.hostname) ?? alias;
  const port = explicitPort ?? args.port ?? num(opt.port) ?? num(first(cfg.port)) ?? spec.port ?? 22;
  const user =
    spec.user ?? str(v.ansible_user) ?? str(v.ansible_ssh_user) ?? args.user ?? opt.user ?? first(cfg.user) ?? userInfo().username;
  const tok = { host, port, user };

  const keyVar = spec.privateKeyFile ?? str(v.ansible_ssh_private_key_file) ?? str(v.ansible_private_key_file);
  const identityFiles = (keyVar ? [keyVar] : [...args.identityFiles, ...(opt.identityfile ? [opt.identityfile] : []), ...all(cfg.identityfile)]).map((f) =>
    expandTokens(f, tok),
  );

  const password = spec.password ?? str(v.ansible_password) ?? str(v.ansible_ssh_pass) ?? str(v.ansible_ssh_password);

  // Known hosts: inventory (ansible_ssh_known_hosts_file), common args, ssh config.
  const kh: string[] = [...(spec.knownHostsFiles ?? [])];
  const khVar = v.ansible_ssh_known_hosts_file;
  if (typeof khVar === 'string') kh.push(khVar);
  else if (Array.isArray(khVar)) kh.push(...khVar.filter((x): x is string => typeof x === 'string'));
  kh.push(...all(opt.userknownhostsfile), ...all(cfg.userknownhostsfile));
  const knownHostsFiles = [...new Set(kh.filter((f) => f !== '/dev/null').map((f) => expandTokens(f, tok)))];

  const ignoredOptions: string[] = [];
  let hostKeyPolicy: 'accept-new' | undefined;
  const shk = (opt.stricthostkeychecking ?? first(cfg.stricthostkeychecking))?.toLowerCase();
  if (shk === 'accept-new') hostKeyPolicy = 'accept-new';
  else if (shk === 'no' || shk === 'off') ignoredOptions.push(`StrictHostKeyChecking=${shk}`);
  if (kh.includes('/dev/null')) ignoredOptions.push('UserKnownHostsFile=/dev/null');

  const pj = args.proxyJump ?? first(cfg.proxyjump);
  if (pj === undefined && first(cfg.proxycommand) !== undefined && first(cfg.proxycommand)!.toLowerCase() !== 'none') {
    throw new ObiamError('E_SSH_PROXYCOMMAND', `ssh config for ${alias}: ProxyCommand is not supported`, {
      exitCode: EXIT.BAD_OPTIONS,
      host: spec.name,
      remedy: 'use ProxyJump in ~/.ssh/config or ansible_ssh_common_args=-J user@bastion',
    });
  }
  const jumps = pj ? parseProxyJump(pj).map((h) => resolveHop(h, sshConfig, identityFiles)) : [];

  const connectTimeoutS = num(opt.connecttimeout) ?? num(first(cfg.connecttimeout));
  const aliveS = num(opt.serveraliveinterval) ?? num(first(cfg.serveraliveinterval));
  const aliveMax = num(opt.serveralivecountmax) ?? num(first(cfg.serveralivecountmax));

  return {
    name: spec.name,
    host,
    port,
    user,
    identityFiles,
    password,
    jumps,
    knownHostsFiles,
    hostKeyPolicy,
    ignoredOptions,
    connectTimeoutMs: connectTimeoutS !== undefined ? connectTimeoutS * 1000 : undefined,
    keepaliveIntervalMs: aliveS !== undefined ? aliveS * 1000 : undefined,
    keepaliveCountMax: aliveMax,
  };
}

/** A jump hop gets its own ssh config entry (HostName, Port, User, IdentityFile) like ssh does. */
function resolveHop(
  h: { host: string; port?: number; user?: string },
  sshConfig: (host: string) => SshConfigValues,
  fallbackKeys: string[],
): JumpHop {
  const cfg = sshConfig(h.host);
  const host = first(cfg.hostname) ?? h.host;
  const port = h.port ?? num(first(cfg.port)) ?? 22;
  const user = h.user ?? first(cfg.user) ?? userInfo().username;
  const keys = all(cfg.identityfile).map((f) => expandTokens(f, { host, port, user }));
  return { host, port, user, identityFiles: keys.length ? keys : fallbackKeys };
}
