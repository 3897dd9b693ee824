// The Jinja2 layer over nunjucks. nunjucks' own `throwOnUndefined` only checks what is printed and
// cannot name the variable, and it would fire before `| default` or `is defined` could look at it. So
// instead a lookup of a missing name yields an `Undefined` marker carrying the name and line: filters
// and tests that accept undefined (default, mandatory, defined ...) see it, everything else that
// touches it (printing, arithmetic, `if`, iteration, other filters) raises "'x' is undefined".
// This is done with a Compiler subclass and a per-environment runtime object handed to the compiled
// code (nunjucks passes `runtime` as a parameter), so no global prototype or nunjucks module is patched.
import { createRequire } from 'node:module';
import nunjucks from 'nunjucks';
import {
  DICT_METHODS,
  LIST_METHODS,
  PyTypeError,
  STR_METHODS,
  isMapping,
  pyAdd,
  pyBool,
  pyCmp,
  pyEq,
  pyMod,
  pyMul,
  pyRepr,
  pyStr,
  pyType,
} from './python.js';
import { timeSub } from './pytime.js';

/** The error raised when an undefined value is used; `line` is 1-based within the template. */
export class UndefinedError extends Error {
  constructor(
    message: string,
    readonly varName: string,
    readonly line?: number,
  ) {
    super(message);
    this.name = 'UndefinedError';
  }
}

/** A Python-level error inside an expression (TypeError, ValueError): reported with the template line. */
export class JinjaRuntimeError extends Error {
  constructor(
    message: string,
    readonly line?: number,
  ) {
    super(message);
    this.name = 'JinjaRuntimeError';
  }
}

/** Jinja's Undefined: a missing variable or attribute, an error as soon as it is used as a value. */
export class Undefined {
  constructor(
    /** What was looked up, as written (`foo`, `hostvars["h1"].x`). */
    readonly name: string,
    readonly message: string,
    readonly line?: number,
  ) {}
  error(): UndefinedError {
    return new UndefinedError(this.message, this.name, this.line);
  }
  [Symbol.toPrimitive](): never {
    throw this.error();
  }
  toString(): never {
    throw this.error();
  }
  toJSON(): never {
    throw this.error();
  }
}

export function isUndefined(v: unknown): v is Undefined {
  return v instanceof Undefined;
}

/** Throws if any argument (or a keyword argument) is undefined; filters and tests call this first. */
export function assertDefined(args: readonly unknown[]): void {
  for (const a of args) {
    if (a instanceof Undefined) throw a.error();
    if (a && typeof a === 'object' && (a as { __keywords?: unknown }).__keywords === true) {
      for (const v of Object.values(a)) if (v instanceof Undefined) throw v.error();
    }
  }
}

/** Python truthiness for `if`, `and`, `or`, `not`; an undefined value is an error (StrictUndefined). */
export function jinjaTruthy(v: unknown): boolean {
  if (v instanceof Undefined) throw v.error();
  return pyBool(v);
}

interface CompilerNode {
  typename: string;
  lineno: number;
  colno: number;
  value?: unknown;
  [k: string]: unknown;
}
interface CompilerLike {
  _emit(s: string): void;
  compile(node: CompilerNode, frame: unknown): void;
  _compileExpression(node: CompilerNode, frame: unknown): void;
  _compileAggregate(node: CompilerNode, frame: unknown, start: string, end: string): void;
  _getNodeName(node: CompilerNode): string;
  getCode(): string;
}
type CompilerCtor = new (name: string, throwOnUndefined: boolean) => CompilerLike;
interface NunjucksInternals {
  compiler: { Compiler: CompilerCtor };
  parser: { parse(src: string, extensions: unknown[], opts: unknown): CompilerNode };
  transformer?: unknown;
  nodes: Record<string, new (...args: unknown[]) => CompilerNode>;
  runtime: Record<string, unknown>;
}
const nj = nunjucks as unknown as NunjucksInternals;
const requireNj = createRequire(import.meta.url);
// The transformer is not re-exported by nunjucks' index; it lifts `super()` calls in blocks.
const transformer = requireNj('nunjucks/src/transformer.js') as { transform(ast: CompilerNode, asyncFilters: string[], name: string): CompilerNode };

