// unarchive: a tar (any compression GNU tar detects) or zip archive extracted into an existing dest.
// Idempotency without extracting: the archive's member list (name, type, size, mtime) is compared
// with the files under dest, read in ONE exec (`xargs stat` over the member names). Changed when a
// member is missing, has another type, another size, or (tar only) an mtime more than 1 s apart,
// or when owner/group/mode differ. Zip mtimes are local time without a zone, so zip compares sizes.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileError, PROBE_FUNCTION, parseProbe, probeLine } from './remote-file.js';
import { ATTR_PROPS, attrScript, checkMode, type ModeArg, resolveMode } from './lib/file-attrs.js';
import { shq, type ModuleDef, type ModuleResult } from './types.js';
import { uploadProgress } from './progress.js';
import { fail } from './lib/fail.js';

const pexec = promisify(execFile);

export interface UnarchiveArgs {
  src: string;
  dest: string;
  remote_src?: boolean;
  copy?: boolean;
  creates?: string;
  owner?: string;
  group?: string;
  mode?: ModeArg;
  extra_opts?: string[];
  list_files?: boolean;
  exclude?: string[];
  keep_newer?: boolean;
}

export interface Member {
  name: string;
  type: 'file' | 'directory' | 'link' | 'hard' | 'other';
  size: number;
  /** Seconds since the epoch (tar: UTC listing); NaN when unknown. */
  mtime: number;
}

type Kind = 'tar' | 'zip';

