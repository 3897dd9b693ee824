// Variable precedence (Ansible's order, lowest first) and lazy templating of variable values.
import type { SourceLocation } from '../errors.js';
import { conditionTruthy, hasTemplate, type RenderValueOptions, type Templater } from '../vars/template.js';
import { isUnsafe } from '../vars/unsafe.js';
import type { Vars } from '../types.js';

/** The layers a task's variables come from; every layer is optional. */
export interface VarLayers {
  roleDefaults?: Vars;
  /** Inventory vars (group vars < host vars, already merged by hostVarsOf). */
  inventory?: Vars;
  /** Gathered facts: ansible_* top-level names plus `ansible_facts`. */
  facts?: Vars;
  play?: Vars;
  varsFiles?: Vars;
  roleVars?: Vars;
  /** Block vars, outermost first. */
  blocks?: Vars[];
  task?: Vars;
  /** include_tasks `vars:` and its loop variable. */
  includeParams?: Vars;
  /** set_fact results and registered variables of the host. */
  hostFacts?: Vars;
  roleParams?: Vars;
  extra?: Vars;
  /** Magic variables (inventory_hostname, groups, hostvars, ...); extra vars still win over them. */
  magic?: Vars;
}

/** The precedence order, lowest first, as documented in docs/variables.md. */
export const PRECEDENCE: readonly (keyof VarLayers)[] = [
  'roleDefaults',
  'inventory',
  'facts',
  'play',
  'varsFiles',
  'roleVars',
  'blocks',
  'task',
  'includeParams',
  'hostFacts',
  'roleParams',
  'magic',
  'extra',
];

/** Merges the layers; a higher layer replaces a name whole (Ansible's default hash_behaviour=replace). */
export function composeTaskVars(l: VarLayers): Vars {
  const out: Vars = {};
  for (const key of PRECEDENCE) {
    if (key === 'blocks') {
      for (const b of l.blocks ?? []) Object.assign(out, b);
      continue;
    }
    const layer = l[key] as Vars | undefined;
    if (layer) Object.assign(out, layer);
  }
  return out;
}

/** Facts from setup into their var form: `ansible_x` top level and `ansible_facts.x`. */
export function factsToVars(facts: Vars): Vars {
  if (Object.keys(facts).length === 0) return {};
  const top: Vars = {};
  const short: Vars = {};
  for (const [k, v] of Object.entries(facts)) {
    const bare = k.startsWith('ansible_') ? k.slice('ansible_'.length) : k;
    short[bare] = v;
    top[`ansible_${bare}`] = v;
  }
  return { ...top, ansible_facts: short };
}

const IDENT = /[A-Za-z_][A-Za-z0-9_]*/g;

/** Identifier-like words inside the template parts of a string (an over-approximation of the names it reads). */
function namesIn(text: string, bare: boolean): Set<string> {
  const out = new Set<string>();
  const parts: string[] = [];
  if (bare) parts.push(text);
  else {
    const re = /\{\{([\s\S]*?)\}\}|\{%([\s\S]*?)%\}/g;
    let m: RegExpExecArray | null;
    while ((m = re.exec(text))) parts.push(m[1] ?? m[2] ?? '');
  }
  for (const p of parts) for (const w of p.match(IDENT) ?? []) out.add(w);
  return out;
}

function collectNames(value: unknown, into: Set<string>, bare = false): void {
  if (typeof value === 'string') {
    if (bare || hasTemplate(value)) for (const n of namesIn(value, bare)) into.add(n);
  } else if (Array.isArray(value)) for (const v of value) collectNames(v, into);
  else if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value)) collectNames(v, into);
  }
}

/** Lazy views (hostvars and each host in it): already rendered on read, never walked as a whole. */
export const lazyViews = new WeakSet<object>();

function containsTemplate(value: unknown): boolean {
  if (typeof value === 'string') return hasTemplate(value);
  if (isUnsafe(value)) return false; // registered results, !unsafe: data, never templates
  if (value && typeof value === 'object' && lazyViews.has(value)) return false;
  if (Array.isArray(value)) return value.some(containsTemplate);
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) return Object.values(value).some(containsTemplate);
  return false;
}

/**
 * A task's variables with Ansible's lazy templating: a variable whose value is a template is rendered
 * only when something reads it (so an unused broken variable is no error), with its own references
 * resolved first. nunjucks copies its context eagerly, so the names a template reads are found up front.
 */
export class VarScope {
  private readonly resolved = new Map<string, unknown>();
  private readonly resolving = new Set<string>();
  constructor(
    readonly raw: Vars,
    private readonly templater: Templater,
  ) {}

  /** Sets (or replaces) a variable, e.g. the loop item. */
  with(extra: Vars): VarScope {
    const s = new VarScope({ ...this.raw, ...extra }, this.templater);
    for (const [k, v] of this.resolved) if (!(k in extra)) s.resolved.set(k, v);
    return s;
  }

  /** The variable's value with its templates rendered. */
  get(name: string): unknown {
    if (this.resolved.has(name)) return this.resolved.get(name);
    const v = this.raw[name];
    if (!containsTemplate(v)) return v;
    if (this.resolving.has(name)) {
      // A self reference (x: "{{ x }}"): Ansible reports a recursive loop; keep the raw text instead of looping.
      return v;
    }
    this.resolving.add(name);
    try {
      const out = this.templater.renderValue(v, this.contextFor(v), `variable '${name}'`, { keepUnsafe: true });
      this.resolved.set(name, out);
      return out;
    } finally {
      this.resolving.delete(name);
    }
  }

  /** A plain context for rendering `value`: the names it reads are rendered, the rest stay raw. */
  contextFor(value: unknown, bare = false): Vars {
    const names = new Set<string>();
    collectNames(value, names, bare);
    const ctx: Vars = { ...this.raw };
    for (const n of names) if (n in this.raw && containsTemplate(this.raw[n])) ctx[n] = this.get(n);
    return ctx;
  }

  /** Every variable rendered where possible (for hostvars and debug); broken ones keep their raw text. */
  all(): Vars {
    const out: Vars = {};
    for (const k of Object.keys(this.raw)) {
      try {
        out[k] = this.get(k);
      } catch {
        out[k] = this.raw[k];
      }
    }
    return out;
  }

  render(template: string, source?: SourceLocation | string): string {
    return this.templater.render(template, this.contextFor(template), source);
  }

  renderValue(value: unknown, source?: SourceLocation | string, opts?: RenderValueOptions): unknown {
    return this.templater.renderValue(value, this.contextFor(value), source, opts);
  }

  evaluate(expr: string, source?: SourceLocation | string): unknown {
    return this.templater.evaluate(expr, this.contextFor(expr, true), source);
  }

  /** All conditions must hold (Ansible truthiness); booleans pass through. */
  conditions(conds: ReadonlyArray<string | boolean>, source?: SourceLocation | string): boolean {
    for (const c of conds) {
      if (typeof c === 'boolean') {
        if (!c) return false;
        continue;
      }
      // `when: "{{ x }}"` is accepted like Ansible does (with its warning): strip the braces.
      const m = /^\s*\{\{([\s\S]*)\}\}\s*$/.exec(c);
      const expr = m && !m[1]!.includes('{{') ? m[1]! : c;
      // Jinja's truthiness, as Ansible 2.14's `{% if %}`: the string "false" is non-empty, so true.
      if (!conditionTruthy(this.evaluate(expr, source))) return false;
    }
    return true;
  }
}
