// file: a path's kind (file, directory, symlink, hard link, absent, touched) and its mode/owner/group.
// One probe reads the path (and src for links; for recurse, the distinct mode/owner/group
// combinations under the tree), the controller decides, one exec applies.
import path from 'node:path';
import type { FileDiff } from '../events/types.js';
import { absentStat, mustExec, mustSucceed, parseProbe, probe, probeLine, PROBE_FUNCTION, stateFields, type IfAbsent, type RemoteStat } from './remote-file.js';
import { attrScript, attrsDiffer, attrsOf, checkMode, exactMode, octal4, resolveMode, type AttrChange, type FileAttrs } from './lib/file-attrs.js';
import { argSpec, attrOptions, bool, choice, str, type ArgsOf } from './lib/arg-spec.js';
import { fail } from './lib/fail.js';
import { shq, type ModuleDef, type ModuleResult } from './types.js';

const STATES = ['file', 'directory', 'link', 'hard', 'absent', 'touch'] as const;
type FileState = (typeof STATES)[number];

const spec = argSpec({
  path: str({ required: true, aliases: ['dest', 'name'] }),
  state: choice(STATES),
  src: str(),
  recurse: bool(),
  ...attrOptions(),
  force: bool(),
  follow: bool({ default: true }),
});

export type FileArgs = ArgsOf<typeof spec.options>;

function describe(st: RemoteStat | undefined, extra: Record<string, string | undefined> = {}): string {
  const lines = [`state: ${st ? (st.exists ? (st.type === 'link' ? 'link' : st.type === 'file' && st.nlink > 1 ? 'hard' : st.type) : 'absent') : 'absent'}`];
  if (st?.exists) lines.push(`mode: ${st.mode}`, `owner: ${st.owner}`, `group: ${st.group}`);
  if (st?.lnkTarget !== undefined) lines.push(`src: ${st.lnkTarget}`);
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) lines.push(`${k}: ${v}`);
  return `${lines.join('\n')}\n`;
}

/** `find -printf` line per distinct (type, mode, uid, gid, user, group) under a tree: few lines for big trees. */
const TREE_SCRIPT = (p: string) => `find ${shq(p)} -mindepth 1 -printf '%y\\t%m\\t%U\\t%G\\t%u\\t%g\\n' 2>/dev/null | sort -u`;

function treeDiffers(listing: string, a: FileAttrs): boolean {
  for (const line of listing.split('\n')) {
    if (!line) continue;
    const [y, m, uid, gid, user, group] = line.split('\t');
    if (y === 'l') {
      if ((a.owner !== undefined && a.owner !== user && a.owner !== uid) || (a.group !== undefined && a.group !== group && a.group !== gid)) return true;
      continue;
    }
    const cur = parseInt(m!, 8);
    const want = resolveMode(a.mode, cur, y === 'd');
    if (want !== undefined && want !== cur) return true;
    if (a.owner !== undefined && a.owner !== user && a.owner !== uid) return true;
    if (a.group !== undefined && a.group !== group && a.group !== gid) return true;
  }
  return false;
}

const failAt = (msg: string, p: string): ModuleResult => fail(msg, { path: p });