interface ParserToken {
  type: string;
  value: string;
  lineno: number;
  colno: number;
}
interface ParserLike {
  extensions: unknown[];
  peekToken(): ParserToken | null;
  nextToken(): ParserToken | null;
  parseSignature(): CompilerNode;
  parseAggregate(): CompilerNode;
  parseExpression(): CompilerNode;
  parseAsRoot(): CompilerNode;
  fail(msg: string, lineno?: number, colno?: number): never;
}
const njParser = requireNj('nunjucks/src/parser.js') as { Parser: new (tokens: unknown) => ParserLike };
const njLexer = requireNj('nunjucks/src/lexer.js') as { lex(src: string, opts: unknown): unknown };

/**
 * Jinja's `x.0` (an item by index) and `x.null` / `x.true` (a key named like a literal) after a dot;
 * nunjucks' parser only takes a name there. `x.0.1` arrives as the float `0.1`: two lookups.
 */
class JinjaParser extends njParser.Parser {
  parsePostfix(start: CompilerNode): CompilerNode {
    const { FunCall, LookupVal, Literal } = nj.nodes;
    let node = start;
    let tok = this.peekToken();
    while (tok) {
      if (tok.type === 'left-paren') node = new FunCall!(tok.lineno, tok.colno, node, this.parseSignature());
      else if (tok.type === 'left-bracket') node = new LookupVal!(tok.lineno, tok.colno, node, this.parseSubscript());
      else if (tok.type === 'operator' && tok.value === '.') {
        this.nextToken();
        const val = this.nextToken();
        if (!val) this.fail('expected name as lookup value, got end of template', tok.lineno, tok.colno);
        if (val.type === 'symbol' || val.type === 'none' || val.type === 'boolean') {
          node = new LookupVal!(tok.lineno, tok.colno, node, new Literal!(val.lineno, val.colno, val.value));
        } else if (val.type === 'int' || (val.type === 'float' && /^\d+\.\d+$/.test(val.value))) {
          for (const part of val.value.split('.')) node = new LookupVal!(tok.lineno, tok.colno, node, new Literal!(val.lineno, val.colno, Number(part)));
        } else this.fail(`expected name as lookup value, got ${val.value}`, val.lineno, val.colno);
      } else break;
      tok = this.peekToken();
    }
    return node;
  }

  /** `[i]` or a Python slice `[start:stop:step]` (each part optional), as a call of the hidden `__jinja_slice`. */
  private parseSubscript(): CompilerNode {
    const { FunCall, Literal, Symbol: Sym, NodeList } = nj.nodes;
    const open = this.nextToken()!;
    const parts: Array<CompilerNode | null> = [null];
    for (;;) {
      const t = this.peekToken();
      if (!t) this.fail('unexpected end of template in a subscript', open.lineno, open.colno);
      if (t.type === 'right-bracket') {
        this.nextToken();
        break;
      }
      if (t.type === 'colon') {
        this.nextToken();
        if (parts.length === 3) this.fail('a slice has at most three parts', t.lineno, t.colno);
        parts.push(null);
        continue;
      }
      if (parts[parts.length - 1] !== null) this.fail('invalid index: expected ] or :', t.lineno, t.colno);
      parts[parts.length - 1] = this.parseExpression();
    }
    if (parts.length === 1) {
      if (!parts[0]) this.fail('invalid index: [] is empty', open.lineno, open.colno);
      return parts[0];
    }
    const args = parts.map((p) => p ?? new Literal!(open.lineno, open.colno, null));
    return new FunCall!(open.lineno, open.colno, new Sym!(open.lineno, open.colno, '__jinja_slice'), new NodeList!(open.lineno, open.colno, args));
  }
}

/** A Python slice object (`xs[1:]`), the key jGetattr slices a list or string with. */
export class PySlice {
  constructor(
    readonly start: number | null,
    readonly stop: number | null,
    readonly step: number | null,
  ) {}

