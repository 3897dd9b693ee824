// group_vars/ and host_vars/ beside an inventory source, as Ansible's host_group_vars plugin reads
// them: for each group and host the first of `<name>` (a file or a directory), `<name>.yml`, `.yaml`, `.json`.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { extname, join, relative } from 'node:path';
import type { Vars } from '../types.js';
import type { InventoryBuilder } from './builder.js';
import { IMPLICIT_LOCALHOST_NAMES } from './model.js';
import { YamlInventoryReader } from './yaml-inventory.js';

export const VARS_EXTENSIONS = ['.yml', '.yaml', '.json'];

/** Reads the vars directories of every base dir into the builder's layers. */
export function loadVarsDirs(b: InventoryBuilder, baseDirs: string[]): void {
  const reader = new YamlInventoryReader(b);
  for (const dir of [...new Set(baseDirs)]) {
    for (const g of b.inv.groups.keys()) loadVarsFor(b, reader, dir, 'group_vars', g, b.layers.groupDir);
    for (const h of [...b.inv.hosts.keys(), ...IMPLICIT_LOCALHOST_NAMES]) loadVarsFor(b, reader, dir, 'host_vars', h, b.layers.hostDir);
  }
}

function loadVarsFor(b: InventoryBuilder, reader: YamlInventoryReader, dir: string, kind: string, name: string, into: Map<string, Vars>): void {
  const base = join(dir, kind, name);
  for (const ext of ['', ...VARS_EXTENSIONS]) {
    const p = base + ext;
    if (!existsSync(p)) continue;
    const files = statSync(p).isDirectory() ? varsFilesIn(p) : [p];
    for (const f of files) {
      const text = b.readText(f);
      const vars = text === undefined ? undefined : reader.varsFile(f, text, relative(dir, f));
      if (vars) into.set(name, { ...into.get(name), ...vars });
    }
    return;
  }
}

/** Files of a vars directory, recursively and sorted; hidden files, backups and other extensions skipped. */
function varsFilesIn(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    if (name.startsWith('.') || name.endsWith('~')) continue;
    const full = join(dir, name);
    const ext = extname(name);
    const st = statSync(full);
    if (st.isDirectory() && !ext) out.push(...varsFilesIn(full));
    else if (st.isFile() && (!ext || VARS_EXTENSIONS.includes(ext))) out.push(full);
  }
  return out;
}
