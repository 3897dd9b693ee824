// wait_for: waits ON THE TARGET for a port to open/close/drain or a file/regex to appear, in one
// long exec (the loop runs remotely, so waiting costs one round trip, not one per poll).
import { EXIT, ObiamError } from '../errors.js';
import { shq, type ModuleDef } from './types.js';
import { fail } from './lib/fail.js';

interface WaitForArgs {
  host?: string;
  port?: number;
  path?: string;
  search_regex?: string;
  state?: 'started' | 'stopped' | 'drained' | 'present' | 'absent';
  timeout?: number;
  delay?: number;
  sleep?: number;
  connect_timeout?: number;
  msg?: string;
}

// Connect test without nc: bash's /dev/tcp, else nc, else python3 (targets differ in what they have).
const PROBE_FN = `probe() {
  if command -v bash >/dev/null 2>&1; then timeout "$3" bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$1" "$2" 2>/dev/null
  elif command -v nc >/dev/null 2>&1; then nc -z -w "$3" "$1" "$2" 2>/dev/null
  else python3 -c 'import socket,sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), float(sys.argv[3]))' "$1" "$2" "$3" 2>/dev/null; fi
}
established() {
  hex=$(printf '%04X' "$1")
  cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk -v p=":$hex" '$2 ~ p"$" && $4 == "01"' | wc -l
}`;

export function waitForScript(a: WaitForArgs): string {
  const state = a.state ?? 'started';
  const timeout = a.timeout ?? 300;
  let check: string;
  if (a.port !== undefined) {
    const host = shq(a.host ?? '127.0.0.1');
    const ct = a.connect_timeout ?? 5;
    if (state === 'started' || state === 'present') check = `probe ${host} ${a.port} ${ct}`;
    else if (state === 'stopped' || state === 'absent') check = `! probe ${host} ${a.port} ${ct}`;
    else check = `[ "$(established ${a.port})" -eq 0 ]`;
  } else if (a.path !== undefined) {
    const p = shq(a.path);
    if (state === 'absent' || state === 'stopped') check = `[ ! -e ${p} ]`;
    else if (a.search_regex !== undefined) check = `[ -f ${p} ] && grep -Eq -- ${shq(a.search_regex)} ${p}`;
    else check = `[ -e ${p} ]`;
  } else {
    check = 'true'; // only a delay/timeout sleep, like Ansible's wait_for with no target
  }
  return `${PROBE_FN}
start=$(date +%s); deadline=$((start + ${timeout}))
sleep ${a.delay ?? 0}
while :; do
  if ${check}; then echo "ok $(( $(date +%s) - start ))"; exit 0; fi
  if [ "$(date +%s)" -ge "$deadline" ]; then echo "timeout $(( $(date +%s) - start ))"; exit 3; fi
  sleep ${a.sleep ?? 1}
done`;
}

export const waitForModule: ModuleDef<WaitForArgs> = {
  name: 'wait_for',
  aliases: ['ansible.builtin.wait_for'],
  supportsCheck: true,
  schema: {
    type: 'object',
    properties: {
      host: { type: 'string' },
      port: { type: 'integer', minimum: 1, maximum: 65535 },
      path: { type: 'string' },
      search_regex: { type: 'string' },
      state: { enum: ['started', 'stopped', 'drained', 'present', 'absent'] },
      timeout: { type: 'integer', minimum: 0 },
      delay: { type: 'integer', minimum: 0 },
      sleep: { type: 'integer', minimum: 1 },
      connect_timeout: { type: 'integer', minimum: 1 },
      msg: { type: 'string' },
    },
    additionalProperties: false,
    not: { required: ['port', 'path'] },
  },
  async run(args, ctx) {
    if (args.state === 'drained' && args.port === undefined) {
      throw new ObiamError('E_ARGS', 'wait_for: state=drained needs port', { exitCode: EXIT.HOST_FAILED, host: ctx.host, remedy: 'give port: <number>' });
    }
    const timeout = args.timeout ?? 300;
    const on = args.port !== undefined ? `${args.host ?? '127.0.0.1'}:${args.port}` : args.path;
    const goal = args.search_regex !== undefined ? `\`${args.search_regex}\` in ${args.path}` : on !== undefined ? `${on} to be ${args.state ?? 'started'}` : `${timeout}s`;
    ctx.progress?.('wait', `waiting for ${goal} (timeout ${timeout}s)`);
    const r = await ctx.conn.exec(waitForScript(args), { become: ctx.become, timeoutMs: (timeout + (args.delay ?? 0) + 15) * 1000 });
    const m = /^(ok|timeout) (\d+)/m.exec(r.stdout);
    const elapsed = m ? Number(m[2]) : Math.round(r.durationMs / 1000);
    const target = args.port !== undefined ? `${args.host ?? '127.0.0.1'}:${args.port}` : args.path;
    const state = args.state ?? 'started';
    if (!m || m[1] !== 'ok') {
      const what = args.search_regex !== undefined ? `${args.search_regex} in ${args.path}` : `${target} to be ${state}`;
      return fail(args.msg ?? `Timeout when waiting for ${what}`, { elapsed, state, port: args.port, path: args.path });
    }
    return { changed: false, elapsed, state, port: args.port, path: args.path };
  },
};