  apply<T>(xs: readonly T[]): T[] {
    const n = xs.length;
    const step = this.step ?? 1;
    if (step === 0) throw new PyTypeError('slice step cannot be zero');
    const norm = (v: number | null, def: number, lo: number, hi: number): number => {
      if (v === null) return def;
      const x = v < 0 ? v + n : v;
      return Math.min(Math.max(x, lo), hi);
    };
    const out: T[] = [];
    if (step > 0) {
      const a = norm(this.start, 0, 0, n);
      const b = norm(this.stop, n, 0, n);
      for (let i = a; i < b; i += step) out.push(xs[i]!);
    } else {
      const a = norm(this.start, n - 1, -1, n - 1);
      const b = norm(this.stop, -1, -1, n - 1);
      for (let i = a; i > b; i += step) out.push(xs[i]!);
    }
    return out;
  }
}

export function makeSlice(start: unknown, stop: unknown, step: unknown): PySlice {
  const num = (v: unknown): number | null => {
    if (v === null || v === undefined) return null;
    if (isUndefined(v)) throw v.error();
    if (typeof v !== 'number' || !Number.isInteger(v)) throw new PyTypeError('slice indices must be integers or None');
    return v;
  };
  return new PySlice(num(start), num(stop), num(step));
}

const PY_LITERALS: Record<string, string> = { True: 'true', False: 'false', None: 'null', true: 'true', false: 'false', none: 'null' };
const COMPARE_OPS = new Set(['==', '!=', '<', '>', '<=', '>=', '===', '!==']);

/** Jinja's namespace(): the one object a `{% set ns.attr = ... %}` may change, so a loop can carry state out. */
export class Namespace {
  constructor(init: Record<string, unknown> = {}) {
    for (const [k, v] of Object.entries(init)) if (k !== '__keywords') (this as Record<string, unknown>)[k] = v;
  }
  toString(): string {
    return `<Namespace ${Object.entries(this).map(([k, v]) => `${k}=${String(v)}`).join(', ')}>`;
  }
}

/** `namespace(dict?, key=value ...)`, as Jinja's global. */
export function makeNamespace(...args: unknown[]): Namespace {
  const init: Record<string, unknown> = {};
  for (const a of args) {
    if (a instanceof Undefined) throw a.error();
    if (a && typeof a === 'object' && !Array.isArray(a)) Object.assign(init, a);
    else throw new JinjaRuntimeError(`namespace() takes a dict and key=value arguments, not ${pyType(a)}`);
  }
  return new Namespace(init);
}

function q(s: string): string {
  return JSON.stringify(s);
}

/** The compiler that emits calls into the Jinja runtime for lookups, truth tests and operators. */
class JinjaCompiler extends (nj.compiler.Compiler as unknown as CompilerCtor) {
  compileSymbol(node: CompilerNode, frame: { lookup(n: string): string | undefined }): void {
    const name = String(node.value);
    const local = frame.lookup(name);
    if (local) this._emit(local);
    else if (name in PY_LITERALS) this._emit(PY_LITERALS[name]!);
    else this._emit(`runtime.jLookup(context, frame, ${q(name)}, ${node.lineno + 1})`);
  }

  // `(a, b)` is a tuple in Jinja (for `'%s:%s' % (a, b)`); JavaScript would read a comma operator.
  compileGroup(node: CompilerNode, frame: unknown): void {
    const children = node.children as CompilerNode[];
    this._compileAggregate(node, frame, children.length !== 1 ? '[' : '(', children.length !== 1 ? ']' : ')');
  }

  /** How an expression is named in messages; nunjucks' own helper fails on a `none` literal. */
  private nameOf(node: CompilerNode): string {
    if (node.typename === 'Literal' && (node.value === null || node.value === undefined)) return 'None';
    try {
      return this._getNodeName(node);
    } catch {
      return node.typename;
    }
  }

  compileLookupVal(node: CompilerNode, frame: unknown): void {
    const target = node.target as CompilerNode;
    this._emit('runtime.jGetattr((');
    this._compileExpression(target, frame);
    this._emit('),');
    this._compileExpression(node.val as CompilerNode, frame);
    this._emit(`, ${q(this.nameOf(target))}, ${node.lineno + 1})`);
  }

  compileFunCall(node: CompilerNode, frame: unknown): void {
    const callee = node.name as CompilerNode;
    this._emit(`(lineno = ${node.lineno}, colno = ${node.colno}, `);
    if (callee.typename === 'LookupVal') {
      this._emit('runtime.jCallMethod((');
      this._compileExpression(callee.target as CompilerNode, frame);
      this._emit('),');
      this._compileExpression(callee.val as CompilerNode, frame);
      this._emit(`, ${q(this.nameOf(callee))}, ${node.lineno + 1}, `);
    } else {
      this._emit('runtime.jCall(');
      this._compileExpression(callee, frame);
      this._emit(`, ${q(this.nameOf(callee))}, context, ${node.lineno + 1}, `);
    }
    this._compileAggregate(node.args as CompilerNode, frame, '[', '])');
    this._emit(')');
  }

