// Host patterns with Ansible's semantics: names, globs, ~regex, subscripts, union, &intersection,
// !exclusion (unions first, then intersections, then exclusions), and --limit (with @file).
import { readFileSync, statSync } from 'node:fs';
import { EXIT, ObiamError } from '../errors.js';
import type { Inventory } from './model.js';
import { IMPLICIT_LOCALHOST_NAMES } from './model.js';
import { groupsMap } from './host-vars.js';

/**
 * Splits a pattern into terms like Ansible: on commas when there is one, otherwise on colons outside
 * `[...]` (so `web[0:2]` stays whole); a bare IPv6 address is one term.
 */
export function splitPattern(pattern: string): string[] {
  let parts: string[];
  if (pattern.includes(',')) parts = pattern.split(',');
  else if (/^[0-9a-fA-F]*:[0-9a-fA-F:]*:[0-9a-fA-F.]*$/.test(pattern.trim()) || /^\[[^\]]*\](:\d+)?$/.test(pattern.trim())) parts = [pattern];
  else parts = pattern.match(/(?:[^\s:[\]]|\[[^\]]*\])+/g) ?? [];
  return parts.map((p) => p.trim()).filter(Boolean);
}

/** Ansible's order_patterns: plain terms, then `&` terms, then `!` terms; only modifiers means `all` first. */
export function orderPatterns(terms: string[]): string[] {
  const plain = terms.filter((t) => t[0] !== '&' && t[0] !== '!');
  const inter = terms.filter((t) => t[0] === '&');
  const excl = terms.filter((t) => t[0] === '!');
  return [...(plain.length ? plain : ['all']), ...inter, ...excl];
}

/** Python fnmatch.translate: `*`, `?`, `[seq]`, `[!seq]`; the whole name must match (case-sensitive). */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      let j = i + 1;
      if (glob[j] === '!') j++;
      if (glob[j] === ']') j++;
      while (j < glob.length && glob[j] !== ']') j++;
      if (j >= glob.length) re += '\\[';
      else {
        let body = glob.slice(i + 1, j).replace(/\\/g, '\\\\');
        if (body.startsWith('!')) body = '^' + body.slice(1);
        else if (body.startsWith('^')) body = '\\' + body;
        re += `[${body}]`;
        i = j;
      }
    } else re += c.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
  }
  return new RegExp(`^(?:${re})$`, 's');
}

function termRegExp(term: string): RegExp {
  if (term[0] !== '~') return globToRegExp(term);
  try {
    // Python's re.match anchors at the start only; (?P<n>) is Python's spelling of (?<n>).
    return new RegExp(`^(?:${term.slice(1).replace(/\(\?P</g, '(?<')})`);
  } catch (e) {
    throw new ObiamError('E_PATTERN_INVALID', `invalid host pattern '${term}': ${(e as Error).message}`, {
      remedy: 'a pattern starting with ~ is a regular expression; escape special characters',
      exitCode: EXIT.BAD_OPTIONS,
    });
  }
}

/** `web[0]`, `web[1:3]`, `web[2:]`, `web[-1]` (not for regex terms). */
function splitSubscript(term: string): { expr: string; sub?: [number, number | undefined] } {
  if (term[0] === '~') return { expr: term };
  const m = /^(.+)\[(?:(-?\d+)|(\d+)([:-])(\d+)?)\]$/.exec(term);
  if (!m) return { expr: term };
  if (m[2] !== undefined) return { expr: m[1]!, sub: [Number(m[2]), undefined] };
  return { expr: m[1]!, sub: [Number(m[3]), m[5] === undefined ? -1 : Number(m[5])] };
}

interface Matched {
  hosts: string[];
  groupMatched: boolean;
}

class Matcher {
  readonly groups: Record<string, string[]>;
  constructor(readonly inv: Inventory) {
    this.groups = groupsMap(inv);
  }

