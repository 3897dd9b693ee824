// service / systemd: service state and boot enablement in ONE exec. The script detects the manager
// on the target: systemd when it is PID 1, otherwise the init-script manager (/etc/init.d/<name>
// with LSB `status` exit codes, enablement through update-rc.d or chkconfig).
import { EXIT, ObiamError } from '../errors.js';
import { shq, type ModuleDef } from './types.js';
import { fail } from './lib/fail.js';

interface ServiceArgs {
  name: string;
  state?: 'started' | 'stopped' | 'restarted' | 'reloaded';
  enabled?: boolean;
  daemon_reload?: boolean;
  use?: 'auto' | 'systemd' | 'initscript';
}

export function serviceScript(a: ServiceArgs, check: boolean): string {
  return `n=${shq(a.name ?? '')}; want=${shq(a.state ?? '')}; wen=${a.enabled === undefined ? "''" : a.enabled ? 'yes' : 'no'}; check=${check ? 1 : 0}; dr=${a.daemon_reload ? 1 : 0}; use=${shq(a.use ?? 'auto')}
if [ "$use" = systemd ] || { [ "$use" = auto ] && [ "$(cat /proc/1/comm 2>/dev/null)" = systemd ] && [ -d /run/systemd/system ]; }; then mgr=systemd; else mgr=init; fi
reloaded=0
if [ $mgr = systemd ]; then
  if [ $dr = 1 ] && [ $check = 0 ]; then systemctl daemon-reload || exit 6; reloaded=1; fi
  [ -n "$want$wen" ] || { echo "@@result $mgr - - 0 $reloaded"; exit 0; }
  systemctl cat -- "$n" >/dev/null 2>&1 || { echo "@@missing $mgr"; exit 4; }
  if systemctl is-active --quiet -- "$n"; then act=1; else act=0; fi
  case "$(systemctl is-enabled -- "$n" 2>/dev/null)" in enabled|enabled-runtime|alias|indirect|generated|static) en=1;; *) en=0;; esac
  run() { systemctl "$1" -- "$n"; }
  enable() { systemctl "$1" -- "$n"; }
else
  s=/etc/init.d/$n
  [ -x "$s" ] || { echo "@@missing $mgr"; exit 4; }
  if "$s" status >/dev/null 2>&1; then act=1; else act=0; fi
  if ls /etc/rc[2345].d/S[0-9][0-9]"$n" >/dev/null 2>&1; then en=1; else en=0; fi
  run() { "$s" "$1"; }
  enable() {
    if command -v update-rc.d >/dev/null 2>&1; then if [ "$1" = enable ]; then update-rc.d "$n" defaults; else update-rc.d -f "$n" remove; fi
    elif command -v chkconfig >/dev/null 2>&1; then if [ "$1" = enable ]; then chkconfig "$n" on; else chkconfig "$n" off; fi
    else echo "no update-rc.d or chkconfig to change boot enablement" >&2; return 1; fi
  }
fi
ch=0
case "$want" in
  started) if [ $act = 0 ]; then ch=1; [ $check = 1 ] || run start || { echo "@@failed start"; exit 5; }; fi;;
  stopped) if [ $act = 1 ]; then ch=1; [ $check = 1 ] || run stop || { echo "@@failed stop"; exit 5; }; fi;;
  restarted) ch=1; if [ $check = 0 ]; then if [ $act = 1 ]; then run restart; else run start; fi || { echo "@@failed restart"; exit 5; }; fi;;
  reloaded) ch=1; if [ $check = 0 ]; then if [ $act = 1 ]; then run reload; else run start; fi || { echo "@@failed reload"; exit 5; }; fi;;
esac
if [ "$wen" = yes ] && [ $en = 0 ]; then ch=1; [ $check = 1 ] || enable enable >/dev/null || { echo "@@failed enable"; exit 5; }; fi
if [ "$wen" = no ] && [ $en = 1 ]; then ch=1; [ $check = 1 ] || enable disable >/dev/null || { echo "@@failed disable"; exit 5; }; fi
echo "@@result $mgr $act $en $ch $reloaded"`;
}

const SCHEMA = {
  type: 'object',
  properties: {
    name: { type: 'string', minLength: 1 },
    state: { enum: ['started', 'stopped', 'restarted', 'reloaded'] },
    enabled: { type: 'boolean' },
    daemon_reload: { type: 'boolean' },
    daemon_reexec: { type: 'boolean' },
    use: { enum: ['auto', 'systemd', 'initscript'] },
    scope: { enum: ['system'] },
  },
  additionalProperties: false,
};

function make(name: string, aliases: string[], needsName: boolean): ModuleDef<ServiceArgs> {
  return {
    name,
    aliases,
    supportsCheck: true,
    schema: needsName ? { ...SCHEMA, required: ['name'], anyOf: [{ required: ['state'] }, { required: ['enabled'] }] } : SCHEMA,
    async run(args, ctx) {
      const r = await ctx.conn.exec(serviceScript(args, ctx.check), { become: ctx.become, timeoutMs: 300_000 });
      const out = r.stdout;
      const missing = /^@@missing (\S+)/m.exec(out);
      if (missing) {
        return fail(missing[1] === 'systemd' ? `Could not find the requested service ${args.name}: unit not found` : `Could not find the requested service ${args.name}: no /etc/init.d/${args.name}`);
      }
      const failed = /^@@failed (\S+)/m.exec(out);
      if (failed || r.exitCode !== 0) {
        const detail = (r.stderr || out.replace(/^@@.*$/gm, '')).trim().split('\n').slice(-5).join('\n');
        return fail(`Unable to ${failed?.[1] ?? 'manage'} service ${args.name}: ${detail}`, { changed: true, rc: r.exitCode });
      }
      const m = /^@@result (\S+) (\S+) (\S+) (\d) (\d)/m.exec(out);
      if (!m) {
        throw new ObiamError('E_SERVICE_OUTPUT', `service ${args.name}: unexpected output from the target`, { host: ctx.host, exitCode: EXIT.HOST_FAILED });
      }
      // A daemon-reload alone is not a change (as Ansible's systemd module): re-runs stay unchanged.
      const result: Record<string, unknown> = { changed: m[4] === '1', name: args.name, service_manager: m[1], ...(m[5] === '1' ? { daemon_reloaded: true } : {}) };
      if (args.state) result.state = args.state;
      if (args.enabled !== undefined) result.enabled = args.enabled;
      return result as { changed: boolean };
    },
  };
}

export const serviceModule = make('service', ['ansible.builtin.service'], true);
/** `systemd` also accepts a bare `daemon_reload: true` (the step after installing a unit file). */
export const systemdModule = make('systemd', ['ansible.builtin.systemd', 'systemd_service', 'ansible.builtin.systemd_service'], false);
