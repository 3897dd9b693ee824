// package: OS packages through apt (dpkg) or dnf/yum (rpm), detected on the target. `deb:` installs
// a .deb already on the target (copy it first) and is idempotent by package name and version.
import { shq, type ModuleDef } from './types.js';
import { fail } from './lib/fail.js';

interface PackageArgs {
  name?: string | string[];
  state?: 'present' | 'installed' | 'absent' | 'removed' | 'latest';
  deb?: string;
  update_cache?: boolean;
  use?: 'auto' | 'apt' | 'dnf' | 'yum';
}

const names = (n: PackageArgs['name']): string[] => (n === undefined ? [] : Array.isArray(n) ? n : n.split(',')).map((s) => s.trim()).filter(Boolean);

export const packageModule: ModuleDef<PackageArgs> = {
  name: 'package',
  aliases: ['ansible.builtin.package', 'apt', 'ansible.builtin.apt', 'dnf', 'ansible.builtin.dnf', 'yum', 'ansible.builtin.yum'],
  supportsCheck: true,
  schema: {
    type: 'object',
    properties: {
      name: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] },
      state: { enum: ['present', 'installed', 'absent', 'removed', 'latest'] },
      deb: { type: 'string' },
      update_cache: { type: 'boolean' },
      use: { enum: ['auto', 'apt', 'dnf', 'yum'] },
    },
    additionalProperties: false,
    anyOf: [{ required: ['name'] }, { required: ['deb'] }],
  },
  async run(args, ctx) {
    const state = args.state === 'installed' ? 'present' : args.state === 'removed' ? 'absent' : (args.state ?? 'present');
    const pkgs = names(args.name);
    // One exec: manager, and installed version of each package (or of the .deb's package).
    const probe = await ctx.conn.exec(
      `if command -v dpkg-query >/dev/null 2>&1 && [ "${args.use ?? 'auto'}" != dnf ] && [ "${args.use ?? 'auto'}" != yum ]; then echo "@@mgr apt"
  q() { dpkg-query -W -f='\${Status} \${Version}\\n' "$1" 2>/dev/null | awk '$3=="installed"{print $4}'; }
elif command -v rpm >/dev/null 2>&1; then if command -v dnf >/dev/null 2>&1; then echo "@@mgr dnf"; else echo "@@mgr yum"; fi
  q() { rpm -q --qf '%{VERSION}-%{RELEASE}\\n' "$1" 2>/dev/null | grep -v 'not installed'; }
else echo "@@mgr none"; exit 0; fi
${args.deb ? `[ -f ${shq(args.deb)} ] || { echo "@@nodeb"; exit 0; }; p=$(dpkg-deb -f ${shq(args.deb)} Package); v=$(dpkg-deb -f ${shq(args.deb)} Version); echo "@@deb $p $v $(q "$p")"` : ''}
for p in ${pkgs.map(shq).join(' ')}; do echo "@@pkg $p $(q "$p")"; done`,
      { become: ctx.become },
    );
    const mgr = /^@@mgr (\S+)/m.exec(probe.stdout)?.[1] ?? 'none';
    if (mgr === 'none') return fail('no supported package manager (apt/dpkg or dnf/yum/rpm) on the target');
    if (/^@@nodeb/m.test(probe.stdout)) return fail(`deb file ${args.deb} not found on the target (copy it there first)`);
    const installed = new Map<string, string>();
    for (const m of probe.stdout.matchAll(/^@@pkg (\S+) ?(\S*)$/gm)) installed.set(m[1]!, m[2]!);
    const cmds: string[] = [];
    const touched: string[] = [];
    const deb = /^@@deb (\S+) (\S+) ?(\S*)$/m.exec(probe.stdout);
    if (deb && deb[3] !== deb[2]) {
      cmds.push(`DEBIAN_FRONTEND=noninteractive apt-get install -y ${shq(args.deb!.startsWith('/') ? args.deb! : `./${args.deb!}`)}`);
      touched.push(`${deb[1]}=${deb[2]}`);
    }
    const missing = pkgs.filter((p) => !installed.get(p));
    const present = pkgs.filter((p) => installed.get(p));
    const inst = mgr === 'apt' ? 'DEBIAN_FRONTEND=noninteractive apt-get install -y' : `${mgr} install -y`;
    const remove = mgr === 'apt' ? 'DEBIAN_FRONTEND=noninteractive apt-get remove -y' : `${mgr} remove -y`;
    if (args.update_cache && mgr === 'apt') cmds.unshift('apt-get update');
    if ((state === 'present' || state === 'latest') && missing.length) {
        cmds.push(`${inst} ${missing.map(shq).join(' ')}`);
        touched.push(...missing);
      }
    if (state === 'absent' && present.length) {
        cmds.push(`${remove} ${present.map(shq).join(' ')}`);
        touched.push(...present);
      }
    if (state === 'latest' && present.length) {
      // Only an upgrade that would actually happen counts as a change.
      const up = await ctx.conn.exec(
        mgr === 'apt'
          ? `apt-get -s install --only-upgrade ${present.map(shq).join(' ')} 2>/dev/null | awk '/^Inst /{print $2}'`
          : `${mgr} -q check-update ${present.map(shq).join(' ')} 2>/dev/null | awk 'NF==3{split($1,a,"."); print a[1]}'`,
        { become: ctx.become },
      );
      const upgradable = up.stdout.split('\n').map((s) => s.trim()).filter(Boolean);
      if (upgradable.length) {
        cmds.push(`${inst} ${upgradable.map(shq).join(' ')}`);
        touched.push(...upgradable);
      }
    }
    const changed = touched.length > 0;
    if (changed && !ctx.check) {
      const r = await ctx.conn.exec(cmds.join(' && '), { become: ctx.become, timeoutMs: 1_800_000 });
      if (r.exitCode !== 0) return fail(`${mgr} failed: ${r.stderr.trim().split('\n').slice(-3).join(' ')}`, { rc: r.exitCode });
    }
    return { changed, packages: touched, manager: mgr };
  },
};
