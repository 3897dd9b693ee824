// Free-form module arguments: `key=value` words on one line (Ansible's k=v form), the coercion of
// their string values to what the module's schema wants, and the arguments of `action:`.
import type { JsonSchema } from '../modules/types.js';
import { isMap } from './values.js';

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
    // A key may be a template when every word is a key (set_fact: "{{ item.0 }}={{ item.1 }}").
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=([\s\S]*)$/.exec(word) ?? (keys === 'all' ? /^((?:[A-Za-z0-9_]*\{\{[\s\S]*?\}\}[A-Za-z0-9_]*)+)=([\s\S]*)$/.exec(word) : null);
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
export function coerce(args: Record<string, string>, props: Record<string, JsonSchema>): Record<string, unknown> {
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

/** `action: shell echo hi` -> `echo hi`; `action: {module: debug, msg: hi}` -> `{msg: hi}`. */
export function actionArgs(v: unknown): unknown {
  if (isMap(v)) {
    const { module: _m, ...rest } = v;
    return rest;
  }
  const s = String(v).trim();
  const i = s.search(/\s/);
  return i < 0 ? null : s.slice(i + 1);
}
