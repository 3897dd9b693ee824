// One long-lived remote POSIX sh per connection: each exec is written to its stdin as a framed request
// and answered by a framed reply (exit code, then stdout and stderr each closed by an end marker).
// A task costs one round trip and no channel setup (a fresh exec channel costs tens of ms of sshd
// session work), and few processes on the host: the subshell, `cat` when there is output in a file.
//
// Request protocol (text sent to the shell; TOKEN is random per shell, ID counts requests):
//   __obr_s='<script, single-quoted>'            the script never appears on a command line
//   [printf %s '<stdin text>' >"$D/iID"]          stdin: UTF-8 text without NUL by the shell's printf,
//   [base64 -d >"$D/iID" <<'DELIM' ... DELIM]     other bytes through base64
//   ( eval "$__obr_s" ) <in >"$D/oID" 2>"$D/eID" & or a sudo runner reading the script from a file
//   printf 'OBR<TOKEN>P ID PID\n'                 lets the controller kill the command on timeout
//   wait; printf 'OBR<TOKEN>R ID RC FLAGS\n'; cat o; printf '\nOBR<TOKEN>E\n'; cat e; printf '\nOBR<TOKEN>Z\n'
// Output of commands never touches the shell's own stdout and the token is never visible to them,
// so a frame cannot be forged by accident. End markers rather than byte counts: a daemon started by
// the command may keep appending to its output file after the count was taken.
//
// The engine's own scripts (`engine`: file probes and writes, which print text and start nothing that
// outlives them) skip the output file and its `cat`: their stdout comes first, in the foreground:
//   printf 'OBR<TOKEN>D ID\n'; ( eval "$__obr_s" ) <in 2>"$D/eID"; printf '\nOBR<TOKEN>E\n'
// then the R frame with an empty stdout. A `read` script (a probe: no exit, cd, umask, set or trap)
// runs as `{ eval "$__obr_s"; }`, in the shell itself: no subshell either.
import { randomBytes } from 'node:crypto';
import type { Readable, Writable } from 'node:stream';

/** The part of an ssh2 channel the shell needs (also satisfied by a child process in tests). */
export interface ShellStream {
  stdin: Writable;
  stdout: Readable;
  stderr: Readable;
  /** Fires once when the channel is gone. */
  onClose(cb: () => void): void;
  destroy(): void;
}

export interface SudoSpec {
  user: string;
  password?: string;
}

export interface ShellRequest {
  script: string;
  cwd?: string;
  env?: Record<string, string>;
  stdin?: Buffer;
  timeoutMs?: number;
  sudo?: SudoSpec;
  /**
   * The engine's own script (see ExecOptions.engineScript): stdout straight back, without an output
   * file and `cat`; `read` ones in the shell itself (neither with a timeout).
   */
  engine?: 'read' | 'write';
}

export interface RawResult {
  stdout: Buffer;
  stderr: Buffer;
  exitCode: number;
  durationMs: number;
  timedOut: boolean;
  /** sudo asked for the password a second time: the one we gave was wrong. */
  becomeWrongPassword: boolean;
}

/**
 * `script` with its final simple command `command` exec'd when the shell finds `program` (a builtin
 * test); a missing program still gets the shell's own `not found` message and rc 127.
 */
export function withExecTail(script: string, tail: { program: string; command: string } | undefined): string {
  if (!tail || !script.endsWith(tail.command)) return script;
  const head = script.slice(0, script.length - tail.command.length);
  return `${head}command -v ${sq(tail.program)} >/dev/null 2>&1 && exec ${tail.command}\n${tail.command}`;
}

/** Single-quotes a string for POSIX sh. */
export function sq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The script as run: env exports and a checked cd in front (a failed cd fails the command). */
export function buildScript(req: Pick<ShellRequest, 'script' | 'cwd' | 'env' | 'sudo'>): string {
  const lines: string[] = [];
  if (req.sudo) lines.push('unset OBR_BP'); // the askpass variable must not reach the command
  for (const [k, v] of Object.entries(req.env ?? {})) {
    if (!ENV_NAME.test(k)) throw new Error(`invalid environment variable name: ${JSON.stringify(k)}`);
    lines.push(`export ${k}=${sq(v)}`);
  }
  if (req.cwd !== undefined) lines.push(`cd -- ${sq(req.cwd)} || exit`);
  lines.push(req.script);
  return lines.join('\n') + '\n';
}

