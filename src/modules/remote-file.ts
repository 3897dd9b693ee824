// Shared helpers of the file-content modules (copy, template, file, lineinfile, blockinfile, xml,
// stat, unarchive). The cost model: ONE exec reads everything a task needs about its paths (a combined
// probe), the controller decides, and ONE more exec (or one putFile plus a finishing exec for big
// files) applies. Content is compared by a hash computed on the target; files are never downloaded
// to compare.
import { createHash, randomBytes, randomInt } from 'node:crypto';
import path from 'node:path';
import { EXIT, ObiamError } from '../errors.js';
import type { FileDiff } from '../events/types.js';
import { shq, type ModuleContext } from './types.js';
import { uploadProgress } from './progress.js';
import { attrScript, octal4 } from './lib/file-attrs.js';

export type FileType = 'file' | 'directory' | 'link' | 'fifo' | 'socket' | 'chr' | 'blk' | 'absent';

export interface RemoteStat {
  path: string;
  exists: boolean;
  type: FileType;
  /** Permission bits as an Ansible-style 4-digit octal string ('0644'); '' when absent. */
  mode: string;
  uid: number;
  gid: number;
  owner: string;
  group: string;
  size: number;
  mtime: number;
  atime: number;
  ctime: number;
  inode: number;
  nlink: number;
  dev: number;
  /** Target of a symlink (only when the path itself is a link, i.e. not followed). */
  lnkTarget?: string;
  /** Hex digest of a regular file when a checksum was requested. */
  checksum?: string;
  /** The file's bytes when content was requested and the file is not larger than the limit. */
  content?: Buffer;
  /** Content was requested but the file is larger than the limit. */
  tooLarge?: boolean;
}

export type ChecksumAlgorithm = 'sha1' | 'md5' | 'sha224' | 'sha256' | 'sha384' | 'sha512';

export interface ProbeRequest {
  path: string;
  /** Follow a final symlink (stat -L). */
  follow?: boolean;
  /** Hash of a regular file, computed on the target. */
  checksum?: ChecksumAlgorithm | false;
  /** Return the file's content if it is at most this many bytes. */
  contentMax?: number;
  /** Only whether it exists and its type (shell tests, no stat process); the other fields stay empty. */
  typeOnly?: boolean;
}

/**
 * Lines that every script including the probe needs: the probe function itself. Arguments: key, path,
 * follow (1), checksum command prefix ('sha1' ...), content limit (0: none), type only (1).
 * Each external command is one process on the host, so: an absent path costs none (shell tests), a
 * present one a stat, plus one sha1sum (read directly, no pipe to cut) and one base64 when asked for.
 */
export const PROBE_FUNCTION = `__obr_p() {
  if [ ! -e "$2" ] && { [ "$3" = 1 ] || [ ! -L "$2" ]; }; then printf '@@obr\\t%s\\tabsent\\n' "$1"; return 0; fi
  if [ "$6" = 1 ]; then
    if [ "$3" != 1 ] && [ -L "$2" ]; then __t=link; elif [ -d "$2" ]; then __t=directory; elif [ -f "$2" ]; then __t=file
    elif [ -p "$2" ]; then __t=fifo; elif [ -S "$2" ]; then __t=socket; elif [ -c "$2" ]; then __t=chr; else __t=blk; fi
    printf '@@typ\\t%s\\t%s\\n' "$1" "$__t"; return 0
  fi
  if [ "$3" = 1 ]; then __o=-L; else __o=; fi
  if ! __s=$(stat $__o --printf '%s\\t%f\\t%u\\t%g\\t%U\\t%G\\t%.9Y\\t%.9X\\t%.9Z\\t%i\\t%h\\t%d' -- "$2" 2>/dev/null); then
    printf '@@obr\\t%s\\tabsent\\n' "$1"; return 0
  fi
  printf '@@obr\\t%s\\tstat\\t%s\\n' "$1" "$__s"
  if [ "$3" != 1 ] && [ -L "$2" ]; then printf '@@lnk\\t%s\\t%s\\n' "$1" "$(readlink -- "$2")"; return 0; fi
  [ -f "$2" ] || return 0
  if [ -n "$4" ]; then printf '@@sum\\t%s\\t' "$1"; "$4"sum 2>/dev/null <"$2" || echo; fi
  if [ "$5" -gt 0 ]; then
    if [ "\${__s%%\t*}" -gt "$5" ]; then printf '@@big\\t%s\\n' "$1"; else printf '@@dat\\t%s\\t' "$1"; base64 -w0 2>/dev/null <"$2"; echo; fi
  fi
}`;

