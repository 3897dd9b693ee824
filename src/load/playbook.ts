// The playbook loader: YAML -> validated Play model, before anything connects. Resolves roles,
// import_playbook, import_tasks and import_role statically; include_tasks is resolved at run time
// (loadTasksFile). Every problem of a run is collected and reported at once with file:line:col.
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { EXIT, ObiamError, ObiamErrors, type SourceLocation } from '../errors.js';
import { controllerFileCandidates, lookupControllerFile } from '../modules/lib/controller-files.js';
import { getModule, moduleNames } from '../modules/registry.js';
import type { JsonSchema, ModuleDef } from '../modules/types.js';
import type { Vars } from '../types.js';
import type { VaultDecrypter } from '../vault/types.js';
import type { Inventory } from '../inventory/model.js';
import type { Block, Condition, Handler, Meta, Play, Playbook, RoleContext, Task, TaskNode } from './model.js';
import { patternWarnings } from '../inventory/patterns.js';
import {
  BLOCK_KEYWORDS,
  HANDLER_KEYWORDS,
  INCLUDE_ACTIONS,
  META_ACTIONS,
  PLAY_KEYWORDS,
  ROLE_ENTRY_KEYWORDS,
  TASK_KEYWORDS,
  UNSUPPORTED_KEYWORDS,
} from './schemas.js';
import { checkKeywords, checkModuleArgs, isTemplated, parseError, shortValue, suggest, type Where } from './validate.js';
import { loadYamlFile, type LoadedYaml } from './yaml.js';

export interface LoadWarning {
  message: string;
  location?: SourceLocation;
}

export interface LoadPlaybookOptions {
  vault?: VaultDecrypter;
  /** When given, plays whose `hosts` name no group or host get Ansible's warning. */
  inventory?: Inventory;
  /** Extra role directories, searched after `roles/` beside the playbook (OBIAM_ROLES_PATH). */
  rolesPath?: string[];
}

export interface LoadedPlaybook {
  playbook: Playbook;
  warnings: LoadWarning[];
}

type Map_ = Record<string, unknown>;
const isMap = (v: unknown): v is Map_ => v !== null && typeof v === 'object' && !Array.isArray(v);
const PREFIXES = ['ansible.builtin.', 'ansible.legacy.'];
const bare = (k: string): string => PREFIXES.reduce((s, p) => (s.startsWith(p) ? s.slice(p.length) : s), k);

/** What the loader knows while reading one tasks file. */
interface TaskCtx {
  y: LoadedYaml;
  /** Directory relative includes are resolved against. */
  dir: string;
  role?: RoleContext;
  handler: boolean;
  /** Files being imported (cycle guard). */
  stack: string[];
  /** The play being built (role handlers of import_role go here); absent for run-time includes. */
  play?: PlayAcc;
}

interface PlayAcc {
  handlers: Handler[];
  roles: RoleContext[];
  seenRoles: Set<string>;
}

class Loader {
  readonly errors: ObiamError[] = [];
  readonly warnings: LoadWarning[] = [];
  /** Where each notify target of a task is written, so an unknown handler is named at its own line. */
  readonly notifyAt = new WeakMap<Task, SourceLocation[]>();
  constructor(
    readonly opts: LoadPlaybookOptions,
    readonly playbookDir: string,
  ) {}

  /** Reads a YAML file; errors are collected and undefined returned. */
  read(file: string, at?: SourceLocation): LoadedYaml | undefined {
    try {
      return loadYamlFile(file, { vault: this.opts.vault });
    } catch (e) {
      if (e instanceof ObiamErrors) {
        // After the first syntax error the parser's further complaints mostly follow from it: keep
        // that one (duplicate keys are independent mistakes and all stay).
        const firstSyntax = e.errors.find((x) => x.code === 'E_YAML_SYNTAX');
        this.errors.push(...e.errors.filter((x) => x.code !== 'E_YAML_SYNTAX' || x === firstSyntax));
      } else if (e instanceof ObiamError) {
        // A file that cannot be read at all (missing, vault-encrypted without a password) is named
        // where the playbook refers to it; errors inside a file keep their own position.
        const whole = e.code === 'E_FILE_NOT_FOUND' || e.code === 'E_VAULT_NO_PASSWORD';
        this.errors.push(new ObiamError(e.code, e.message, { location: whole ? (at ?? e.location) : (e.location ?? at), remedy: e.remedy, exitCode: at || !whole ? EXIT.PARSE : EXIT.ERROR }));
      } else throw e;
      return undefined;
    }
  }

  err(code: string, message: string, where: Where, sub: (string | number)[], remedy: string, which: 'key' | 'value' = 'key'): void {
    this.errors.push(parseError(code, message, where, sub, remedy, which));
  }