/** Shell startup: private temp dir removed on exit, askpass helper for sudo, then a ready frame. */
export function buildInit(token: string): string {
  // The askpass helper answers once; a second call means sudo rejected the password: it records
  // that and fails, so a wrong password costs one PAM delay instead of three prompts.
  const askpass = [
    '#!/bin/sh',
    'if [ -e "$0.1" ]; then : >"$0.w"; exit 1; fi',
    ': >"$0.1"',
    'printf "%s\\n" "$OBR_BP"',
  ];
  return [
    'unset HISTFILE',
    '__obr_d=$(mktemp -d "${TMPDIR:-/tmp}/obr.XXXXXXXXXX") || exit 97',
    `trap 'rm -rf "$__obr_d"' EXIT`,
    `trap 'exit 129' HUP`,
    `trap 'exit 143' TERM`,
    `printf '%s\\n' ${askpass.map(sq).join(' ')} >"$__obr_d/ap" && chmod 700 "$__obr_d/ap" || exit 98`,
    `printf 'OBR${token}S %s\\n' "$__obr_d"`,
    '',
  ].join('\n');
}

/** Per-request files are left behind and removed in batches (saves an rm process per request). */
const CLEAN_EVERY = 32;

/** Bytes the request can carry as a quoted shell word (valid UTF-8 without NUL), else undefined. */
function shellText(b: Buffer): string | undefined {
  if (b.includes(0)) return undefined;
  const s = b.toString('utf8');
  return Buffer.from(s, 'utf8').equals(b) ? s : undefined;
}

/** The text sent to the shell for one request. */
export function buildRequest(token: string, id: number, req: ShellRequest): string {
  const script = buildScript(req);
  if (script.includes('\0')) throw new Error('a script cannot contain NUL bytes');
  const out: string[] = [];
  const D = '"$__obr_d"';
  const f = (n: string) => `${D}/${n}${id}`;
  out.push(`__obr_s=${sq(script)}`);
  let input = '/dev/null';
  if (req.stdin !== undefined && req.stdin.length > 0) {
    input = f('i');
    const text = shellText(req.stdin);
    if (text !== undefined) {
      out.push(`printf %s ${sq(text)} >${input}`); // a builtin: no base64 process
    } else {
      const delim = `OBR_${token}_${id}_IN`;
      const b64 = req.stdin.toString('base64').replace(/.{1,76}/g, '$&\n');
      out.push(`base64 -d >${input} <<'${delim}'\n${b64}${delim}`);
    }
  }
  // A timeout needs the pid frame, which would interleave with direct output: those use the file.
  const direct = req.engine !== undefined && !(req.timeoutMs !== undefined && req.timeoutMs > 0);
  // Only a read-only script without cwd/env (which would stay set) may run in the shell itself.
  const inline = direct && req.engine === 'read' && !req.sudo && req.cwd === undefined && Object.keys(req.env ?? {}).length === 0;
  const outErr = direct ? `2>${f('e')}` : `>${f('o')} 2>${f('e')}`;
  const bg = direct ? '' : ' &';
  if (direct) out.push(`printf 'OBR${token}D ${id}\\n'`);
  if (inline) {
    out.push(`{ eval "$__obr_s"; } <${input} ${outErr}`);
  } else if (!req.sudo) {
    out.push(`( eval "$__obr_s" ) <${input} ${outErr}${bg}`);
  } else {
    const s = req.sudo;
    const auth = s.password !== undefined ? `OBR_BP=${sq(s.password)} SUDO_ASKPASS=${D}/ap sudo -A` : 'sudo -n';
    // The askpass helper's marks exist only after it ran (rare once sudo has cached the login): no rm otherwise.
    out.push(`[ ! -e ${D}/ap.1 ] || rm -f ${D}/ap.1 ${D}/ap.w`);
    if (s.user === 'root') {
      // root reads the login user's private dir directly.
      out.push(`printf '%s' "$__obr_s" >${f('s')}`);
      out.push(`${auth} -H -u root -- /bin/sh ${f('s')} <${input} ${outErr}${bg}`);
    } else {
      // Another user cannot read our private dir: hand it script+stdin on stdin (a regular file,
      // so dd reads exactly the script bytes and leaves the offset at the start of the stdin bytes).
      const n = Buffer.byteLength(script);
      const boot = 'f=$(mktemp) || exit 125; dd bs="$1" count=1 of="$f" 2>/dev/null; /bin/sh "$f"; r=$?; rm -f "$f"; exit $r';
      const join = input === '/dev/null' ? `printf '%s' "$__obr_s" >${f('c')}` : `{ printf '%s' "$__obr_s"; cat ${input}; } >${f('c')}`;
      out.push(`${join} && ${auth} -H -u ${sq(s.user)} -- /bin/sh -c ${sq(boot)} obr ${n} <${f('c')} ${outErr}${bg}`);
    }
  }
  if (direct) {
    out.push(`__obr_r=$?; unset __obr_s; printf '\\nOBR${token}E\\n'`);
  } else {
    out.push('__obr_p=$!');
    out.push(`printf 'OBR${token}P ${id} %s\\n' "$__obr_p"`);
    out.push('wait "$__obr_p"; __obr_r=$?; unset __obr_s');
  }
  // W: the askpass helper was asked twice (wrong password); set with builtins, no $(...) subshell.
  out.push(req.sudo ? `__obr_f=-; [ ! -e ${D}/ap.w ] || __obr_f=W` : '__obr_f=-');
  out.push(`printf 'OBR${token}R ${id} %s %s\\n' "$__obr_r" "$__obr_f"`);
  out.push(direct ? `printf '\\nOBR${token}E\\n'` : `[ ! -s ${f('o')} ] || cat ${f('o')}; printf '\\nOBR${token}E\\n'`);
  out.push(`[ ! -s ${f('e')} ] || cat ${f('e')}; printf '\\nOBR${token}Z\\n'`);
  if (id % CLEAN_EVERY === 0) out.push(`rm -f ${D}/[oeisc][0-9]*`);
  return out.join('\n') + '\n';
}

