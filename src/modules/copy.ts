// copy: a controller file, a directory tree, inline content, or a file already on the target
// (remote_src) to dest. One probe reads dest (and its parent) with a remote sha1; the controller
// compares it with the local sha1; a changed file is written atomically with one exec (small) or a
// streamed putFile plus one finishing exec (large).
import { createReadStream, promises as fsp, type Stats } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { FileDiff } from '../events/types.js';
import { absentStat, asText, contentDiff, fetchForDiff, fileError, installFile, installIfAbsent, installResult, mustExec, parseProbe, probe, probeLine, PROBE_FUNCTION, sha1, stateFields, TEXT_LIMIT, type InstallOptions, type RemoteStat } from './remote-file.js';
import { ATTR_PROPS, attrScript, attrsDiffer, checkMode, MODE_SCHEMA, type ModeArg, octal4, resolveMode, type FileAttrs } from './lib/file-attrs.js';
import { shq, type ModuleContext, type ModuleDef, type ModuleResult } from './types.js';
import { fail } from './lib/fail.js';

export interface CopyArgs extends FileAttrs {
  content?: string;
  src?: string;
  dest: string;
  backup?: boolean;
  force?: boolean;
  remote_src?: boolean;
  directory_mode?: ModeArg;
  validate?: string;
  follow?: boolean;
  local_follow?: boolean;
}


/** The new content of one file: bytes in memory or a controller file, with its sha1. */
export interface Payload {
  sha1: string;
  size: number;
  data?: Buffer;
  localPath?: string;
}

export function payloadOf(data: Buffer): Payload {
  return { sha1: sha1(data), size: data.length, data };
}

/**
 * sha1 of big controller files, shared by every host of the run: hashing a 150 MiB artifact once per
 * host was most of the controller's CPU in a 10-host copy. Keyed by the file's identity and times, so
 * a file rewritten between tasks is hashed again.
 */
const bigHashes = new Map<string, Promise<string>>();
const BIG_HASHES_KEPT = 64;

function hashFile(p: string, st: Stats): Promise<string> {
  const key = `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}:${p}`;
  let h = bigHashes.get(key);
  if (!h) {
    h = (async () => {
      const hash = createHash('sha1');
      for await (const chunk of createReadStream(p)) hash.update(chunk as Buffer);
      return hash.digest('hex');
    })();
    h.catch(() => bigHashes.delete(key));
    bigHashes.set(key, h);
    if (bigHashes.size > BIG_HASHES_KEPT) bigHashes.delete(bigHashes.keys().next().value as string);
  }
  return h;
}

async function payloadOfFile(p: string): Promise<Payload> {
  const st = await fsp.stat(p);
  // Small files are read once (they go through exec stdin); big ones are hashed streaming and uploaded with putFile.
  // The path too: content above STDIN_LIMIT is uploaded from it (256 KiB-1 MiB files had no way up).
  if (st.size <= TEXT_LIMIT) return { ...payloadOf(await fsp.readFile(p)), localPath: p };
  return { sha1: await hashFile(p, st), size: st.size, localPath: p };
}

export interface PutOptions extends FileAttrs {
  dest: string;
  backup?: boolean;
  force?: boolean;
  validate?: string;
  /** `file` suffixes dest with this name when dest is an existing directory or ends with '/'. */
  srcName?: string;
  remoteSrc?: string;
}

/**
 * Puts one file's content at dest: shared by copy (content/src/remote_src) and template. Returns the
 * Ansible-style result (dest, checksum, size, mode, owner, group, backup_file, diff).
 */
