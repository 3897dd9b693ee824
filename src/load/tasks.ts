// The loader's tasks: task lists, one task (its module, keywords, loop), blocks, handlers, meta,
// import_tasks / include_tasks, import_role / include_role and notify targets. The third floor of
// the loader (playbook.ts builds plays on it).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { EXIT, ObiamError, type SourceLocation } from '../errors.js';
import { controllerFileCandidates, lookupControllerFile } from '../modules/lib/controller-files.js';
import { getModule, moduleNames } from '../modules/registry.js';
import type { JsonSchema, ModuleDef } from '../modules/types.js';
import type { Vars } from '../types.js';
import { actionArgs, coerce, parseFreeForm } from './free-form.js';
import { WITH_LOOPS, readKeywords, type Level } from './keywords.js';
import type { Block, Handler, Meta, RoleContext, Task, TaskNode } from './model.js';
import { RoleLoader, wrapIfKeywords, type NodeFields, type PlayAcc, type TaskCtx } from './roles.js';
import { BLOCK_KEYWORDS, HANDLER_KEYWORDS, INCLUDE_ACTIONS, META_ACTIONS, TASK_KEYWORDS, UNSUPPORTED_KEYWORDS } from './schemas.js';
import { checkKeywords, checkModuleArgs, isTemplated, shortValue, suggest, type Where } from './validate.js';
import { bare, conditions, handlerNames, intOrTemplate, isMap, stringValues, toStrings, type Map_ } from './values.js';

export class TaskLoader extends RoleLoader {
  /** Where each notify target of a task is written, so an unknown handler is named at its own line. */
  readonly notifyAt = new WeakMap<Task, SourceLocation[]>();

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

  common(d: Map_, where: Where, level: Level): NodeFields {
    const out: Record<string, unknown> = { when: [], tags: [], vars: {}, location: where.y.locate(where.path, 'value') };
    for (const k of readKeywords(level)) {
      const v = d[k.yaml];
      if (v === undefined) continue;
      out[k.field!] = this.readValue(k.read!, v, where, k.yaml);
    }
    return out as unknown as NodeFields;
  }

