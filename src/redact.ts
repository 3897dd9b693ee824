// Values that must never be shown: decrypted vault values, become/ssh passwords, no_log results.
// Every reporter passes text through redact() before writing.

const secrets = new Set<string>();
export const REDACTED = '********';

export function registerSecret(value: unknown): void {
  if (typeof value === 'string' && value.length >= 3) secrets.add(value);
  else if (typeof value === 'number') secrets.add(String(value));
}

export function clearSecrets(): void {
  secrets.clear();
}

export function redact(text: string): string {
  if (secrets.size === 0 || text.length === 0) return text;
  let out = text;
  // Longest first so a secret containing another is replaced whole.
  for (const s of [...secrets].sort((a, b) => b.length - a.length)) {
    if (out.includes(s)) out = out.split(s).join(REDACTED);
  }
  return out;
}

/** Deep-redacts strings inside a JSON-like value. */
export function redactValue<T>(value: T): T {
  if (secrets.size === 0) return value;
  if (typeof value === 'string') return redact(value) as T;
  if (Array.isArray(value)) return value.map((v) => redactValue(v)) as T;
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = redactValue(v);
    return out as T;
  }
  return value;
}
