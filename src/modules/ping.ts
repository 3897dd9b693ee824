// ping: proves the host can be reached and run a command; answers `ping: pong` (or the data given).
import type { ModuleDef } from './types.js';

export const pingModule: ModuleDef<{ data?: string }> = {
  name: 'ping',
  aliases: ['ansible.builtin.ping'],
  supportsCheck: true,
  schema: { type: 'object', properties: { data: { type: 'string' } }, additionalProperties: false },
  async run(args, ctx) {
    const data = args.data ?? 'pong';
    // As Ansible's ping: `data=crash` fails on purpose (its tests use it to make a host fail).
    if (data === 'crash') return { changed: false, failed: true, msg: 'boom' };
    const r = await ctx.conn.exec('true', { become: ctx.become });
    if (r.exitCode !== 0) return { changed: false, failed: true, msg: `the host could not run a command (exit ${r.exitCode}): ${r.stderr.trim()}` };
    return { changed: false, ping: data };
  },
};
