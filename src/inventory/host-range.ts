// Ansible host ranges (`web[01:03]`, `db-[a:c]`, `n[0:10:5]`) and `host:port` specs, shared by the
// YAML and INI readers and by `-i a,b,` host lists.

/** Expands Ansible host ranges: `web[01:03]`, `db-[a:c]`, `n[0:10:5]`, several per name. */
export function expandHostRange(name: string): string[] {
  const m = /^(.*?)\[([^\]]*)\](.*)$/.exec(name);
  if (!m || !m[2]!.includes(':')) return [name];
  const [, head, range, tail] = m as unknown as [string, string, string, string];
  const bounds = range.split(':');
  if (bounds.length !== 2 && bounds.length !== 3) throw new Error('a host range must be [begin:end] or [begin:end:step]');
  const beg = bounds[0] || '0';
  const end = bounds[1]!;
  const step = bounds.length === 3 ? Number(bounds[2]) : 1;
  if (!end) throw new Error('a host range must have an end value');
  if (!Number.isInteger(step) || step < 1) throw new Error(`host range step '${bounds[2]}' must be a positive whole number`);
  let seq: string[];
  if (/^[A-Za-z]$/.test(beg) && /^[A-Za-z]$/.test(end)) {
    const letters = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
    const i = letters.indexOf(beg);
    const j = letters.indexOf(end);
    if (i > j) throw new Error('a host range must have begin <= end');
    seq = [];
    for (let k = i; k <= j; k += step) seq.push(letters[k]!);
  } else {
    if (!/^\d+$/.test(beg) || !/^\d+$/.test(end)) throw new Error(`host range [${range}] must be numbers or single letters`);
    const width = beg.length > 1 && beg.startsWith('0') ? beg.length : 0;
    if (width && end.length !== width) throw new Error('a zero-padded host range needs begin and end of the same width');
    if (Number(beg) > Number(end)) throw new Error('a host range must have begin <= end');
    seq = [];
    for (let k = Number(beg); k <= Number(end); k += step) seq.push(width ? String(k).padStart(width, '0') : String(k));
  }
  return seq.flatMap((s) => expandHostRange(`${head}${s}${tail}`));
}

/** `host:port` (not IPv6) -> name and port, as Ansible's inventory parsers accept. */
export function splitPort(spec: string): { name: string; port?: number } {
  const m = /^([^:[\]]+|[^:]*\[[^\]]*\][^:]*):(\d+)$/.exec(spec);
  if (m) return { name: m[1]!, port: Number(m[2]) };
  const br = /^\[([0-9a-fA-F:.]+)\]:(\d+)$/.exec(spec);
  if (br) return { name: br[1]!, port: Number(br[2]) };
  return { name: spec };
}
