// The loader's roles: role entries, meta/main.yml dependencies (cycles, allow_duplicates), the
// role search path, a role's defaults/vars/tasks/handlers files. The second floor of the loader:
// tasks.ts builds on it and supplies the task reading (taskList, common).
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Vars } from '../types.js';
import { LoaderBase, notVarsError } from './diagnostics.js';
import type { Level } from './keywords.js';
import type { Block, Handler, RoleContext, TaskNode } from './model.js';
import { ROLE_ENTRY_KEYWORDS } from './schemas.js';
import { checkKeywords, isTemplated, shortValue, suggest, type Where } from './validate.js';
import { isMap, type Map_ } from './values.js';
import type { LoadedYaml } from './yaml.js';

/** What the loader knows while reading one tasks file. */
export interface TaskCtx {
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

export interface PlayAcc {
  handlers: Handler[];
  roles: RoleContext[];
  seenRoles: Set<string>;
}

/** The keyword fields of a node (the NodeCommon part of the model), as `common` reads them. */
export type NodeFields = Omit<Block, 'kind' | 'block' | 'rescue' | 'always'>;

export abstract class RoleLoader extends LoaderBase {
  abstract taskList(v: unknown, where: Where, ctx: TaskCtx): TaskNode[];
  /** The keywords of a node at a level, read into the model's fields by the keyword table. */
  abstract common(d: Map_, where: Where, level: Level): NodeFields;

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
    const block: Block = { kind: 'block', block: own, rescue: [], always: [], ...this.common(kw, where, 'role'), role };
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
export function roleNameKey(entry: unknown): string[] {
  if (!isMap(entry)) return [];
  return 'role' in entry ? ['role'] : 'name' in entry ? ['name'] : [];
}

/** The keywords of a role entry / import that flow down to the tasks it brings (not its name or vars). */
export function pickKeywords(d: Map_): Map_ {
  const out: Map_ = {};
  for (const k of Object.keys(ROLE_ENTRY_KEYWORDS)) if (d[k] !== undefined && k !== 'vars' && k !== 'name' && k !== 'role') out[k] = d[k];
  return out;
}

/** Tasks an import brings, wrapped in a block when the import carries keywords for them. */
export function wrapIfKeywords(nodes: TaskNode[], d: Map_, common: NodeFields): TaskNode[] {
  const hasKw = Object.keys(pickKeywords(d)).length > 0 || (isMap(d.vars) && Object.keys(d.vars).length > 0) || d.notify !== undefined;
  if (!hasKw) return nodes;
  return [{ kind: 'block', block: nodes, rescue: [], always: [], ...common, name: undefined }];
}