export async function putContent(ctx: ModuleContext, pl: Payload, o: PutOptions): Promise<ModuleResult> {
  const bad = checkMode(o.mode);
  if (bad) return fail(bad);
  const dirDest = o.dest.endsWith('/');
  let dest = dirDest && o.srcName ? path.posix.join(o.dest, o.srcName) : o.dest.replace(/(.)\/+$/, '$1');
  const reqs = [
    { path: dest, checksum: 'sha1' as const },
    { path: path.posix.dirname(dest), follow: true, typeOnly: true }, // a parent that is a link to a directory is fine
    ...(o.srcName && !dirDest ? [{ path: path.posix.join(dest, o.srcName), checksum: 'sha1' as const }] : []),
  ];
  // What an absent dest gets, written in the probe's round trip when that is the case (first runs).
  const install = (cur: RemoteStat, at: string): InstallOptions => ({
    dest: at,
    content: pl.data,
    localPath: pl.localPath,
    remoteSrc: o.remoteSrc,
    mode: resolveMode(o.mode, cur.exists ? parseInt(cur.mode, 8) : 0o644, false),
    owner: o.owner,
    group: o.group,
    backup: o.backup,
    validate: o.validate,
    makeParents: dirDest,
  });
  const first = install(absentStat(dest), dest);
  const { stats, ran } = await probe(ctx, reqs, '', ctx.check ? undefined : installIfAbsent(first));
  let [cur, parent] = stats as [RemoteStat, RemoteStat];
  if (cur.type === 'directory') {
    if (!o.srcName) return fail(`can not use content with a dir as dest: ${dest}`);
    if (dirDest) return fail(`${dest} is a directory`);
    dest = path.posix.join(dest, o.srcName);
    cur = stats[2]!;
    parent = { ...stats[0]! };
  }
  if (!parent.exists && !dirDest) {
    throw fileError(ctx, 'E_DEST_DIR', `Destination directory ${path.posix.dirname(dest)} does not exist on ${ctx.host}`, 'create it first (file: state=directory) or end dest with / to have it created');
  }
  if (parent.exists && parent.type !== 'directory') {
    throw fileError(ctx, 'E_DEST_DIR', `Destination ${path.posix.dirname(dest)} on ${ctx.host} is not a directory`);
  }
  if (cur.exists && o.force === false) return { changed: false, dest, ...stateFields(cur), msg: 'file already exists' };
  const contentChanged = !cur.exists || cur.type !== 'file' || cur.checksum !== pl.sha1;
  const attrs = attrsDiffer(cur, o);
  const attrChanged = attrs.mode !== undefined || attrs.owner !== undefined || attrs.group !== undefined;
  const changed = contentChanged || attrChanged;
  const result: ModuleResult = { changed, dest, checksum: pl.sha1, size: pl.size, ...(o.remoteSrc ? { src: o.remoteSrc } : {}) };
  if (ctx.diff && contentChanged) {
    const after = pl.data && pl.size <= TEXT_LIMIT ? asText(pl.data) : undefined;
    const before = after !== undefined ? await fetchForDiff(ctx, cur) : undefined;
    if (after !== undefined && before !== undefined) result.diff = [contentDiff(dest, before, after)];
  } else if (ctx.diff && attrChanged) {
    result.diff = [attrDiff(dest, cur, attrs)];
  }
  if (!changed) return { ...result, ...stateFields(cur) };
  if (ctx.check) {
    const mode = attrs.mode !== undefined ? octal4(attrs.mode) : cur.exists ? cur.mode : undefined;
    return { ...result, state: 'file', ...(mode ? { mode } : {}), owner: o.owner ?? cur.owner, group: o.group ?? cur.group };
  }
  if (contentChanged) {
    // `ran`: dest was absent and its directory there, so the probe's round trip did this very install.
    const r = ran ? installResult(ctx, first, ran) : await installFile(ctx, install(cur, dest));
    return { ...result, ...stateFields(r.stat), ...(r.backupFile ? { backup_file: r.backupFile } : {}) };
  }
  const after = await setAttrs(ctx, dest, attrs);
  return { ...result, ...stateFields(after) };
}

/** Applies mode/owner/group in one exec and returns the new state from the same exec. */
export async function setAttrs(ctx: ModuleContext, p: string, a: { mode?: number; owner?: string; group?: string }, recurse = false): Promise<RemoteStat> {
  const out = await mustExec(ctx, [PROBE_FUNCTION, ...attrScript(shq(p), a, recurse).map((l) => `${l} || exit 1`), probeLine('p', { path: p })].join('\n'), `setting attributes of ${p}`);
  return parseProbe(out, new Map([['p', p]])).get('p')!;
}

