// Host variables: the scope a task sees on one host (precedence layers plus magic variables) and the
// lazy `hostvars` view of every host.
import type { IncludeTasks, Meta, Play, RoleContext, Task } from '../load/model.js';
import type { Vars } from '../types.js';
import { OMIT, type Inherit, type PlayRun, type RunState } from './run-state.js';
import { VarScope, composeTaskVars, factsToVars, lazyViews } from './vars.js';

/** Variables known before any host: play vars, vars_files and extra vars (task names, serial). */
export function playLevelVars(rs: RunState, play: Play): Vars {
  return { ...play.vars, ...play.varsFromFiles, ...rs.opts.extraVars };
}

/** Magic variables that are the same for every host of the run. */
function runMagic(rs: RunState, hostvars: Record<string, Vars>): Vars {
  return {
    groups: rs.groups,
    hostvars,
    playbook_dir: rs.opts.playbook.dir,
    ansible_diff_mode: rs.opts.diff,
    omit: OMIT,
    // The Ansible version whose language obiam-run follows (playbooks test it with `version()`).
    ansible_version: { string: '2.14.0', full: '2.14.0', major: 2, minor: 14, revision: 0 },
    // --resume: which hosts the interrupted run finished, and which it was in the middle of.
    obiam_resume: { resumed: rs.opts.resume !== undefined, interrupted: rs.opts.resume?.interrupted ?? [] },
  };
}

export function displayName(rs: RunState, node: Task | Meta | IncludeTasks, play: Play): string {
  const raw = node.name ?? (node.kind === 'task' ? node.module : node.kind === 'meta' ? `meta: ${node.action}` : node.includeRole ? `include_role : ${node.includeRole.name}` : `include_tasks: ${node.file}`);
  try {
    // Task names are rendered with play-level variables only, as Ansible does.
    return rs.templater.render(raw, playLevelVars(rs, play));
  } catch {
    return raw;
  }
}

/** The variables a task sees on a host, by precedence. */
export function scopeFor(rs: RunState, host: string, node: { vars: Vars; role?: RoleContext }, inh: Inherit, pr: PlayRun, check = rs.opts.check): VarScope {
  const role = node.role ?? inh.role;
  const magic: Vars = {
    ...runMagic(rs, hostvarsProxy(rs, pr)),
    play_hosts: rs.active(pr, pr.allHosts),
    ansible_play_hosts: rs.active(pr, pr.allHosts),
    ansible_play_hosts_all: pr.allHosts,
    ansible_play_batch: rs.active(pr, pr.batch),
    ansible_play_name: pr.play.name,
    ansible_check_mode: check,
    ansible_run_tags: rs.opts.tags.length ? rs.opts.tags : ['all'],
    ansible_skip_tags: rs.opts.skipTags,
    ansible_verbosity: rs.opts.verbosity,
    role_names: [...new Set(pr.play.roleNames ?? [])],
    ...(role ? { role_name: role.name, role_path: role.path } : {}),
  };
  const vars = composeTaskVars({
    roleDefaults: role?.defaults,
    inventory: rs.inventoryVars(host),
    facts: factsToVars(rs.facts.get(host) ?? {}),
    play: pr.play.vars,
    varsFiles: pr.play.varsFromFiles,
    roleVars: role?.vars,
    blocks: inh.blocks,
    task: node.vars,
    includeParams: inh.includeParams,
    hostFacts: rs.hostFacts.get(host),
    roleParams: role?.params,
    magic,
    extra: rs.opts.extraVars,
  });
  const scope = new VarScope(vars, rs.templater);
  // `vars`: every variable of the task, rendered when read (vars['name_' ~ x]); it leaves out itself and hostvars.
  const shown = (k: string | symbol): k is string => typeof k === 'string' && k !== 'vars' && k !== 'hostvars' && k in vars;
  const view = new Proxy(vars, {
    get: (_t, k) => (shown(k) ? scope.get(k) : undefined),
    has: (_t, k) => shown(k),
    ownKeys: () => Object.keys(vars).filter((k) => k !== 'vars' && k !== 'hostvars'),
    getOwnPropertyDescriptor: (_t, k) => (shown(k) ? { configurable: true, enumerable: true, writable: false, value: scope.get(k) } : undefined),
  });
  lazyViews.add(view);
  vars.vars = view;
  return scope;
}

/** `hostvars[h].x`: another host's inventory vars, facts and set_facts, rendered when read. */
function hostvarsProxy(rs: RunState, pr: PlayRun): Record<string, Vars> {
  const scopes = new Map<string, Vars>();
  const known = (h: string): boolean => rs.opts.inventory.hosts.has(h) || rs.facts.has(h) || rs.hostFacts.has(h);
  const hostView = (h: string): Vars => {
    let v = scopes.get(h);
    if (!v) {
      const scope = new VarScope(
        composeTaskVars({
          inventory: rs.inventoryVars(h),
          facts: factsToVars(rs.facts.get(h) ?? {}),
          play: pr.play.vars,
          varsFiles: pr.play.varsFromFiles,
          hostFacts: rs.hostFacts.get(h),
          // Another host's variables may refer to run-wide magic variables (playbook_dir, groups ...).
          magic: { ...runMagic(rs, proxy), ansible_check_mode: rs.opts.check },
          extra: rs.opts.extraVars,
        }),
        rs.templater,
      );
      // As in Ansible, hostvars[h] does not hold `hostvars` itself, so the view is finite (to_json of it ends);
      // the host's own templates still read it through the scope.
      const shown = (t: Vars, k: string | symbol): k is string => typeof k === 'string' && k !== 'hostvars' && k in t;
      v = new Proxy(scope.raw, {
        get: (t, k) => (shown(t, k) ? scope.get(k) : undefined),
        has: (t, k) => shown(t, k),
        ownKeys: (t) => Object.keys(t).filter((k) => k !== 'hostvars'),
        getOwnPropertyDescriptor: (t, k) => (shown(t, k) ? { configurable: true, enumerable: true, writable: false, value: scope.get(k) } : undefined),
      });
      lazyViews.add(v);
      scopes.set(h, v);
    }
    return v;
  };
  const hostNames = (): string[] => [...new Set([...rs.opts.inventory.hosts.keys(), ...rs.facts.keys(), ...rs.hostFacts.keys()])];
  const proxy: Record<string, Vars> = new Proxy({} as Record<string, Vars>, {
    get: (_t, k) => (typeof k === 'string' && known(k) ? hostView(k) : undefined),
    has: (_t, k) => typeof k === 'string' && known(k),
    ownKeys: () => hostNames(),
    getOwnPropertyDescriptor: (_t, k) => (typeof k === 'string' && known(k) ? { configurable: true, enumerable: true, writable: false, value: hostView(k) } : undefined),
  });
  lazyViews.add(proxy);
  return proxy;
}
