// lineinfile: Ansible's line edit, computed on the controller. The probe round trip returns the
// file's content (files up to 1 MiB; bigger ones cost one more read); the new content is written
// back atomically in one exec with mode/owner/group, backup and validate.
import path from 'node:path';
import type { FileDiff } from '../events/types.js';
import { pyExpand, pyRegex } from '../vars/regex.js';
import { attrDiff, setAttrs } from './copy.js';
import { contentDiff, fileError, installFile, probe, stateFields, TEXT_LIMIT } from './remote-file.js';
import { ATTR_PROPS, attrsDiffer, checkMode, resolveMode, type FileAttrs } from './lib/file-attrs.js';
import { shq, type ModuleContext, type ModuleDef, type ModuleResult } from './types.js';
import { fail } from './lib/fail.js';
import { pathOf, pathProps } from './lib/path-arg.js';

export interface LineinfileArgs extends FileAttrs {
  path?: string;
  dest?: string;
  destfile?: string;
  name?: string;
  line?: string;
  value?: string;
  regexp?: string;
  regex?: string;
  search_string?: string;
  state?: 'present' | 'absent';
  insertafter?: string;
  insertbefore?: string;
  create?: boolean;
  backup?: boolean;
  backrefs?: boolean;
  firstmatch?: boolean;
  validate?: string;
}