/** The shell line probing one path (index i of a request list). */
export function probeLine(i: number | string, r: ProbeRequest): string {
  return `__obr_p ${shq(String(i))} ${shq(r.path)} ${r.follow ? 1 : 0} ${shq(r.checksum || '')} ${r.contentMax ?? 0} ${r.typeOnly ? 1 : 0}`;
}

const TYPE_BITS: Record<number, FileType> = { 0o100000: 'file', 0o040000: 'directory', 0o120000: 'link', 0o010000: 'fifo', 0o140000: 'socket', 0o020000: 'chr', 0o060000: 'blk' };

export function absentStat(p: string): RemoteStat {
  return { path: p, exists: false, type: 'absent', mode: '', uid: -1, gid: -1, owner: '', group: '', size: 0, mtime: 0, atime: 0, ctime: 0, inode: 0, nlink: 0, dev: 0 };
}

/** Parses the `@@obr`/`@@typ`/`@@lnk`/`@@sum`/`@@dat`/`@@big` lines of a probe; keys are the indices given to probeLine. */
export function parseProbe(stdout: string, paths: Map<string, string>, contentMax: Map<string, number> = new Map()): Map<string, RemoteStat> {
  const out = new Map<string, RemoteStat>();
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('@@')) continue;
    const [tag, key, ...rest] = line.split('\t');
    if (key === undefined) continue;
    const p = paths.get(key) ?? key;
    if (tag === '@@obr') {
      if (rest[0] === 'absent') {
        out.set(key, absentStat(p));
        continue;
      }
      const [size, rawMode, uid, gid, owner, group, mtime, atime, ctime, inode, nlink, dev] = rest.slice(1);
      const m = parseInt(rawMode ?? '0', 16);
      out.set(key, {
        path: p,
        exists: true,
        type: TYPE_BITS[m & 0o170000] ?? 'file',
        mode: octal4(m & 0o7777),
        uid: Number(uid),
        gid: Number(gid),
        owner: owner ?? '',
        group: group ?? '',
        size: Number(size),
        mtime: Number(mtime),
        atime: Number(atime),
        ctime: Number(ctime),
        inode: Number(inode),
        nlink: Number(nlink),
        dev: Number(dev),
      });
    } else if (tag === '@@typ') {
      out.set(key, { ...absentStat(p), exists: true, type: (rest[0] as FileType | undefined) ?? 'file' });
    } else {
      const st = out.get(key);
      if (!st) continue;
      const val = rest.join('\t');
      if (tag === '@@lnk') st.lnkTarget = val;
      else if (tag === '@@sum') {
        // `sha1sum <file` prints `<hex>  -`.
        const hex = /^[0-9a-f]+/.exec(val)?.[0];
        if (hex) st.checksum = hex;
      } else if (tag === '@@big') st.tooLarge = true;
      else if (tag === '@@dat') {
        const buf = Buffer.from(val, 'base64');
        const max = contentMax.get(key) ?? Infinity;
        if (buf.length > max) st.tooLarge = true;
        else st.content = buf;
      }
    }
  }
  return out;
}

export interface ProbeResult {
  stats: RemoteStat[];
  /** Output of the extra script, after the probe lines. */
  extra: string;
  /** The reply of `ifAbsent.lines` when they ran (the path was absent). */
  ran?: { stdout: string; stderr: string; exitCode: number };
}