  compileOr(node: CompilerNode, frame: unknown): void {
    this.lazyBinOp('jOr', node, frame);
  }

  compileAnd(node: CompilerNode, frame: unknown): void {
    this.lazyBinOp('jAnd', node, frame);
  }

  private lazyBinOp(fn: string, node: CompilerNode, frame: unknown): void {
    this._emit(`runtime.${fn}(`);
    this.compile(node.left as CompilerNode, frame);
    this._emit(', () => (');
    this.compile(node.right as CompilerNode, frame);
    this._emit(`), ${node.lineno + 1})`);
  }

  private binOp(fn: string, node: CompilerNode, frame: unknown): void {
    this._emit(`runtime.${fn}(`);
    this.compile(node.left as CompilerNode, frame);
    this._emit(', ');
    this.compile(node.right as CompilerNode, frame);
    this._emit(`, ${node.lineno + 1})`);
  }

  compileAdd(node: CompilerNode, frame: unknown): void {
    this.binOp('jAdd', node, frame);
  }

  compileSub(node: CompilerNode, frame: unknown): void {
    this.binOp('jSub', node, frame);
  }

  compileMul(node: CompilerNode, frame: unknown): void {
    this.binOp('jMul', node, frame);
  }

  compileMod(node: CompilerNode, frame: unknown): void {
    this.binOp('jMod', node, frame);
  }

  compileConcat(node: CompilerNode, frame: unknown): void {
    this.binOp('jConcat', node, frame);
  }

  compileNot(node: CompilerNode, frame: unknown): void {
    this._emit('!runtime.jTruthy(');
    this.compile(node.target as CompilerNode, frame);
    this._emit(`, ${node.lineno + 1})`);
  }

  compileInlineIf(node: CompilerNode, frame: unknown): void {
    this._emit('(runtime.jTruthy(');
    this.compile(node.cond as CompilerNode, frame);
    this._emit(`, ${node.lineno + 1}) ? `);
    this.compile(node.body as CompilerNode, frame);
    this._emit(' : ');
    if (node.else_) this.compile(node.else_ as CompilerNode, frame);
    else this._emit('""');
    this._emit(')');
  }

  compileIn(node: CompilerNode, frame: unknown): void {
    this.binOp('jIn', node, frame);
  }

  // nunjucks emits a test's arguments without commas (`is version('11', '>=')` breaks); separate them.
  compileIs(node: CompilerNode, frame: unknown): void {
    const right = node.right as CompilerNode;
    const name = right.name ? String((right.name as CompilerNode).value) : String(right.value);
    this._emit(`env.getTest(${q(name)}).call(context, `);
    this.compile(node.left as CompilerNode, frame);
    const args = right.args as CompilerNode | undefined;
    if (args && (args.children as CompilerNode[]).length > 0) this._compileAggregate(args, frame, ', ', '');
    this._emit(') === true');
  }

  compileCompare(node: CompilerNode, frame: unknown): void {
    const ops = node.ops as Array<{ type: string; expr: CompilerNode }>;
    this._emit('runtime.jCompare(');
    this.compile(node.expr as CompilerNode, frame);
    for (const op of ops) {
      if (!COMPARE_OPS.has(op.type)) throw new Error(`unknown comparison ${op.type}`);
      this._emit(`, ${q(op.type)}, `);
      this.compile(op.expr, frame);
    }
    this._emit(`, ${node.lineno + 1})`);
  }

