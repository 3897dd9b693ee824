// tempfile: creates a temporary file or directory on the host (mktemp) and returns its path. Like
// Ansible's, every run creates a new one (always changed), and check mode skips it.
import { shq, type ModuleDef } from './types.js';

interface TempfileArgs {
  state?: 'file' | 'directory';
  path?: string;
  prefix?: string;
  suffix?: string;
}

export const tempfileModule: ModuleDef<TempfileArgs> = {
  name: 'tempfile',
  aliases: ['ansible.builtin.tempfile'],
  supportsCheck: false,
  schema: {
    type: 'object',
    properties: {
      state: { enum: ['file', 'directory'] },
      path: { type: 'string' },
      prefix: { type: 'string' },
      suffix: { type: 'string' },
    },
    additionalProperties: false,
  },
  async run(args, ctx) {
    const state = args.state ?? 'file';
    const prefix = args.prefix ?? 'ansible.';
    const suffix = args.suffix ?? '';
    // The directory: the one given, else the host's TMPDIR, else /tmp (Python's tempfile does the same).
    const dir = args.path !== undefined ? shq(args.path) : '"${TMPDIR:-/tmp}"';
    const script = `mktemp ${state === 'directory' ? '-d ' : ''}-p ${dir} --suffix=${shq(suffix)} ${shq(`${prefix}XXXXXXXX`)}`;
    const r = await ctx.conn.exec(script, { become: ctx.become, env: ctx.environment });
    if (r.exitCode !== 0) return { changed: false, failed: true, msg: `tempfile: could not create a temporary ${state}: ${r.stderr.trim() || `mktemp exited ${r.exitCode}`}` };
    const p = r.stdout.trim();
    return { changed: true, path: p, state: state === 'directory' ? 'directory' : 'file' };
  },
};
