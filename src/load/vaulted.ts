// Finds the `!vault` values a run would need, so that a run without a vault password stops at load
// time, before it touches a host, instead of failing at the first task that templates one.
import { EXIT, ObiamError } from '../errors.js';
import type { Vars } from '../types.js';
import { hostVarsOf } from '../inventory/host-vars.js';
import type { Inventory } from '../inventory/model.js';
import type { Playbook, TaskNode } from './model.js';
import { selectHosts } from '../inventory/patterns.js';
import { VaultedValue } from './yaml.js';

/** A vaulted value and where it sits: `vars of host node1: db_password` (file when known). */
export interface VaultedUse {
  where: string;
  name: string;
  source?: string;
}

function walk(value: unknown, name: string, where: string, out: VaultedUse[], seen: Set<unknown>): void {
  if (value instanceof VaultedValue) {
    out.push({ where, name, source: value.source });
    return;
  }
  if (value === null || typeof value !== 'object' || seen.has(value)) return;
  seen.add(value);
  if (Array.isArray(value)) value.forEach((v, i) => walk(v, `${name}[${i}]`, where, out, seen));
  else for (const [k, v] of Object.entries(value as Record<string, unknown>)) walk(v, name ? `${name}.${k}` : k, where, out, seen);
}

function inVars(vars: Vars | undefined, where: string, out: VaultedUse[]): void {
  if (vars) walk(vars, '', where, out, new Set());
}

function inTasks(nodes: TaskNode[], out: VaultedUse[]): void {
  for (const n of nodes) {
    const where = `task '${n.name ?? (n.kind === 'task' ? n.module : n.kind)}' (${n.location.file}:${n.location.line})`;
    inVars(n.vars, where, out);
    if (n.kind === 'task') walk(n.args, 'args', where, out, new Set());
    if (n.kind === 'block') inTasks([...n.block, ...n.rescue, ...n.always], out);
  }
}

/**
 * Every vaulted value in what the run reads: the vars of every host a play targets (inventory files,
 * group_vars/, host_vars/), play vars and vars_files, role defaults/vars/params, task vars and args,
 * and extra vars. Which of them a task will template is only known per host at run time, so all of
 * them count as needed.
 */
export function vaultedValuesOfRun(playbook: Playbook, inventory: Inventory, extraVars: Vars, limit?: string): VaultedUse[] {
  const out: VaultedUse[] = [];
  const hosts = new Set<string>();
  for (const play of playbook.plays) {
    for (const h of selectHosts(inventory, play.hosts, limit)) hosts.add(h);
    inVars(play.vars, `vars of play '${play.name}'`, out);
    inVars(play.varsFromFiles, `vars_files of play '${play.name}'`, out);
    for (const r of play.roles) {
      inVars(r.defaults, `defaults of role '${r.name}'`, out);
      inVars(r.vars, `vars of role '${r.name}'`, out);
      inVars(r.params, `params of role '${r.name}'`, out);
    }
    inTasks([...play.preTasks, ...play.roleTasks, ...play.tasks, ...play.postTasks, ...play.handlers], out);
  }
  for (const h of hosts) inVars(hostVarsOf(inventory, h), `vars of host '${h}'`, out);
  inVars(extraVars, 'extra vars (-e)', out);
  return out;
}

/** E_VAULT_NO_PASSWORD naming the vaulted values (a few of them) and where they come from. */
export function noVaultPasswordError(uses: VaultedUse[]): ObiamError {
  // One line per variable and file: group vars show up once per host otherwise.
  const lines = [...new Set(uses.map((u) => `${u.name}${u.source ? ` (${u.source})` : ` in ${u.where}`}`))];
  const shown = lines.slice(0, 5).join(', ');
  const more = lines.length > 5 ? ` and ${lines.length - 5} more` : '';
  return new ObiamError('E_VAULT_NO_PASSWORD', `the run needs vault-encrypted values and no vault password was given: ${shown}${more}`, {
    remedy: 'pass --vault-password-file FILE (or --vault-id ID@FILE), --ask-vault-pass, or set OBIAM_VAULT_PASSWORD_FILE; nothing was run',
    exitCode: EXIT.ERROR,
  });
}