/** Python's bytes.readlines(): split after each \n, endings kept. */
export function readLines(content: string): string[] {
  return content.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

const stripNl = (l: string): string => l.replace(/\n$/, '');
const stripEol = (l: string): string => l.replace(/[\r\n]+$/, '');

export interface LineEdit {
  regexp?: string;
  search_string?: string;
  line?: string;
  insertafter?: string;
  insertbefore?: string;
  backrefs?: boolean;
  firstmatch?: boolean;
}

/** Regexes search a line without its final newline: Python's `$` also matches just before it, JS's does not. */
function searcher(re: RegExp): (l: string) => RegExpExecArray | null {
  return (l) => re.exec(stripNl(l));
}

/** state=present on a list of lines (Ansible's `present()` semantics). */
export function linePresent(input: string[], e: LineEdit): { lines: string[]; changed: boolean; msg: string } {
  const lines = [...input];
  const line = e.line ?? '';
  let insAfter = e.insertafter;
  const insBefore = e.insertbefore;
  if (insAfter === undefined && insBefore === undefined) insAfter = 'EOF';
  const m = e.regexp !== undefined ? searcher(pyRegex(e.regexp)) : undefined;
  const insSrc = insAfter !== undefined && insAfter !== 'BOF' && insAfter !== 'EOF' ? insAfter : insBefore !== undefined && insBefore !== 'BOF' ? insBefore : undefined;
  const ins = insSrc !== undefined ? searcher(pyRegex(insSrc)) : undefined;
  let matchIdx = -1;
  let insIdx = -1;
  let match: RegExpExecArray | boolean | null = null;
  if (m) {
    for (const [i, l] of lines.entries()) {
      const f = m(l);
      if (f) {
        matchIdx = i;
        match = f;
        if (e.firstmatch) break;
      }
    }
  }
  if (e.search_string !== undefined) {
    for (const [i, l] of lines.entries()) {
      if (l.includes(e.search_string)) {
        matchIdx = i;
        match = true;
        if (e.firstmatch) break;
      }
    }
  }
  if (!match) {
    for (const [i, l] of lines.entries()) {
      if (line === stripEol(l)) {
        matchIdx = i;
      } else if (ins && ins(l)) {
        if (insAfter !== undefined) {
          insIdx = i + 1;
          if (e.firstmatch) break;
        }
        if (insBefore !== undefined) {
          insIdx = i;
          if (e.firstmatch) break;
        }
      }
    }
  }
  const nl = `${line}\n`;
  const endWithNl = () => {
    const last = lines[lines.length - 1];
    if (last !== undefined && !/[\n\r]$/.test(last)) lines[lines.length - 1] = `${last}\n`;
  };
  if (matchIdx !== -1) {
    let newLine = e.backrefs && match && typeof match !== 'boolean' ? pyExpand(line, match) : line;
    if (!newLine.endsWith('\n')) newLine += '\n';
    if (lines[matchIdx] !== newLine) {
      lines[matchIdx] = newLine;
      return { lines, changed: true, msg: 'line replaced' };
    }
    return { lines, changed: false, msg: '' };
  }
  if (e.backrefs) return { lines, changed: false, msg: '' };
  if (insBefore === 'BOF' || insAfter === 'BOF') {
    lines.unshift(nl);
    return { lines, changed: true, msg: 'line added' };
  }
  if (insAfter === 'EOF' || insIdx === -1) {
    endWithNl();
    lines.push(nl);
    return { lines, changed: true, msg: 'line added' };
  }
  if (insAfter !== undefined) {
    if (lines.length === insIdx) {
      if (stripEol(lines[insIdx - 1]!) !== line) {
        endWithNl();
        lines.push(nl);
        return { lines, changed: true, msg: 'line added' };
      }
      return { lines, changed: false, msg: '' };
    }
    if (line !== stripEol(lines[insIdx]!)) {
      lines.splice(insIdx, 0, nl);
      return { lines, changed: true, msg: 'line added' };
    }
    return { lines, changed: false, msg: '' };
  }
  lines.splice(insIdx, 0, nl);
  return { lines, changed: true, msg: 'line added' };
}

/** state=absent: every line matching regexp / containing search_string / equal to line goes. */
export function lineAbsent(input: string[], e: LineEdit): { lines: string[]; changed: boolean; msg: string; found: number } {
  const m = e.regexp !== undefined ? searcher(pyRegex(e.regexp)) : undefined;
  const keep = input.filter((l) => !(m ? m(l) : e.search_string !== undefined ? l.includes(e.search_string) : e.line === stripEol(l)));
  const found = input.length - keep.length;
  return { lines: keep, changed: found > 0, msg: found > 0 ? `${found} line(s) removed` : '', found };
}

export interface TextEditOptions extends FileAttrs {
  path: string;
  create?: boolean;
  backup?: boolean;
  validate?: string;
  /** The file is missing and create is off: what to return (lineinfile fails for present, skips for absent). */
  onMissing: () => ModuleResult;
  /** Bytes to text and back (default UTF-8); the xml module follows the file's declared encoding. */
  decode?: (raw: Buffer) => string;
  encode?: (text: string) => Buffer;
}

/**
 * Shell printing what `readlink -f p` prints (edits go to a link's target, in its real directory),
 * running readlink only when p itself is a symlink: else the directory's physical path from `cd -P`
 * and $PWD, builtins in a subshell (a fork without exec; the probe runs in the remote shell itself,
 * which must not change directory). ./ keeps CDPATH out. Nothing printed means p as given, as when
 * readlink -f fails.
 */
export function realPathScript(p: string): string {
  const q = shq(p);
  const base = path.posix.basename(p);
  if (p.endsWith('/') || base === '' || base === '.' || base === '..') return `readlink -f -- ${q} || true`;
  const dir = path.posix.dirname(p);
  const cd = shq(dir.startsWith('/') ? dir : `./${dir}`);
  return `if [ -L ${q} ]; then readlink -f -- ${q} || true; else (cd -P -- ${cd} 2>/dev/null && printf '%s\\n' "\${PWD%/}/"${shq(base)}); fi`;
}

/**
 * The shared round trips of lineinfile and blockinfile: one probe returns state, content and the
 * real path (edits go through symlinks); `edit` computes the new content on the controller; one
 * exec writes it back.
 */
export async function editRemoteText(
  ctx: ModuleContext,
  o: TextEditOptions,
  edit: (before: string, exists: boolean) => { after: string; changed: boolean; msg: string; extra?: Record<string, unknown> },
): Promise<ModuleResult> {
  const bad = checkMode(o.mode);
  if (bad) return fail(bad);
  const { stats, extra } = await probe(ctx, [{ path: o.path, follow: true, contentMax: TEXT_LIMIT }], realPathScript(o.path));
  const st = stats[0]!;
  if (st.type === 'directory') return fail(`Path ${o.path} is a directory !`, { rc: 256 });
  if (!st.exists && !o.create) return o.onMissing();
  let raw = st.content;
  if (st.exists && !raw) {
    // Bigger than the probe's limit: one more read, base64 so bytes survive.
    const r = await ctx.conn.exec(`base64 -w0 < ${shq(o.path)}`, { become: ctx.become, engineScript: 'read' });
    if (r.exitCode !== 0) throw fileError(ctx, 'E_READ_FILE', `cannot read ${o.path} on ${ctx.host}: ${r.stderr.trim()}`);
    raw = Buffer.from(r.stdout, 'base64');
  }
  const before = raw ? (o.decode ? o.decode(raw) : raw.toString('utf8')) : '';
  const ed = edit(before, st.exists);
  const contentChanged = ed.changed || (!st.exists && ed.after !== before);
  const attrs = attrsDiffer(st, o);
  const attrChanged = Object.values(attrs).some((v) => v !== undefined);
  let msg = ed.msg;
  if (attrChanged) msg = msg ? `${msg} and ownership, perms or SE linux context changed` : 'ownership, perms or SE linux context changed';
  const changed = contentChanged || attrChanged;
  const result: ModuleResult = { changed, msg, backup: '', ...ed.extra };
  const diffs: FileDiff[] = [];
  if (ctx.diff && contentChanged) diffs.push({ ...contentDiff(o.path, before, ed.after), beforeHeader: `${o.path} (content)`, afterHeader: `${o.path} (content)` });
  if (ctx.diff && attrChanged && st.exists) diffs.push(attrDiff(o.path, st, attrs));
  if (diffs.length) result.diff = diffs;
  if (!changed || ctx.check) return { ...result, ...(st.exists ? stateFields(st) : {}) };
  const real = extra.trim() || o.path;
  if (contentChanged) {
    const r = await installFile(ctx, {
      dest: real,
      content: o.encode ? o.encode(ed.after) : Buffer.from(ed.after, 'utf8'),
      mode: resolveMode(o.mode, st.exists ? parseInt(st.mode, 8) : 0o644, false),
      owner: o.owner,
      group: o.group,
      backup: o.backup && st.exists,
      validate: o.validate,
      makeParents: !st.exists,
    });
    if (r.backupFile) result.backup = result.backup_file = r.backupFile;
    return { ...result, ...stateFields(r.stat) };
  }
  return { ...result, ...stateFields(await setAttrs(ctx, real, attrs)) };
}

export const lineinfileModule: ModuleDef<LineinfileArgs> = {
  name: 'lineinfile',
  aliases: ['ansible.builtin.lineinfile'],
  supportsCheck: true,
  schema: {
    type: 'object',
    properties: {
      ...pathProps(true),
      line: { type: 'string' },
      value: { type: 'string' },
      regexp: { type: 'string' },
      regex: { type: 'string' },
      search_string: { type: 'string' },
      state: { enum: ['present', 'absent'] },
      insertafter: { type: 'string' },
      insertbefore: { type: 'string' },
      create: { type: 'boolean' },
      backup: { type: 'boolean' },
      backrefs: { type: 'boolean' },
      firstmatch: { type: 'boolean' },
      validate: { type: 'string' },
      ...ATTR_PROPS,
    },
    additionalProperties: false,
  },
  async run(args, ctx) {
    const p = pathOf(args);
    if (typeof p !== 'string') return p;
    const e: LineEdit = {
      regexp: args.regexp ?? args.regex,
      search_string: args.search_string,
      line: args.line ?? args.value,
      insertafter: args.insertafter,
      insertbefore: args.insertbefore,
      backrefs: args.backrefs,
      firstmatch: args.firstmatch,
    };
    const state = args.state ?? 'present';
    if (e.insertafter !== undefined && e.insertbefore !== undefined) return fail('parameters are mutually exclusive: insertbefore|insertafter');
    if (e.regexp !== undefined && e.search_string !== undefined) return fail('parameters are mutually exclusive: regexp|search_string');
    if (e.backrefs && e.search_string !== undefined) return fail('parameters are mutually exclusive: backrefs|search_string');
    if (state === 'present') {
      if (e.backrefs && e.regexp === undefined) return fail('regexp is required with backrefs=true');
      if (e.line === undefined) return fail('line is required with state=present');
    } else if (e.regexp === undefined && e.search_string === undefined && e.line === undefined) {
      return fail('one of line, search_string, or regexp is required with state=absent');
    }
    for (const [k, v] of [['regexp', e.regexp], ['insertafter', e.insertafter], ['insertbefore', e.insertbefore]] as const) {
      if (v === undefined || v === 'EOF' || v === 'BOF') continue;
      try {
        pyRegex(v);
      } catch (x) {
        return fail(`invalid ${k} '${v}': ${(x as Error).message}`);
      }
    }
    return editRemoteText(
      ctx,
      {
        path: p,
        create: state === 'present' && args.create,
        backup: args.backup,
        validate: args.validate,
        mode: args.mode,
        owner: args.owner,
        group: args.group,
        onMissing: () =>
          state === 'present' ? fail(`Destination ${p} does not exist !`, { rc: 257 }) : { changed: false, msg: 'file not present' },
      },
      (before) => {
        const lines = readLines(before);
        if (state === 'present') {
          const r = linePresent(lines, e);
          return { after: r.lines.join(''), changed: r.changed, msg: r.msg };
        }
        const r = lineAbsent(lines, e);
        return { after: r.lines.join(''), changed: r.changed, msg: r.msg, extra: { found: r.found } };
      },
    );
  },
};
