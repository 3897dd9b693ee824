// Python `re` patterns and replacement strings in JavaScript RegExp terms (what Ansible's regex_* filters
// and match/search tests receive).

export interface PyRegexFlags {
  ignorecase?: boolean;
  multiline?: boolean;
}

/** Translates the Python-only syntax: (?P<n>...), (?P=n), \A, \Z, leading inline flags (?ims). */
export function pyRegex(pattern: string, flags: PyRegexFlags = {}, global = false): RegExp {
  let src = pattern;
  let f = '';
  const inline = /^\(\?([aiLmsux]+)\)/.exec(src);
  if (inline) {
    src = src.slice(inline[0].length);
    if (inline[1]!.includes('i')) f += 'i';
    if (inline[1]!.includes('m')) f += 'm';
    if (inline[1]!.includes('s')) f += 's';
  }
  if (flags.ignorecase && !f.includes('i')) f += 'i';
  if (flags.multiline && !f.includes('m')) f += 'm';
  src = src
    .replace(/\(\?P<([A-Za-z_]\w*)>/g, '(?<$1>')
    .replace(/\(\?P=([A-Za-z_]\w*)\)/g, '\\k<$1>')
    .replace(/\\A/g, '(?<![\\s\\S])')
    .replace(/\\Z/g, '(?![\\s\\S])');
  try {
    return new RegExp(src, f + (global ? 'g' : '') + 'u');
  } catch {
    // Some valid Python patterns are invalid under the `u` flag (e.g. needless escapes like \-): retry without.
    return new RegExp(src, f + (global ? 'g' : ''));
  }
}

/** Python replacement (\1, \g<1>, \g<name>, \n) applied to one match. */
export function pyExpand(repl: string, m: RegExpExecArray | RegExpMatchArray): string {
  return repl.replace(/\\g<(\w+)>|\\(\d{1,2})|\\([ntr\\])/g, (_x, g: string | undefined, d: string | undefined, esc: string | undefined) => {
    if (esc) return esc === 'n' ? '\n' : esc === 't' ? '\t' : esc === 'r' ? '\r' : '\\';
    const key = g ?? d!;
    const v = /^\d+$/.test(key) ? m[Number(key)] : m.groups?.[key];
    return v ?? '';
  });
}
