// mount: an fstab entry and the mount state, in one read and at most one apply exec. In the lab,
// `fstype: nfs4` is served by the lab's mount helper (sshfs), so nothing here inspects the fs type
// of an active mount; only the mount point matters.
import { shq, type ModuleDef } from './types.js';
import { linesOf, readRemoteText, textDiff, writeRemoteText } from './text-edit.js';
import { fail } from './lib/fail.js';

interface MountArgs {
  path: string;
  src?: string;
  fstype?: string;
  opts?: string;
  dump?: string | number;
  passno?: string | number;
  state: 'mounted' | 'unmounted' | 'present' | 'absent' | 'remounted' | 'ephemeral';
  fstab?: string;
  boot?: boolean;
}

/** fstab and /proc/mounts escape spaces as \040. */
const esc = (s: string): string => s.replace(/\\/g, '\\134').replace(/ /g, '\\040').replace(/\t/g, '\\011');
const unesc = (s: string): string => s.replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

export const mountModule: ModuleDef<MountArgs> = {
  name: 'mount',
  aliases: ['ansible.posix.mount'],
  supportsCheck: true,
  schema: {
    type: 'object',
    properties: {
      path: { type: 'string', minLength: 1 },
      src: { type: 'string' },
      fstype: { type: 'string' },
      opts: { type: 'string' },
      dump: { type: ['string', 'integer'] },
      passno: { type: ['string', 'integer'] },
      state: { enum: ['mounted', 'unmounted', 'present', 'absent', 'remounted', 'ephemeral'] },
      fstab: { type: 'string' },
      boot: { type: 'boolean' },
    },
    required: ['path', 'state'],
    additionalProperties: false,
  },
  async run(args, ctx) {
    const fstab = args.fstab ?? '/etc/fstab';
    const path = args.path.length > 1 ? args.path.replace(/\/+$/, '') : args.path;
    const needsSpec = args.state === 'mounted' || args.state === 'present' || args.state === 'ephemeral';
    if (needsSpec && (!args.src || !args.fstype)) return fail(`state=${args.state} needs src and fstype`);
    const cur = await readRemoteText(ctx, fstab, 'cat /proc/mounts');
    const mounted = cur.extra.split('\n').some((l) => unesc(l.split(' ')[1] ?? '') === path);
    const lines = linesOf(cur.content);
    const isOurs = (l: string): boolean => !/^\s*#/.test(l) && unesc(l.trim().split(/\s+/)[1] ?? '') === path;
    let opts = args.opts ?? 'defaults';
    if (args.boot === false && !opts.split(',').includes('noauto')) opts = `${opts},noauto`;
    const entry = needsSpec ? [esc(args.src!), esc(path), args.fstype!, opts, String(args.dump ?? 0), String(args.passno ?? 0)].join('\t') : '';
    let next = lines;
    if (args.state === 'absent') next = lines.filter((l) => !isOurs(l));
    else if (args.state === 'mounted' || args.state === 'present') {
      const i = lines.findIndex(isOurs);
      const same = i >= 0 && lines[i]!.trim().split(/\s+/).join('\t') === entry;
      if (i < 0) next = [...lines, entry];
      else if (!same) next = lines.map((l, j) => (j === i ? entry : l)).filter((l, j) => j === i || !isOurs(l));
    }
    const after = next.length ? `${next.join('\n')}\n` : '';
    const fstabChanged = args.state !== 'unmounted' && args.state !== 'remounted' && args.state !== 'ephemeral' && after !== cur.content && (cur.exists || next.length > 0);
    // A changed entry of a mounted file system needs a remount to take effect, like Ansible.
    const steps: string[] = [];
    if (args.state === 'mounted' || args.state === 'ephemeral') {
      if (!mounted) steps.push(`mkdir -p ${shq(path)}`, args.state === 'ephemeral' ? `mount -t ${shq(args.fstype!)} -o ${shq(opts)} ${shq(args.src!)} ${shq(path)}` : `mount ${shq(path)}`);
      else if (fstabChanged) steps.push(`umount ${shq(path)} && mount ${shq(path)}`);
    } else if ((args.state === 'unmounted' || args.state === 'absent') && mounted) steps.push(`umount ${shq(path)}`);
    else if (args.state === 'remounted' && mounted) steps.push(`mount -o remount ${shq(path)}`);
    const changed = fstabChanged || steps.length > 0;
    if (changed && !ctx.check) {
      if (fstabChanged) await writeRemoteText(ctx, fstab, after);
      if (steps.length) {
        const r = await ctx.conn.exec(steps.join(' && '), { become: ctx.become, timeoutMs: 120_000 });
        if (r.exitCode !== 0) return fail(`Error mounting ${path}: ${r.stderr.trim() || r.stdout.trim()}`, { changed: true });
      }
    }
    return {
      changed,
      name: path,
      src: args.src,
      fstype: args.fstype,
      opts,
      ...(ctx.diff && fstabChanged ? { diff: textDiff(fstab, cur.content, after) } : {}),
    };
  },
};
