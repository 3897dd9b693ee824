// The playbook loader: YAML -> validated Play model, before anything connects. Resolves roles,
// import_playbook, import_tasks and import_role statically; include_tasks is resolved at run time
// (loadTasksFile). Every problem of a run is collected and reported at once with file:line:col.
// The loader is built in floors: diagnostics.ts (errors, reading), roles.ts, tasks.ts, and here the
// plays and the entry points; values.ts and free-form.ts hold the value coercion.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { EXIT, ObiamError, ObiamErrors, type SourceLocation } from '../errors.js';
import { getModule } from '../modules/registry.js';
import type { Vars } from '../types.js';
import type { VaultDecrypter } from '../vault/types.js';
import { dedupe, notVarsError, type LoadPlaybookOptions, type LoadWarning } from './diagnostics.js';
import type { Handler, LateVarsFile, Play, Playbook, RoleContext, TaskNode } from './model.js';
import { patternWarnings } from '../inventory/patterns.js';
import type { PlayAcc, TaskCtx } from './roles.js';
import { INCLUDE_ACTIONS, PLAY_KEYWORDS, TASK_KEYWORDS } from './schemas.js';
import { TaskLoader } from './tasks.js';
import { checkKeywords, isTemplated, shortValue, type Where } from './validate.js';
import { bare, conditions, isMap, serialList, stringValues, toStrings, type Map_ } from './values.js';

export type { LoadPlaybookOptions, LoadWarning } from './diagnostics.js';
export { parseFreeForm } from './free-form.js';

export interface LoadedPlaybook {
  playbook: Playbook;
  warnings: LoadWarning[];
}

class Loader extends TaskLoader {
  loadBook(file: string, stack: string[], at?: SourceLocation): Play[] {
    if (stack.includes(file)) {
      this.errors.push(new ObiamError('E_IMPORT_CYCLE', `import_playbook cycle: ${[...stack, file].join(' -> ')}`, { location: at, remedy: 'remove one of the imports', exitCode: EXIT.PARSE }));
      return [];
    }
    const y = this.read(file, at);
    if (!y) return [];
    const where: Where = { y, path: [] };
    if (y.data === null || y.data === undefined) {
      this.warnings.push({ message: `${file} is empty: nothing to do`, location: { file, line: 1, col: 1 } });
      return [];
    }
    if (!Array.isArray(y.data)) {
      this.err('E_PLAYBOOK_SHAPE', 'a playbook is a list of plays', where, [], 'start each play with `- hosts: ...` (or `- import_playbook: file.yml`)', 'value');
      return [];
    }
    const plays: Play[] = [];
    y.data.forEach((item, i) => {
      const w: Where = { y, path: [i] };
      if (!isMap(item)) {
        this.err('E_PLAY_SHAPE', `a play must be a mapping, got ${shortValue(item)}`, w, [], 'write the play as `- hosts: ...` with tasks: or roles:', 'value');
        return;
      }
      const importKey = Object.keys(item).find((k) => bare(k) === 'import_playbook' || k === 'include');
      if (importKey) plays.push(...this.importPlaybook(item, importKey, w, file, stack));
      else {
        const play = this.play(item, w, path.dirname(file));
        if (play) plays.push(play);
      }
    });
    return plays;
  }

  importPlaybook(d: Map_, key: string, where: Where, file: string, stack: string[]): Play[] {
    // A play-level `include:` (deprecated in 2.14, still read) is import_playbook.
    for (const k of Object.keys(d)) {
      if (k !== key && !['name', 'vars', 'tags', 'when'].includes(k)) {
        this.err('E_UNKNOWN_KEYWORD', `\`${k}\` is not allowed on import_playbook`, where, [k], 'import_playbook takes name, vars, tags and when');
      }
    }
    const target = d[key];
    if (typeof target !== 'string' || isTemplated(target)) {
      this.err('E_BAD_VALUE', 'import_playbook needs a file name (without templates: it is read before the run)', where, [key], 'give the playbook file, relative to this one', 'value');
      return [];
    }
    const abs = path.resolve(path.dirname(file), target);
    const plays = this.loadBook(abs, [...stack, file], where.y.locate([...where.path, key], 'value'));
    const vars = isMap(d.vars) ? d.vars : {};
    const tags = toStrings(d.tags);
    const when = conditions(d.when);
    for (const p of plays) {
      p.vars = { ...p.vars, ...vars };
      p.tags = [...tags, ...p.tags];
      p.when = [...when, ...p.when];
    }
    return plays;
  }