export const fileModule: ModuleDef = {
  name: 'file',
  aliases: ['ansible.builtin.file'],
  supportsCheck: true,
  schema: spec.schema,
  run: spec.run(async (args, ctx) => {
    const p = args.path.length > 1 ? args.path.replace(/\/+$/, '') : args.path;
    const bad = checkMode(args.mode);
    if (bad) return failAt(bad, p);
    const follow = args.follow!;
    const want = args.state;
    const linkish = want === 'link' || want === 'hard' || want === 'absent';
    if ((want === 'link' || want === 'hard') && !args.src) return failAt(`src is required for state=${want}`, p);
    if (args.recurse && want !== 'directory') return failAt('recurse option requires state to be directory', p);
    const srcPath = args.src && want === 'link' && !args.src.startsWith('/') ? path.posix.join(path.posix.dirname(p), args.src) : args.src;
    const reqs = [{ path: p, follow: follow && !linkish }, { path: path.posix.dirname(p), typeOnly: true }, ...(srcPath ? [{ path: srcPath, follow: want === 'hard' ? false : true }] : [])];
    const attrs = attrsOf(args);
    const reprobe = probeLine('p', { path: p, follow: follow && !linkish });
    const mkdirLine = `mkdir -p -- ${shq(p)} || exit 1`;

    /** What to do from the probed state: a final result, or the script that applies the change. */
    const plan = (stats: RemoteStat[], extra: string): { done: ModuleResult } | { result: ModuleResult; script: string[]; state: FileState } => {
      const [cur, parent] = stats as [RemoteStat, RemoteStat];
      const srcSt = stats[2];
      const state: FileState = want ?? (cur.exists ? (cur.type === 'directory' ? 'directory' : cur.type === 'link' ? 'link' : 'file') : 'file');
      const script: string[] = [];
      let changed = false;
      let afterDesc: string | undefined;

      const needParent = () => {
        if (!parent.exists) throw new Error(`Destination directory ${path.posix.dirname(p)} does not exist`);
      };
      try {
        if (state === 'absent') {
          if (cur.exists) {
            changed = true;
            script.push(`rm -rf -- ${shq(p)} || exit 1`);
          }
          afterDesc = 'state: absent\n';
        } else if (state === 'file') {
          if (!cur.exists) return { done: failAt(`file (${p}) is absent, cannot continue`, p) };
          if (cur.type === 'directory') return { done: failAt(`${p} is a directory, not a file`, p) };
        } else if (state === 'touch') {
          if (!cur.exists) needParent();
          changed = true;
          script.push(`touch -- ${shq(p)} || exit 1`);
        } else if (state === 'directory') {
          if (cur.exists && cur.type !== 'directory') return { done: failAt(`${p} already exists as a ${cur.type}`, p) };
          if (!cur.exists) {
            changed = true;
            script.push(mkdirLine);
          }
        } else if (state === 'link') {
          const ok = cur.type === 'link' && cur.lnkTarget === args.src;
          if (!ok) {
            if (!srcSt?.exists && !args.force) return { done: failAt(`src file does not exist, use "force=yes" if you really want to create the link: ${srcPath}`, p) };
            if (cur.exists && cur.type !== 'link' && !args.force) {
              if (cur.type === 'directory') return { done: failAt(`refusing to convert from directory to symlink for ${p}`, p) };
              return { done: failAt(`refusing to convert from ${cur.type} to symlink for ${p}`, p) };
            }
            if (!cur.exists) needParent();
            changed = true;
            if (cur.type === 'directory') script.push(`rm -rf -- ${shq(p)} || exit 1`);
            script.push(`ln -sfn -- ${shq(args.src!)} ${shq(p)} || exit 1`);
          }
        } else if (state === 'hard') {
          if (!srcSt?.exists) return { done: failAt(`src does not exist: ${args.src}`, p) };
          const same = cur.exists && cur.inode === srcSt.inode && cur.dev === srcSt.dev;
          if (!same) {
            if (cur.exists && cur.type !== 'file' && cur.type !== 'link' && !args.force) return { done: failAt(`refusing to convert from ${cur.type} to hard link for ${p}`, p) };
            if (!cur.exists) needParent();
            changed = true;
            script.push(`ln -f -- ${shq(args.src!)} ${shq(p)} || exit 1`);
          }
        }
      } catch (e) {
        return { done: failAt((e as Error).message, p) };
      }

      // Attributes: a new path is judged against the defaults it will get (0755 dirs, 0644 files).
      let attrChanged = false;
      if (state !== 'absent') {
        const base: RemoteStat = changed && state !== 'touch' ? { ...cur, exists: false, type: state === 'directory' ? 'directory' : cur.type } : cur;
        const d = state === 'link' ? { owner: attrsDiffer(base, attrs).owner, group: attrsDiffer(base, attrs).group } : attrsDiffer(base, attrs, state === 'directory' ? 0o755 : 0o644);
        const diffAttrs = Object.fromEntries(Object.entries(d).filter(([, v]) => v !== undefined)) as AttrChange;
        if (state === 'link') {
          // Symlinks have no mode of their own; owner/group are set on the link itself (chown -h).
          if (diffAttrs.owner !== undefined) script.push(`chown -h -- ${shq(diffAttrs.owner)} ${shq(p)} || exit 1`);
          if (diffAttrs.group !== undefined) script.push(`chgrp -h -- ${shq(diffAttrs.group)} ${shq(p)} || exit 1`);
        } else {
          // A new directory gets its mode from mkdir -m: the same bits as mkdir then chmod, one process less.
          const { mode, ...owners } = diffAttrs;
          const made = mode !== undefined ? script.indexOf(mkdirLine) : -1;
          if (made >= 0) script[made] = `mkdir -p -m ${exactMode(mode!)} -- ${shq(p)} || exit 1`;
          script.push(...attrScript(shq(p), made >= 0 ? owners : diffAttrs).map((l) => `${l} || exit 1`));
        }
        attrChanged = Object.keys(diffAttrs).length > 0;
        if (args.recurse && treeDiffers(extra, attrs)) {
          attrChanged = true;
          const rec = { owner: args.owner, group: args.group };
          script.push(...attrScript(shq(p), rec, true).map((l) => `${l} || exit 1`));
          if (args.mode !== undefined) {
            const m = typeof args.mode === 'number' || /^[0-7]+$/.test(args.mode) ? exactMode(resolveMode(args.mode, 0, false)!) : args.mode;
            script.push(`chmod -R ${shq(m)} ${shq(p)} || exit 1`);
          }
        }
        if (afterDesc === undefined) {
          const lines = [`state: ${state === 'touch' ? (cur.exists ? cur.type : 'file') : state}`];
          const mode = diffAttrs.mode !== undefined ? octal4(diffAttrs.mode) : cur.exists && !changed ? cur.mode : undefined;
          if (mode) lines.push(`mode: ${mode}`);
          const owner = args.owner ?? cur.owner;
          const group = args.group ?? cur.group;
          if (owner) lines.push(`owner: ${owner}`);
          if (group) lines.push(`group: ${group}`);
          if (state === 'link') lines.push(`src: ${args.src}`);
          afterDesc = `${lines.join('\n')}\n`;
        }
      }
      changed = changed || attrChanged;
      const result: ModuleResult = { changed, path: p, ...(args.src ? { src: args.src } : {}) };
      if (ctx.diff && changed && state !== 'touch') {
        const diff: FileDiff = { path: p, before: describe(cur), after: afterDesc ?? '', beforeHeader: `${p} (state before)`, afterHeader: `${p} (state after)` };
        result.diff = [diff];
      }
      const shown = state === 'touch' ? 'file' : state;
      if (!changed) return { done: { ...result, ...stateFields(cur), state: shown } };
      if (ctx.check) return { done: { ...result, state: shown } };
      return { result, script, state };
    };

    // A missing directory is made in the probe's own round trip: plan() for an absent path, run if it is.
    let ifAbsent: IfAbsent | undefined;
    if (want === 'directory' && !ctx.check) {
      const pre = plan(reqs.map((r) => absentStat(r.path)), '');
      if ('script' in pre) ifAbsent = { path: p, follow: follow && !linkish, lines: [...pre.script, reprobe] };
    }
    const { stats, extra, ran } = await probe(ctx, reqs, args.recurse ? TREE_SCRIPT(p) : '', ifAbsent);
    const planned = plan(stats, extra);
    if ('done' in planned) return planned.done;
    const { result, script, state } = planned;
    const what = `file ${state} ${p}`;
    const out = ran ? mustSucceed(ctx, ran, what) : await mustExec(ctx, [PROBE_FUNCTION, ...script, reprobe].join('\n'), what);
    const after = parseProbe(out, new Map([['p', p]])).get('p');
    return { ...result, ...(after ? stateFields(after) : {}), state: state === 'touch' ? 'file' : state };
  }),
};