  // `{% set ns.attr = value %}` changes a namespace(); any other target but a plain name is refused.
  compileSet(node: CompilerNode, frame: unknown): void {
    const targets = node.targets as CompilerNode[];
    if (targets.every((t) => t.typename === 'Symbol')) {
      (nj.compiler.Compiler.prototype as unknown as { compileSet: (...a: unknown[]) => void }).compileSet.call(this, node, frame);
      return;
    }
    const t = targets[0]!;
    if (targets.length !== 1 || t.typename !== 'LookupVal' || (t.target as CompilerNode).typename !== 'Symbol') {
      throw new JinjaRuntimeError('set can assign to a name or to an attribute of a namespace() (ns.attr), nothing else', node.lineno + 1);
    }
    this._emit('runtime.jSetNamespace((');
    this._compileExpression(t.target as CompilerNode, frame);
    this._emit('), ');
    this._compileExpression(t.val as CompilerNode, frame);
    this._emit(', ');
    if (node.value) this._compileExpression(node.value as CompilerNode, frame);
    else this.compile(node.body as CompilerNode, frame);
    this._emit(`, ${q(this.nameOf(t.target as CompilerNode))}, ${node.lineno + 1});\n`);
  }

  // `if` and `for` take their condition/iterable through a hidden filter so undefined values raise.
  compileIf(node: CompilerNode, frame: unknown, async?: boolean): void {
    node.cond = this.hiddenFilter('__jinja_truth', node.cond as CompilerNode);
    (nj.compiler.Compiler.prototype as unknown as { compileIf: (...a: unknown[]) => void }).compileIf.call(this, node, frame, async);
  }

  compileFor(node: CompilerNode, frame: unknown): void {
    const names = node.name as CompilerNode;
    const arr = node.arr as CompilerNode;
    if (arr.typename === 'InlineIf' && !arr.else_) {
      // Jinja's loop filter `for x in xs if cond` (nunjucks parses it as an inline if): test cond per item.
      const { If, NodeList } = nj.nodes;
      node.arr = arr.body as CompilerNode;
      node.body = new NodeList!(arr.lineno, arr.colno, [new If!(arr.lineno, arr.colno, arr.cond, node.body, null)]);
    }
    node.arr = this.hiddenFilter(names.typename === 'Array' ? '__jinja_iter_pairs' : '__jinja_iter', node.arr as CompilerNode);
    (nj.compiler.Compiler.prototype as unknown as { compileFor: (...a: unknown[]) => void }).compileFor.call(this, node, frame);
  }

  private hiddenFilter(name: string, target: CompilerNode): CompilerNode {
    const { Filter, Symbol: Sym, NodeList } = nj.nodes;
    return new Filter!(target.lineno, target.colno, new Sym!(target.lineno, target.colno, name), new NodeList!(target.lineno, target.colno, [target]));
  }
}

/** Compiles template source to the code nunjucks' Template accepts as `{ type: 'code' }`. */
export function compileJinja(src: string, name: string, envOpts: object, mode: BackslashMode = 'python', extensions: unknown[] = []): string {
  const c = new JinjaCompiler(name, false);
  let ast: CompilerNode;
  try {
    const p = new JinjaParser(njLexer.lex(preprocessBackslashes(src, mode), envOpts));
    p.extensions = extensions;
    ast = p.parseAsRoot();
  } catch (e) {
    // nunjucks' parser runs off the end of an unfinished template (`{{ x |`) with a TypeError.
    if (e instanceof TypeError) throw new Error('unexpected end of template: an expression, tag or filter is not finished');
    throw e;
  }
  try {
    c.compile(transformer.transform(ast, [], name), null);
  } catch (e) {
    // The parser leaves an empty operand (`0 + not x`, `f(a,| b)`) as a null node instead of failing.
    if (e instanceof TypeError && /reading 'typename'/.test(e.message)) throw new Error('unexpected token: an operator or an argument is missing its operand');
    throw e;
  }
  return c.getCode();
}

export interface JinjaRuntimeOptions {
  /** Turns a stored value into what templates see (e.g. decrypts a vaulted value). */
  resolve?: (v: unknown) => unknown;
}

function rethrow(e: unknown, line: number): never {
  if (e instanceof PyTypeError) throw new JinjaRuntimeError(e.message, line);
  throw e;
}

