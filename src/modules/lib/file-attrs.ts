// File attributes (mode/owner/group), declared once: the argument type and JSON schema every file
// module takes, checking and resolving modes (octal or symbolic), comparing them with a probed state
// and the chmod/chown lines that set them.
import { shq } from '../types.js';

const modeSchema = { anyOf: [{ type: 'integer', minimum: 0, maximum: 0o7777 }, { type: 'string', minLength: 1 }] };
/** The schema of one mode argument (mode, directory_mode). */
export const MODE_SCHEMA = modeSchema;
/** The schema properties of mode/owner/group, spread into a module's schema. */
export const ATTR_PROPS = { mode: modeSchema, owner: { type: 'string', minLength: 1 }, group: { type: 'string', minLength: 1 } };

/** What attrsDiffer reads of a probed path (a RemoteStat). */
export interface AttrState {
  exists: boolean;
  type: string;
  mode: string;
  owner: string;
  group: string;
  uid: number | string;
  gid: number | string;
}

/** The attributes among a module's arguments. */
export function attrsOf(a: FileAttrs): FileAttrs {
  return { mode: a.mode, owner: a.owner, group: a.group };
}

export function octal4(n: number): string {
  return n.toString(8).padStart(4, '0');
}

/**
 * A mode for GNU chmod/mkdir -m that is set exactly: with four digits they keep a directory's setgid
 * bit (a subdirectory of a setgid directory stayed 2700 for `mode: '0700'` and was reported changed on
 * every run); a fifth, leading zero clears what is not asked for, as Ansible's chmod(2) does.
 */
export function exactMode(n: number): string {
  return `0${octal4(n)}`;
}

// ---- modes -----------------------------------------------------------------------------------

export type ModeArg = number | string | undefined;

const SYMBOLIC = /^[ugoa]*[-+=][rwxXstugo]*([-+=][rwxXstugo]*)*$/;

/** Checks a mode argument up front so a bad mode fails before anything is changed. */
export function checkMode(mode: ModeArg, name = 'mode'): string | undefined {
  if (mode === undefined || typeof mode === 'number') return typeof mode === 'number' && (mode < 0 || mode > 0o7777) ? `${name} ${mode} is out of range` : undefined;
  if (mode === 'preserve') return undefined;
  if (/^[0-7]{1,4}$/.test(mode)) return undefined;
  if (mode.split(',').every((c) => SYMBOLIC.test(c))) return undefined;
  return `${name} must be octal (0644) or symbolic (u=rw,g=r,o=r), got '${mode}'`;
}

/**
 * The permission bits a mode argument asks for, given the current bits (symbolic modes are relative).
 * A YAML integer is the octal value already (0644 -> 420), as Ansible reads it.
 */
export function resolveMode(mode: ModeArg, current: number, isDir: boolean): number | undefined {
  if (mode === undefined || mode === 'preserve') return undefined;
  if (typeof mode === 'number') return mode & 0o7777;
  if (/^[0-7]{1,4}$/.test(mode)) return parseInt(mode, 8);
  let bits = current & 0o7777;
  for (const clause of mode.split(',')) {
    const m = /^([ugoa]*)(.*)$/.exec(clause)!;
    const who = m[1] || 'a';
    for (const op of m[2]!.match(/[-+=][rwxXstugo]*/g) ?? []) {
      const sign = op[0];
      let perm = 0;
      for (const c of op.slice(1)) {
        if (c === 'r') perm |= 0o444;
        else if (c === 'w') perm |= 0o222;
        else if (c === 'x') perm |= 0o111;
        else if (c === 'X') perm |= isDir || bits & 0o111 ? 0o111 : 0;
        else if (c === 's') perm |= 0o6000;
        else if (c === 't') perm |= 0o1000;
        else {
          // Copy another class's bits (g=u).
          const src = c === 'u' ? (bits >> 6) & 7 : c === 'g' ? (bits >> 3) & 7 : bits & 7;
          perm |= (src << 6) | (src << 3) | src;
        }
      }
      let mask = 0;
      if (who.includes('u') || who.includes('a')) mask |= 0o4700;
      if (who.includes('g') || who.includes('a')) mask |= 0o2070;
      if (who.includes('o') || who.includes('a')) mask |= 0o1007;
      const p = perm & mask;
      if (sign === '+') bits |= p;
      else if (sign === '-') bits &= ~p;
      else bits = (bits & ~(mask & 0o777 | (mask & 0o6000))) | p;
    }
  }
  return bits & 0o7777;
}

// ---- attributes (mode/owner/group) ----------------------------------------------------------

/** The attribute arguments, as the user gives them. */
export interface FileAttrs {
  mode?: ModeArg;
  owner?: string;
  group?: string;
}

/** The attributes to set, mode resolved to permission bits. */
export interface AttrChange {
  mode?: number;
  owner?: string;
  group?: string;
}

/** Does the current state differ from mode/owner/group? Names and numeric ids both match. */
export function attrsDiffer(st: AttrState, a: FileAttrs, defaultBits?: number): AttrChange {
  const out: AttrChange = {};
  const cur = st.exists ? parseInt(st.mode, 8) : (defaultBits ?? 0o644);
  const want = resolveMode(a.mode, cur, st.type === 'directory');
  if (want !== undefined && (!st.exists || want !== cur)) out.mode = want;
  // A path about to be (re)created gets new ownership, whatever the old one was.
  if (a.owner !== undefined && (!st.exists || (a.owner !== st.owner && a.owner !== String(st.uid)))) out.owner = a.owner;
  if (a.group !== undefined && (!st.exists || (a.group !== st.group && a.group !== String(st.gid)))) out.group = a.group;
  return out;
}

/** chmod/chown lines for a path (the target path may be a shell variable like "$t"). */
export function attrScript(target: string, a: AttrChange, recurse = false): string[] {
  const R = recurse ? '-R ' : '';
  const lines: string[] = [];
  if (a.owner !== undefined) lines.push(`chown ${R}-- ${shq(a.owner)} ${target}`);
  if (a.group !== undefined) lines.push(`chgrp ${R}-- ${shq(a.group)} ${target}`);
  if (a.mode !== undefined) lines.push(`chmod ${R}${exactMode(a.mode)} ${target}`);
  return lines;
}

