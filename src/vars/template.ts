// Jinja2-compatible templating on nunjucks: autoescape off, undefined is an error naming the
// variable, Ansible's filters/tests/lookups, bare expressions for when/changed_when/failed_when.
// (Skeleton API; filters, tests and lookups are filled in by the templating work.)
import nunjucks from 'nunjucks';
import { EXIT, ObiamError, type SourceLocation } from '../errors.js';
import type { Vars } from '../types.js';

export interface Templater {
  /** Renders a template string to a string. */
  render(template: string, vars: Vars, source?: SourceLocation | string): string;
  /** Renders strings inside any JSON-like value; a string that is exactly one `{{ expr }}` keeps the expression's native type. */
  renderValue<T = unknown>(value: T, vars: Vars, source?: SourceLocation | string): unknown;
  /** Evaluates a bare Jinja expression (as in `when:`) to its value. */
  evaluate(expr: string, vars: Vars, source?: SourceLocation | string): unknown;
  /** Evaluates a list of conditions with Ansible truthiness; all must hold. */
  evalConditions(conds: ReadonlyArray<string | boolean>, vars: Vars, source?: SourceLocation | string): boolean;
}

const SINGLE_EXPR = /^\{\{\s*([\s\S]*?)\s*\}\}$/;

export function hasTemplate(s: string): boolean {
  return s.includes('{{') || s.includes('{%');
}

export function createTemplater(opts: { searchPaths?: string[] } = {}): Templater {
  const env = new nunjucks.Environment(new nunjucks.FileSystemLoader(opts.searchPaths ?? [], { noCache: true }), {
    autoescape: false,
    throwOnUndefined: true,
    trimBlocks: true,
    lstripBlocks: true,
  });
  const wrap = (e: unknown, what: string, source?: SourceLocation | string): ObiamError => {
    const msg = e instanceof Error ? e.message.replace(/^\(unknown path\)\s*/, '').replace(/\s+/g, ' ').trim() : String(e);
    const location = typeof source === 'object' ? source : undefined;
    return new ObiamError('E_TEMPLATE', `${typeof source === 'string' ? `${source}: ` : ''}error rendering ${what}: ${msg}`, {
      location,
      remedy: 'define the variable (inventory, vars, -e) or give a default: {{ x | default(...) }}',
      exitCode: EXIT.ERROR,
    });
  };
  const render = (template: string, vars: Vars, source?: SourceLocation | string): string => {
    if (!hasTemplate(template)) return template;
    try {
      return env.renderString(template, vars);
    } catch (e) {
      throw wrap(e, JSON.stringify(template.length > 80 ? `${template.slice(0, 77)}...` : template), source);
    }
  };
  const evaluate = (expr: string, vars: Vars, source?: SourceLocation | string): unknown => {
    // Render the expression to JSON inside a sentinel so the native value survives.
    const out = render(`{{ (${expr}) | __native }}`, vars, source);
    return JSON.parse(out) as unknown;
  };
  env.addFilter('__native', (v: unknown) => JSON.stringify(v === undefined ? null : v));
  const renderValue = (value: unknown, vars: Vars, source?: SourceLocation | string): unknown => {
    if (typeof value === 'string') {
      if (!hasTemplate(value)) return value;
      const m = SINGLE_EXPR.exec(value);
      if (m && !m[1]!.includes('}}') && !m[1]!.includes('{{')) return evaluate(m[1]!, vars, source);
      return render(value, vars, source);
    }
    if (Array.isArray(value)) return value.map((v) => renderValue(v, vars, source));
    if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[k] = renderValue(v, vars, source);
      return out;
    }
    return value;
  };
  const evalConditions = (conds: ReadonlyArray<string | boolean>, vars: Vars, source?: SourceLocation | string): boolean => {
    for (const c of conds) {
      if (typeof c === 'boolean') {
        if (!c) return false;
        continue;
      }
      if (!truthy(evaluate(c, vars, source))) return false;
    }
    return true;
  };
  return { render, renderValue, evaluate, evalConditions };
}

/** Ansible/Python truthiness; strings 'false', 'no', 'off', '0' count as false (as `| bool` would). */
export function truthy(v: unknown): boolean {
  if (v === null || v === undefined) return false;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'string') {
    const s = v.trim().toLowerCase();
    return !(s === '' || s === 'false' || s === 'no' || s === 'off' || s === '0' || s === 'n');
  }
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v).length > 0;
  return true;
}