/** The runtime object handed to compiled templates: nunjucks' runtime plus the Jinja semantics. */
export function createJinjaRuntime(opts: JinjaRuntimeOptions = {}): Record<string, unknown> {
  const resolve = opts.resolve ?? ((v: unknown) => v);
  const base = nj.runtime;
  const isOwnData = (obj: object, key: string): boolean => Object.hasOwn(obj, key);

  const jLookup = (context: { ctx: Record<string, unknown>; env: { globals: Record<string, unknown> } }, frame: { lookup(n: string): unknown }, name: string, line: number): unknown => {
    const fv = frame.lookup(name);
    if (fv !== undefined) return resolve(fv);
    if (Object.hasOwn(context.ctx, name) && context.ctx[name] !== undefined) return resolve(context.ctx[name]);
    if (Object.hasOwn(context.env.globals, name)) return context.env.globals[name];
    return new Undefined(name, `'${name}' is undefined`, line);
  };

  const jGetattr = (obj: unknown, key: unknown, path: string, line: number): unknown => {
    if (obj instanceof Undefined) return obj; // like Ansible: foo.bar of an undefined foo stays undefined as foo
    if (key instanceof Undefined) throw key.error();
    if (key instanceof PySlice) {
      if (typeof obj === 'string') return key.apply([...obj]).join('');
      if (Array.isArray(obj)) return key.apply(obj);
      throw new JinjaRuntimeError(`'${pyType(obj)}' object is not subscriptable with a slice`, line);
    }
    // A key that is a list or a dict is named as Python would print it, not as [object Object].
    const keyText = typeof key === 'string' || typeof key === 'number' ? String(key) : pyRepr(key);
    const full = `${path}.${keyText}`;
    if (obj === null || obj === undefined) return new Undefined(full, `'${path}' is None and has no attribute '${keyText}'`, line);
    if (key instanceof Undefined) throw key.error();
    let v: unknown;
    let found = false;
    if (Array.isArray(obj) || typeof obj === 'string') {
      if (typeof key === 'number' && Number.isInteger(key)) {
        const i = key < 0 ? obj.length + key : key;
        found = i >= 0 && i < obj.length;
        if (found) v = obj[i];
        else return new Undefined(`${path}[${key}]`, `'${path}' has no item ${key} (list index out of range)`, line);
      } else if (key === 'length') {
        found = true;
        v = obj.length;
      }
    } else if (isMapping(obj)) {
      const k = String(key);
      found = isOwnData(obj, k);
      if (found) v = obj[k];
    } else if (typeof obj === 'object' || typeof obj === 'function') {
      const k = String(key);
      found = k in (obj as object) && k !== 'constructor' && k !== '__proto__';
      if (found) {
        v = (obj as Record<string, unknown>)[k];
        if (typeof v === 'function') v = (v as (...a: unknown[]) => unknown).bind(obj);
      }
    }
    if (!found || v === undefined) return new Undefined(full, `'${path}' has no attribute '${keyText}'`, line);
    return resolve(v);
  };

  const jCallMethod = (obj: unknown, key: unknown, path: string, line: number, args: unknown[]): unknown => {
    if (obj instanceof Undefined) throw obj.error();
    const k = String(key);
    try {
      if (typeof obj === 'string' && Object.hasOwn(STR_METHODS, k)) {
        assertDefined(args);
        return STR_METHODS[k]!(obj as never, ...args.filter((a) => !isKw(a)));
      }
      if (Array.isArray(obj) && Object.hasOwn(LIST_METHODS, k)) {
        assertDefined(args);
        return LIST_METHODS[k]!(obj as never, ...args.filter((a) => !isKw(a)));
      }
      if (isMapping(obj) && Object.hasOwn(DICT_METHODS, k) && typeof obj[k] !== 'function') {
        assertDefined(args);
        return DICT_METHODS[k]!(obj as never, ...args.filter((a) => !isKw(a)));
      }
    } catch (e) {
      rethrow(e, line);
    }
    const fn = jGetattr(obj, key, path.replace(/\["[^"]*"\]$|\.[^.]*$/, ''), line);
    if (fn instanceof Undefined) {
      throw new UndefinedError(`'${pyType(obj)}' object has no method '${k}' (in ${path})`, path, line);
    }
    if (typeof fn !== 'function') throw new JinjaRuntimeError(`'${path}' is not callable`, line);
    return (fn as (...a: unknown[]) => unknown)(...args);
  };

  const jCall = (fn: unknown, name: string, context: unknown, line: number, args: unknown[]): unknown => {
    if (fn instanceof Undefined) throw fn.error();
    if (typeof fn !== 'function') throw new JinjaRuntimeError(`'${name}' is not callable`, line);
    return (fn as (...a: unknown[]) => unknown).apply(context, args);
  };

  const wrapOp =
    (f: (a: unknown, b: unknown) => unknown) =>
    (a: unknown, b: unknown, line: number): unknown => {
      assertDefined([a, b]);
      try {
        return f(a, b);
      } catch (e) {
        return rethrow(e, line);
      }
    };

  const jTruthy = (v: unknown): boolean => jinjaTruthy(v);

  const jCompare = (first: unknown, ...rest: unknown[]): boolean => {
    const line = rest.pop() as number;
    let left = first;
    for (let i = 0; i < rest.length; i += 2) {
      const op = rest[i] as string;
      const right = rest[i + 1];
      assertDefined([left, right]);
      let ok: boolean;
      try {
        if (op === '==' || op === '===') ok = pyEq(left, right);
        else if (op === '!=' || op === '!==') ok = !pyEq(left, right);
        else {
          const c = pyCmp(left, right, op);
          ok = op === '<' ? c < 0 : op === '>' ? c > 0 : op === '<=' ? c <= 0 : c >= 0;
        }
      } catch (e) {
        return rethrow(e, line);
      }
      if (!ok) return false;
      left = right;
    }
    return true;
  };

  const jIn = (needle: unknown, hay: unknown, line: number): boolean => {
    assertDefined([needle, hay]);
    if (typeof hay === 'string') return hay.includes(pyStrOrThrow(needle, line));
    if (Array.isArray(hay)) return hay.some((x) => pyEq(x, needle));
    if (isMapping(hay)) return Object.hasOwn(hay, String(needle));
    throw new JinjaRuntimeError(`argument of type '${pyType(hay)}' is not iterable`, line);
  };

  const suppressValue = (v: unknown): string => {
    if (v instanceof Undefined) throw v.error();
    const r = resolve(v);
    if (r instanceof (base.SafeString as new () => object)) return String(r);
    return pyStr(r);
  };

  const jSetNamespace = (ns: unknown, key: unknown, value: unknown, name: string, line: number): void => {
    if (ns instanceof Undefined) throw ns.error();
    if (!(ns instanceof Namespace)) throw new JinjaRuntimeError(`cannot set an attribute of '${name}': it is a ${pyType(ns)}, not a namespace()`, line);
    (ns as unknown as Record<string, unknown>)[String(key)] = value;
  };

  return {
    ...base,
    jLookup,
    jSetNamespace,
    jGetattr,
    jCallMethod,
    jCall,
    jOr: (a: unknown, b: () => unknown): unknown => (jinjaTruthy(a) ? a : b()),
    jAnd: (a: unknown, b: () => unknown): unknown => (jinjaTruthy(a) ? b() : a),
    jTruthy,
    jAdd: wrapOp(pyAdd),
    jMul: wrapOp(pyMul),
    jSub: wrapOp(pySub),
    jMod: wrapOp(pyMod),
    // `~` is Python str(): None is 'None' here (only printed output drops it).
    jConcat: wrapOp((a, b) => concatStr(resolve(a)) + concatStr(resolve(b))),
    jCompare,
    jIn,
    suppressValue,
  };
}

/** Python `-`: numbers, and datetimes/timedeltas (to_datetime results). */
function pySub(a: unknown, b: unknown): unknown {
  const na = typeof a === 'boolean' || typeof a === 'number';
  const nb = typeof b === 'boolean' || typeof b === 'number';
  if (na && nb) return Number(a) - Number(b);
  const t = timeSub(a, b);
  if (t !== undefined) return t;
  throw new PyTypeError(`unsupported operand type(s) for -: '${pyType(a)}' and '${pyType(b)}'`);
}

function concatStr(v: unknown): string {
  return v === null || v === undefined ? 'None' : pyStr(v);
}

function isKw(a: unknown): boolean {
  return !!a && typeof a === 'object' && (a as { __keywords?: unknown }).__keywords === true;
}

function pyStrOrThrow(v: unknown, line: number): string {
  if (typeof v !== 'string') throw new JinjaRuntimeError(`'in <string>' requires string as left operand, not ${pyType(v)}`, line);
  return v;
}

/**
 * How backslashes in string literals behave. 'python': as Jinja2 does (Python escapes, an unknown
 * escape like `\d` keeps its backslash; nunjucks would drop it). 'ansible': additionally, inside `{{ }}`
 * every backslash is literal, because Ansible doubles them in playbook strings (`'\d+'` and `'\1'`
 * reach regex_replace as written); `{% %}` blocks and template files keep the 'python' rule.
 */
export type BackslashMode = 'python' | 'ansible';

const SIMPLE_ESC = new Set(['\\', "'", '"', 'n', 't', 'r']);
const CHAR_ESC: Record<string, string> = { a: '\x07', b: '\b', f: '\f', v: '\v' };

function pythonEscapes(body: string, quote: string): string {
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== '\\' || i + 1 >= body.length) {
      out += c;
      continue;
    }
    const n = body[i + 1]!;
    let ch: string | undefined;
    let skip = 1;
    if (SIMPLE_ESC.has(n)) {
      out += c + n;
      i++;
      continue;
    }
    if (n in CHAR_ESC) ch = CHAR_ESC[n];
    else if (n === 'x' && /^[0-9a-fA-F]{2}$/.test(body.slice(i + 2, i + 4))) {
      ch = String.fromCharCode(parseInt(body.slice(i + 2, i + 4), 16));
      skip = 3;
    } else if (n === 'u' && /^[0-9a-fA-F]{4}$/.test(body.slice(i + 2, i + 6))) {
      ch = String.fromCharCode(parseInt(body.slice(i + 2, i + 6), 16));
      skip = 5;
    } else if (/[0-7]/.test(n)) {
      const m = /^[0-7]{1,3}/.exec(body.slice(i + 1))![0];
      ch = String.fromCharCode(parseInt(m, 8));
      skip = m.length;
    }
    if (ch === undefined) out += '\\\\' + n; // unknown escape: Python keeps the backslash
    else out += ch === '\\' || ch === quote ? `\\${ch}` : ch;
    i += skip;
  }
  return out;
}

