// group: a local group (getent to read; groupadd/groupmod/groupdel to apply).
import { shq, type ModuleDef } from './types.js';
import { argSpec, bool, choice, int, str } from './lib/arg-spec.js';
import { fail } from './lib/fail.js';

const spec = argSpec({
  name: str({ required: true }),
  gid: int({ minimum: 0 }),
  state: choice(['present', 'absent'] as const, { default: 'present' }),
  system: bool(),
});

export const groupModule: ModuleDef = {
  name: 'group',
  aliases: ['ansible.builtin.group'],
  supportsCheck: true,
  schema: spec.schema,
  run: spec.run(async (args, ctx) => {
    const state = args.state!;
    const probe = await ctx.conn.exec(`getent group ${shq(args.name)} || true`, { become: ctx.become });
    const f = probe.stdout.trim().split(':');
    const exists = f.length >= 3 && f[0] === args.name;
    const gid = exists ? Number(f[2]) : undefined;
    let cmd = '';
    if (state === 'absent' && exists) cmd = `groupdel ${shq(args.name)}`;
    else if (state === 'present' && !exists) cmd = `groupadd${args.gid !== undefined ? ` -g ${args.gid}` : ''}${args.system ? ' -r' : ''} ${shq(args.name)}`;
    else if (state === 'present' && args.gid !== undefined && gid !== args.gid) cmd = `groupmod -g ${args.gid} ${shq(args.name)}`;
    if (cmd && !ctx.check) {
      const r = await ctx.conn.exec(cmd, { become: ctx.become });
      if (r.exitCode !== 0) return fail(`${cmd.split(' ')[0]} failed: ${r.stderr.trim()}`, { name: args.name });
    }
    return { changed: cmd !== '', name: args.name, state, gid: args.gid ?? gid };
  }),
};
