// Bulk uploads through the system `ssh` binary: one OpenSSH process per upload encrypts on its own
// core, where ssh2 encrypts every host's stream on Node's one thread. Measured in workload (b) of
// docs/performance.md. Only for a direct connection that authenticates with an unencrypted key file:
// the same user, port, key and known_hosts files as the ssh2 connection, strict host key checking,
// and `-F /dev/null` so no ssh_config of the machine changes what is checked.
import { spawn } from 'node:child_process';
import { accessSync, closeSync, constants, openSync, readFileSync } from 'node:fs';
import ssh2 from 'ssh2';
import { ObiamError, EXIT } from '../errors.js';
import { systemLimitError } from './limits.js';
import { sq } from './remote-shell.js';

/** Files at least this big go through the system ssh; smaller ones use the open connection (no second handshake). */
export const BULK_MIN_BYTES = 8 * 1024 * 1024;
export const SSH_BIN = '/usr/bin/ssh';

export interface BulkTarget {
  host: string;
  port: number;
  user: string;
  identityFile: string;
  knownHostsFiles: string[];
  connectTimeoutMs: number;
}

/** Off with OBIAM_BULK_SSH=0 (the benchmark measures both paths); otherwise where the binary exists. */
export function bulkSshEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.OBIAM_BULK_SSH === '0') return false;
  try {
    accessSync(SSH_BIN, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The bulk target of a connection, or why there is none (kept for the debug log). */
export function bulkTarget(t: {
  host: string;
  port: number;
  user: string;
  identityFiles: string[];
  password?: string;
  jumps: unknown[];
  knownHostsFiles: string[];
  connectTimeoutMs: number;
}): BulkTarget | string {
  if (t.jumps.length) return 'a jump host';
  if (t.password !== undefined) return 'password authentication';
  if (t.identityFiles.length !== 1) return t.identityFiles.length ? 'several identity files' : 'no identity file (agent or default keys)';
  if (!t.knownHostsFiles.length) return 'no known_hosts file';
  // An encrypted key would make ssh ask for its passphrase: only keys that parse without one.
  try {
    const parsed = ssh2.utils.parseKey(readFileSync(t.identityFiles[0]));
    if (parsed instanceof Error) return 'an encrypted or unreadable identity file';
  } catch {
    return 'an unreadable identity file';
  }
  return { host: t.host, port: t.port, user: t.user, identityFile: t.identityFiles[0], knownHostsFiles: t.knownHostsFiles, connectTimeoutMs: t.connectTimeoutMs };
}

/** The ssh command line of a bulk upload (exported for the unit test of the host key options). */
export function bulkSshArgs(t: BulkTarget, remoteCommand: string): string[] {
  return [
    '-F', '/dev/null',
    '-o', 'BatchMode=yes',
    '-o', 'StrictHostKeyChecking=yes',
    '-o', `UserKnownHostsFile=${t.knownHostsFiles.map((f) => f.replace(/ /g, '\\ ')).join(' ')}`,
    '-o', 'GlobalKnownHostsFile=/dev/null',
    '-o', 'CheckHostIP=no',
    '-o', 'UpdateHostKeys=no',
    '-o', 'IdentitiesOnly=yes',
    '-o', 'IdentityAgent=none',
    '-o', 'PasswordAuthentication=no',
    '-o', 'KbdInteractiveAuthentication=no',
    '-o', `ConnectTimeout=${Math.max(1, Math.ceil(t.connectTimeoutMs / 1000))}`,
    '-o', 'ControlMaster=no',
    '-o', 'ControlPath=none',
    // AES-GCM first: AES-NI makes it the cheapest cipher per byte here; OpenSSH's default list follows.
    '-o', 'Ciphers=^aes128-gcm@openssh.com',
    '-o', 'Compression=no',
    '-o', 'LogLevel=ERROR',
    '-i', t.identityFile,
    '-p', String(t.port),
    '-l', t.user,
    '--', t.host,
    remoteCommand,
  ];
}

/**
 * Streams the file into `cat > remoteTmp` (owner-only) on the host through the system ssh. The file's
 * descriptor is ssh's stdin, so the data never passes through Node; progress is read from the shared
 * file offset (/proc/self/fdinfo).
 */
export async function bulkUpload(t: BulkTarget, hostName: string, localPath: string, remoteTmp: string, size: number, onProgress?: (sent: number, total: number) => void): Promise<void> {
  let fd: number;
  try {
    fd = openSync(localPath, 'r');
  } catch (e) {
    throw systemLimitError(hostName, `opening ${localPath}`, e) ?? e;
  }
  let timer: NodeJS.Timeout | undefined;
  try {
    const child = spawn(SSH_BIN, bulkSshArgs(t, `exec /bin/sh -c ${sq(`umask 077 && exec cat > ${sq(remoteTmp)}`)}`), { stdio: [fd, 'ignore', 'pipe'] });
    const err: Buffer[] = [];
    child.stderr?.on('data', (c: Buffer) => err.push(c));
    if (onProgress) {
      onProgress(0, size);
      timer = setInterval(() => {
        const pos = fileOffset(fd);
        if (pos !== undefined) onProgress(Math.min(pos, size), size);
      }, 250);
    }
    const code = await new Promise<number>((resolve, reject) => {
      child.once('error', (e) => reject(systemLimitError(hostName, `starting ${SSH_BIN}`, e) ?? e));
      child.once('close', (c, sig) => resolve(c ?? (sig ? 128 + 9 : -1)));
    });
    const text = Buffer.concat(err).toString('utf8').trim();
    if (code === 255) {
      // OpenSSH's banner of @ lines says little: keep the offending entry and the verdict.
      const lines = text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('@'));
      const said = lines.filter((l) => /^Offending|verification failed|^Permission denied|^ssh: |^Connection|^kex_/i.test(l));
      const why = (said.length ? said : lines.slice(-1)).join('; ');
      // ssh's own failure: connecting, the host key, or authentication; never retried over another path.
      const hostKey = /host key|REMOTE HOST IDENTIFICATION|known_hosts/i.test(text);
      throw new ObiamError(hostKey ? 'E_HOST_KEY_CHANGED' : 'E_FILE_TRANSFER', `bulk upload to ${hostName} through ${SSH_BIN} failed: ${why || 'exit 255'}`, {
        host: hostName,
        exitCode: EXIT.HOST_FAILED,
        remedy: hostKey
          ? `the host's key does not match its known_hosts entry (${t.knownHostsFiles.join(', ')}): verify the host, then fix the entry`
          : 'check that the host accepts a second SSH connection (MaxStartups) with the same key; OBIAM_BULK_SSH=0 sends files over the open connection instead',
      });
    }
    if (code !== 0) throw new Error(`writing ${remoteTmp} failed (exit ${code}): ${text}`);
    onProgress?.(size, size);
  } finally {
    clearInterval(timer);
    closeSync(fd);
  }
}

function fileOffset(fd: number): number | undefined {
  try {
    const m = /^pos:\s+(\d+)/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}