/** Walks the process tree under PID, TERMs it, then KILLs what is left (run on its own channel). */
export function buildKillScript(pid: number): string {
  const list =
    `ps -e -o pid= -o ppid= | awk -v root=${pid} ` +
    sq('{ par[$1]=$2 } END { for (p in par) { q=p; n=0; while ((q in par) && q != root && q > 1 && n++ < 1000) q=par[q]; if (q == root) print p } }');
  // Stopped first, so that no process of the tree runs on (e.g. the next command of a script after its
  // child died) between the TERMs to its members; the TERMs take effect as the tree continues.
  return `l=$(${list}); [ -n "$l" ] || exit 0; kill -STOP $l 2>/dev/null; kill -TERM $l 2>/dev/null; kill -CONT $l 2>/dev/null; sleep 1; kill -KILL $l 2>/dev/null; exit 0`;
}

type Frame =
  | { kind: 'S'; dir: string }
  | { kind: 'P'; id: number; pid: number }
  | { kind: 'D'; id: number; out: Buffer }
  | { kind: 'R'; id: number; rc: number; out: Buffer; err: Buffer; flags: string };

/** Collects bytes up to a marker that may be split across chunks (keeps a short carry, no rescans). */
class UntilMarker {
  readonly parts: Buffer[] = [];
  private carry: Buffer = Buffer.alloc(0);
  constructor(private readonly marker: Buffer) {}
  /** Returns the bytes after the marker once found, else undefined (all consumed). */
  push(chunk: Buffer): Buffer | undefined {
    const data = this.carry.length ? Buffer.concat([this.carry, chunk]) : chunk;
    const i = data.indexOf(this.marker);
    if (i >= 0) {
      if (i > 0) this.parts.push(data.subarray(0, i));
      return data.subarray(i + this.marker.length);
    }
    const keep = Math.min(data.length, this.marker.length - 1);
    if (data.length > keep) this.parts.push(data.subarray(0, data.length - keep));
    this.carry = Buffer.from(data.subarray(data.length - keep));
    return undefined;
  }
  bytes(): Buffer {
    return this.parts.length === 1 ? this.parts[0] : Buffer.concat(this.parts);
  }
}

/** Incremental frame parser: header lines are found by the shell's token; bodies end at markers. */
export class FrameReader {
  private buf: Buffer = Buffer.alloc(0);
  /** The body being read: a direct stdout (D) up to its end marker, or an R frame's stdout and stderr. */
  private body?: { kind: 'D' | 'R'; id: number; rc: number; flags: string; out: UntilMarker; err?: UntilMarker };
  private readonly tag: Buffer;
  private readonly outEnd: Buffer;
  private readonly errEnd: Buffer;

