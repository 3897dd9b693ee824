// A real Transport ('scripted') whose hosts answer by rules: engine tests choose per host and per
// command what happens (ok, output, non-zero rc, unreachable, slow) and read back what ran where.
import { promises as fsp } from 'node:fs';
import { UnreachableError } from '../../src/errors.js';
import type { Connection, ConnectionSpec, ExecOptions, ExecResult, Transport } from '../../src/transport/types.js';

export interface ScriptRule {
  /** Host name(s) the rule applies to; all hosts when absent. */
  host?: string | string[];
  /** Substring of, or pattern for, the executed script. */
  match: string | RegExp;
  rc?: number;
  stdout?: string;
  stderr?: string;
  /** Throw UnreachableError (the connection died mid-run). */
  unreachable?: boolean;
  delayMs?: number;
  /** Apply to the first N matching runs only, then fall through to later rules. */
  times?: number;
}

export interface ScriptedOptions {
  rules?: ScriptRule[];
  /** Hosts whose connect fails, with the error message. */
  connectFail?: Record<string, string>;
  connectDelayMs?: number;
}

export interface ExecRecord {
  host: string;
  script: string;
  opts: ExecOptions;
}

export interface ScriptedTransport extends Transport {
  /** Every exec in order. */
  readonly execs: ExecRecord[];
  /** Scripts run per host. */
  log(host: string): string[];
  readonly connects: string[];
  readonly closed: string[];
  /** Highest number of execs in flight at once (across hosts). */
  readonly maxInFlight: number;
  readonly files: Map<string, Map<string, Buffer>>;
}

const matches = (rule: ScriptRule, host: string, script: string): boolean => {
  if (rule.host !== undefined && !(Array.isArray(rule.host) ? rule.host : [rule.host]).includes(host)) return false;
  return typeof rule.match === 'string' ? script.includes(rule.match) : rule.match.test(script);
};

export function createScriptedTransport(opts: ScriptedOptions = {}): ScriptedTransport {
  const rules = (opts.rules ?? []).map((r) => ({ ...r, used: 0 }));
  const execs: ExecRecord[] = [];
  const connects: string[] = [];
  const closed: string[] = [];
  const files = new Map<string, Map<string, Buffer>>();
  let inFlight = 0;
  let maxInFlight = 0;

  class ScriptedConnection implements Connection {
    constructor(readonly host: string) {}
    async exec(script: string, eo: ExecOptions = {}): Promise<ExecResult> {
      execs.push({ host: this.host, script, opts: eo });
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        const rule = rules.find((r) => matches(r, this.host, script) && (r.times === undefined || r.used < r.times));
        if (rule) rule.used++;
        if (rule?.delayMs) await new Promise((res) => setTimeout(res, rule.delayMs));
        if (rule?.unreachable) throw new UnreachableError(this.host, `connection to ${this.host} lost (scripted)`);
        return { stdout: rule?.stdout ?? '', stderr: rule?.stderr ?? '', exitCode: rule?.rc ?? 0, durationMs: rule?.delayMs ?? 0, timedOut: false };
      } finally {
        inFlight--;
      }
    }
    async putFile(localPath: string, remotePath: string): Promise<void> {
      const m = files.get(this.host) ?? new Map<string, Buffer>();
      m.set(remotePath, await fsp.readFile(localPath));
      files.set(this.host, m);
    }
    async getFile(remotePath: string, localPath: string): Promise<void> {
      const b = files.get(this.host)?.get(remotePath);
      if (!b) throw new Error(`${this.host}: ${remotePath}: no such file`);
      await fsp.writeFile(localPath, b);
    }
    async close(): Promise<void> {
      closed.push(this.host);
    }
  }

  return {
    name: 'scripted',
    execs,
    connects,
    closed,
    files,
    get maxInFlight() {
      return maxInFlight;
    },
    log: (host) => execs.filter((e) => e.host === host).map((e) => e.script),
    async connect(spec: ConnectionSpec): Promise<Connection> {
      connects.push(spec.name);
      if (opts.connectDelayMs) await new Promise((res) => setTimeout(res, opts.connectDelayMs));
      const fail = opts.connectFail?.[spec.name];
      if (fail !== undefined) throw new UnreachableError(spec.name, fail);
      return new ScriptedConnection(spec.name);
    },
  };
}
