// user: a local account. One exec reads passwd, shadow-free group membership; one applies
// useradd/usermod/userdel. `password` is a crypt hash (like Ansible), never a clear text.
import { shq, type ModuleDef } from './types.js';
import { fail } from './lib/fail.js';

interface UserArgs {
  name: string;
  uid?: number;
  group?: string;
  groups?: string[] | string;
  append?: boolean;
  home?: string;
  shell?: string;
  comment?: string;
  system?: boolean;
  create_home?: boolean;
  password?: string;
  state?: 'present' | 'absent';
  remove?: boolean;
}

export const userModule: ModuleDef<UserArgs> = {
  name: 'user',
  aliases: ['ansible.builtin.user'],
  supportsCheck: true,
  schema: {
    type: 'object',
    properties: {
      name: { type: 'string', minLength: 1 },
      uid: { type: 'integer', minimum: 0 },
      group: { type: 'string' },
      groups: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] },
      append: { type: 'boolean' },
      home: { type: 'string' },
      shell: { type: 'string' },
      comment: { type: 'string' },
      system: { type: 'boolean' },
      create_home: { type: 'boolean' },
      password: { type: 'string' },
      state: { enum: ['present', 'absent'] },
      remove: { type: 'boolean' },
    },
    required: ['name'],
    additionalProperties: false,
  },
  async run(args, ctx) {
    const state = args.state ?? 'present';
    const n = shq(args.name);
    const probe = await ctx.conn.exec(
      `getent passwd ${n} || exit 0; echo "@@group $(id -gn ${n})"; echo "@@groups $(id -Gn ${n})"; echo "@@hash $(getent shadow ${n} | cut -d: -f2)"`,
      { become: ctx.become },
    );
    const pw = probe.stdout.split('\n')[0]!.split(':');
    const exists = pw.length >= 7 && pw[0] === args.name;
    const line = (tag: string): string => new RegExp(`^@@${tag} (.*)$`, 'm').exec(probe.stdout)?.[1]?.trim() ?? '';
    const wantedGroups = args.groups === undefined ? undefined : (Array.isArray(args.groups) ? args.groups : args.groups.split(',')).map((g) => g.trim()).filter(Boolean);
    const opts: string[] = [];
    const why: string[] = [];
    let cmd = '';
    if (state === 'absent') {
      if (exists) cmd = `userdel${args.remove ? ' -r' : ''} ${n}`;
    } else if (!exists) {
      if (args.uid !== undefined) opts.push(`-u ${args.uid}`);
      if (args.group) opts.push(`-g ${shq(args.group)}`);
      if (wantedGroups?.length) opts.push(`-G ${shq(wantedGroups.join(','))}`);
      if (args.home) opts.push(`-d ${shq(args.home)}`);
      if (args.shell) opts.push(`-s ${shq(args.shell)}`);
      if (args.comment !== undefined) opts.push(`-c ${shq(args.comment)}`);
      if (args.password) opts.push(`-p ${shq(args.password)}`);
      if (args.system) opts.push('-r');
      opts.push(args.create_home === false || (args.system && args.create_home === undefined) ? '-M' : '-m');
      cmd = `useradd ${opts.join(' ')} ${n}`;
    } else {
      const [, , uid, , comment, home, shell] = pw;
      if (args.uid !== undefined && Number(uid) !== args.uid) {
        opts.push(`-u ${args.uid}`);
        why.push('uid');
      }
      if (args.group && line('group') !== args.group) {
        opts.push(`-g ${shq(args.group)}`);
        why.push('group');
      }
      if (wantedGroups) {
        const have = new Set(line('groups').split(/\s+/).filter(Boolean));
        have.delete(line('group'));
        const missing = wantedGroups.filter((g) => !have.has(g));
        const extra = [...have].filter((g) => !wantedGroups.includes(g));
        if (missing.length || (!args.append && extra.length)) {
          opts.push(args.append ? `-a -G ${shq(wantedGroups.join(','))}` : `-G ${shq(wantedGroups.join(','))}`);
          why.push('groups');
        }
      }
      if (args.home && home !== args.home) {
        opts.push(`-d ${shq(args.home)}`);
        why.push('home');
      }
      if (args.shell && shell !== args.shell) {
        opts.push(`-s ${shq(args.shell)}`);
        why.push('shell');
      }
      if (args.comment !== undefined && comment !== args.comment) {
        opts.push(`-c ${shq(args.comment)}`);
        why.push('comment');
      }
      if (args.password && line('hash') !== args.password) {
        opts.push(`-p ${shq(args.password)}`);
        why.push('password');
      }
      if (opts.length) cmd = `usermod ${opts.join(' ')} ${n}`;
    }
    if (cmd && !ctx.check) {
      const r = await ctx.conn.exec(cmd, { become: ctx.become });
      if (r.exitCode !== 0) return fail(`${cmd.split(' ')[0]} failed: ${r.stderr.trim()}`, { name: args.name });
    }
    return { changed: cmd !== '', name: args.name, state, ...(why.length ? { changed_fields: why } : {}) };
  },
};
