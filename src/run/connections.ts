// One connection per host for the whole run, opened on first use; a failed connect makes the host
// unreachable for the rest of the run (the rejection is cached), and every connection is closed at the end.
import { UnreachableError, isObiamError } from '../errors.js';
import type { Connection, ConnectionSpec, Transport } from '../transport/types.js';
import type { Vars } from '../types.js';

/**
 * Connection settings from a host's variables (Ansible's connection variable names). Without
 * `ansible_connection` a host is reached over ssh (or `-c`), also one named localhost when the
 * inventory lists it: only the implicit localhost (not in the inventory) has `ansible_connection: local`
 * among its vars, as in Ansible 2.14.
 */
export function connectionSpecOf(name: string, vars: Vars, defaultConnection = 'ssh'): ConnectionSpec {
  const str = (v: unknown): string | undefined => (v === undefined || v === null || v === '' ? undefined : String(v));
  const known = vars.ansible_ssh_known_hosts_file;
  return {
    name,
    connection: str(vars.ansible_connection) ?? defaultConnection,
    host: str(vars.ansible_host) ?? name,
    port: Number(vars.ansible_port ?? vars.ansible_ssh_port ?? 22),
    user: str(vars.ansible_user ?? vars.ansible_ssh_user),
    privateKeyFile: str(vars.ansible_ssh_private_key_file),
    password: str(vars.ansible_password ?? vars.ansible_ssh_pass),
    knownHostsFiles: known === undefined ? undefined : Array.isArray(known) ? known.map(String) : [String(known)],
    commonArgs: str(vars.ansible_ssh_common_args),
    vars,
  };
}

export class ConnectionPool {
  private readonly conns = new Map<string, Promise<Connection>>();
  constructor(
    private readonly transports: Record<string, Transport>,
    private readonly specOf: (host: string) => ConnectionSpec,
    private readonly signal?: AbortSignal,
    private readonly log?: (host: string, message: string) => void,
  ) {}

  /** The host's connection; rejects with UnreachableError (now and on every later call) if it cannot connect. */
  get(host: string): Promise<Connection> {
    let p = this.conns.get(host);
    if (!p) {
      p = this.open(host);
      // Keep a handled copy so an unawaited rejection never crashes the process.
      p.catch(() => undefined);
      this.conns.set(host, p);
    }
    return p;
  }

  private async open(host: string): Promise<Connection> {
    let spec: ConnectionSpec;
    try {
      spec = this.specOf(host);
    } catch (e) {
      throw toUnreachable(host, e);
    }
    const t = this.transports[spec.connection];
    if (!t) {
      throw new UnreachableError(host, `no transport for ansible_connection '${spec.connection}' (known: ${Object.keys(this.transports).join(', ') || 'none'})`, {
        code: 'E_TRANSPORT_UNKNOWN',
        remedy: "set ansible_connection to 'ssh' or 'local'",
      });
    }
    try {
      return await t.connect(spec, this.signal, this.log ? (m) => this.log!(host, m) : undefined);
    } catch (e) {
      throw toUnreachable(host, e);
    }
  }

  /** `meta: reset_connection`: closes the host's connection; the next task opens a new one. */
  async reset(host: string): Promise<void> {
    const p = this.conns.get(host);
    if (!p) return;
    this.conns.delete(host);
    try {
      await (await p).close();
    } catch {
      /* an unreachable host has nothing to close */
    }
  }

  /** Closes every open connection; errors while closing are ignored (the run is over). */
  async closeAll(): Promise<void> {
    const all = [...this.conns.values()];
    this.conns.clear();
    await Promise.all(
      all.map(async (p) => {
        try {
          await (await p).close();
        } catch {
          /* unreachable hosts have nothing to close */
        }
      }),
    );
  }
}

export function toUnreachable(host: string, e: unknown): UnreachableError {
  if (e instanceof UnreachableError) return e;
  const msg = e instanceof Error ? e.message : String(e);
  return new UnreachableError(host, msg, { code: isObiamError(e) ? e.code : 'E_UNREACHABLE', cause: e, remedy: isObiamError(e) ? e.remedy : undefined });
}