/** Rewrites string literals in tags so nunjucks reads them the way Jinja2 (and Ansible) would. */
export function preprocessBackslashes(src: string, mode: BackslashMode): string {
  if (!src.includes('{{') && !src.includes('{%')) return src;
  let out = '';
  let i = 0;
  while (i < src.length) {
    const open = src.indexOf('{', i);
    if (open < 0 || open + 1 >= src.length) {
      out += src.slice(i);
      break;
    }
    const kind = src[open + 1];
    if (kind !== '{' && kind !== '%' && kind !== '#') {
      out += src.slice(i, open + 1);
      i = open + 1;
      continue;
    }
    out += src.slice(i, open + 2);
    i = open + 2;
    if (kind === '#') {
      const end = src.indexOf('#}', i);
      const stop = end < 0 ? src.length : end + 2;
      out += src.slice(i, stop);
      i = stop;
      continue;
    }
    const close = kind === '{' ? '}}' : '%}';
    const tagStart = i;
    let depth = 0;
    while (i < src.length && !(depth === 0 && src.startsWith(close, i))) {
      const c = src[i]!;
      if (c === '{') {
        depth++;
        out += c;
        i++;
      } else if (c === '}' && depth > 0) {
        // Jinja balances braces, nunjucks ends the tag at the first `}}`: `{'a': {'b': 1}}` needs a space.
        depth--;
        out += '} ';
        i++;
      } else if (c === "'" || c === '"') {
        let j = i + 1;
        while (j < src.length && src[j] !== c) j += src[j] === '\\' ? 2 : 1;
        const body = src.slice(i + 1, Math.min(j, src.length));
        const fixed = kind === '{' && mode === 'ansible' ? body.replace(/\\/g, '\\\\') : pythonEscapes(body, c);
        out += c + fixed + (j < src.length ? c : '');
        i = j + 1;
      } else {
        out += c;
        i++;
      }
    }
    if (kind === '%' && /^\s*-?\s*raw\s*-?\s*$/.test(src.slice(tagStart, i))) {
      // {% raw %}: copy verbatim up to {% endraw %}
      const m = /\{%-?\s*endraw\s*-?%\}/.exec(src.slice(i));
      const stop = m ? i + m.index : src.length;
      out += src.slice(i, stop);
      i = stop;
    }
  }
  return out;
}