/**
 * Shell lines to run in the probe's own round trip when `path` turns out absent (as the probe sees
 * it with `follow`) and `dir`, if given, is a directory: the write a module would do next in that
 * case, so a first run costs one request instead of two.
 */
export interface IfAbsent {
  path: string;
  follow?: boolean;
  dir?: string;
  lines: string[];
}

const RAN = '@@ran\n';

/**
 * Reads the state of several paths in ONE exec; `extra` is more shell run in the same round trip
 * (its output is returned separately; read-only, see ExecOptions.engineScript), then `ifAbsent`.
 */
export async function probe(ctx: ModuleContext, reqs: ProbeRequest[], extra = '', ifAbsent?: IfAbsent): Promise<ProbeResult> {
  // A read-only script, run in the remote shell itself: its variables are unset at the end, and the
  // write of ifAbsent (exit, trap, umask...) gets a subshell of its own, only when it runs.
  const lines = [PROBE_FUNCTION, ...reqs.map((r, i) => probeLine(i, r)), 'unset __t __o __s', `printf '@@extra\\n'`, extra || ':'];
  if (ifAbsent) {
    const p = shq(ifAbsent.path);
    const absent = ifAbsent.follow ? `[ ! -e ${p} ]` : `[ ! -e ${p} ] && [ ! -L ${p} ]`;
    lines.push(`if ${absent}${ifAbsent.dir !== undefined ? ` && [ -d ${shq(ifAbsent.dir)} ]` : ''}; then (`, `printf '@@ran\\n'`, ...ifAbsent.lines, ') fi');
  }
  const r = await ctx.conn.exec(lines.join('\n'), { become: ctx.become, engineScript: 'read' });
  const mark = r.stdout.indexOf('@@extra\n');
  if (mark < 0) {
    throw new ObiamError('E_FILE_PROBE', `cannot read the state of ${reqs.map((q) => q.path).join(', ')} on ${ctx.host}: ${r.stderr.trim() || `exit ${r.exitCode}`}`, {
      host: ctx.host,
      exitCode: EXIT.HOST_FAILED,
    });
  }
  const paths = new Map(reqs.map((q, i) => [String(i), q.path]));
  const limits = new Map(reqs.map((q, i) => [String(i), q.contentMax ?? 0]));
  const parsed = parseProbe(r.stdout.slice(0, mark), paths, limits);
  let extraOut = r.stdout.slice(mark + 8);
  let ran: ProbeResult['ran'];
  const at = ifAbsent ? extraOut.indexOf(RAN) : -1; // callers' extra prints no such line
  if (at >= 0) {
    ran = { stdout: extraOut.slice(at + RAN.length), stderr: r.stderr, exitCode: r.exitCode };
    extraOut = extraOut.slice(0, at);
  }
  return { stats: reqs.map((q, i) => parsed.get(String(i)) ?? absentStat(q.path)), extra: extraOut, ...(ran ? { ran } : {}) };
}

// ---- writing --------------------------------------------------------------------------------

/** Content up to this size goes through exec stdin (one round trip); bigger content through putFile. */
export const STDIN_LIMIT = 256 * 1024;
/** Diffs and lineinfile read at most this much of a remote file. */
export const TEXT_LIMIT = 1024 * 1024;

export interface InstallOptions {
  dest: string;
  /** The new bytes (small), or a controller file (any size). */
  content?: Buffer;
  localPath?: string;
  /** A file already on the target (copy remote_src). */
  remoteSrc?: string;
  /** Permission bits to set; undefined keeps an existing file's mode (new files get 0666 & ~umask). */
  mode?: number;
  owner?: string;
  group?: string;
  backup?: boolean;
  /** Command run on the temp file before it replaces dest; `%s` is its path. */
  validate?: string;
  /** Make missing parent directories (lineinfile/blockinfile create=yes). */
  makeParents?: boolean;
}

