// The INI inventory format as Ansible's ini inventory plugin reads it: `[group]` host lines
// (`host[01:03]:2222 key=value ...`, split like Python's shlex with comments), `[group:vars]`
// `key=value` lines, `[group:children]` group names (a child may be declared later in the file),
// and values typed as Python's ast.literal_eval types them (`1` int, `True` bool, `[1,2]` a list,
// `yes` and `0644` strings).
import type { SourceLocation } from '../errors.js';
import type { Vars } from '../types.js';
import type { InventoryBuilder } from './builder.js';
import { expandHostRange, splitPort } from './host-range.js';

type State = 'hosts' | 'vars' | 'children';

interface Pending {
  line: number;
  state: 'vars' | 'children';
  name: string;
  parents: string[];
}

const SECTION = /^\[([^:\]\s]+)(?::(\w+))?\]\s*(?:#.*)?$/;
const GROUP_NAME = /^([^:\]\s]+)\s*(?:#.*)?$/;

/** Reads one INI inventory file into the builder; errors go to the builder with file:line. */
export function readIniInventory(b: InventoryBuilder, file: string, text: string): void {
  const at = (line: number): SourceLocation => ({ file, line, col: 1 });
  const pending = new Map<string, Pending>();
  let group = 'ungrouped';
  let state: State = 'hosts';
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const lineno = i + 1;
    const line = lines[i]!.trim();
    if (!line || line[0] === '#' || line[0] === ';') continue;
    const m = SECTION.exec(line);
    if (m) {
      group = m[1]!;
      const kind = m[2] ?? 'hosts';
      if (kind !== 'hosts' && kind !== 'vars' && kind !== 'children') {
        b.err('E_INVENTORY_INI_SECTION', `section [${group}:${kind}] has unknown type: ${kind}`, at(lineno), 'a section is [group], [group:vars] or [group:children]');
        return;
      }
      state = kind;
      // [group] or [group:children] declares a group; [group:vars] needs a declaration somewhere in the file.
      if (!b.inv.groups.has(group) && state === 'vars' && !pending.has(group)) pending.set(group, { line: lineno, state, name: group, parents: [] });
      b.group(group, at(lineno));
      const p = pending.get(group);
      if (p && state !== 'vars') {
        if (p.state === 'children') for (const parent of p.parents) b.addChild(parent, group, at(p.line));
        pending.delete(group);
      }
      continue;
    }
    if (line.startsWith('[') && line.endsWith(']')) {
      b.err('E_INVENTORY_INI_SECTION', `invalid section entry: '${line}'`, at(lineno), 'a section header has no spaces: [group], [group:vars] or [group:children]');
      return;
    }
    if (state === 'hosts') {
      if (!hostLine(b, group, line, at(lineno))) return;
    } else if (state === 'vars') {
      const eq = line.indexOf('=');
      if (eq < 0) {
        b.err('E_INVENTORY_INI_VARS', `expected key=value, got: ${line}`, at(lineno), `lines under [${group}:vars] set one variable each: name=value`);
        return;
      }
      const key = line.slice(0, eq).trim();
      const value = pythonLiteral(line.slice(eq + 1).trim());
      b.checkVar(key, value, at(lineno), `[${group}:vars]`);
      b.setGroupVars(group, { [key]: value });
    } else {
      const cm = GROUP_NAME.exec(line);
      if (!cm) {
        b.err('E_INVENTORY_INI_CHILDREN', `${line} is not a valid group name`, at(lineno), `lines under [${group}:children] are group names, one per line`);
        return;
      }
      const child = cm[1]!;
      if (child === 'all' || child === group) {
        b.err('E_INVENTORY_GROUP_CYCLE', `group '${child}' cannot be a child of '${group}'`, at(lineno), 'remove it from this children list');
        continue;
      }
      if (b.inv.groups.has(child)) b.addChild(group, child, at(lineno));
      else {
        const p = pending.get(child);
        if (p) p.parents.push(group);
        else pending.set(child, { line: lineno, state: 'children', name: child, parents: [group] });
      }
    }
  }
  for (const p of pending.values()) {
    if (p.state === 'vars') b.err('E_INVENTORY_INI_UNDEFINED_GROUP', `section [${p.name}:vars] is not valid for undefined group: ${p.name}`, at(p.line), `declare the group with a [${p.name}] or [${p.name}:children] section`);
    else
      b.err(
        'E_INVENTORY_INI_UNDEFINED_GROUP',
        `section [${p.parents.at(-1)}:children] includes undefined group: ${p.name}`,
        at(p.line),
        `declare the group with a [${p.name}] section (it may be empty) or remove it from the children list`,
      );
  }
}

