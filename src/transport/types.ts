// The transport interface: what the engine and modules need from a connection to one host.
// Implemented by local (controller), scripted (tests) and ssh (issue 3).
import type { BecomeOptions, Vars } from '../types.js';

export interface ExecOptions {
  /** Working directory; a failed cd fails the command (never ignored). */
  cwd?: string;
  /** Extra environment, exported before the command (no AcceptEnv needed). */
  env?: Record<string, string>;
  /** Bytes fed to the command's stdin, then EOF. */
  stdin?: string | Buffer;
  /** Per-command timeout; on expiry the command is killed and timedOut is true. */
  timeoutMs?: number;
  become?: BecomeOptions;
  /**
   * The engine's own script (file probes and writes): it prints text and starts nothing that outlives
   * it, so a transport may return its stdout directly instead of through a temp file. `read`: it also
   * only reads (no exit, cd, umask, set, trap, and no redirection on a special builtin such as `:`),
   * so it may run in the remote shell itself, without a subshell.
   */
  engineScript?: 'read' | 'write';
  /**
   * The script ends with `command`, one simple command that runs `program`: the transport may `exec` it
   * when the shell finds the program (the request's subshell becomes the program: one fork less).
   */
  execTail?: { program: string; command: string };
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  exitCode: number;
  durationMs: number;
  timedOut: boolean;
}

export interface PutFileOptions {
  mode?: number;
  become?: BecomeOptions;
  /**
   * remotePath is a fresh temp name the caller owns and renames itself (copy, unarchive): written in
   * place, without a second temp file and rename of its own.
   */
  temp?: boolean;
  /** Bytes sent so far and the file's size, as the upload goes (at least once, when it is done). */
  onProgress?: (sentBytes: number, totalBytes: number) => void;
}

/** An open connection to one host. Any connection failure rejects with UnreachableError. */
export interface Connection {
  readonly host: string;
  /** Runs a POSIX sh script on the host. */
  exec(script: string, opts?: ExecOptions): Promise<ExecResult>;
  /** Uploads a controller file to the host (atomically: temp file then rename). */
  putFile(localPath: string, remotePath: string, opts?: PutFileOptions): Promise<void>;
  /** Downloads a file from the host to the controller. */
  getFile(remotePath: string, localPath: string): Promise<void>;
  close(): Promise<void>;
}

/** Everything needed to open a connection, resolved from inventory vars and ssh config. */
export interface ConnectionSpec {
  name: string; // inventory_hostname
  connection: 'ssh' | 'local' | string;
  host: string; // ansible_host or name
  port: number;
  user?: string;
  privateKeyFile?: string;
  password?: string;
  knownHostsFiles?: string[];
  commonArgs?: string; // ansible_ssh_common_args (ProxyJump)
  vars: Vars; // all host vars, for transport-specific settings
}

export interface Transport {
  readonly name: string;
  /** `log`: connection-level messages (attempts, retries), shown with -vvv. */
  connect(spec: ConnectionSpec, signal?: AbortSignal, log?: (message: string) => void): Promise<Connection>;
}