/** Attribute-only changes shown as before/after state text. */
export function attrDiff(p: string, cur: RemoteStat, a: { mode?: number; owner?: string; group?: string }): FileDiff {
  const before = [`mode: ${cur.mode || '(none)'}`, `owner: ${cur.owner || '(none)'}`, `group: ${cur.group || '(none)'}`];
  const after = [`mode: ${a.mode !== undefined ? octal4(a.mode) : cur.mode}`, `owner: ${a.owner ?? cur.owner}`, `group: ${a.group ?? cur.group}`];
  return { path: p, before: `${before.join('\n')}\n`, after: `${after.join('\n')}\n`, beforeHeader: `${p} (attributes before)`, afterHeader: `${p} (attributes after)` };
}

interface TreeEntry {
  rel: string;
  dir: boolean;
  abs: string;
  stats: Stats;
}

async function walk(root: string, follow: boolean): Promise<TreeEntry[]> {
  const out: TreeEntry[] = [];
  const visit = async (rel: string): Promise<void> => {
    for (const name of (await fsp.readdir(path.join(root, rel))).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const abs = path.join(root, r);
      const st = follow ? await fsp.stat(abs) : await fsp.lstat(abs);
      if (st.isDirectory()) {
        out.push({ rel: r, dir: true, abs, stats: st });
        await visit(r);
      } else if (st.isFile()) out.push({ rel: r, dir: false, abs, stats: st });
    }
  };
  await visit('');
  return out;
}

/**
 * A controller directory copied recursively: `src/` copies its contents into dest, `src` copies the
 * directory itself as dest/<name>. One probe covers every path of the tree.
 */
async function copyTree(ctx: ModuleContext, args: CopyArgs, srcAbs: string): Promise<ModuleResult> {
  const root = args.src!.endsWith('/') ? args.dest.replace(/(.)\/+$/, '$1') : path.posix.join(args.dest, path.basename(srcAbs));
  const entries = await walk(srcAbs, args.local_follow ?? true);
  const reqs = [{ path: path.posix.dirname(root), follow: true, typeOnly: true }, { path: root }, ...entries.map((e) => ({ path: path.posix.join(root, e.rel), checksum: e.dir ? (false as const) : ('sha1' as const) }))];
  const { stats } = await probe(ctx, reqs);
  if (!stats[0]!.exists && !args.dest.endsWith('/') && args.src!.endsWith('/')) {
    throw fileError(ctx, 'E_DEST_DIR', `Destination directory ${path.posix.dirname(root)} does not exist on ${ctx.host}`, 'create it first or end dest with /');
  }
  const dirMode = resolveMode(args.directory_mode, 0o755, true);
  const mkdirs: string[] = [];
  if (!stats[1]!.exists) mkdirs.push(root);
  const diffs: FileDiff[] = [];
  const work: { e: TreeEntry; cur: RemoteStat; pl: Payload }[] = [];
  let changed = mkdirs.length > 0;
  for (const [i, e] of entries.entries()) {
    const cur = stats[i + 2]!;
    const dest = path.posix.join(root, e.rel);
    if (e.dir) {
      if (!cur.exists) {
        mkdirs.push(dest);
        changed = true;
      }
      continue;
    }
    if (cur.exists && args.force === false) continue;
    const pl = await payloadOfFile(e.abs);
    const contentChanged = !cur.exists || cur.type !== 'file' || cur.checksum !== pl.sha1;
    const mode = args.mode === 'preserve' ? e.stats.mode & 0o7777 : args.mode;
    const attrs = attrsDiffer(cur, { mode, owner: args.owner, group: args.group });
    if (contentChanged || Object.keys(attrs).length) {
      changed = true;
      work.push({ e, cur, pl });
      if (ctx.diff && contentChanged && pl.data) {
        const after = asText(pl.data);
        const before = after !== undefined ? await fetchForDiff(ctx, cur) : undefined;
        if (after !== undefined && before !== undefined) diffs.push(contentDiff(dest, before, after));
      }
    }
  }
  const result: ModuleResult = { changed, dest: root, src: args.src, ...(diffs.length ? { diff: diffs } : {}) };
  if (!changed || ctx.check) return result;
  if (mkdirs.length) {
    const own = { owner: args.owner, group: args.group, mode: dirMode };
    await mustExec(ctx, mkdirs.flatMap((d) => [`mkdir -p -- ${shq(d)} || exit 1`, ...attrScript(shq(d), own).map((l) => `${l} || exit 1`)]).join('\n'), `creating directories under ${root}`);
  }
  for (const { e, pl } of work) {
    const mode = args.mode === 'preserve' ? octal4(e.stats.mode & 0o7777) : args.mode;
    const r = await putContent(ctx, pl, { dest: path.posix.join(root, e.rel), mode, owner: args.owner, group: args.group, backup: args.backup, validate: args.validate });
    if (r.failed) return fail(r.msg, result);
  }
  return result;
}

