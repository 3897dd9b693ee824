// Python's ast.literal_eval (plus JSON's true/false/null) for the text a template produced: Ansible (jinja2_native off) turns a
// result that starts with `[` or `{`, or is `True`/`False`, into the list, dict or bool it spells.

class NotLiteral extends Error {}

/** The value `text` spells as a Python literal, or `undefined` when it is not one. */
export function literalEval(text: string): unknown {
  const p = new LiteralParser(text);
  try {
    p.ws();
    const v = p.value();
    p.ws();
    if (!p.done()) return undefined;
    return v;
  } catch (e) {
    if (e instanceof NotLiteral) return undefined;
    throw e;
  }
}

/** What a rendered template becomes: literal-looking text is evaluated, anything else stays text. */
export function nativeFromText(text: string): unknown {
  if (!(text.startsWith('[') || text.startsWith('{') || text === 'True' || text === 'False')) return text;
  const v = literalEval(text);
  return v === undefined ? text : v;
}

const ESC: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"', '0': '\0', a: '\x07', b: '\b', f: '\f', v: '\v', '\n': '' };

class LiteralParser {
  private i = 0;
  constructor(private readonly s: string) {}

  done(): boolean {
    return this.i >= this.s.length;
  }

  ws(): void {
    while (this.i < this.s.length && /\s/.test(this.s[this.i]!)) this.i++;
  }

  private fail(): never {
    throw new NotLiteral();
  }

  private eat(c: string): boolean {
    this.ws();
    if (this.s[this.i] === c) {
      this.i++;
      return true;
    }
    return false;
  }

  value(): unknown {
    this.ws();
    const c = this.s[this.i];
    if (c === '[') return this.seq(']');
    if (c === '(') return this.seq(')');
    if (c === '{') return this.dict();
    if (c === "'" || c === '"') {
      let out = this.str();
      // Adjacent string literals concatenate.
      for (;;) {
        this.ws();
        const n = this.s[this.i];
        if (n !== "'" && n !== '"') return out;
        out += this.str();
      }
    }
    const m = /^(?:[+-]?(?:\d[\d_]*\.?[\d_]*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+)|True|False|None|true|false|null)(?![\w])/.exec(this.s.slice(this.i));
    if (!m) return this.fail();
    this.i += m[0].length;
    // JSON's true/false/null count too (Ansible maps those names before literal_eval).
    if (m[0] === 'True' || m[0] === 'true') return true;
    if (m[0] === 'False' || m[0] === 'false') return false;
    if (m[0] === 'None' || m[0] === 'null') return null;
    const t = m[0].replace(/_/g, '');
    if (/^[+-]?0[xob]/i.test(t)) {
      const neg = t.startsWith('-');
      const body = t.replace(/^[+-]/, '');
      const n = Number(body);
      return neg ? -n : n;
    }
    if (/^[+-]?0\d/.test(t)) return this.fail(); // Python 3 has no leading-zero ints
    return Number(t);
  }

  private str(): string {
    const q = this.s[this.i]!;
    this.i++;
    let out = '';
    while (this.i < this.s.length) {
      const c = this.s[this.i]!;
      if (c === q) {
        this.i++;
        return out;
      }
      if (c === '\n') return this.fail();
      if (c === '\\') {
        const n = this.s[this.i + 1];
        if (n === undefined) return this.fail();
        if (n in ESC) {
          out += ESC[n];
          this.i += 2;
        } else if (n === 'x' || n === 'u' || n === 'U') {
          const len = n === 'x' ? 2 : n === 'u' ? 4 : 8;
          const hex = this.s.slice(this.i + 2, this.i + 2 + len);
          if (!new RegExp(`^[0-9a-fA-F]{${len}}$`).test(hex)) return this.fail();
          out += String.fromCodePoint(parseInt(hex, 16));
          this.i += 2 + len;
        } else {
          out += c + n;
          this.i += 2;
        }
        continue;
      }
      out += c;
      this.i++;
    }
    return this.fail();
  }

  private seq(close: string): unknown[] {
    this.i++;
    const out: unknown[] = [];
    if (this.eat(close)) return out;
    for (;;) {
      out.push(this.value());
      if (this.eat(close)) return out;
      if (!this.eat(',')) return this.fail();
      if (this.eat(close)) return out;
    }
  }

  private dict(): Record<string, unknown> | unknown[] {
    this.i++;
    const out: Record<string, unknown> = {};
    if (this.eat('}')) return out;
    for (;;) {
      const k = this.value();
      if (!this.eat(':')) return this.fail(); // a set literal: not a JSON-like value here
      if (k !== null && typeof k === 'object') return this.fail();
      out[k === null ? 'None' : typeof k === 'boolean' ? (k ? 'True' : 'False') : String(k)] = this.value();
      if (this.eat('}')) return out;
      if (!this.eat(',')) return this.fail();
      if (this.eat('}')) return out;
    }
  }
}
