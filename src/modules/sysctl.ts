// sysctl: a kernel parameter in a sysctl file and (optionally) in the running kernel.
import { shq, type ModuleDef } from './types.js';
import { linesOf, readRemoteText, textDiff, writeRemoteText } from './text-edit.js';
import { fail } from './lib/fail.js';

interface SysctlArgs {
  name: string;
  value?: string | number;
  state?: 'present' | 'absent';
  sysctl_file?: string;
  reload?: boolean;
  sysctl_set?: boolean;
  ignoreerrors?: boolean;
}

/** Values compare with whitespace runs collapsed (the kernel prints tabs, files use spaces). */
const norm = (v: string): string => v.trim().split(/\s+/).join(' ');
const keyOf = (line: string): string | undefined => /^\s*([^#;=\s][^=]*?)\s*=/.exec(line)?.[1]?.replace(/\//g, '.');

export const sysctlModule: ModuleDef<SysctlArgs> = {
  name: 'sysctl',
  aliases: ['ansible.posix.sysctl'],
  supportsCheck: true,
  schema: {
    type: 'object',
    properties: {
      name: { type: 'string', minLength: 1 },
      value: { type: ['string', 'number'] },
      state: { enum: ['present', 'absent'] },
      sysctl_file: { type: 'string' },
      reload: { type: 'boolean' },
      sysctl_set: { type: 'boolean' },
      ignoreerrors: { type: 'boolean' },
    },
    required: ['name'],
    additionalProperties: false,
  },
  async run(args, ctx) {
    const file = args.sysctl_file ?? '/etc/sysctl.conf';
    const state = args.state ?? 'present';
    const name = args.name.replace(/\//g, '.');
    if (state === 'present' && args.value === undefined) return fail('value is required with state=present');
    const want = args.value === undefined ? '' : norm(String(args.value));
    const cur = await readRemoteText(ctx, file, `sysctl -n ${shq(name)} 2>/dev/null || echo @@unknown`);
    const lines = linesOf(cur.content);
    const idx = lines.map(keyOf).reduce<number[]>((acc, k, i) => (k === name ? [...acc, i] : acc), []);
    let next = [...lines];
    if (state === 'present') {
      const line = `${name}=${want}`;
      if (idx.length === 0) next.push(line);
      else {
        const last = idx[idx.length - 1]!;
        if (norm(next[last]!.slice(next[last]!.indexOf('=') + 1)) !== want) next[last] = line;
        // Earlier duplicates would be overridden anyway; drop them so the file says one thing.
        next = next.filter((_, i) => !idx.slice(0, -1).includes(i));
      }
    } else next = next.filter((_, i) => !idx.includes(i));
    const after = next.length ? `${next.join('\n')}\n` : '';
    const fileChanged = after !== (cur.content.endsWith('\n') || cur.content === '' ? cur.content : `${cur.content}\n`) || (!cur.exists && state === 'present');
    const live = cur.extra.trim();
    const setLive = state === 'present' && (args.sysctl_set ?? args.reload ?? true) && live !== '@@unknown' && norm(live) !== want;
    if (live === '@@unknown' && state === 'present' && !args.ignoreerrors && (args.sysctl_set ?? args.reload ?? true)) {
      return fail(`Failed to reload sysctl: unknown key ${name}`);
    }
    const changed = fileChanged || setLive;
    if (changed && !ctx.check) {
      if (fileChanged) await writeRemoteText(ctx, file, after);
      if (setLive) {
        const r = await ctx.conn.exec(`sysctl -w ${shq(`${name}=${want}`)}`, { become: ctx.become });
        if (r.exitCode !== 0 && !args.ignoreerrors) return fail(`sysctl -w ${name} failed: ${r.stderr.trim()}`, { changed: true });
      }
    }
    return { changed, name, value: want, ...(ctx.diff && fileChanged ? { diff: textDiff(file, cur.content, after) } : {}) };
  },
};
