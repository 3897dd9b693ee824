// --json: one JSON object per line for every event, secrets redacted; the last line is the recap.
// Consumers can parse stdout line by line: nothing else is ever written to it in this mode.
import type { Reporter, RunEvent } from '../events/types.js';
import { redactValue } from '../redact.js';

/** `out` gets one complete line per call, newline included. */
export function createJsonReporter(out: (line: string) => void): Reporter {
  return {
    onEvent(e: RunEvent): void {
      // Redact the values, not the serialized text, so a secret holding quotes cannot break the JSON.
      const { event, ...rest } = redactValue(e);
      let text: string;
      try {
        text = JSON.stringify({ event, ...rest }, jsonSafe);
      } catch (err) {
        // A cyclic module result: keep the identifying fields rather than lose the line.
        const keep = Object.fromEntries(Object.entries(rest).filter(([, v]) => typeof v !== 'object' || v === null));
        text = JSON.stringify({ event, ...keep, unserializable: (err as Error).message });
      }
      out(`${text}\n`);
    },
  };
}

/** Module results may hold values JSON cannot carry; keep every line parseable. */
function jsonSafe(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  if (value instanceof Error) return { name: value.name, message: value.message };
  return value;
}