  play(d: Map_, where: Where, dir: string): Play | undefined {
    const before = this.errors.length;
    const meant = this.unknownKeys(d, PLAY_KEYWORDS, where, 'play', (k) =>
      k in TASK_KEYWORDS || getModule(bare(k)) || INCLUDE_ACTIONS.includes(bare(k)) ? `\`${k}\` belongs to a task: put it under \`tasks:\`` : undefined,
    );
    this.errors.push(...checkKeywords(d, PLAY_KEYWORDS, where));
    // `hsots: all` is already reported as a typo of hosts; "no hosts" would say the same thing twice.
    if ((d.hosts === undefined || d.hosts === null || d.hosts === '') && !meant.includes('hosts')) {
      this.err('E_PLAY_NO_HOSTS', 'a play needs `hosts:`', where, [], 'add `hosts: <group or pattern>` (e.g. `hosts: obiam`)');
    }
    const hosts = Array.isArray(d.hosts) ? d.hosts.map(String).join(',') : String(d.hosts ?? '');
    const acc: PlayAcc = { handlers: [], roles: [], seenRoles: new Set() };
    const ctx: TaskCtx = { y: where.y, dir, handler: false, stack: [where.y.file], play: acc };
    const sub = (k: string): Where => ({ y: where.y, path: [...where.path, k] });

    const fromFiles = this.varsFiles(d.vars_files, sub('vars_files'), dir);
    // A section that is not a list has been reported by checkKeywords above.
    const list = (v: unknown): unknown => (Array.isArray(v) || isTemplated(v) ? v : undefined);
    const preTasks = this.taskList(list(d.pre_tasks), sub('pre_tasks'), ctx);
    const roleTasks: TaskNode[] = [];
    if (d.roles !== undefined && d.roles !== null && Array.isArray(d.roles)) {
      d.roles.forEach((entry, i) => roleTasks.push(...this.roleEntry(entry, { y: where.y, path: [...where.path, 'roles', i] }, acc, [], dir)));
    }
    const tasks = this.taskList(list(d.tasks), sub('tasks'), ctx);
    const postTasks = this.taskList(list(d.post_tasks), sub('post_tasks'), ctx);
    const ownHandlers = this.taskList(list(d.handlers), sub('handlers'), { ...ctx, handler: true }) as Handler[];
    const handlers = [...ownHandlers, ...acc.handlers];
    if (this.errors.length > before) return undefined;

    const all = [...preTasks, ...roleTasks, ...tasks, ...postTasks];
    this.checkNotify([...all, ...handlers], handlers);

    // The play's keywords (when, become, no_log ...) are read by the keyword table; the runner passes them down.
    const common = this.common(d, where, 'play');
    const vars: Vars = { ...common.vars };
    if (d.connection === 'local') vars.ansible_connection = 'local';

    if (this.opts.inventory && hosts && !isTemplated(hosts)) {
      for (const message of patternWarnings(this.opts.inventory, hosts)) this.warnings.push({ message, location: where.y.locate([...where.path, 'hosts'], 'value') });
    }

    if (typeof d.strategy === 'string' && d.strategy !== 'linear' && !isTemplated(d.strategy)) {
      this.warn(`strategy \`${d.strategy}\` is run as linear: obiam-run has one strategy (each task on every host before the next)`, where.y.locate([...where.path, 'strategy'], 'value'));
    }
    // role_names: the roles the play lists (not their dependencies).
    const roleNames = Array.isArray(d.roles) ? d.roles.map((e) => (typeof e === 'string' ? e : isMap(e) ? String(e.role ?? e.name ?? '') : '')).filter(Boolean) : [];
    return {
      ...common,
      roleNames,
      name: typeof d.name === 'string' ? d.name : hosts,
      hosts,
      vars,
      varsFiles: fromFiles.files,
      varsFromFiles: fromFiles.vars,
      ...(fromFiles.late.length ? { lateVarsFiles: fromFiles.late } : {}),
      gatherFacts: d.gather_facts === undefined ? true : this.bool(d.gather_facts, where, 'gather_facts'),
      serial: serialList(d.serial),
      maxFailPercentage: d.max_fail_percentage === undefined ? undefined : Number(String(d.max_fail_percentage).replace('%', '')),
      anyErrorsFatal: d.any_errors_fatal === undefined ? false : this.bool(d.any_errors_fatal, where, 'any_errors_fatal'),
      environment: isMap(d.environment) ? stringValues(d.environment) : undefined,
      forceHandlers: d.force_handlers === undefined ? false : this.bool(d.force_handlers, where, 'force_handlers'),
      order: (typeof d.order === 'string' ? d.order : 'inventory') as Play['order'],
      preTasks,
      roleTasks,
      tasks,
      postTasks,
      handlers,
      roles: acc.roles,
      location: where.y.locate(where.path, 'value'),
    };
  }