export interface InstallResult {
  backupFile?: string;
  /** The state of dest after the write. */
  stat: RemoteStat;
}

/** Ansible's backup name: `<file>.<pid>.<YYYY-MM-DD@HH:MM:SS>~` (a random "pid": the remote shell is long-lived). */
export function backupScript(dest: string): string {
  const pid = randomInt(1000, 99999);
  return `if [ -e ${shq(dest)} ]; then __b=${shq(`${dest}.${pid}.`)}"$(date +%Y-%m-%d@%H:%M:%S)~"; cp -p -- ${shq(dest)} "$__b" || exit 1; printf '@@backup\\t%s\\n' "$__b"; fi`;
}

/** How the new bytes reach the temp file: in the script as text, through stdin (binary), a copy on the target, an upload. */
type InstallHow = 'text' | 'stdin' | 'remote' | 'put';

function installHow(o: InstallOptions): InstallHow {
  if (o.remoteSrc !== undefined) return 'remote';
  if (o.content !== undefined && o.content.length <= STDIN_LIMIT) return asText(o.content) !== undefined ? 'text' : 'stdin';
  return 'put';
}

/** Our temp file next to dest: same directory (and file system), so the final rename is atomic. */
function tempName(dest: string): string {
  return `${path.posix.dirname(dest)}/.${path.posix.basename(dest)}.obr-${randomBytes(6).toString('hex')}`;
}

/** The umask in effect as __u, read with builtins (Linux /proc) rather than a $(umask) subshell, which is the fallback. */
const READ_UMASK = `__u=; while read -r __k __v; do [ "$__k" != Umask: ] || { __u=$__v; break; }; done 2>/dev/null </proc/self/status; : "\${__u:=$(umask)}"`;

/**
 * The shell lines of an install: the temp file `tmp` gets the content and attributes (an existing
 * file's owner/mode are kept like Ansible's atomic_move), passes `validate`, and is renamed over
 * dest; then a probe of dest (PROBE_FUNCTION must be defined) prints the new state. Every process
 * counts on the host: the temp file is made by a redirection, text content written by printf, and
 * nothing is read back (the content's sha1 is the controller's).
 */
function installLines(o: InstallOptions, how: InstallHow, tmp: string): string[] {
  const d = shq(o.dest);
  const lines = [...(o.makeParents && how !== 'put' ? [`mkdir -p -- ${shq(path.posix.dirname(o.dest))} || exit 1`] : []), `t=${shq(tmp)}`, READ_UMASK];
  if (how !== 'put') {
    // A new file (O_EXCL) readable only by us, as mktemp makes it; later commands get the umask back.
    lines.push(`umask 077; set -C; : >"$t" || exit 1; set +C; umask "$__u"`);
  }
  lines.push(`trap 'rm -f -- "$t"' EXIT`);
  if (how === 'text') lines.push(`printf %s ${shq(asText(o.content)!)} >"$t" || exit 1`);
  else if (how === 'stdin') lines.push(`cat >"$t" || exit 1`);
  else if (how === 'remote') lines.push(`cp -- ${shq(o.remoteSrc!)} "$t" || exit 1`);
  // Replacing a file keeps its owner, group and mode, as Ansible's atomic_move does; a new file gets
  // 0666 & ~umask (octal digits by arithmetic: printf %o would need a subshell). What owner, group or
  // mode set below anyway is not copied, nor owners that are already the same (shell tests).
  const keep: string[] = [];
  if (o.owner === undefined || o.group === undefined) keep.push(`{ [ -O ${d} ] && [ -G ${d} ] && [ -O "$t" ] && [ -G "$t" ]; } || chown --reference=${d} "$t" 2>/dev/null`);
  if (o.mode === undefined) keep.push(`chmod --reference=${d} "$t" || exit 1`);
  const fresh = o.mode === undefined ? ` else __n=$((0666 & ~0$__u)); chmod "$((__n >> 6 & 7))$((__n >> 3 & 7))$((__n & 7))" "$t" || exit 1;` : '';
  if (keep.length) lines.push(`if [ -e ${d} ]; then ${keep.join('; ')};${fresh} fi`);
  lines.push(...attrScript('"$t"', { mode: o.mode, owner: o.owner, group: o.group }).map((l) => `${l} || exit 1`));
  if (o.validate) {
    lines.push(`( ${o.validate.split('%s').join('"$t"')} ) >"$t.out" 2>&1; __v=$?; if [ $__v -ne 0 ]; then printf '@@invalid\\t%s\\n' $__v; cat "$t.out"; rm -f "$t.out"; exit 0; fi; rm -f "$t.out"`);
  }
  if (o.backup) lines.push(backupScript(o.dest));
  lines.push(`mv -f -- "$t" ${d} || exit 1`, `trap - EXIT`, probeLine('dest', { path: o.dest }));
  return lines;
}