/** remote_src with a directory: compared with `diff -r` and copied with `cp -a` in one exec each. */
async function copyRemoteTree(ctx: ModuleContext, args: CopyArgs): Promise<ModuleResult> {
  const src = args.src!;
  const root = src.endsWith('/') ? args.dest : path.posix.join(args.dest, path.posix.basename(src));
  const s = shq(src.replace(/(.)\/+$/, '$1'));
  const r = await ctx.conn.exec(`[ -d ${shq(root)} ] && diff -r -q -- ${s} ${shq(root)} >/dev/null 2>&1 && echo same || echo differ`, { become: ctx.become });
  const changed = r.stdout.trim() !== 'same';
  if (changed && !ctx.check) {
    const own = attrScript(shq(root), { owner: args.owner, group: args.group }, true);
    await mustExec(ctx, [`mkdir -p -- ${shq(root)} || exit 1`, `cp -a -- ${s}/. ${shq(root)}/ || exit 1`, ...own].join('\n'), `copying ${src} to ${root}`);
  }
  return { changed, dest: root, src };
}

export const copyModule: ModuleDef<CopyArgs> = {
  name: 'copy',
  controllerFiles: [{ arg: 'src', kind: 'files', unless: (a) => a.remote_src === true || a.remote_src === 'yes' }],
  aliases: ['ansible.builtin.copy'],
  supportsCheck: true,
  schema: {
    type: 'object',
    properties: {
      content: { type: 'string' },
      src: { type: 'string', minLength: 1 },
      dest: { type: 'string', minLength: 1 },
      ...ATTR_PROPS,
      backup: { type: 'boolean' },
      force: { type: 'boolean' },
      remote_src: { type: 'boolean' },
      directory_mode: MODE_SCHEMA,
      validate: { type: 'string' },
      follow: { type: 'boolean' },
      local_follow: { type: 'boolean' },
    },
    required: ['dest'],
    additionalProperties: false,
  },
  async run(args, ctx) {
    if (args.content === undefined && args.src === undefined) return fail('src (or content) is required');
    if (args.content !== undefined && args.src !== undefined) return fail('src and content are mutually exclusive');
    const bad = checkMode(args.mode) ?? checkMode(args.directory_mode, 'directory_mode');
    if (bad) return fail(bad);
    const common = { dest: args.dest, owner: args.owner, group: args.group, backup: args.backup, force: args.force, validate: args.validate };
    if (args.content !== undefined) {
      if (args.mode === 'preserve') return fail('mode=preserve needs src');
      return putContent(ctx, payloadOf(Buffer.from(args.content, 'utf8')), { ...common, mode: args.mode });
    }
    const src = args.src!;
    if (args.remote_src) {
      const { stats } = await probe(ctx, [{ path: src, follow: true, checksum: 'sha1' }]);
      const st = stats[0]!;
      if (!st.exists) throw fileError(ctx, 'E_SRC_MISSING', `Source ${src} not found on ${ctx.host}`, 'remote_src: true reads src on the target host');
      if (st.type === 'directory') return copyRemoteTree(ctx, args);
      const mode = args.mode === 'preserve' ? st.mode : args.mode;
      return putContent(ctx, { sha1: st.checksum ?? '', size: st.size }, { ...common, mode, srcName: path.posix.basename(src), remoteSrc: src });
    }
    const abs = ctx.findFile('files', src);
    let lst: Stats;
    try {
      lst = await fsp.stat(abs);
    } catch {
      throw fileError(ctx, 'E_SRC_MISSING', `Source ${src} not found (looked for ${abs})`, 'put the file under files/ of the role or next to the playbook');
    }
    if (lst.isDirectory()) return copyTree(ctx, args, abs);
    const mode = args.mode === 'preserve' ? octal4(lst.mode & 0o7777) : args.mode;
    return putContent(ctx, await payloadOfFile(abs), { ...common, mode, srcName: path.basename(abs) });
  },
};