/** `host[01:03]:2222 a=1 b="x y"`: the hosts, their port and vars. False after an error. */
function hostLine(b: InventoryBuilder, group: string, line: string, where: SourceLocation): boolean {
  let tokens: string[];
  try {
    tokens = shlexSplit(line);
  } catch (e) {
    b.err('E_INVENTORY_INI_HOST', `error parsing host definition '${line}': ${(e as Error).message}`, where, 'close the quote, or escape it with a backslash');
    return false;
  }
  if (!tokens.length) return true;
  const vars: Vars = {};
  for (const t of tokens.slice(1)) {
    const eq = t.indexOf('=');
    if (eq < 0) {
      b.err('E_INVENTORY_INI_HOST', `expected key=value host variable assignment, got: ${t}`, where, 'a host line is the host name followed by name=value pairs (quote values with spaces)');
      return false;
    }
    const key = t.slice(0, eq);
    vars[key] = pythonLiteral(t.slice(eq + 1));
    b.checkVar(key, vars[key], where, `host line of ${tokens[0]}`);
  }
  const { name, port } = splitPort(tokens[0]!);
  let names: string[];
  try {
    names = expandHostRange(name);
  } catch (e) {
    b.err('E_INVENTORY_HOST_RANGE', `bad host range in '${tokens[0]}': ${(e as Error).message}`, where, 'ranges look like web[01:10], db-[a:f] or node[0:20:5]');
    return false;
  }
  for (const h of names) b.addHost(h, group, port === undefined ? vars : { ...vars, ansible_port: port }, where);
  return true;
}

/** Python's shlex.split(s, comments=True): POSIX quoting, backslash escapes, `#` starts a comment. */
export function shlexSplit(s: string): string[] {
  const out: string[] = [];
  let tok = '';
  let inTok = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      if (inTok) out.push(tok);
      tok = '';
      inTok = false;
    } else if (c === '#') {
      break;
    } else if (c === '\\') {
      if (i + 1 >= s.length) throw new Error('No escaped character');
      tok += s[++i];
      inTok = true;
    } else if (c === "'" || c === '"') {
      inTok = true;
      let j = i + 1;
      for (;;) {
        if (j >= s.length) throw new Error('No closing quotation');
        const d = s[j]!;
        if (d === c) break;
        // Inside double quotes a backslash escapes only `"` and `\`.
        if (c === '"' && d === '\\' && (s[j + 1] === '"' || s[j + 1] === '\\')) {
          tok += s[j + 1];
          j += 2;
          continue;
        }
        tok += d;
        j++;
      }
      i = j;
    } else {
      tok += c;
      inTok = true;
    }
  }
  if (inTok) out.push(tok);
  return out;
}

/** ast.literal_eval of a value, or the text itself when it is not a Python literal (as Ansible does). */
export function pythonLiteral(text: string): unknown {
  try {
    const p = new LiteralParser(text);
    const v = p.value();
    p.end();
    return v;
  } catch {
    return text;
  }
}

class LiteralParser {
  private i = 0;
  constructor(private readonly s: string) {}

  private skip(): void {
    for (;;) {
      while (this.i < this.s.length && /\s/.test(this.s[this.i]!)) this.i++;
      if (this.s[this.i] !== '#') return;
      while (this.i < this.s.length && this.s[this.i] !== '\n') this.i++;
    }
  }

  end(): void {
    this.skip();
    if (this.i < this.s.length) throw new Error('trailing text');
  }

  private eat(c: string): boolean {
    this.skip();
    if (this.s[this.i] === c) {
      this.i++;
      return true;
    }
    return false;
  }