/** A validate command without %s: it would check some other file than the one about to be installed. */
const badValidate = (o: InstallOptions): boolean => o.validate !== undefined && o.validate !== '' && !o.validate.includes('%s');

function checkValidate(ctx: ModuleContext, o: InstallOptions): void {
  if (badValidate(o)) throw new ObiamError('E_VALIDATE', `validate must contain %s: ${o.validate}`, { exitCode: EXIT.HOST_FAILED, host: ctx.host });
}

/** Reads an install's reply: a write or validate failure throws; else the backup name and dest's new state. */
export function installResult(ctx: ModuleContext, o: InstallOptions, r: { stdout: string; stderr: string; exitCode: number }): InstallResult {
  if (r.exitCode !== 0) {
    throw new ObiamError('E_WRITE_FILE', `cannot write ${o.dest} on ${ctx.host}: ${r.stderr.trim() || `exit ${r.exitCode}`}`, { host: ctx.host, exitCode: EXIT.HOST_FAILED });
  }
  const inv = /^@@invalid\t(\d+)\n([\s\S]*)$/m.exec(r.stdout);
  if (inv) {
    throw new ObiamError('E_VALIDATE', `failed to validate ${o.dest}: '${o.validate}' exited ${inv[1]}: ${inv[2]!.trim()}`, {
      host: ctx.host,
      exitCode: EXIT.HOST_FAILED,
      remedy: 'the file was not changed; fix the content or the validate command',
    });
  }
  const backupFile = /^@@backup\t(.*)$/m.exec(r.stdout)?.[1];
  const stat = parseProbe(r.stdout, new Map([['dest', o.dest]])).get('dest') ?? absentStat(o.dest);
  return { ...(backupFile ? { backupFile } : {}), stat };
}

/** Content up to this size rides along with a copy/template probe in case dest is absent (sent for nothing otherwise). */
export const EARLY_LIMIT = 64 * 1024;

/**
 * The install as a probe's `ifAbsent` (dest absent, its directory there): the write of a first run
 * in the probe's round trip. Only for text content up to EARLY_LIMIT; read the reply with installResult.
 */
export function installIfAbsent(o: InstallOptions): IfAbsent | undefined {
  if (o.content === undefined || o.content.length > EARLY_LIMIT || installHow(o) !== 'text') return undefined;
  if (badValidate(o)) return undefined; // installFile reports it, if it comes to writing
  const dir = path.posix.dirname(o.dest);
  return { path: o.dest, dir, lines: installLines({ ...o, makeParents: false }, 'text', tempName(o.dest)) };
}

/**
 * Writes dest atomically: a temp file in dest's directory gets the content, attributes (an
 * existing file's owner/mode are kept like Ansible's atomic_move), passes `validate`, and is
 * renamed over dest. Returns the new state from the same exec.
 */
