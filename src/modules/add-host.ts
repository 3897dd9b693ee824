// add_host: adds a host (and its groups and variables) to the run's in-memory inventory, for the
// plays that follow. It runs once per task, not per host (in a loop: once per item). The runner
// applies the `add_host` the result carries (run-state.ts addHost).
import type { ModuleDef } from './types.js';

const SPECIAL = new Set(['name', 'hostname', 'groupname', 'groups']);

export const addHostModule: ModuleDef<Record<string, unknown>> = {
  name: 'add_host',
  aliases: ['ansible.builtin.add_host'],
  controllerOnly: true,
  bypassHostLoop: true,
  supportsCheck: true,
  // Every argument other than the name and groups is a variable of the new host.
  schema: { type: 'object', properties: { name: { type: 'string' }, hostname: { type: 'string' }, host: { type: 'string' }, groups: { type: ['array', 'string'] }, group: { type: ['array', 'string'] }, groupname: { type: ['array', 'string'] } } },
  async run(args) {
    const raw = args.name ?? args.hostname ?? args.host;
    if (raw === undefined || raw === null) return { changed: false, failed: true, msg: 'name, host or hostname needs to be provided' };
    const vars: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(args)) if (!SPECIAL.has(k)) vars[k] = v;
    // `name: host:2222` (not an IPv6 address): the port becomes ansible_ssh_port, as Ansible does.
    let name = String(raw);
    const m = /^([^:[\]]+):(\d+)$/.exec(name) ?? /^\[([^\]]+)\]:(\d+)$/.exec(name);
    if (m) {
      name = m[1]!;
      vars.ansible_ssh_port = Number(m[2]);
    }
    const g = args.groupname ?? args.groups ?? args.group ?? '';
    if (typeof g !== 'string' && !Array.isArray(g)) return { changed: false, failed: true, msg: 'Groups must be specified as a list.' };
    const groups: string[] = [];
    for (const x of Array.isArray(g) ? g.map(String) : g ? g.split(',') : []) if (!groups.includes(x.trim())) groups.push(x.trim());
    return { changed: false, add_host: { host_name: name, groups, host_vars: vars } };
  },
};