  /** Reads vars_files in order; `files` are the ones read (for a fallback list, the one chosen). */
  varsFiles(v: unknown, where: Where, dir: string): { vars: Vars; files: string[]; late: LateVarsFile[] } {
    const out: Vars = {};
    const files: string[] = [];
    const late: LateVarsFile[] = [];
    // Anything but a list or a string has been reported by checkKeywords.
    if (v === undefined || v === null || (!Array.isArray(v) && typeof v !== 'string')) return { vars: out, files, late };
    const list = Array.isArray(v) ? v : [v];
    list.forEach((entry, i) => {
      const at: Where = { y: where.y, path: Array.isArray(v) ? [...where.path, i] : where.path };
      // A list inside vars_files: the first file that exists is read (Ansible's fallback form).
      const raw = Array.isArray(entry) ? entry : [entry];
      if (raw.length === 0 || raw.some((c) => typeof c !== 'string' || c.length === 0)) {
        this.err('E_BAD_VALUE', `vars_files entry ${shortValue(entry)} is not a file name`, at, [], 'write each entry as a path (or a list of paths, the first one found is read)', 'value');
        return;
      }
      const choices = raw as string[];
      if (choices.some(isTemplated)) {
        // Read when the play starts, with the play's variables and extra vars (runner: play-iterator.ts).
        late.push({ choices, dir, location: at.y.locate(at.path, 'value') });
        return;
      }
      const abs = choices.map((c) => path.resolve(dir, c));
      const found = abs.find((f) => existsSync(f));
      if (!found) {
        this.err('E_FILE_NOT_FOUND', `vars file not found: ${abs.join(' or ')}`, at, [], 'vars_files are relative to the playbook', 'value');
        return;
      }
      files.push(found);
      const y = this.read(found, at.y.locate(at.path, 'value'));
      if (!y || y.data === null || y.data === undefined) return;
      if (!isMap(y.data)) {
        this.errors.push(notVarsError(y));
        return;
      }
      Object.assign(out, y.data);
    });
    return { vars: out, files, late };
  }
}

// ---- entry points ----

/** Loads, resolves and validates a playbook; throws ObiamErrors listing every problem found. */
export function loadPlaybook(file: string, opts: LoadPlaybookOptions = {}): LoadedPlaybook {
  const abs = path.resolve(file);
  if (!existsSync(abs)) {
    throw new ObiamError('E_PLAYBOOK_NOT_FOUND', `the playbook ${abs} does not exist`, { remedy: 'check the path (relative to the current directory)', exitCode: EXIT.PARSE });
  }
  const loader = new Loader(opts, path.dirname(abs));
  const plays = loader.loadBook(abs, []);
  if (loader.errors.length) throw new ObiamErrors(dedupe(loader.errors), EXIT.PARSE);
  return { playbook: { file: abs, dir: path.dirname(abs), plays }, warnings: loader.warnings };
}

/** A tasks file for include_tasks at run time (role context kept for files/templates lookup). */
export function loadTasksFile(file: string, opts: { vault?: VaultDecrypter; role?: RoleContext; playbookDir?: string } = {}): TaskNode[] {
  const abs = path.resolve(file);
  const loader = new Loader({ vault: opts.vault }, opts.playbookDir ?? path.dirname(abs));
  const y = loader.read(abs);
  const nodes = y ? loader.taskList(y.data, { y, path: [] }, { y, dir: path.dirname(abs), role: opts.role, handler: false, stack: [abs] }) : [];
  if (loader.errors.length) throw new ObiamErrors(dedupe(loader.errors), EXIT.PARSE);
  return nodes;
}

/** An include_role read at run time: the role's tasks (apply keywords on them) and its handlers. */
export function loadIncludedRole(
  name: string,
  opts: { vault?: VaultDecrypter; playbookDir: string; rolesPath?: string[]; dir: string; tasksFrom?: string; params: Vars; apply?: Record<string, unknown>; at?: SourceLocation },
): { nodes: TaskNode[]; handlers: Handler[] } {
  const loader = new Loader({ vault: opts.vault, rolesPath: opts.rolesPath }, opts.playbookDir);
  const file = opts.at?.file ?? path.join(opts.playbookDir, 'playbook');
  // The include's own place stands for the whole: errors about the role name point at it.
  const y = { file, data: { include_role: { name } }, doc: null, locate: () => opts.at ?? { file, line: 1, col: 1 } };
  const acc: PlayAcc = { handlers: [], roles: [], seenRoles: new Set() };
  const where: Where = { y, path: [] };
  const rolePath = loader.findRole(name, { y, path: ['include_role'] }, opts.dir);
  const nodes = rolePath ? loader.roleTasks(rolePath, name, opts.params, where, acc, opts.tasksFrom, opts.apply, true) : [];
  if (loader.errors.length) throw new ObiamErrors(dedupe(loader.errors), EXIT.PARSE);
  return { nodes, handlers: acc.handlers };
}