  constructor(
    token: string,
    private readonly onFrame: (f: Frame) => void,
  ) {
    this.tag = Buffer.from(`OBR${token}`);
    this.outEnd = Buffer.from(`\nOBR${token}E\n`);
    this.errEnd = Buffer.from(`\nOBR${token}Z\n`);
  }

  push(chunk: Buffer): void {
    while (this.body && chunk.length) {
      const b = this.body;
      if (!b.err) {
        const rest = b.out.push(chunk);
        if (rest === undefined) return;
        chunk = rest;
        if (b.kind === 'D') {
          this.body = undefined;
          this.onFrame({ kind: 'D', id: b.id, out: b.out.bytes() });
          break;
        }
        b.err = new UntilMarker(this.errEnd);
        continue;
      }
      const rest = b.err.push(chunk);
      if (rest === undefined) return;
      this.body = undefined;
      this.onFrame({ kind: 'R', id: b.id, rc: b.rc, flags: b.flags, out: b.out.bytes(), err: b.err.bytes() });
      chunk = rest;
    }
    if (!chunk.length) return;
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    this.scan();
  }

  private scan(): void {
    while (!this.body) {
      const at = this.buf.indexOf(this.tag);
      if (at < 0) {
        // Keep a tail that could be the start of a split tag; anything else is login noise.
        this.buf = this.buf.subarray(Math.max(0, this.buf.length - this.tag.length));
        return;
      }
      const nl = this.buf.indexOf(0x0a, at);
      if (nl < 0) {
        this.buf = this.buf.subarray(at);
        return;
      }
      const line = this.buf.subarray(at + this.tag.length, nl).toString('utf8');
      this.buf = this.buf.subarray(nl + 1);
      const kind = line[0];
      const f = line.slice(1).trim().split(/\s+/);
      if (kind === 'S') this.onFrame({ kind: 'S', dir: line.slice(2) });
      else if (kind === 'P') this.onFrame({ kind: 'P', id: Number(f[0]), pid: Number(f[1]) });
      else if (kind === 'R' || kind === 'D') {
        // Then stdout up to `\nOBR<token>E\n` (the marker's newline is ours, not output), for R stderr likewise.
        this.body = { kind, id: Number(f[0]), rc: Number(f[1]), flags: f[2] ?? '-', out: new UntilMarker(this.outEnd) };
        const rest = this.buf;
        this.buf = Buffer.alloc(0);
        this.push(rest);
        return;
      }
    }
  }
}

interface Pending {
  id: number;
  req: ShellRequest;
  start: number;
  pid?: number;
  /** stdout of a direct request, which comes before its R frame. */
  directOut?: Buffer;
  timedOut: boolean;
  timer?: NodeJS.Timeout;
  hardTimer?: NodeJS.Timeout;
  resolve: (r: RawResult) => void;
  reject: (e: Error) => void;
}

export interface RemoteShellHooks {
  /** Kills a process tree on the host (a separate channel); errors are ignored. */
  kill(pid: number): Promise<void>;
  /** The error for requests lost when the shell died (unreachable if the connection is gone). */
  deathError(detail: string): Promise<Error>;
}

const KILL_GRACE_MS = 10_000;

/** A started remote shell; requests are serialized (one at a time, FIFO). */
export class RemoteShell {
  readonly token = randomBytes(12).toString('hex');
  dir = '';
  private nextId = 1;
  private queue: { req: ShellRequest; resolve: (r: RawResult) => void; reject: (e: Error) => void }[] = [];
  private current?: Pending;
  private dead = false;
  private stderrTail = '';
  private readonly reader: FrameReader;
  private ready?: { resolve: () => void; reject: (e: Error) => void };

  private constructor(
    private readonly stream: ShellStream,
    private readonly hooks: RemoteShellHooks,
  ) {
    this.reader = new FrameReader(this.token, (f) => this.onFrame(f));
    stream.stdout.on('data', (c: Buffer) => this.reader.push(c));
    stream.stderr.on('data', (c: Buffer) => {
      this.stderrTail = (this.stderrTail + c.toString('utf8')).slice(-2000);
    });
    stream.stdin.on('error', () => undefined); // surfaced through close
    stream.onClose(() => void this.onClosed());
  }

