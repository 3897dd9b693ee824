// blockinfile: a marked block of lines, computed on the controller with Ansible's rules (existing
// markers are replaced in place; otherwise the block goes after/before the last line matching
// insertafter/insertbefore, or at EOF/BOF). Same round trips as lineinfile.
import { pyRegex } from '../vars/regex.js';
import { editRemoteText } from './lineinfile.js';
import { ATTR_PROPS, type FileAttrs } from './lib/file-attrs.js';
import type { ModuleDef } from './types.js';
import { fail } from './lib/fail.js';
import { pathOf, pathProps } from './lib/path-arg.js';

export interface BlockinfileArgs extends FileAttrs {
  path?: string;
  dest?: string;
  destfile?: string;
  name?: string;
  block?: string;
  content?: string;
  marker?: string;
  marker_begin?: string;
  marker_end?: string;
  insertafter?: string;
  insertbefore?: string;
  state?: 'present' | 'absent';
  create?: boolean;
  backup?: boolean;
  validate?: string;
}

/** Python's bytes.splitlines(True): splits after \n, \r\n and \r, endings kept. */
export function splitLinesKeep(s: string): string[] {
  return s.match(/[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$/g) ?? [];
}

export interface BlockEdit {
  block: string;
  marker: string;
  markerBegin: string;
  markerEnd: string;
  insertafter?: string;
  insertbefore?: string;
  present: boolean;
}

/** The new content of a file (Ansible's blockinfile algorithm). */
export function applyBlock(original: string, e: BlockEdit): string {
  const lines = splitLinesKeep(original);
  let insAfter = e.insertafter;
  const insBefore = e.insertbefore;
  if (insAfter === undefined && insBefore === undefined) insAfter = 'EOF';
  const insSrc = insAfter !== undefined && insAfter !== 'EOF' ? insAfter : insBefore !== undefined && insBefore !== 'BOF' ? insBefore : undefined;
  const m0 = `${e.marker.replace(/\{mark\}/g, e.markerBegin)}\n`;
  const m1 = `${e.marker.replace(/\{mark\}/g, e.markerEnd)}\n`;
  let blockLines: string[] = [];
  if (e.present && e.block) {
    const b = e.block.endsWith('\n') ? e.block : `${e.block}\n`;
    blockLines = [m0, ...splitLinesKeep(b), m1];
  }
  let n0: number | undefined;
  let n1: number | undefined;
  for (const [i, l] of lines.entries()) {
    if (l === m0) n0 = i;
    if (l === m1) n1 = i;
  }
  if (n0 === undefined || n1 === undefined) {
    n0 = undefined;
    if (insSrc !== undefined) {
      const multiline = /^\(\?[a-zA-Z]*m/.test(insSrc);
      if (multiline) {
        const re = pyRegex(insSrc);
        const mm = re.exec(original);
        if (mm) {
          const at = insAfter !== undefined ? mm.index + mm[0].length : mm.index;
          n0 = (original.slice(0, at).match(/\n/g) ?? []).length;
        }
      } else {
        const re = pyRegex(insSrc);
        for (const [i, l] of lines.entries()) if (re.test(l.replace(/\n$/, ''))) n0 = i;
      }
      if (n0 === undefined) n0 = lines.length;
      else if (insAfter !== undefined) n0 += 1;
    } else if (insBefore !== undefined) n0 = 0;
    else n0 = lines.length;
  } else if (n0 < n1) {
    lines.splice(n0, n1 - n0 + 1);
  } else {
    lines.splice(n1, n0 - n1 + 1);
    n0 = n1;
  }
  if (n0 > 0 && !lines[n0 - 1]!.endsWith('\n')) lines[n0 - 1] += '\n';
  lines.splice(n0, 0, ...blockLines);
  return lines.join('');
}

export const blockinfileModule: ModuleDef<BlockinfileArgs> = {
  name: 'blockinfile',
  aliases: ['ansible.builtin.blockinfile'],
  supportsCheck: true,
  schema: {
    type: 'object',
    properties: {
      ...pathProps(true),
      block: { type: 'string' },
      content: { type: 'string' },
      marker: { type: 'string', minLength: 1 },
      marker_begin: { type: 'string' },
      marker_end: { type: 'string' },
      insertafter: { type: 'string' },
      insertbefore: { type: 'string' },
      state: { enum: ['present', 'absent'] },
      create: { type: 'boolean' },
      backup: { type: 'boolean' },
      validate: { type: 'string' },
      ...ATTR_PROPS,
    },
    additionalProperties: false,
  },
  async run(args, ctx) {
    const p = pathOf(args);
    if (typeof p !== 'string') return p;
    if (args.insertafter !== undefined && args.insertbefore !== undefined) return fail('parameters are mutually exclusive: insertbefore|insertafter');
    const present = (args.state ?? 'present') === 'present';
    const e: BlockEdit = {
      block: args.block ?? args.content ?? '',
      marker: args.marker ?? '# {mark} ANSIBLE MANAGED BLOCK',
      markerBegin: args.marker_begin ?? 'BEGIN',
      markerEnd: args.marker_end ?? 'END',
      insertafter: args.insertafter,
      insertbefore: args.insertbefore,
      present,
    };
    for (const v of [e.insertafter, e.insertbefore]) {
      if (v === undefined || v === 'EOF' || v === 'BOF') continue;
      try {
        pyRegex(v);
      } catch (x) {
        return fail(`invalid insertafter/insertbefore '${v}': ${(x as Error).message}`);
      }
    }
    return editRemoteText(
      ctx,
      {
        path: p,
        create: present && args.create,
        backup: args.backup,
        validate: args.validate,
        mode: args.mode,
        owner: args.owner,
        group: args.group,
        onMissing: () => (present ? fail(`Path ${p} does not exist !`, { rc: 257 }) : { changed: false, msg: `File ${p} not present` }),
      },
      (before, exists) => {
        const after = applyBlock(before, e);
        const changed = after !== before || !exists;
        const msg = !changed ? '' : !exists ? 'File created' : present && e.block ? 'Block inserted' : 'Block removed';
        return { after, changed, msg };
      },
    );
  },
};