  // ---- playbooks and plays ----

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
    if (key === 'include') {
      this.err('E_UNSUPPORTED_KEYWORD', '`include` of a playbook is not supported', where, [key], 'use `import_playbook: file.yml`');
      return [];
    }
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
      if (when.length) for (const list of [p.preTasks, p.roleTasks, p.tasks, p.postTasks]) for (const n of list) n.when = [...when, ...n.when];
    }
    return plays;
  }

  /** Reports keys of `d` that are not in `allowed`; returns the keywords they look like typos of. */
  unknownKeys(d: Map_, allowed: Record<string, JsonSchema>, where: Where, what: string, extraHint?: (k: string) => string | undefined): string[] {
    const meant: string[] = [];
    for (const k of Object.keys(d)) {
      if (k in allowed) continue;
      if (k in UNSUPPORTED_KEYWORDS) {
        this.err('E_UNSUPPORTED_KEYWORD', `\`${k}\` is not supported by obiam-run`, where, [k], UNSUPPORTED_KEYWORDS[k]!);
        continue;
      }
      const hint = extraHint?.(k);
      if (hint) {
        this.err('E_UNKNOWN_KEYWORD', `\`${k}\` is not a ${what} keyword`, where, [k], hint);
        continue;
      }
      const guess = suggest(k, Object.keys(allowed));
      if (guess !== undefined) meant.push(guess);
      this.err(
        'E_UNKNOWN_KEYWORD',
        `unknown ${what} keyword \`${k}\`${guess ? `; did you mean \`${guess}\`?` : ''}`,
        where,
        [k],
        `${what} keywords: ${Object.keys(allowed).sort().join(', ')}`,
      );
    }
    return meant;
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

    // Play-level task keywords apply to every task that does not set them itself.
    const inherited: Partial<TaskNode> = {};
    if (d.check_mode !== undefined) inherited.checkMode = this.bool(d.check_mode, where, 'check_mode');
    if (d.no_log !== undefined) inherited.noLog = this.bool(d.no_log, where, 'no_log');
    if (d.ignore_errors !== undefined) inherited.ignoreErrors = this.bool(d.ignore_errors, where, 'ignore_errors');
    if (d.diff !== undefined) inherited.diff = this.bool(d.diff, where, 'diff');
    if (d.delegate_to !== undefined) inherited.delegateTo = String(d.delegate_to);
    if (d.run_once !== undefined) inherited.runOnce = this.bool(d.run_once, where, 'run_once');
    for (const n of all) {
      for (const [k, v] of Object.entries(inherited) as [keyof TaskNode, unknown][]) {
        if ((n as unknown as Map_)[k] === undefined) (n as unknown as Map_)[k] = v;
      }
    }
    const playWhen = conditions(d.when);
    if (playWhen.length) for (const n of all) n.when = [...playWhen, ...n.when];

    const vars: Vars = isMap(d.vars) ? { ...d.vars } : {};
    if (d.connection === 'local') vars.ansible_connection = 'local';

    if (this.opts.inventory && hosts && !isTemplated(hosts)) {
      for (const message of patternWarnings(this.opts.inventory, hosts)) this.warnings.push({ message, location: where.y.locate([...where.path, 'hosts'], 'value') });
    }

    return {
      name: typeof d.name === 'string' ? d.name : hosts,
      hosts,
      vars,
      varsFiles: fromFiles.files,
      varsFromFiles: fromFiles.vars,
      gatherFacts: d.gather_facts === undefined ? true : this.bool(d.gather_facts, where, 'gather_facts'),
      become: d.become === undefined ? undefined : this.bool(d.become, where, 'become'),
      becomeUser: d.become_user === undefined ? undefined : String(d.become_user),
      becomeMethod: d.become_method as Play['becomeMethod'],
      serial: serialList(d.serial),
      maxFailPercentage: d.max_fail_percentage === undefined ? undefined : Number(String(d.max_fail_percentage).replace('%', '')),
      anyErrorsFatal: d.any_errors_fatal === undefined ? false : this.bool(d.any_errors_fatal, where, 'any_errors_fatal'),
      tags: toStrings(d.tags),
      environment: isMap(d.environment) ? stringValues(d.environment) : undefined,
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
  varsFiles(v: unknown, where: Where, dir: string): { vars: Vars; files: string[] } {
    const out: Vars = {};
    const files: string[] = [];
    // Anything but a list or a string has been reported by checkKeywords.
    if (v === undefined || v === null || (!Array.isArray(v) && typeof v !== 'string')) return { vars: out, files };
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
        this.err('E_VARS_FILES_TEMPLATED', `vars_files entry ${shortValue(entry)} uses a template; vars files are read before any host is known`, at, [], 'name the file directly, or use include_vars-style per-environment inventories (group_vars)', 'value');
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
    return { vars: out, files };
  }

  bool(v: unknown, where: Where, key: string): boolean {
    if (typeof v === 'boolean') return v;
    const s = String(v).trim().toLowerCase();
    if (['yes', 'true', 'on', '1', 'y'].includes(s)) return true;
    if (['no', 'false', 'off', '0', 'n', ''].includes(s)) return false;
    this.err('E_BAD_VALUE', `\`${key}\` must be true or false here; got ${shortValue(v)}`, where, [key], isTemplated(v) ? `a templated ${key} is not supported; use a fixed true/false${key === 'ignore_errors' ? ' or failed_when:' : ''}` : 'use true or false', 'value');
    return false;
  }

  // ---- roles ----

  roleEntry(entry: unknown, where: Where, acc: PlayAcc, chain: string[], dir: string): TaskNode[] {
    let name: string;
    let d: Map_ = {};
    if (typeof entry === 'string') name = entry;
    else if (isMap(entry) && (typeof entry.role === 'string' || typeof entry.name === 'string')) {
      d = entry;
      name = String(entry.role ?? entry.name);
      this.errors.push(...checkKeywords(d, ROLE_ENTRY_KEYWORDS, where));
    } else {
      this.err('E_ROLE_SHAPE', `a role entry is a role name or a mapping with \`role:\`; got ${shortValue(entry)}`, where, [], 'write `- rolename` or `- role: rolename`', 'value');
      return [];
    }
    const rolePath = this.findRole(name, where, dir);
    if (!rolePath) return [];
    if (chain.includes(rolePath)) {
      this.err('E_ROLE_CYCLE', `role dependency cycle: ${[...chain, rolePath].map((p) => path.basename(p)).join(' -> ')}`, where, [], 'remove one of the dependencies in meta/main.yml');
      return [];
    }
    const params: Vars = {};
    for (const [k, v] of Object.entries(d)) if (!(k in ROLE_ENTRY_KEYWORDS)) params[k] = v;
    Object.assign(params, isMap(d.vars) ? d.vars : {});
    return this.expandRole(rolePath, name, params, d, where, acc, chain, 'main.yml');
  }

  /** `allowDuplicates`: import_role/include_role run the role each time (as Ansible's default). */
  expandRole(rolePath: string, name: string, params: Vars, d: Map_, where: Where, acc: PlayAcc, chain: string[], tasksFrom: string, allowDuplicates = false): TaskNode[] {
    const meta = this.roleFile(rolePath, 'meta', 'main.yml');
    const metaData = meta && isMap(meta.data) ? meta.data : {};
    const key = `${rolePath}\0${tasksFrom}\0${JSON.stringify(params)}`;
    const seen = acc.seenRoles.has(key);
    if (seen && !allowDuplicates && metaData.allow_duplicates !== true) return [];
    acc.seenRoles.add(key);

    const nodes: TaskNode[] = [];
    const deps = Array.isArray(metaData.dependencies) ? metaData.dependencies : [];
    deps.forEach((dep, i) => {
      if (!meta) return;
      nodes.push(...this.roleEntry(dep, { y: meta, path: ['dependencies', i] }, acc, [...chain, rolePath], rolePath));
    });

    const role: RoleContext = {
      name,
      path: rolePath,
      // A dependency's defaults are the role's too, below its own (Ansible: a common role in
      // meta/main.yml dependencies provides variables shared by several roles).
      defaults: { ...this.dependencyDefaults(rolePath, meta, [...chain, rolePath]), ...this.roleVars(rolePath, 'defaults') },
      vars: this.roleVars(rolePath, 'vars'),
      params,
    };
    acc.roles.push(role);
    const tasksFile = this.roleFile(rolePath, 'tasks', tasksFrom, tasksFrom !== 'main.yml' ? where : undefined);
    const ctx: TaskCtx = { y: tasksFile!, dir: path.join(rolePath, 'tasks'), role, handler: false, stack: tasksFile ? [tasksFile.file] : [], play: acc };
    const own = tasksFile ? this.taskList(tasksFile.data, { y: tasksFile, path: [] }, ctx) : [];
    const handlersFile = this.roleFile(rolePath, 'handlers', 'main.yml');
    // A role's handlers are the play's once, however often the role runs.
    const handlersSeen = acc.roles.filter((r) => r.path === rolePath).length > 1;
    if (handlersFile && !handlersSeen) acc.handlers.push(...(this.taskList(handlersFile.data, { y: handlersFile, path: [] }, { ...ctx, y: handlersFile, dir: path.join(rolePath, 'handlers'), handler: true }) as Handler[]));

    // Keywords on the role entry (when, tags, become ...) apply to each of its tasks: a block carries them.
    const kw = pickKeywords(d);
    if (Object.keys(kw).length === 0) return [...nodes, ...own];
    const block: Block = { kind: 'block', block: own, rescue: [], always: [], ...this.common(kw, where), role };
    return [...nodes, block];
  }

  /** Defaults of every role in meta/main.yml dependencies (deepest first), quietly: roleEntry reports bad entries. */
  dependencyDefaults(rolePath: string, meta: LoadedYaml | undefined, chain: string[]): Vars {
    const deps = meta && isMap(meta.data) && Array.isArray(meta.data.dependencies) ? meta.data.dependencies : [];
    const out: Vars = {};
    for (const dep of deps) {
      const name = typeof dep === 'string' ? dep : isMap(dep) ? String(dep.role ?? dep.name ?? '') : '';
      const envPath = (process.env.OBIAM_ROLES_PATH ?? process.env.ANSIBLE_ROLES_PATH ?? '').split(':').filter(Boolean);
      // The search list of findRole (which reports a role that is not found).
      const candidates = [path.join(rolePath, 'roles'), path.join(this.playbookDir, 'roles'), ...(this.opts.rolesPath ?? []), ...envPath, rolePath].map((b) => path.resolve(b, name));
      const hit = name && !isTemplated(name) ? candidates.find((c) => existsSync(c) && statSync(c).isDirectory()) : undefined;
      if (!hit || chain.includes(hit)) continue;
      Object.assign(out, this.dependencyDefaults(hit, this.roleFile(hit, 'meta', 'main.yml'), [...chain, hit]), this.roleVars(hit, 'defaults'));
    }
    return out;
  }

  findRole(name: string, where: Where, dir: string): string | undefined {
    if (isTemplated(name)) {
      this.err('E_BAD_VALUE', `role name ${shortValue(name)} uses a template; roles are resolved before the run`, where, [], 'name the role directly', 'value');
      return undefined;
    }
    const envPath = (process.env.OBIAM_ROLES_PATH ?? process.env.ANSIBLE_ROLES_PATH ?? '').split(':').filter(Boolean);
    const bases = [path.join(dir, 'roles'), path.join(this.playbookDir, 'roles'), ...(this.opts.rolesPath ?? []), ...envPath, dir];
    const candidates = path.isAbsolute(name) ? [name] : [...new Set(bases.map((b) => path.resolve(b, name)))];
    const hit = candidates.find((c) => existsSync(c) && statSync(c).isDirectory());
    if (hit) return hit;
    const known = [...new Set(bases.flatMap((b) => listDirs(b)))];
    const guess = suggest(name, known);
    this.err(
      'E_ROLE_NOT_FOUND',
      `role \`${name}\` not found${guess ? `; did you mean \`${guess}\`?` : ''}`,
      where,
      roleNameKey(getAt(where.y.data, where.path)),
      `looked in ${candidates.join(', ')}; roles live in roles/<name>/ beside the playbook`,
      'value',
    );
    return undefined;
  }

  roleFile(rolePath: string, kind: string, file: string, requiredAt?: Where): LoadedYaml | undefined {
    const base = path.join(rolePath, kind);
    const stem = file.replace(/\.ya?ml$/, '');
    const candidates = [path.join(base, file), path.join(base, `${stem}.yml`), path.join(base, `${stem}.yaml`), path.join(base, stem)];
    const hit = candidates.find((c) => existsSync(c) && statSync(c).isFile());
    if (!hit) {
      if (requiredAt) this.err('E_FILE_NOT_FOUND', `role file not found: ${path.join(base, file)}`, requiredAt, [], 'check tasks_from:', 'value');
      return undefined;
    }
    return this.read(hit);
  }

  /** defaults/ or vars/ of a role: main.yml, or a main/ directory of YAML files. */
  roleVars(rolePath: string, kind: 'defaults' | 'vars'): Vars {
    const out: Vars = {};
    const dirMain = path.join(rolePath, kind, 'main');
    const files = existsSync(dirMain) && statSync(dirMain).isDirectory()
      ? readdirSync(dirMain).filter((f) => /\.ya?ml$/.test(f)).sort().map((f) => path.join(dirMain, f))
      : [];
    const single = this.roleFile(rolePath, kind, 'main.yml');
    const loaded = [...(single ? [single] : []), ...files.map((f) => this.read(f)).filter((y): y is LoadedYaml => !!y)];
    for (const y of loaded) {
      if (y.data === null || y.data === undefined) continue;
      if (!isMap(y.data)) {
        this.errors.push(notVarsError(y));
        continue;
      }
      Object.assign(out, y.data);
    }
    return out;
  }

  // ---- tasks ----

  taskList(v: unknown, where: Where, ctx: TaskCtx): TaskNode[] {
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) {
      this.err('E_TASKS_SHAPE', `expected a list of tasks, got ${shortValue(v)}`, where, [], 'write each task as `- name: ...` followed by a module', 'value');
      return [];
    }
    const out: TaskNode[] = [];
    v.forEach((item, i) => {
      const w: Where = { y: where.y, path: [...where.path, i] };
      if (!isMap(item)) {
        this.err('E_TASK_SHAPE', `a task must be a mapping, got ${shortValue(item)}`, w, [], 'write the task as `- name: ...` with a module key such as `command:`', 'value');
        return;
      }
      if (!ctx.handler) {
        out.push(...this.task(item, w, ctx));
        return;
      }
      // Only the top-level entries are handlers (named, with topics); the tasks inside a handler block are plain tasks.
      for (const n of this.task(item, w, ctx)) {
        if (n.name === undefined && item.listen === undefined) this.err('E_HANDLER_NAME', 'a handler needs a `name:` (tasks notify it by name)', w, [], 'add `name: ...` (or `listen: topic`)');
        (n as Handler).listen = handlerNames(item.listen);
        out.push(n);
      }
    });
    return out;
  }

  common(d: Map_, where: Where): Omit<Task, 'kind' | 'module' | 'args' | 'notify'> {
    const opt = <T>(k: string, f: (v: unknown) => T): T | undefined => (d[k] === undefined ? undefined : f(d[k]));
    return {
      name: opt('name', String),
      when: conditions(d.when),
      tags: toStrings(d.tags),
      vars: isMap(d.vars) ? { ...d.vars } : {},
      become: opt('become', (v) => this.bool(v, where, 'become')),
      becomeUser: opt('become_user', String),
      becomeMethod: d.become_method as Task['becomeMethod'],
      ignoreErrors: opt('ignore_errors', (v) => this.bool(v, where, 'ignore_errors')),
      delegateTo: opt('delegate_to', String),
      runOnce: opt('run_once', (v) => this.bool(v, where, 'run_once')),
      noLog: opt('no_log', (v) => this.bool(v, where, 'no_log')),
      checkMode: opt('check_mode', (v) => this.bool(v, where, 'check_mode')),
      diff: opt('diff', (v) => this.bool(v, where, 'diff')),
      environment: isMap(d.environment) ? stringValues(d.environment) : typeof d.environment === 'string' ? d.environment : undefined,
      anyErrorsFatal: opt('any_errors_fatal', (v) => this.bool(v, where, 'any_errors_fatal')),
      location: where.y.locate(where.path, 'value'),
    };
  }

  task(d: Map_, where: Where, ctx: TaskCtx): TaskNode[] {
    if ('block' in d) return this.block(d, where, ctx);
    const keywords = ctx.handler ? HANDLER_KEYWORDS : TASK_KEYWORDS;
    const actions: string[] = [];
    const unknown: string[] = [];
    for (const k of Object.keys(d)) {
      if (k in keywords) continue;
      if (k === 'action' || INCLUDE_ACTIONS.includes(bare(k)) || getModule(bare(k))) actions.push(k);
      else unknown.push(k);
    }
    const before = this.errors.length;
    for (const k of unknown) {
      if (k in UNSUPPORTED_KEYWORDS) {
        this.err('E_UNSUPPORTED_KEYWORD', `\`${k}\` is not supported by obiam-run`, where, [k], UNSUPPORTED_KEYWORDS[k]!);
      } else if (k === 'listen') {
        this.err('E_UNKNOWN_KEYWORD', '`listen` is only allowed on handlers', where, [k], 'move the task under `handlers:` or remove `listen`');
      } else if (k === 'rescue' || k === 'always') {
        this.err('E_UNKNOWN_KEYWORD', `\`${k}\` needs a \`block:\` in the same task`, where, [k], 'put the tasks to protect under `block:`');
      } else if (actions.length === 0 && unknown.length === 1) {
        const guess = suggest(bare(k), [...moduleNames().filter((n) => !n.includes('.')), ...INCLUDE_ACTIONS, ...Object.keys(keywords)]);
        this.err('E_UNKNOWN_MODULE', `unknown module or keyword \`${k}\`${guess ? `; did you mean \`${guess}\`?` : ''}`, where, [k], 'docs/modules.md lists the modules; docs/playbook-language.md the task keywords');
      } else {
        const guess = suggest(k, [...Object.keys(keywords), ...(actions.length ? [] : moduleNames().filter((n) => !n.includes('.')))]);
        this.err('E_UNKNOWN_KEYWORD', `unknown task keyword \`${k}\`${guess ? `; did you mean \`${guess}\`?` : ''}`, where, [k], `task keywords: ${Object.keys(keywords).sort().join(', ')}`);
      }
    }
    if (actions.length > 1) {
      this.err('E_TASK_ACTIONS', `a task has one module; this one has ${actions.map((a) => `\`${a}\``).join(' and ')}`, where, [actions[1]!], 'split it into two tasks');
      return [];
    }
    if (actions.length === 0) {
      if (unknown.length === 0) this.err('E_TASK_NO_MODULE', 'this task has no module', where, [], 'add a module, e.g. `command: ...` or `copy: {src: ..., dest: ...}`');
      return [];
    }
    this.errors.push(...checkKeywords(d, keywords, where));
    const loopKeys = ['loop', 'with_items', 'with_list', 'with_dict'].filter((k) => d[k] !== undefined);
    if (loopKeys.length > 1) this.err('E_TASK_LOOPS', `a task has one loop; this one has ${loopKeys.join(' and ')}`, where, [loopKeys[1]!], 'keep one of them');
    if (this.errors.length > before) return [];

    const key = actions[0]!;
    const action = key === 'action' ? this.actionName(d.action, where) : bare(key);
    if (!action) return [];
    const common = { ...this.common(d, where), role: ctx.role };

    if (action === 'meta') {
      const a = String(d[key]).trim();
      if (!(META_ACTIONS as readonly string[]).includes(a)) {
        const guess = suggest(a, [...META_ACTIONS]);
        this.err('E_BAD_VALUE', `unknown meta action ${shortValue(d[key])}${guess ? `; did you mean \`${guess}\`?` : ''} (meta takes ${META_ACTIONS.join(', ')})`, where, [key], `meta actions: ${META_ACTIONS.join(', ')}`, 'value');
        return [];
      }
      const m: Meta = { kind: 'meta', action: a as Meta['action'], ...common };
      return [m];
    }
    if (action === 'include_tasks' || action === 'import_tasks') return this.includeTasks(action, d, key, where, ctx, common);
    if (action === 'import_role' || action === 'include_role') return this.importRole(d, key, where, ctx, common);

    const def = getModule(action)!;
    const args = this.moduleArgs(def, key === 'action' ? actionArgs(d.action) : d[key], d.args, where, key);
    if (!args) return [];
    this.checkSource(def, args, where, key, ctx);

    const loopKey = loopKeys[0];
    let loop: unknown;
    if (loopKey === 'with_items') loop = Array.isArray(d.with_items) ? d.with_items.flat(1) : wrapFilter(String(d.with_items), 'flatten(levels=1)');
    else if (loopKey === 'with_dict') loop = isMap(d.with_dict) ? Object.entries(d.with_dict).map(([k, v]) => ({ key: k, value: v })) : wrapFilter(String(d.with_dict), 'dict2items');
    else if (loopKey) loop = d[loopKey];
    const lc = isMap(d.loop_control) ? d.loop_control : undefined;
    const t: Task = {
      kind: 'task',
      module: def.name,
      args,
      ...common,
      loop,
      loopControl: lc
        ? { loopVar: lc.loop_var as string | undefined, label: lc.label as string | undefined, indexVar: lc.index_var as string | undefined, pause: lc.pause as number | undefined }
        : undefined,
      register: d.register as string | undefined,
      ignoreUnreachable: d.ignore_unreachable === undefined ? undefined : this.bool(d.ignore_unreachable, where, 'ignore_unreachable'),
      notify: handlerNames(d.notify),
      changedWhen: d.changed_when === undefined ? undefined : conditions(d.changed_when),
      failedWhen: d.failed_when === undefined ? undefined : conditions(d.failed_when),
      until: d.until === undefined ? undefined : conditions(d.until),
      retries: d.retries === undefined ? undefined : intOrTemplate(d.retries),
      delay: d.delay === undefined ? undefined : intOrTemplate(d.delay),
    };
    if (t.notify.length > 0) {
      this.notifyAt.set(t, t.notify.map((_, i) => where.y.locate([...where.path, 'notify', ...(Array.isArray(d.notify) ? [i] : [])], 'value')));
    }
    return [t];
  }

  actionName(v: unknown, where: Where): string | undefined {
    const name = isMap(v) ? v.module : typeof v === 'string' ? v.trim().split(/\s+/)[0] : undefined;
    const b = typeof name === 'string' ? bare(name) : '';
    if (b && (getModule(b) || INCLUDE_ACTIONS.includes(b))) return b;
    const guess = b ? suggest(b, moduleNames()) : undefined;
    this.err('E_UNKNOWN_MODULE', `action: unknown module ${shortValue(name)}${guess ? `; did you mean \`${guess}\`?` : ''}`, where, ['action'], 'write `action: module arg=value ...` or `action: {module: name, ...}`', 'value');
    return undefined;
  }

  moduleArgs(def: ModuleDef, raw: unknown, extra: unknown, where: Where, key: string): Record<string, unknown> | undefined {
    let args: Record<string, unknown>;
    let freeForm = false;
    if (raw === null || raw === undefined) args = {};
    else if (isMap(raw)) args = { ...raw };
    else if (typeof raw === 'string' || typeof raw === 'number') {
      freeForm = true;
      const props = Object.keys((def.schema.properties ?? {}) as Record<string, unknown>);
      const parsed = parseFreeForm(String(raw), def.freeForm ? props.filter((p) => p !== '_raw_params' && p !== 'cmd') : 'all');
      if (!def.freeForm && parsed.rest) {
        this.err('E_MODULE_ARGS', `${def.name} does not take free-form text (${shortValue(parsed.rest)})`, where, [key], `write the arguments as a mapping or as name=value pairs: ${props.filter((p) => !p.startsWith('_')).join(', ')}`, 'value');
        return undefined;
      }
      args = coerce(parsed.args, (def.schema.properties ?? {}) as Record<string, JsonSchema>);
      if (def.freeForm && parsed.rest) args._raw_params = parsed.rest;
    } else {
      this.err('E_MODULE_ARGS', `${def.name}: arguments must be a mapping${def.freeForm ? ' or a command line' : ' or name=value text'}; got ${shortValue(raw)}`, where, [key], 'indent the arguments under the module name', 'value');
      return undefined;
    }
    if (isMap(extra)) args = { ...extra, ...args };
    if (isTemplated(raw)) return args;
    const errs = checkModuleArgs(def, args, where, [key], freeForm);
    this.errors.push(...errs);
    return errs.length ? undefined : args;
  }

  /** Arguments a module declares as controller files must exist (unless templated); the run looks in the same places. */
  checkSource(def: ModuleDef, args: Record<string, unknown>, where: Where, key: string, ctx: TaskCtx): void {
    for (const f of def.controllerFiles ?? []) {
      const name = args[f.arg];
      if (typeof name !== 'string' || isTemplated(name) || f.unless?.(args)) continue;
      const search = { rolePath: ctx.role?.path, playbookDir: this.playbookDir, taskDir: path.dirname(where.y.file) };
      if (lookupControllerFile(f.kind, name, search)) continue;
      const sub = isMap(where.y.data) || Array.isArray(where.y.data) ? [key, f.arg] : [key];
      this.err('E_SRC_NOT_FOUND', `${def.name}: ${f.arg} \`${name}\` not found`, where, sub, `looked in ${controllerFileCandidates(f.kind, name, search).join(', ')}`, 'value');
    }
  }

  includeTasks(action: string, d: Map_, key: string, where: Where, ctx: TaskCtx, common: ReturnType<Loader['common']> & { role?: RoleContext }): TaskNode[] {
    const v = d[key];
    const file = typeof v === 'string' ? v.trim() : isMap(v) && typeof v.file === 'string' ? v.file : undefined;
    if (!file) {
      this.err('E_BAD_VALUE', `${action} needs a file name`, where, [key], `write \`${action}: file.yml\``, 'value');
      return [];
    }
    const abs = path.resolve(ctx.dir, file);
    if (action === 'include_tasks') {
      if (!isTemplated(file) && !existsSync(abs)) {
        this.err('E_INCLUDE_NOT_FOUND', `include_tasks: file not found: ${abs}`, where, [key], 'the path is relative to the including file', 'value');
        return [];
      }
      const lc = isMap(d.loop_control) ? d.loop_control : undefined;
      return [
        {
          kind: 'include',
          file,
          baseDir: ctx.dir,
          ...common,
          loop: d.loop ?? (Array.isArray(d.with_items) ? d.with_items.flat(1) : d.with_items),
          loopControl: lc ? { loopVar: lc.loop_var as string | undefined, label: lc.label as string | undefined, indexVar: lc.index_var as string | undefined } : undefined,
        },
      ];
    }
    // import_tasks: static, so the file must be known now.
    if (isTemplated(file)) {
      this.err('E_BAD_VALUE', 'import_tasks is static: its file name cannot use a template', where, [key], 'use include_tasks for a file chosen at run time', 'value');
      return [];
    }
    if (d.loop !== undefined || d.with_items !== undefined) {
      this.err('E_BAD_VALUE', 'import_tasks cannot loop', where, [d.loop !== undefined ? 'loop' : 'with_items'], 'use include_tasks with loop:');
      return [];
    }
    if (ctx.stack.includes(abs)) {
      this.err('E_IMPORT_CYCLE', `import_tasks cycle: ${[...ctx.stack, abs].join(' -> ')}`, where, [key], 'remove one of the imports', 'value');
      return [];
    }
    if (!existsSync(abs)) {
      this.err('E_INCLUDE_NOT_FOUND', `import_tasks: file not found: ${abs}`, where, [key], 'the path is relative to the importing file', 'value');
      return [];
    }
    const y = this.read(abs, where.y.locate([...where.path, key], 'value'));
    if (!y) return [];
    const nodes = this.taskList(y.data, { y, path: [] }, { ...ctx, y, dir: path.dirname(abs), stack: [...ctx.stack, abs] });
    return wrapIfKeywords(nodes, d, common);
  }

  importRole(d: Map_, key: string, where: Where, ctx: TaskCtx, common: ReturnType<Loader['common']>): TaskNode[] {
    const v = d[key];
    const spec = typeof v === 'string' ? { name: v } : isMap(v) ? v : {};
    if (typeof spec.name !== 'string') {
      this.err('E_BAD_VALUE', `${key} needs \`name:\``, where, [key], `write \`${key}: {name: rolename}\``, 'value');
      return [];
    }
    if (!ctx.play) {
      this.err('E_UNSUPPORTED_KEYWORD', `${key} inside a file included at run time is not supported`, where, [key], 'use import_tasks for the including file, or list the role under roles:');
      return [];
    }
    if (d.loop !== undefined) {
      this.err('E_BAD_VALUE', `${key} cannot loop in obiam-run (roles are expanded before the run)`, where, ['loop'], 'loop inside the role instead');
      return [];
    }
    const rolePath = this.findRole(spec.name, { y: where.y, path: [...where.path, key] }, this.playbookDir);
    if (!rolePath) return [];
    const params: Vars = isMap(d.vars) ? { ...d.vars } : {};
    const tasksFrom = typeof spec.tasks_from === 'string' ? spec.tasks_from : 'main.yml';
    const nodes = this.expandRole(rolePath, spec.name, params, {}, { y: where.y, path: [...where.path, key] }, ctx.play, [], tasksFrom, spec.allow_duplicates !== false);
    // The entry's own `vars:` went to role params; the block carries the rest of its keywords.
    return wrapIfKeywords(nodes, { ...d, vars: undefined }, { ...common, vars: {} });
  }

  block(d: Map_, where: Where, ctx: TaskCtx): TaskNode[] {
    const before = this.errors.length;
    const keywords = ctx.handler ? { ...BLOCK_KEYWORDS, listen: HANDLER_KEYWORDS.listen! } : BLOCK_KEYWORDS;
    ctx = { ...ctx, handler: false };
    this.unknownKeys(d, keywords, where, 'block', (k) => (getModule(bare(k)) ? `a block holds tasks; move \`${k}\` into a task under \`block:\`` : undefined));
    this.errors.push(...checkKeywords(d, keywords, where));
    const sub = (k: string): Where => ({ y: where.y, path: [...where.path, k] });
    const b: Block = {
      kind: 'block',
      // Sections that are not lists have been reported by checkKeywords above.
      block: this.taskList(Array.isArray(d.block) ? d.block : undefined, sub('block'), ctx),
      rescue: this.taskList(Array.isArray(d.rescue) ? d.rescue : undefined, sub('rescue'), ctx),
      always: this.taskList(Array.isArray(d.always) ? d.always : undefined, sub('always'), ctx),
      ...this.common(d, where),
      role: ctx.role,
    };
    return this.errors.length > before ? [] : [b];
  }

  checkNotify(nodes: TaskNode[], handlers: Handler[]): void {
    const names = new Set<string>();
    for (const h of handlers) {
      if (h.name) names.add(h.name);
      if (h.name && h.role) names.add(`${h.role.name} : ${h.name}`);
      for (const l of h.listen) names.add(l);
    }
    const walk = (list: TaskNode[]): void => {
      for (const n of list) {
        if (n.kind === 'block') walk([...n.block, ...n.rescue, ...n.always]);
        if (n.kind !== 'task') continue;
        for (const [i, target] of n.notify.entries()) {
          if (isTemplated(target) || names.has(target)) continue;
          const guess = suggest(target, [...names]);
          this.errors.push(
            new ObiamError('E_NOTIFY_UNKNOWN', `notify: no handler is named or listens to \`${target}\`${guess ? `; did you mean \`${guess}\`?` : ''}`, {
              location: this.notifyAt.get(n)?.[i] ?? n.location,
              remedy: names.size ? `handlers of this play: ${[...names].join(', ')}` : 'add a handler with this name under `handlers:` (or in the role handlers/main.yml)',
              exitCode: EXIT.PARSE,
            }),
          );
        }
      }
    };
    walk(nodes);
  }
}

// ---- helpers ----

/**
 * A vars file that is not a mapping. A file holding nothing but the path of an existing file is a
 * symbolic link that was copied (or checked out with git's core.symlinks off) as a plain file: say so.
 */
function notVarsError(y: LoadedYaml): ObiamError {
  const target = typeof y.data === 'string' && !y.data.includes('\n') ? path.resolve(path.dirname(y.file), y.data.trim()) : undefined;
  if (target !== undefined && target !== y.file && existsSync(target)) {
    return new ObiamError('E_VARS_SHAPE', `this vars file holds only the path ${JSON.stringify(y.data)}: a symbolic link saved as a plain file`, {
      location: y.locate([]),
      remedy: `make it a link again: ln -sf ${String(y.data).trim()} ${y.file} (git: core.symlinks=true)`,
      exitCode: EXIT.PARSE,
    });
  }
  return new ObiamError('E_VARS_SHAPE', `a vars file must hold a mapping of variables; got ${shortValue(y.data)}`, { location: y.locate([]), remedy: 'write `name: value` lines', exitCode: EXIT.PARSE });
}

function listDirs(dir: string): string[] {
  try {
    return readdirSync(dir).filter((n) => !n.startsWith('.') && statSync(path.join(dir, n)).isDirectory());
  } catch {
    return [];
  }
}

function getAt(data: unknown, p: ReadonlyArray<string | number>): unknown {
  let cur = data;
  for (const k of p) cur = cur !== null && typeof cur === 'object' ? (cur as Record<string | number, unknown>)[k] : undefined;
  return cur;
}

/** Where a role's name is written in an entry: `role:` or `name:` of a mapping, else the entry itself. */
function roleNameKey(entry: unknown): string[] {
  if (!isMap(entry)) return [];
  return 'role' in entry ? ['role'] : 'name' in entry ? ['name'] : [];
}

function conditions(v: unknown): Condition[] {
  if (v === undefined || v === null) return [];
  if (Array.isArray(v)) return v.map((x) => (typeof x === 'boolean' ? x : String(x)));
  return [typeof v === 'boolean' ? v : String(v)];
}

function toStrings(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  if (Array.isArray(v)) return v.map(String);
  return String(v)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** notify / listen: a string is one handler name (commas included), a list is several. */
function handlerNames(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  return (Array.isArray(v) ? v : [v]).map(String);
}

function stringValues(m: Map_): Record<string, string> {
  return Object.fromEntries(Object.entries(m).map(([k, v]) => [k, v === null || v === undefined ? '' : typeof v === 'boolean' ? (v ? 'True' : 'False') : String(v)]));
}

function toInt(v: unknown): number {
  return typeof v === 'number' ? v : Number.parseInt(String(v), 10);
}

/** `retries: 3` or `retries: "{{ n }}"`: a template is kept for the runner to render per host. */
function intOrTemplate(v: unknown): number | string {
  return typeof v === 'string' && v.includes('{{') ? v : toInt(v);
}

function serialList(v: unknown): (number | string)[] {
  if (v === undefined || v === null) return [];
  const list = Array.isArray(v) ? v : [v];
  return list.map((x) => (typeof x === 'number' ? x : /^\s*\d+\s*$/.test(String(x)) ? Number(x) : String(x).trim()));
}

/** `"{{ expr }}"` -> `"{{ (expr) | filter }}"`, for with_items/with_dict written as templates. */
function wrapFilter(s: string, filter: string): string {
  const m = /^\s*\{\{(.*)\}\}\s*$/s.exec(s);
  return m ? `{{ (${m[1]!.trim()}) | ${filter} }}` : s;
}

function actionArgs(v: unknown): unknown {
  if (isMap(v)) {
    const { module: _m, ...rest } = v;
    return rest;
  }
  const s = String(v).trim();
  const i = s.search(/\s/);
  return i < 0 ? null : s.slice(i + 1);
}

const ENTRY_KEYWORDS = ['when', 'tags', 'become', 'become_user', 'become_method', 'delegate_to', 'environment', 'ignore_errors', 'no_log', 'check_mode', 'vars'];

/** The keywords of a role entry / import that should flow down to the tasks it brings. */
function pickKeywords(d: Map_): Map_ {
  const out: Map_ = {};
  for (const k of ENTRY_KEYWORDS) if (d[k] !== undefined && k !== 'vars') out[k] = d[k];
  return out;
}

function wrapIfKeywords(nodes: TaskNode[], d: Map_, common: Omit<Block, 'kind' | 'block' | 'rescue' | 'always'>): TaskNode[] {
  const hasKw = ENTRY_KEYWORDS.some((k) => d[k] !== undefined && !(k === 'vars' && !isMap(d[k])));
  if (!hasKw) return nodes;
  return [{ kind: 'block', block: nodes, rescue: [], always: [], ...common, name: undefined }];
}

/**
 * Splits `key=value` words out of free-form text (Ansible's k=v form). For command/shell only the
 * module's own options are taken out (`chdir=/tmp ls` -> chdir + `ls`); the rest stays verbatim,
 * newlines included. Quotes around a value are removed; `{{ }}` keeps its spaces.
 */
export function parseFreeForm(text: string, keys: string[] | 'all'): { args: Record<string, string>; rest: string } {
  const args: Record<string, string> = {};
  const spans: [number, number][] = [];
  let i = 0;
  while (i < text.length) {
    while (i < text.length && /\s/.test(text[i]!)) i++;
    if (i >= text.length) break;
    const start = i;
    let quote: string | null = null;
    let depth = 0;
    while (i < text.length) {
      const ch = text[i]!;
      if (quote) {
        if (ch === '\\' && quote === '"') i++;
        else if (ch === quote) quote = null;
      } else if (ch === '"' || ch === "'") quote = ch;
      else if ((ch === '{' && (text[i + 1] === '{' || text[i + 1] === '%')) || (depth > 0 && ch === '{')) depth++;
      else if (depth > 0 && ch === '}') depth--;
      else if (depth === 0 && /\s/.test(ch)) break;
      i++;
    }
    const word = text.slice(start, i);
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=([\s\S]*)$/.exec(word);
    if (m && (keys === 'all' || keys.includes(m[1]!))) {
      let val = m[2]!;
      if (val.length >= 2 && (val[0] === '"' || val[0] === "'") && val.at(-1) === val[0]) val = val.slice(1, -1);
      args[m[1]!] = val;
      spans.push([start, i]);
    }
  }
  // The k=v words go, each with the blanks after it; everything else (quoted runs of spaces,
  // newlines of a `|` block) stays exactly as written.
  let rest = '';
  let pos = 0;
  for (const [a, b] of spans) {
    rest += text.slice(pos, a);
    pos = b;
    while (pos < text.length && (text[pos] === ' ' || text[pos] === '\t')) pos++;
  }
  rest += text.slice(pos);
  return { args, rest: rest.trim() };
}

/** key=value strings become booleans/numbers where the module's schema wants them. */
function coerce(args: Record<string, string>, props: Record<string, JsonSchema>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(args)) {
    const t = props[k]?.type;
    const types = Array.isArray(t) ? t : t === undefined ? [] : [t];
    if (types.includes('boolean') && !types.includes('string') && /^(yes|no|true|false|on|off|1|0)$/i.test(v)) out[k] = /^(yes|true|on|1)$/i.test(v);
    else if ((types.includes('integer') || types.includes('number')) && !types.includes('string') && /^-?\d+(\.\d+)?$/.test(v)) out[k] = Number(v);
    else out[k] = v;
  }
  return out;
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

/** Drops repeats and puts the errors of each file in the order they appear in it (files in the order first met). */
function dedupe(errors: ObiamError[]): ObiamError[] {
  const seen = new Set<string>();
  const unique = errors.filter((e) => {
    const k = `${e.code}\0${e.message}\0${e.location?.file}:${e.location?.line}:${e.location?.col}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
  const fileOrder = new Map<string, number>();
  for (const e of unique) if (!fileOrder.has(e.location?.file ?? '')) fileOrder.set(e.location?.file ?? '', fileOrder.size);
  const rank = (e: ObiamError): number[] => [fileOrder.get(e.location?.file ?? '')!, e.location?.line ?? 0, e.location?.col ?? 0];
  return unique
    .map((e, i) => ({ e, i, r: rank(e) }))
    .sort((a, b) => a.r[0]! - b.r[0]! || a.r[1]! - b.r[1]! || a.r[2]! - b.r[2]! || a.i - b.i)
    .map((x) => x.e);
}