export async function installFile(ctx: ModuleContext, o: InstallOptions): Promise<InstallResult> {
  checkValidate(ctx, o);
  const how = installHow(o);
  const tmp = tempName(o.dest);
  if (how === 'put') {
    if (!o.localPath) throw new ObiamError('E_INTERNAL', 'installFile: no content', { exitCode: EXIT.INTERNAL });
    if (o.makeParents) await mustExec(ctx, `mkdir -p -- ${shq(path.posix.dirname(o.dest))}`, `creating ${path.posix.dirname(o.dest)}`);
    // putFile streams it (into cat over ssh); the temp name is ours so validate/backup happen before the rename.
    await ctx.conn.putFile(o.localPath, tmp, { mode: 0o600, become: ctx.become, temp: true, onProgress: uploadProgress(ctx, o.localPath) });
  }
  const r = await ctx.conn.exec([PROBE_FUNCTION, ...installLines(o, how, tmp)].join('\n'), { become: ctx.become, engineScript: 'write', ...(how === 'stdin' ? { stdin: o.content } : {}) });
  return installResult(ctx, o, r);
}

/** Runs one of the file modules' own scripts (coreutils only); a non-zero exit is a host failure. */
export async function mustExec(ctx: ModuleContext, script: string, what: string, stdin?: string | Buffer): Promise<string> {
  return mustSucceed(ctx, await ctx.conn.exec(script, { become: ctx.become, engineScript: 'write', ...(stdin !== undefined ? { stdin } : {}) }), what);
}

/** stdout of a reply, or the host failure a non-zero exit is. */
export function mustSucceed(ctx: ModuleContext, r: { stdout: string; stderr: string; exitCode: number }, what: string): string {
  if (r.exitCode !== 0) {
    throw new ObiamError('E_FILE_OP', `${what} failed on ${ctx.host}: ${r.stderr.trim() || `exit ${r.exitCode}`}`, { host: ctx.host, exitCode: EXIT.HOST_FAILED });
  }
  return r.stdout;
}

// ---- content helpers ------------------------------------------------------------------------

export function sha1(data: Buffer | string): string {
  return createHash('sha1').update(data).digest('hex');
}

/** Text for a diff: valid UTF-8 without NUL bytes, else undefined (binary files get no diff). */
export function asText(b: Buffer | undefined): string | undefined {
  if (!b) return undefined;
  if (b.includes(0)) return undefined;
  const s = b.toString('utf8');
  return Buffer.from(s, 'utf8').equals(b) ? s : undefined;
}

export function contentDiff(p: string, before: string, after: string): FileDiff {
  return { path: p, before, after, beforeHeader: `${p} (before)`, afterHeader: `${p} (after)` };
}

/** Old content of a changed file for --diff: only text files under TEXT_LIMIT, fetched with one cat. */
export async function fetchForDiff(ctx: ModuleContext, st: RemoteStat): Promise<string | undefined> {
  if (!st.exists) return '';
  if (st.type !== 'file' || st.size > TEXT_LIMIT) return undefined;
  const r = await ctx.conn.exec(`base64 -w0 < ${shq(st.path)}`, { become: ctx.become, engineScript: 'read' });
  if (r.exitCode !== 0) return undefined;
  return asText(Buffer.from(r.stdout, 'base64'));
}

/** The file-state summary Ansible modules return (mode/owner/group/uid/gid/size/state). */
export function stateFields(st: RemoteStat): Record<string, unknown> {
  if (!st.exists) return { state: 'absent' };
  const state = st.type === 'directory' ? 'directory' : st.type === 'link' ? 'link' : st.type === 'file' ? (st.nlink > 1 ? 'hard' : 'file') : st.type;
  return { state, mode: st.mode, owner: st.owner, group: st.group, uid: st.uid, gid: st.gid, size: st.size };
}

/** A user-facing failure of a file module (missing src, missing parent dir ...). */
export function fileError(ctx: ModuleContext, code: string, message: string, remedy?: string): ObiamError {
  return new ObiamError(code, message, { host: ctx.host, exitCode: EXIT.HOST_FAILED, ...(remedy ? { remedy } : {}) });
}
