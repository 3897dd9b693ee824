// System limits that stop a big run: the controller's open-file limit (each host holds a socket, an
// upload a file and a pipe), the kernel's file table, and the host sshd's MaxSessions / MaxStartups.
// Each becomes E_SYS_LIMIT naming the limit, its value where it can be read, and the remedy.
import { readFileSync } from 'node:fs';
import { ObiamError, UnreachableError } from '../errors.js';

export const SYS_LIMIT = 'E_SYS_LIMIT';

/** The soft and hard `Max open files` of this process (/proc/self/limits), or undefined off Linux. */
export function openFileLimit(limitsText?: string): { soft: number; hard: number } | undefined {
  let text = limitsText;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/limits', 'utf8');
    } catch {
      return undefined;
    }
  }
  const m = /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/m.exec(text);
  if (!m) return undefined;
  const n = (s: string) => (s === 'unlimited' ? Infinity : Number(s));
  return { soft: n(m[1]), hard: n(m[2]) };
}

/** Read once at start: out of descriptors, /proc/self/limits could not be opened any more. */
const START_LIMITS = openFileLimit();

function errnoCode(e: unknown): string | undefined {
  for (let cur = e, depth = 0; cur && depth < 6; cur = (cur as { cause?: unknown }).cause, depth++) {
    const code = (cur as { code?: unknown }).code;
    if (code === 'EMFILE' || code === 'ENFILE') return code;
    if (cur instanceof Error && /\bE[MN]FILE\b/.exec(cur.message)) return /\b(E[MN]FILE)\b/.exec(cur.message)![1];
  }
  return undefined;
}

/**
 * The E_SYS_LIMIT error for a failure caused by a system limit, or undefined for any other failure.
 * `what` says what was being done ("connecting", "opening a channel", "starting ssh").
 */
export function systemLimitError(host: string, what: string, e: unknown, limits = START_LIMITS): ObiamError | undefined {
  const code = errnoCode(e);
  if (code === 'EMFILE') {
    const now = limits ? ` (now ${limits.soft}${limits.hard !== limits.soft ? `, hard limit ${limits.hard}` : ''})` : '';
    return new UnreachableError(host, `${what}: too many open files on the controller: the open-file limit (ulimit -n)${now} is reached`, {
      code: SYS_LIMIT,
      cause: e,
      remedy: `raise it before the run (ulimit -n ${suggest(limits)}${limits && limits.hard < suggest(limits) ? `, after raising the hard limit: nofile in /etc/security/limits.conf` : ''}, or LimitNOFILE= in a systemd unit), or run fewer hosts at once with --forks; each host needs about 3 descriptors`,
    });
  }
  if (code === 'ENFILE') {
    return new UnreachableError(host, `${what}: the kernel's table of open files is full (fs.file-max)`, {
      code: SYS_LIMIT,
      cause: e,
      remedy: 'raise fs.file-max (sysctl -w fs.file-max=...) or run fewer hosts at once with --forks',
    });
  }
  const reason = (e as { reason?: unknown } | undefined)?.reason;
  if (e instanceof Error && /Channel open failure/i.test(e.message) && (reason === 1 || /open failed|prohibited/i.test(e.message))) {
    return new ObiamError(SYS_LIMIT, `${what} on ${host}: the host refused another session channel: its sshd's MaxSessions (sessions per connection, OpenSSH default 10) is reached`, {
      host,
      cause: e,
      remedy: 'raise MaxSessions in the host\'s sshd_config, or lower the shells per host (shellsPerHost) so that fewer channels are open at once',
    });
  }
  return undefined;
}

/** A handshake the host cut before the SSH banner may be sshd's MaxStartups: the hint names it. */
export const MAX_STARTUPS_HINT =
  "if many hosts or runs connect at once, the host's sshd may be at MaxStartups (unauthenticated connections at once, OpenSSH default 10:30:100): raise it in sshd_config or connect fewer hosts at once (--forks)";

function suggest(limits: { soft: number; hard: number } | undefined): number {
  if (!limits || !Number.isFinite(limits.soft)) return 65536;
  return Math.max(4096, limits.soft * 4);
}