  /** Starts the shell and waits for its private dir; rejects if it cannot start (caller falls back). */
  static async start(stream: ShellStream, hooks: RemoteShellHooks, timeoutMs = 15_000): Promise<RemoteShell> {
    const sh = new RemoteShell(stream, hooks);
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('remote shell did not start in time')), timeoutMs);
      sh.ready = {
        resolve: () => {
          clearTimeout(t);
          resolve();
        },
        reject: (e) => {
          clearTimeout(t);
          reject(e);
        },
      };
      stream.stdin.write(buildInit(sh.token));
    }).catch((e: Error) => {
      stream.destroy();
      throw e;
    });
    return sh;
  }

  get isDead(): boolean {
    return this.dead;
  }
  get load(): number {
    return this.queue.length + (this.current ? 1 : 0);
  }

  run(req: ShellRequest): Promise<RawResult> {
    if (this.dead) return this.hooks.deathError('remote shell is closed').then((e) => Promise.reject(e));
    // Build early so bad input fails before it is queued.
    buildScript(req);
    return new Promise((resolve, reject) => {
      this.queue.push({ req, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    if (this.current || this.dead) return;
    const next = this.queue.shift();
    if (!next) return;
    let text: string;
    const id = this.nextId++;
    try {
      text = buildRequest(this.token, id, next.req);
    } catch (e) {
      next.reject(e as Error);
      this.pump();
      return;
    }
    const p: Pending = { id, req: next.req, start: Date.now(), timedOut: false, resolve: next.resolve, reject: next.reject };
    this.current = p;
    if (next.req.timeoutMs !== undefined && next.req.timeoutMs > 0) {
      p.timer = setTimeout(() => this.onTimeout(p), next.req.timeoutMs);
    }
    this.stream.stdin.write(text);
  }

  private onTimeout(p: Pending): void {
    if (this.current !== p) return;
    p.timedOut = true;
    if (p.pid !== undefined) void this.hooks.kill(p.pid).catch(() => undefined);
    // If the kill does not bring the reply back, the shell is unusable: drop it.
    p.hardTimer = setTimeout(() => {
      if (this.current !== p) return;
      this.settle(p, { stdout: Buffer.alloc(0), stderr: Buffer.from('command timed out and could not be killed\n'), exitCode: -1 });
      this.stream.destroy();
    }, KILL_GRACE_MS);
  }

  private settle(p: Pending, r: { stdout: Buffer; stderr: Buffer; exitCode: number; flags?: string }): void {
    clearTimeout(p.timer);
    clearTimeout(p.hardTimer);
    this.current = undefined;
    p.resolve({
      stdout: r.stdout,
      stderr: r.stderr,
      exitCode: r.exitCode,
      durationMs: Date.now() - p.start,
      timedOut: p.timedOut,
      becomeWrongPassword: r.flags === 'W',
    });
    this.pump();
  }

  private onFrame(f: Frame): void {
    if (f.kind === 'S') {
      this.dir = f.dir;
      this.ready?.resolve();
      this.ready = undefined;
      return;
    }
    const p = this.current;
    if (!p || p.id !== f.id) return;
    if (f.kind === 'P') {
      p.pid = f.pid;
      if (p.timedOut) void this.hooks.kill(f.pid).catch(() => undefined);
      return;
    }
    if (f.kind === 'D') {
      p.directOut = f.out;
      return;
    }
    this.settle(p, { stdout: p.directOut ?? f.out, stderr: f.err, exitCode: f.rc, flags: f.flags });
  }

  private async onClosed(): Promise<void> {
    if (this.dead) return;
    this.dead = true;
    const detail = this.stderrTail.trim() ? `remote shell exited: ${this.stderrTail.trim()}` : 'remote shell exited';
    if (this.ready) {
      this.ready.reject(new Error(detail));
      this.ready = undefined;
    }
    const lost = [...(this.current ? [this.current] : []), ...this.queue];
    if (this.current) {
      clearTimeout(this.current.timer);
      clearTimeout(this.current.hardTimer);
    }
    this.current = undefined;
    this.queue = [];
    if (lost.length === 0) return;
    const err = await this.hooks.deathError(detail);
    for (const p of lost) p.reject(err);
  }

  /** Ends the shell: EOF on stdin makes sh exit, and its EXIT trap removes the private dir. */
  close(): void {
    if (this.dead) return;
    try {
      this.stream.stdin.end();
    } catch {
      this.stream.destroy();
    }
  }
}
