// `obiam-run lab up|status|down`: real, isolated SSH hosts on this machine for trying playbooks and tests.
import { Command, Option } from 'commander';
import { EXIT, ObiamError } from '../errors.js';
import type { LabLatency } from '../lab/lab.js';

// The lab's code (namespaces, hosts, relays) loads only when a lab command runs: not on a playbook's start.
const labModule = (): Promise<typeof import('../lab/lab.js')> => import('../lab/lab.js');
import { parseLatency } from '../lab/latency-relay.js';
import { LAB_PRODUCTS, type LabProduct } from '../lab/inventory.js';
import { DEFAULT_LAB, parseWith, planLab } from '../lab/plan.js';

export interface LabCommandContext {
  out: (s: string) => void;
  err: (s: string) => void;
}

interface UpOptions {
  name: string;
  hosts: string;
  with: string;
  systemd?: boolean;
  latency: string[];
  product?: LabProduct;
}

/** `--latency MS[,JITTER]` for every host, `--latency HOST=MS[,JITTER]` for one (repeatable). */
export function parseLatencyOptions(values: string[]): LabLatency | undefined {
  if (values.length === 0) return undefined;
  const out: LabLatency = {};
  for (const v of values) {
    const eq = v.indexOf('=');
    const spec = parseLatency(eq < 0 ? v : v.slice(eq + 1));
    if (!spec) {
      throw new ObiamError('E_LAB_OPTIONS', `--latency '${v}' is not MS[,JITTER] or HOST=MS[,JITTER] (milliseconds of added round trip, jitter at most twice that)`, {
        remedy: 'e.g. --latency 20, --latency 20,4 or --latency node2=50',
        exitCode: EXIT.BAD_OPTIONS,
      });
    }
    if (eq < 0) out.all = spec;
    else (out.hosts ??= {})[v.slice(0, eq)] = spec;
  }
  return out;
}

function parseHosts(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isInteger(n)) {
    throw new ObiamError('E_LAB_OPTIONS', `--hosts must be a whole number, got '${v}'`, { remedy: 'e.g. --hosts 3', exitCode: EXIT.BAD_OPTIONS });
  }
  return n;
}

