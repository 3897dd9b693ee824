// Where a roll keeps its lock and journal: one directory per environment (inventory), so two
// operators on the same jump host who run against inventory/prod.yml meet the same lock.
import { createHash } from 'node:crypto';
import path from 'node:path';

export interface StateDirOptions {
  /** --state-dir, else $OBIAM_RUN_STATE_DIR: the base directory instead of `<inventory dir>/.obiam-run`. */
  base?: string;
  /** Inventory sources as given to the run (absolute paths, or a `host1,host2,` list). */
  inventories: string[];
  cwd: string;
}

/** `<inventory dir>/.obiam-run/<inventory names>-<hash>`: readable, and unique per set of sources. */
export function stateDirFor(o: StateDirOptions): string {
  const files = o.inventories.filter((s) => path.isAbsolute(s));
  const first = files[0];
  const base = o.base ? path.resolve(o.cwd, o.base) : first ? path.join(path.dirname(first), '.obiam-run') : path.join(o.cwd, '.obiam-run');
  const names = files.length ? files.map((f) => path.basename(f).replace(/\.(ya?ml|ini|json)$/i, '')).join('+') : 'host-list';
  const hash = createHash('sha256').update(o.inventories.join('\n')).digest('hex').slice(0, 8);
  return path.join(base, `${names.replace(/[^A-Za-z0-9._+-]/g, '_').slice(0, 80)}-${hash}`);
}
