// stat: facts about one path in one exec (stat + the checksum computed on the target).
import { probe, type ChecksumAlgorithm } from './remote-file.js';
import { argSpec, bool, choice, str, type ArgsOf } from './lib/arg-spec.js';
import { shq, type ModuleDef } from './types.js';

const ALGOS = ['sha1', 'md5', 'sha224', 'sha256', 'sha384', 'sha512'] as const satisfies readonly ChecksumAlgorithm[];

const spec = argSpec({
  path: str({ required: true, aliases: ['dest', 'name'] }),
  follow: bool({ default: false }),
  get_checksum: bool({ default: true }),
  checksum_algorithm: choice(ALGOS, { aliases: ['checksum', 'checksum_algo'], default: 'sha1' }),
  // Accepted for playbook compatibility; mime type and attributes are not collected.
  get_mime: bool(),
  get_attributes: bool(),
  get_md5: bool(),
});

export type StatArgs = ArgsOf<typeof spec.options>;

export const statModule: ModuleDef = {
  name: 'stat',
  aliases: ['ansible.builtin.stat'],
  supportsCheck: true,
  schema: spec.schema,
  run: spec.run(async (args, ctx) => {
    const p = args.path;
    const algo = args.checksum_algorithm!;
    const { stats, extra } = await probe(ctx, [{ path: p, follow: args.follow!, checksum: args.get_checksum === false ? false : algo }], `[ -L ${shq(p)} ] && readlink -f -- ${shq(p)}; true`);
    const st = stats[0]!;
    if (!st.exists) return { changed: false, stat: { exists: false } };
    const bits = parseInt(st.mode, 8);
    const bit = (b: number) => (bits & b) !== 0;
    const stat: Record<string, unknown> = {
      exists: true,
      path: p,
      mode: st.mode,
      isdir: st.type === 'directory',
      isreg: st.type === 'file',
      islnk: st.type === 'link',
      ischr: st.type === 'chr',
      isblk: st.type === 'blk',
      isfifo: st.type === 'fifo',
      issock: st.type === 'socket',
      uid: st.uid,
      gid: st.gid,
      owner: st.owner,
      group: st.group,
      pw_name: st.owner,
      gr_name: st.group,
      size: st.size,
      inode: st.inode,
      dev: st.dev,
      nlink: st.nlink,
      atime: st.atime,
      mtime: st.mtime,
      ctime: st.ctime,
      rusr: bit(0o400),
      wusr: bit(0o200),
      xusr: bit(0o100),
      rgrp: bit(0o040),
      wgrp: bit(0o020),
      xgrp: bit(0o010),
      roth: bit(0o004),
      woth: bit(0o002),
      xoth: bit(0o001),
      isuid: bit(0o4000),
      isgid: bit(0o2000),
    };
    if (st.checksum) stat.checksum = st.checksum;
    if (st.type === 'link') {
      stat.lnk_target = st.lnkTarget;
      stat.lnk_source = extra.trim();
    }
    return { changed: false, stat };
  }),
};