const TAR_LINE = /^(\S)\S{9}\S*\s+\S+\s+(\d+)\s+(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\s(.*)$/;
const ZIP_LINE = /^(\S)\S*\s+\S+\s+\S+\s+(\d+)\s+\S+\s+\S+\s+(\d{8}\.\d{6})\s(.*)$/;
const typeOf = (c: string): Member['type'] => (c === '-' ? 'file' : c === 'd' ? 'directory' : c === 'l' ? 'link' : c === 'h' ? 'hard' : 'other');

/** Parses `TZ=UTC tar -tv --full-time` or `unzip -Z -T` output. */
export function parseListing(kind: Kind, out: string): Member[] {
  const members: Member[] = [];
  for (const line of out.split('\n')) {
    const m = (kind === 'tar' ? TAR_LINE : ZIP_LINE).exec(line);
    if (!m) continue;
    const type = typeOf(m[1]!);
    let name = m[4]!;
    if (type === 'link') name = name.replace(/ -> .*$/, '');
    if (type === 'hard') name = name.replace(/ link to .*$/, '');
    name = name.replace(/^(\.\/)+/, '');
    if (name === '' || name === '.' || name === './') continue;
    const t = m[3]!;
    const mtime = kind === 'tar' ? Date.parse(`${t.replace(' ', 'T')}Z`) / 1000 : NaN;
    members.push({ name: name.replace(/\/$/, ''), type: name.endsWith('/') ? 'directory' : type, size: Number(m[2]), mtime });
  }
  return members;
}

/** Shell glob (exclude=) as a RegExp over member names. */
function globRe(g: string): RegExp {
  return new RegExp(`^${g.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}(/.*)?$`);
}

/** Applies --strip-components and exclude patterns to the listing, as the extraction will. */
export function effectiveMembers(members: Member[], extraOpts: string[], exclude: string[]): Member[] {
  let strip = 0;
  for (const [i, o] of extraOpts.entries()) {
    const m = /^--strip-components(?:=(\d+))?$/.exec(o);
    if (m) strip = Number(m[1] ?? extraOpts[i + 1] ?? 0);
  }
  const ex = exclude.map(globRe);
  return members
    .filter((m) => !ex.some((r) => r.test(m.name)))
    .map((m) => ({ ...m, name: m.name.split('/').slice(strip).join('/') }))
    .filter((m) => m.name !== '');
}

function listCommand(kind: Kind, archive: string): string {
  return kind === 'zip' ? `unzip -Z -T ${shq(archive)}` : `TZ=UTC tar -tv --full-time -f ${shq(archive)}`;
}

async function kindOfLocal(file: string): Promise<Kind> {
  const fh = await fsp.open(file, 'r');
  try {
    const b = Buffer.alloc(4);
    await fh.read(b, 0, 4, 0);
    return b.equals(Buffer.from('PK\x03\x04', 'latin1')) ? 'zip' : 'tar';
  } finally {
    await fh.close();
  }
}

const kindOfName = (f: string): Kind => (/\.(zip|jar|war|ear)$/i.test(f) ? 'zip' : 'tar');

/** Compares the member list with `name\tsize\tmtime\ttype\tuser\tgroup\tmode` lines of the target. */
export function unarchiveDiffers(members: Member[], kind: Kind, statOut: string, a: { owner?: string; group?: string; mode?: ModeArg }): string | undefined {
  const have = new Map<string, string[]>();
  for (const line of statOut.split('\n')) {
    const f = line.split('\t');
    if (f.length >= 7) have.set(f[0]!.replace(/^\.\//, ''), f);
  }
  for (const m of members) {
    const h = have.get(m.name);
    if (!h) return `${m.name} is missing`;
    const [, size, mtime, type, user, group, mode] = h;
    const t = type!.startsWith('regular') ? 'file' : type === 'directory' ? 'directory' : type === 'symbolic link' ? 'link' : 'other';
    const want = m.type === 'hard' ? 'file' : m.type;
    if (want !== 'other' && t !== want) return `${m.name} is a ${t}, the archive has a ${want}`;
    if (m.type === 'file' && Number(size) !== m.size) return `${m.name} differs in size`;
    if (kind === 'tar' && m.type === 'file' && Number.isFinite(m.mtime) && Math.abs(Number(mtime) - m.mtime) > 1) return `${m.name} differs in mtime`;
    if (t === 'link') continue;
    if (a.owner !== undefined && a.owner !== user) return `${m.name} owner differs`;
    if (a.group !== undefined && a.group !== group) return `${m.name} group differs`;
    const cur = parseInt(mode!, 8);
    const wantMode = resolveMode(a.mode, cur, t === 'directory');
    if (wantMode !== undefined && wantMode !== cur) return `${m.name} mode differs`;
  }
  return undefined;
}


export const unarchiveModule: ModuleDef<UnarchiveArgs> = {
  name: 'unarchive',
  controllerFiles: [{ arg: 'src', kind: 'files', unless: (a) => a.remote_src === true || a.remote_src === 'yes' || /^[a-z]+:\/\//.test(String(a.src)) }],
  aliases: ['ansible.builtin.unarchive'],
  supportsCheck: true,
  schema: {
    type: 'object',
    properties: {
      src: { type: 'string', minLength: 1 },
      dest: { type: 'string', minLength: 1 },
      remote_src: { type: 'boolean' },
      copy: { type: 'boolean' },
      creates: { type: 'string', minLength: 1 },
      ...ATTR_PROPS,
      extra_opts: { type: 'array', items: { type: 'string' } },
      list_files: { type: 'boolean' },
      exclude: { type: 'array', items: { type: 'string' } },
      keep_newer: { type: 'boolean' },
    },
    required: ['src', 'dest'],
    additionalProperties: false,
  },
  async run(args, ctx) {
    const bad = checkMode(args.mode);
    if (bad) return fail(bad);
    const remote = args.remote_src ?? args.copy === false;
    const extra = args.extra_opts ?? [];
    const exclude = args.exclude ?? [];
    const dest = args.dest.length > 1 ? args.dest.replace(/\/+$/, '') : args.dest;
    let kind: Kind;
    let members: Member[] | undefined;
    let local: string | undefined;
    if (!remote) {
      local = ctx.findFile('files', args.src);
      try {
        kind = await kindOfLocal(local);
      } catch {
        throw fileError(ctx, 'E_SRC_MISSING', `Source ${args.src} not found (looked for ${local})`, 'put the archive under files/ of the role or next to the playbook');
      }
      try {
        const { stdout } = await pexec('/bin/sh', ['-c', listCommand(kind, local)], { maxBuffer: 256 * 1024 * 1024 });
        members = parseListing(kind, stdout);
      } catch (e) {
        return fail(`cannot list ${args.src}: ${((e as { stderr?: string }).stderr ?? (e as Error).message).trim()}`);
      }
    } else kind = kindOfName(args.src);

    // Local archive: ONE exec reads dest, creates and the stat of every member under dest (names on
    // stdin). remote_src: the first exec also lists the archive on the target; the stats need a second.
    const statFmt = `'%n\\t%s\\t%Y\\t%F\\t%U\\t%G\\t%a\\n'`;
    const statScript = `if [ -d ${shq(dest)} ]; then cd ${shq(dest)} && xargs -d '\\n' -r stat --printf ${statFmt} -- 2>/dev/null; fi; true`;
    const eff0 = members ? effectiveMembers(members, extra, exclude) : undefined;
    const script = [
      PROBE_FUNCTION,
      probeLine('dest', { path: dest, follow: true }),
      ...(args.creates ? [probeLine('creates', { path: args.creates, follow: true })] : []),
      ...(remote ? [probeLine('src', { path: args.src, follow: true }), `printf '@@list\\n'`, `[ -f ${shq(args.src)} ] && ${listCommand(kind, args.src)} 2>/dev/null; true`] : []),
      `printf '@@stat\\n'`,
      ...(remote ? [] : [statScript]),
    ].join('\n');
    const names = (ms: Member[]) => ms.map((m) => m.name).join('\n') + '\n';
    const r = await ctx.conn.exec(script, { become: ctx.become, ...(eff0 ? { stdin: names(eff0) } : {}) });
    const statAt = r.stdout.indexOf('@@stat\n');
    if (statAt < 0) return fail(`cannot inspect ${dest} on ${ctx.host}: ${r.stderr.trim()}`);
    const listAt = r.stdout.indexOf('@@list\n');
    const st = parseProbe(r.stdout.slice(0, listAt >= 0 ? listAt : statAt), new Map([['dest', dest], ['creates', args.creates ?? ''], ['src', args.src]]));
    if (args.creates && st.get('creates')?.exists) return { changed: false, dest, src: args.src, msg: `skipped, since ${args.creates} exists` };
    if (st.get('dest')?.type !== 'directory') {
      throw fileError(ctx, 'E_DEST_DIR', `dest '${dest}' must be an existing directory on ${ctx.host}`, 'create it first with file: state=directory');
    }
    let statOut = r.stdout.slice(statAt + 7);
    let eff = eff0;
    if (remote) {
      if (!st.get('src')?.exists) throw fileError(ctx, 'E_SRC_MISSING', `Source '${args.src}' does not exist on ${ctx.host}`, 'remote_src: true reads src on the target host');
      eff = effectiveMembers(parseListing(kind, r.stdout.slice(listAt + 7, statAt)), extra, exclude);
      if (!eff.length) return fail(`cannot list the archive ${args.src} on ${ctx.host} (not a tar or zip file, or empty)`);
      const s2 = await ctx.conn.exec(statScript, { become: ctx.become, stdin: names(eff) });
      statOut = s2.stdout;
    }
    const reason = unarchiveDiffers(eff!, kind, statOut, args);
    const result: ModuleResult = {
      changed: reason !== undefined,
      dest,
      src: args.src,
      handler: kind === 'zip' ? 'ZipArchive' : 'TgzArchive',
      ...(args.list_files ? { files: eff!.map((m) => m.name) } : {}),
    };
    if (reason) ctx.log(2, `unarchive ${args.src}: ${reason}`);
    if (!reason || ctx.check) return result;

    let archive = args.src;
    if (local) {
      archive = `/tmp/.obr-unarchive-${randomBytes(6).toString('hex')}${kind === 'zip' ? '.zip' : ''}`;
      await ctx.conn.putFile(local, archive, { mode: 0o600, become: ctx.become, temp: true, onProgress: uploadProgress(ctx, local) });
    }
    const x = extra.map(shq).join(' ');
    const cmd =
      kind === 'zip'
        ? `unzip -o ${x} ${shq(archive)} -d ${shq(dest)}${exclude.length ? ` -x ${exclude.map(shq).join(' ')}` : ''}`
        : `tar -xf ${shq(archive)} -C ${shq(dest)} ${x} ${exclude.map((e) => shq(`--exclude=${e}`)).join(' ')}`;
    const post = attrPaths(eff!, dest, args);
    ctx.progress?.('unpack', `unpacking ${path.posix.basename(args.src)} (${eff!.length} entries) into ${dest}`);
    const ex = await ctx.conn.exec([`${cmd} || { r=$?; ${local ? `rm -f -- ${shq(archive)}; ` : ''}exit $r; }`, ...(local ? [`rm -f -- ${shq(archive)}`] : []), ...post].join('\n'), { become: ctx.become });
    const extract = { cmd, rc: ex.exitCode, out: ex.stdout, err: ex.stderr };
    if (ex.exitCode !== 0) return fail(`failed to extract ${args.src} into ${dest}: ${ex.stderr.trim()}`, { ...result, changed: false, extract_results: extract });
    return { ...result, extract_results: extract };
  },
};

/** chown/chmod of the extracted top-level entries (recursively), only when asked. */
function attrPaths(members: Member[], dest: string, a: UnarchiveArgs): string[] {
  if (a.owner === undefined && a.group === undefined && a.mode === undefined) return [];
  const tops = [...new Set(members.map((m) => m.name.split('/')[0]!))].map((t) => shq(path.posix.join(dest, t)));
  const lines: string[] = [];
  for (const t of tops) {
    lines.push(...attrScript(t, { owner: a.owner, group: a.group }, true).map((l) => `${l} || exit 1`));
    if (a.mode !== undefined) {
      const m = typeof a.mode === 'number' ? a.mode.toString(8) : a.mode;
      lines.push(`chmod -R ${shq(m)} ${t} || exit 1`);
    }
  }
  return lines;
}

