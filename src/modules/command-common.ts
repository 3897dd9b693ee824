// Shared by command and shell: creates/removes guards, check mode, and Ansible's result fields.
import { randomBytes } from 'node:crypto';
import type { ModuleContext, ModuleResult } from './types.js';
import { shq } from './types.js';

export interface CommandLikeArgs {
  _raw_params?: string;
  cmd?: string;
  chdir?: string;
  creates?: string;
  removes?: string;
  stdin?: string;
  stdin_add_newline?: boolean;
  strip_empty_ends?: boolean;
}

export const COMMON_PROPERTIES = {
  _raw_params: { type: 'string' },
  cmd: { type: 'string' },
  chdir: { type: 'string' },
  creates: { type: 'string' },
  removes: { type: 'string' },
  stdin: { type: 'string' },
  stdin_add_newline: { type: 'boolean' },
  strip_empty_ends: { type: 'boolean' },
} as const;

/** A path for `sh` with its glob characters left active and everything else quoted. */
export function globWord(p: string): string {
  let out = '';
  let lit = '';
  for (const ch of p) {
    if (ch === '*' || ch === '?') {
      if (lit) out += shq(lit);
      lit = '';
      out += ch;
    } else lit += ch;
  }
  if (lit) out += shq(lit);
  return out;
}

/** Splits a command line into words like Python's shlex.split (quotes and backslashes, no expansion). */
export function splitWords(line: string): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let i = 0;
  while (i < line.length) {
    const ch = line[i]!;
    if (ch === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unterminated single quote in: ${line}`);
      cur += line.slice(i + 1, end);
      inWord = true;
      i = end + 1;
    } else if (ch === '"') {
      i++;
      inWord = true;
      while (i < line.length && line[i] !== '"') {
        if (line[i] === '\\' && i + 1 < line.length && '"\\$`\n'.includes(line[i + 1]!)) i++;
        cur += line[i];
        i++;
      }
      if (i >= line.length) throw new Error(`unterminated double quote in: ${line}`);
      i++;
    } else if (ch === '\\' && i + 1 < line.length) {
      cur += line[i + 1];
      inWord = true;
      i += 2;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
      i++;
    } else {
      cur += ch;
      inWord = true;
      i++;
    }
  }
  if (inWord) words.push(cur);
  return words;
}

/** Python-style timestamp, as Ansible prints start/end. */
function stamp(d: Date): string {
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}000`;
}

function delta(ms: number): string {
  const s = Math.floor(ms / 1000);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${Math.floor(s / 3600)}:${p(Math.floor(s / 60) % 60)}:${p(s % 60)}.${String(ms % 1000).padStart(3, '0')}000`;
}

const lines = (s: string): string[] => (s === '' ? [] : s.split('\n'));

/** The script that tells whether the creates/removes guards let the command run (81: creates exists, 82: removes is missing). */
function guardScript(args: CommandLikeArgs, skip: (code: 81 | 82) => string = (code) => `exit ${code}`): string | undefined {
  const parts: string[] = [];
  if (args.creates !== undefined) parts.push(`for f in ${globWord(args.creates)}; do [ -e "$f" ] && ${skip(81)}; done`);
  if (args.removes !== undefined) parts.push(`__obr_g=; for f in ${globWord(args.removes)}; do [ -e "$f" ] && __obr_g=1 && break; done; [ -n "$__obr_g" ] || ${skip(82)}`);
  return parts.length ? parts.join('\n') : undefined;
}

function skipped(args: CommandLikeArgs, shown: unknown, key: 'creates' | 'removes'): ModuleResult {
  const p = args[key]!;
  const wantExists = key === 'creates';
  const why = wantExists ? `${p} exists` : `${p} does not exist`;
  return { changed: false, rc: 0, cmd: shown, stdout: `skipped, since ${why}`, stdout_lines: [`skipped, since ${why}`], stderr: '', stderr_lines: [], msg: `Did not run command since '${p}' ${wantExists ? 'exists' : 'does not exist'}` };
}

/**
 * Runs `script` unless creates/removes say it is not needed; `shown` is the `cmd` field of the result.
 * `program` is the first word of `script`: the transport may `exec` it (one fork less on the host).
 */
export async function runCommandLike(args: CommandLikeArgs, ctx: ModuleContext, script: string, shown: unknown, program?: string): Promise<ModuleResult> {
  const execOpts = { cwd: args.chdir, env: ctx.environment, become: ctx.become };
  const guard = guardScript(args);
  if (ctx.check) {
    if (guard !== undefined) {
      const probe = await ctx.conn.exec(`${guard}\nexit 0`, execOpts);
      if (probe.exitCode === 81 && args.creates !== undefined) return skipped(args, shown, 'creates');
      if (probe.exitCode === 82 && args.removes !== undefined) return skipped(args, shown, 'removes');
    }
    // With creates/removes the outcome is known (it would run and change); otherwise nothing can be said.
    return guard !== undefined
      ? { changed: true, cmd: shown, msg: 'Command would have run if not in check mode' }
      : { changed: false, skipped: true, cmd: shown, msg: 'Command would have run if not in check mode' };
  }
  // The guard goes in the command's own request (one round trip): a skip is told by a nonce on stdout
  // the command cannot know, printed instead of running it.
  const nonce = guard !== undefined ? `OBR-SKIP-${randomBytes(9).toString('hex')}` : '';
  const lead = guard !== undefined ? `${guardScript(args, (code) => `{ printf '%s ${code}' ${shq(nonce)}; exit 0; }`)}\n` : '';
  const stdin = args.stdin === undefined ? undefined : args.stdin + (args.stdin_add_newline === false ? '' : '\n');
  const started = new Date();
  const r = await ctx.conn.exec(lead + script, { ...execOpts, stdin, ...(program !== undefined ? { execTail: { program, command: script } } : {}) });
  if (guard !== undefined && r.exitCode === 0 && r.stdout.startsWith(nonce + ' ') && r.stdout.length === nonce.length + 3) {
    return skipped(args, shown, r.stdout.endsWith('81') ? 'creates' : 'removes');
  }
  const ended = new Date();
  const strip = args.strip_empty_ends !== false;
  const stdout = strip ? r.stdout.replace(/\n+$/, '') : r.stdout;
  const stderr = strip ? r.stderr.replace(/\n+$/, '') : r.stderr;
  const failed = r.exitCode !== 0 || r.timedOut;
  return {
    changed: true,
    ...(failed ? { failed: true, msg: r.timedOut ? 'command timed out' : 'non-zero return code' } : { msg: '' }),
    rc: r.exitCode,
    cmd: shown,
    stdout,
    stderr,
    stdout_lines: lines(stdout),
    stderr_lines: lines(stderr),
    start: stamp(started),
    end: stamp(ended),
    delta: delta(ended.getTime() - started.getTime()),
  };
}
