// pam_limits: one `<domain> <type> <item> <value>` line in limits.conf (or a limits.d file).
import type { ModuleDef } from './types.js';
import { linesOf, readRemoteText, textDiff, writeRemoteText } from './text-edit.js';

interface PamLimitsArgs {
  domain: string;
  limit_type: 'hard' | 'soft' | '-';
  limit_item: string;
  value: string | number;
  dest?: string;
  comment?: string;
  use_max?: boolean;
  use_min?: boolean;
}

const ITEMS = ['core', 'data', 'fsize', 'memlock', 'nofile', 'rss', 'stack', 'cpu', 'nproc', 'as', 'maxlogins', 'maxsyslogins', 'priority', 'locks', 'sigpending', 'msgqueue', 'nice', 'rtprio', 'chroot'];

const asNumber = (v: string): number => (v === 'unlimited' || v === 'infinity' ? Infinity : Number(v));

export const pamLimitsModule: ModuleDef<PamLimitsArgs> = {
  name: 'pam_limits',
  aliases: ['community.general.pam_limits'],
  supportsCheck: true,
  schema: {
    type: 'object',
    properties: {
      domain: { type: 'string', minLength: 1 },
      limit_type: { enum: ['hard', 'soft', '-'] },
      limit_item: { enum: ITEMS },
      value: { type: ['string', 'integer'] },
      dest: { type: 'string' },
      comment: { type: 'string' },
      use_max: { type: 'boolean' },
      use_min: { type: 'boolean' },
    },
    required: ['domain', 'limit_type', 'limit_item', 'value'],
    additionalProperties: false,
  },
  async run(args, ctx) {
    const dest = args.dest ?? '/etc/security/limits.conf';
    const cur = await readRemoteText(ctx, dest);
    const lines = linesOf(cur.content);
    let value = String(args.value);
    const matches = (l: string): boolean => {
      const f = l.replace(/#.*/, '').trim().split(/\s+/);
      return f.length >= 4 && f[0] === args.domain && f[1] === args.limit_type && f[2] === args.limit_item;
    };
    const i = lines.findIndex(matches);
    if (i >= 0) {
      const old = lines[i]!.replace(/#.*/, '').trim().split(/\s+/)[3]!;
      if (args.use_max && asNumber(old) > asNumber(value)) value = old;
      if (args.use_min && asNumber(old) < asNumber(value)) value = old;
    }
    const line = `${args.domain}\t${args.limit_type}\t${args.limit_item}\t${value}${args.comment ? `\t# ${args.comment}` : ''}`;
    const next = lines.filter((l, j) => j === i || !matches(l));
    const at = next.findIndex(matches);
    if (at >= 0) {
      const f = next[at]!.replace(/#.*/, '').trim().split(/\s+/);
      if (f[3] !== value || (args.comment !== undefined && !next[at]!.includes(`# ${args.comment}`))) next[at] = line;
    } else next.push(line);
    const after = `${next.join('\n')}\n`;
    const changed = after !== cur.content;
    if (changed && !ctx.check) await writeRemoteText(ctx, dest, after);
    return { changed, msg: `${args.limit_type} ${args.limit_item} ${value}`, ...(ctx.diff && changed ? { diff: textDiff(dest, cur.content, after) } : {}) };
  },
};
