// Ansible's "unsafe" marking: data that came from a host (registered results, facts) or was tagged
// `!unsafe` is text, never a template. A string is wrapped in UnsafeText; a list or dict is marked
// whole (every nested list and dict goes into a WeakSet), so the lazy variable templating skips it.
// A template that reads unsafe data produces unsafe output (as Ansible's templar does), so a
// set_fact copy of remote output stays data too.

/** A string that must never be rendered as a template. Templates see its text. */
export class UnsafeText {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
  toJSON(): string {
    return this.text;
  }
}

const marked = new WeakSet<object>();

function isContainer(v: unknown): v is object {
  return Array.isArray(v) || (!!v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype);
}

/** True when `v` is unsafe text or a list/dict marked unsafe. */
export function isUnsafe(v: unknown): boolean {
  return v instanceof UnsafeText || (!!v && typeof v === 'object' && marked.has(v));
}

/** Marks a value unsafe: strings become UnsafeText, lists and dicts are marked through and through (in place). */
export function markUnsafe<T>(v: T): T | UnsafeText {
  if (typeof v === 'string') return new UnsafeText(v);
  if (!isContainer(v) || marked.has(v)) return v;
  marked.add(v);
  for (const x of Array.isArray(v) ? v : Object.values(v)) if (isContainer(x)) markUnsafe(x);
  return v;
}

/** A copy with UnsafeText turned back into plain strings (what modules are given); other values as they are. */
export function unwrapUnsafe(v: unknown): unknown {
  if (v instanceof UnsafeText) return v.text;
  if (Array.isArray(v)) return v.some(needsUnwrap) ? v.map(unwrapUnsafe) : v;
  if (isContainer(v)) {
    if (!Object.values(v).some(needsUnwrap)) return v;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = unwrapUnsafe(x);
    return out;
  }
  return v;
}

function needsUnwrap(v: unknown): boolean {
  if (v instanceof UnsafeText) return true;
  if (Array.isArray(v)) return v.some(needsUnwrap);
  if (isContainer(v)) return Object.values(v).some(needsUnwrap);
  return false;
}

/**
 * A module result as it is registered: `failed: false` when it did not fail (as Ansible's results
 * carry it; skipped results do not), plain strings inside, the whole marked unsafe.
 */
export function registeredData<T>(v: T): T {
  let r = unwrapUnsafe(v);
  if (isContainer(r) && !Array.isArray(r)) {
    const o = r as Record<string, unknown>;
    if (o.failed === undefined && !o.skipped) r = { ...o, failed: false };
  }
  return markUnsafe(r) as T;
}