export function labCommand(ctx: LabCommandContext): Command {
  const lab = new Command('lab').description('real SSH hosts in network namespaces on this machine (root, Linux): up, status, down');
  const nameOpt = (): Option => new Option('--name <name>', 'lab name (several labs can run side by side)').default(DEFAULT_LAB.name);

  lab
    .command('up')
    .description(`start a lab: node1..N plus optional lb1, storage1, db1, ldap1, bastion1`)
    .addOption(nameOpt())
    .option('--hosts <n>', 'number of nodes', String(DEFAULT_LAB.hosts))
    .option('--with <roles>', 'extra hosts, comma-separated: lb,storage,db,ldap,bastion (or none)', DEFAULT_LAB.with.join(','))
    .option('--systemd', 'boot systemd as PID 1 in every host (systemd-nspawn; slower)')
    .option('--latency <MS[,JITTER]|HOST=MS[,JITTER]>', 'add this round-trip time (ms) between the controller and every host, or one host (repeatable); through a relay, see docs/lab.md', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .addOption(
      new Option('--product <group>', "the product group of the lab's inventory.yml for playbooks/site.yml: obiam (OB IAM 2.0, the default) or obkm (OB Key Manager 1.5.0); on a running lab, switches it").choices([
        ...LAB_PRODUCTS,
      ]),
    )
    .action(async (o: UpOptions) => {
      const started = Date.now();
      const latency = parseLatencyOptions(o.latency);
      const info = await (await labModule()).labUp({ name: o.name, hosts: parseHosts(o.hosts), with: parseWith(o.with), systemd: o.systemd === true, latency, product: o.product });
      if (info.reclaimed) ctx.err(`warning: removed ${info.reclaimed.length} empty namespaces/links a killed run of lab '${info.name}' left (${info.reclaimed.join(', ')})\n`);
      ctx.out(
        info.alreadyUp
          ? `lab '${info.name}' is already up on ${info.subnet} (bridge ${info.bridge} ${info.bridgeIp}); nothing changed\n`
          : `lab '${info.name}' up in ${((Date.now() - started) / 1000).toFixed(1)} s on ${info.subnet} (bridge ${info.bridge} ${info.bridgeIp})\n`,
      );
      for (const h of info.hosts) {
        const via = h.relay ? `  via ${h.relay.ip}:${h.relay.port} (+${h.relay.rttMs} ms RTT${h.relay.jitterMs ? `, jitter ${h.relay.jitterMs} ms` : ''})` : '';
        ctx.out(`  ${h.name.padEnd(10)} ${h.ip.padEnd(15)} ${h.role}${via}\n`);
      }
      ctx.out(`inventory:   ${info.siteInventoryFile} (groups lab, ${info.product}: ready for playbooks/site.yml)\n`);
      ctx.out(`hosts only:  ${info.inventoryFile}\nkey:         ${info.privateKeyFile}\nknown_hosts: ${info.knownHostsFile}\n`);
      ctx.out(`sudo user:   ${info.sudoUser} (password in ${info.stateDir}/sudo-password)\n`);
      ctx.out(`try:         ssh -i ${info.privateKeyFile} -o UserKnownHostsFile=${info.knownHostsFile} root@${info.hosts[0].ip} hostname\n`);
      if (info.name === DEFAULT_LAB.name && info.subnet !== planLab(DEFAULT_LAB.name, DEFAULT_LAB.hosts, DEFAULT_LAB.with).subnet) {
        ctx.err(`note: the usual subnet was taken, so inventory/lab.yml does not match this lab; use ${info.siteInventoryFile}\n`);
      }
    });

  lab
    .command('status')
    .description('list labs and whether each host is alive')
    .option('--name <name>', 'only this lab')
    .action(async (o: { name?: string }) => {
      const labs = await (await labModule()).labStatus({ name: o.name });
      if (labs.length === 0) ctx.out('no labs\n');
      for (const l of labs) {
        const up = Object.values(l.alive).filter(Boolean).length;
        ctx.out(`${l.name}: ${l.status}, ${up}/${l.hosts.length} hosts alive, ${l.subnet}, ${l.siteInventoryFile}\n`);
        for (const h of l.hosts) ctx.out(`  ${h.name.padEnd(10)} ${h.ip.padEnd(15)} ${h.role.padEnd(8)} ${l.alive[h.name] ? 'alive' : 'down'}\n`);
      }
      // Scripts check `lab status` before a run: a lab with a host down is not fit for one.
      const broken = labs.filter((l) => l.hosts.some((h) => !l.alive[h.name]));
      const down = broken.flatMap((l) => l.hosts.filter((h) => !l.alive[h.name]).map((h) => `${l.name}/${h.name}`));
      if (down.length > 0) {
        // The same shape again: `lab up` alone would plan the default hosts.
        const again = broken.map((l) => {
          const extra = [...new Set(l.hosts.filter((h) => h.role !== 'node').map((h) => h.role))];
          const shape = `--hosts ${l.hosts.filter((h) => h.role === 'node').length} --with ${extra.length > 0 ? extra.join(',') : 'none'}${l.product === 'obkm' ? ' --product obkm' : ''}`;
          return `\`obiam-run lab down --name ${l.name} && obiam-run lab up --name ${l.name} ${shape}\``;
        });
        throw new ObiamError('E_LAB_HOST_DOWN', `${down.length} lab host(s) down: ${down.join(', ')}`, {
          remedy: `a lab host does not come back by itself; start the lab again: ${again.join('; ')}`,
          exitCode: EXIT.ERROR,
        });
      }
    });

  lab
    .command('down')
    .description('stop a lab and remove everything it created')
    .addOption(nameOpt())
    .action(async (o: { name: string }) => {
      const r = await (await labModule()).labDown({ name: o.name });
      ctx.out(`lab '${o.name}' down: removed ${r.removed.length} resources\n`);
      if (r.leftovers.length > 0) {
        throw new ObiamError('E_LAB_LEFTOVERS', `lab '${o.name}' left: ${r.leftovers.join(', ')}`, {
          remedy: `run \`obiam-run lab down --name ${o.name}\` again; the state stays in .lab/${o.name}/lab.json until everything is gone`,
        });
      }
    });
  return lab;
}