  /** Ansible's _enumerate_matches: group names first; host names too when no group matched or the term looks like a glob/regex/FQDN. */
  enumerate(expr: string): Matched {
    const re = termRegExp(expr);
    const out: string[] = [];
    const groupNames = Object.keys(this.groups).filter((g) => re.test(g));
    for (const g of groupNames) out.push(...this.groups[g]!);
    if (!groupNames.length || expr[0] === '~' || /[.?*[]/.test(expr)) {
      for (const h of this.inv.hosts.keys()) if (re.test(h)) out.push(h);
    }
    if (!out.length && IMPLICIT_LOCALHOST_NAMES.has(expr)) out.push(expr);
    return { hosts: [...new Set(out)], groupMatched: groupNames.length > 0 };
  }

  matchTerm(term: string): Matched {
    const bare = term[0] === '&' || term[0] === '!' ? term.slice(1) : term;
    const { expr, sub } = splitSubscript(bare);
    const m = this.enumerate(expr);
    if (!sub || !m.hosts.length) return m;
    const [start, end] = sub;
    const list = m.hosts;
    if (end === undefined) {
      const h = list[start < 0 ? list.length + start : start];
      if (h === undefined) {
        throw new ObiamError('E_PATTERN_SUBSCRIPT', `no host matched the subscripted pattern '${bare}' (${list.length} hosts match '${expr}')`, {
          remedy: 'subscripts count from 0: web[0] is the first host of web',
          exitCode: EXIT.BAD_OPTIONS,
        });
      }
      return { ...m, hosts: [h] };
    }
    return { ...m, hosts: list.slice(start, (end === -1 ? list.length - 1 : end) + 1) };
  }

  /** Ansible's _evaluate_patterns over already-split terms. */
  evaluate(terms: string[]): string[] {
    let hosts: string[] = [];
    for (const t of orderPatterns(terms)) {
      if (this.inv.hosts.has(t)) {
        if (!hosts.includes(t)) hosts.push(t);
        continue;
      }
      const that = this.matchTerm(t).hosts;
      if (t[0] === '!') {
        const ex = new Set(that);
        hosts = hosts.filter((h) => !ex.has(h));
      } else if (t[0] === '&') {
        const keep = new Set(that);
        hosts = hosts.filter((h) => keep.has(h));
      } else {
        const have = new Set(hosts);
        hosts.push(...that.filter((h) => !have.has(h)));
      }
    }
    return hosts;
  }
}

/** The terms of a --limit: split like a pattern, `@file` replaced by the file's lines (one pattern each). */
export function limitTerms(limit: string | string[]): string[] {
  const out: string[] = [];
  for (const piece of Array.isArray(limit) ? limit : [limit]) {
    for (const term of splitPattern(piece)) {
      if (term[0] !== '@') {
        out.push(term);
        continue;
      }
      const file = term.slice(1);
      let text: string;
      try {
        if (!statSync(file).isFile()) throw Object.assign(new Error('not a file'), { code: 'EISDIR' });
        text = readFileSync(file, 'utf8');
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        throw new ObiamError('E_LIMIT_FILE', code === 'EISDIR' ? `limit file ${file} is a directory` : `cannot read limit file ${file}: ${code === 'ENOENT' ? 'no such file' : code}`, {
          remedy: '--limit @FILE reads one host pattern per line (a retry file, for example)',
          exitCode: EXIT.BAD_OPTIONS,
        });
      }
      out.push(...text.split('\n').map((l) => l.trim()).filter(Boolean));
    }
  }
  return out;
}

/**
 * Hosts matching `pattern`, narrowed by `limit` (same syntax, plus `@file`), in inventory order.
 * The implicit localhost (when named and absent from the inventory) comes last. A limit that matches
 * nothing gives an empty result: the caller reports it.
 */
export function selectHosts(inv: Inventory, pattern: string, limit?: string | string[]): string[] {
  const m = new Matcher(inv);
  let hosts = m.evaluate(splitPattern(pattern));
  const lim = limit === undefined ? [] : limitTerms(limit);
  if (lim.length) {
    const allowed = new Set(m.evaluate(lim));
    hosts = hosts.filter((h) => allowed.has(h));
  }
  const order = new Map([...inv.hosts.keys()].map((h, i) => [h, i]));
  const rank = (h: string): number => order.get(h) ?? Number.MAX_SAFE_INTEGER;
  return hosts.map((h, i) => ({ h, i })).sort((a, b) => rank(a.h) - rank(b.h) || a.i - b.i).map((x) => x.h);
}

/** Ansible's "Could not match supplied host pattern, ignoring: X" for each term naming no group or host. */
export function patternWarnings(inv: Inventory, pattern: string): string[] {
  const m = new Matcher(inv);
  const out: string[] = [];
  for (const t of splitPattern(pattern)) {
    const bare = t[0] === '&' || t[0] === '!' ? t.slice(1) : t;
    if (!bare || inv.hosts.has(bare)) continue;
    const { expr } = splitSubscript(bare);
    if (expr === 'all') continue;
    const r = m.enumerate(expr);
    if (!r.hosts.length && !r.groupMatched) out.push(`Could not match supplied host pattern, ignoring: ${bare}`);
  }
  return out;
}