  /** One keyword value into its model form, by the reader the keyword table names. */
  readValue(read: NonNullable<ReturnType<typeof readKeywords>[number]['read']>, v: unknown, where: Where, key: string): unknown {
    switch (read) {
      case 'string':
        return String(v);
      case 'bool':
        return this.bool(v, where, key);
      case 'conditions':
        return conditions(v);
      case 'strings':
        return toStrings(v);
      case 'names':
        return handlerNames(v);
      case 'vars':
        // `vars:` as a list of mappings is read as their merge, in order (as Ansible does).
        return isMap(v) ? { ...v } : Array.isArray(v) ? Object.assign({}, ...v.filter(isMap)) : {};
      case 'environment':
        return isMap(v) ? stringValues(v) : typeof v === 'string' ? v : undefined;
    }
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
    const loopKeys = ['loop', ...WITH_LOOPS.map((l) => `with_${l}`)].filter((k) => d[k] !== undefined);
    if (loopKeys.length > 1) this.err('E_TASK_LOOPS', `a task has one loop; this one has ${loopKeys.join(' and ')}`, where, [loopKeys[1]!], 'keep one of them');
    if (this.errors.length > before) return [];

    const key = actions[0]!;
    const action = key === 'action' ? this.actionName(d.action, where) : bare(key);
    if (!action) return [];
    const common = { ...this.common(d, where, ctx.handler ? 'handler' : 'task'), role: ctx.role };

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
    // `include:` (deprecated in 2.14, still read): static like import_tasks when it can be (a fixed
    // file name, no loop), else dynamic like include_tasks, as 2.14 decides.
    if (action === 'include') {
      const dynamic = isTemplated(d[key]) || Object.keys(d).some((k) => k === 'loop' || k.startsWith('with_'));
      return this.includeTasks(dynamic ? 'include_tasks' : 'import_tasks', d, key, where, ctx, common);
    }
    if (action === 'include_tasks' || action === 'import_tasks') return this.includeTasks(action, d, key, where, ctx, common);
    if (action === 'import_role' || action === 'include_role') return this.importRole(d, key, where, ctx, common);

    const def = getModule(action)!;
    const args = this.moduleArgs(def, key === 'action' ? actionArgs(d.action) : d[key], d.args, where, key);
    if (!args) return [];
    this.checkSource(def, args, where, key, ctx);

    const { loop, loopWith } = loopOf(d, loopKeys[0]);
    const lc = isMap(d.loop_control) ? d.loop_control : undefined;
    const t: Task = {
      kind: 'task',
      module: def.name,
      args,
      ...common,
      loop,
      loopWith,
      loopControl: loopControlOf(lc),
      register: d.register as string | undefined,
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

  includeTasks(action: string, d: Map_, key: string, where: Where, ctx: TaskCtx, common: NodeFields & { role?: RoleContext }): TaskNode[] {
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
          ...loopOf(d, ['loop', ...WITH_LOOPS.map((l) => `with_${l}`)].find((k) => d[k] !== undefined)),
          loopControl: loopControlOf(lc),
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

  importRole(d: Map_, key: string, where: Where, ctx: TaskCtx, common: NodeFields): TaskNode[] {
    const v = d[key];
    // `include_role: name=x tasks_from=y` (free form) or a mapping.
    const spec: Map_ = typeof v === 'string' ? (v.includes('=') ? parseFreeForm(v, 'all').args : { name: v }) : isMap(v) ? v : {};
    if (typeof spec.name !== 'string') {
      this.err('E_BAD_VALUE', `${key} needs \`name:\``, where, [key], `write \`${key}: {name: rolename}\``, 'value');
      return [];
    }
    const params: Vars = isMap(d.vars) ? { ...d.vars } : {};
    const tasksFrom = typeof spec.tasks_from === 'string' ? spec.tasks_from : undefined;
    const apply = isMap(spec.apply) ? spec.apply : undefined;
    const loopKey = ['loop', ...WITH_LOOPS.map((l) => `with_${l}`)].find((k) => d[k] !== undefined);
    // include_role is read at run time when it must be: a templated name, a loop, or a file included at run time.
    if (key.endsWith('include_role') && (isTemplated(spec.name) || loopKey !== undefined || !ctx.play)) {
      return [{ kind: 'include', file: '', baseDir: ctx.dir, ...common, ...loopOf(d, loopKey), loopControl: loopControlOf(isMap(d.loop_control) ? d.loop_control : undefined), includeRole: { name: spec.name, tasksFrom, params, apply } }];
    }
    if (!ctx.play) {
      this.err('E_UNSUPPORTED_KEYWORD', `${key} inside a file included at run time is not supported`, where, [key], 'use include_role, or import_tasks for the including file');
      return [];
    }
    if (loopKey !== undefined) {
      this.err('E_BAD_VALUE', `${key} is static and cannot loop`, where, [loopKey], 'use include_role with loop:');
      return [];
    }
    const rolePath = this.findRole(spec.name, { y: where.y, path: [...where.path, key] }, this.playbookDir);
    if (!rolePath) return [];
    const nodes = this.roleTasks(rolePath, spec.name, params, { y: where.y, path: [...where.path, key] }, ctx.play, tasksFrom, apply, spec.allow_duplicates !== false);
    // The entry's own `vars:` went to role params; the block carries the rest of its keywords.
    return wrapIfKeywords(nodes, { ...d, vars: undefined }, { ...common, vars: {} });
  }

  /** A role's tasks for import_role / include_role, with `apply:` keywords on each of them. */
  roleTasks(rolePath: string, name: string, params: Vars, where: Where, acc: PlayAcc, tasksFrom: string | undefined, apply: Map_ | undefined, allowDuplicates: boolean): TaskNode[] {
    const nodes = this.expandRole(rolePath, name, params, {}, where, acc, [], tasksFrom ?? 'main.yml', allowDuplicates);
    if (!apply) return nodes;
    this.errors.push(...checkKeywords(apply, BLOCK_KEYWORDS, { y: where.y, path: [...where.path, 'apply'] }));
    return [{ kind: 'block', block: nodes, rescue: [], always: [], ...this.common(apply, { y: where.y, path: [...where.path, 'apply'] }, 'block') }];
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
      ...this.common(d, where, 'block'),
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

/** `loop:` as written, or `with_<name>:` as the terms of the lookup `<name>` (as Ansible 2.14 runs it). */
function loopOf(d: Map_, key: string | undefined): { loop?: unknown; loopWith?: string } {
  if (key === undefined) return {};
  if (key === 'loop') return { loop: d.loop };
  return { loop: d[key], loopWith: key.slice('with_'.length) };
}

function loopControlOf(lc: Map_ | undefined): Task['loopControl'] {
  if (!lc) return undefined;
  return {
    loopVar: lc.loop_var as string | undefined,
    label: lc.label as string | undefined,
    indexVar: lc.index_var as string | undefined,
    pause: lc.pause as number | undefined,
    extended: lc.extended as boolean | string | undefined,
    extendedAllitems: lc.extended_allitems as boolean | string | undefined,
  };
}