  value(): unknown {
    this.skip();
    const c = this.s[this.i];
    if (c === undefined) throw new Error('empty');
    if (c === '[') return this.seq('[', ']');
    if (c === '(') {
      // (x) is x, (x,) and (x, y) are tuples (lists here, as in JSON).
      this.i++;
      if (this.eat(')')) return [];
      const first = this.value();
      if (this.eat(')')) return first;
      if (!this.eat(',')) throw new Error('expected ,');
      const rest = this.items(')');
      return [first, ...rest];
    }
    if (c === '{') return this.dictOrSet();
    if (c === '-' || c === '+') {
      this.i++;
      const v = this.value();
      if (typeof v !== 'number') throw new Error('sign needs a number');
      return c === '-' ? -v : v;
    }
    if (/[0-9.]/.test(c)) return this.number();
    const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.s.slice(this.i))?.[0];
    if (word && /^[rRuU]$/.test(word) && (this.s[this.i + 1] === '"' || this.s[this.i + 1] === "'")) {
      this.i++;
      return this.strings(word.toLowerCase() === 'r');
    }
    if (c === '"' || c === "'") return this.strings(false);
    if (word === 'True' || word === 'False' || word === 'None') {
      this.i += word.length;
      return word === 'True' ? true : word === 'False' ? false : null;
    }
    throw new Error('not a literal');
  }

  private items(close: string): unknown[] {
    const out: unknown[] = [];
    for (;;) {
      if (this.eat(close)) return out;
      out.push(this.value());
      if (this.eat(close)) return out;
      if (!this.eat(',')) throw new Error('expected ,');
    }
  }

  private seq(open: string, close: string): unknown[] {
    this.eat(open);
    return this.items(close);
  }

  private dictOrSet(): unknown {
    this.eat('{');
    if (this.eat('}')) return {};
    const first = this.value();
    if (this.eat(':')) {
      const out: Record<string, unknown> = {};
      let key = first;
      for (;;) {
        if (key !== null && typeof key === 'object') throw new Error('unhashable key');
        out[String(key)] = this.value();
        if (this.eat('}')) return out;
        if (!this.eat(',')) throw new Error('expected ,');
        if (this.eat('}')) return out;
        key = this.value();
        if (!this.eat(':')) throw new Error('expected :');
      }
    }
    // A set: its members, as a list.
    if (this.eat('}')) return [first];
    if (!this.eat(',')) throw new Error('expected ,');
    return [first, ...this.items('}')];
  }

  private number(): number {
    const rest = this.s.slice(this.i);
    const m =
      /^0[xX](?:_?[0-9a-fA-F])+|^0[oO](?:_?[0-7])+|^0[bB](?:_?[01])+/.exec(rest) ??
      /^(?:(?:[0-9](?:_?[0-9])*)?\.[0-9](?:_?[0-9])*|[0-9](?:_?[0-9])*\.?)(?:[eE][+-]?[0-9](?:_?[0-9])*)?/.exec(rest);
    if (!m || m[0] === '.') throw new Error('bad number');
    const t = m[0].replace(/_/g, '');
    this.i += m[0].length;
    if (/^0[xXoObB]/.test(t)) return Number(t);
    // Python 3 refuses a decimal integer with a leading zero (0644), except all zeros.
    if (/^0[0-9]+$/.test(t) && !/^0+$/.test(t)) throw new Error('leading zero');
    if (/[a-zA-Z]/.test(this.s[this.i] ?? '')) throw new Error('bad number');
    return Number(t);
  }

  /** One or more adjacent string literals, concatenated (`"a" "b"` is `ab`). */
  private strings(raw: boolean): string {
    let out = this.string(raw);
    for (;;) {
      const save = this.i;
      this.skip();
      const c = this.s[this.i];
      if (c === '"' || c === "'") out += this.string(false);
      else if (/^[rRuU]["']/.test(this.s.slice(this.i, this.i + 2))) {
        const r = /[rR]/.test(this.s[this.i]!);
        this.i++;
        out += this.string(r);
      } else {
        this.i = save;
        return out;
      }
    }
  }

  private string(raw: boolean): string {
    const q = this.s[this.i]!;
    const triple = this.s.startsWith(q.repeat(3), this.i);
    const close = triple ? q.repeat(3) : q;
    this.i += close.length;
    let out = '';
    for (;;) {
      if (this.i >= this.s.length) throw new Error('unterminated string');
      if (this.s.startsWith(close, this.i)) {
        this.i += close.length;
        return out;
      }
      const c = this.s[this.i]!;
      if (c === '\n' && !triple) throw new Error('newline in string');
      if (c === '\\' && this.i + 1 < this.s.length) {
        const d = this.s[this.i + 1]!;
        if (raw) {
          out += c + d;
          this.i += 2;
          continue;
        }
        this.i += 2;
        const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"', a: '\x07', b: '\b', f: '\f', v: '\v', '0': '\0', '\n': '' };
        if (d === 'x' || d === 'u' || d === 'U') {
          const len = d === 'x' ? 2 : d === 'u' ? 4 : 8;
          const hex = this.s.slice(this.i, this.i + len);
          if (!new RegExp(`^[0-9a-fA-F]{${len}}$`).test(hex)) throw new Error('bad escape');
          out += String.fromCodePoint(parseInt(hex, 16));
          this.i += len;
        } else if (d in simple) out += simple[d];
        else out += c + d;
        continue;
      }
      out += c;
      this.i++;
    }
  }
}
