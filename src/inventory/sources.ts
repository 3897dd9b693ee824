// `-i` sources into one inventory, as Ansible's InventoryManager reads them: a host list (`a,b,`),
// a file (YAML, or INI when it is not a YAML mapping: Ansible tries its yaml plugin, then ini),
// or a directory of such files. Every error of every file is collected and thrown at once.
import { accessSync, constants, existsSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { dirname, extname, join, resolve } from 'node:path';
import { isMap, isScalar, isSeq } from 'yaml';
import { EXIT, ObiamError, ObiamErrors } from '../errors.js';
import type { VaultDecrypter } from '../vault/types.js';
import { parseYaml } from '../load/yaml.js';
import { InventoryBuilder } from './builder.js';
import { readIniInventory } from './ini-inventory.js';
import type { Inventory } from './model.js';
import { loadVarsDirs, VARS_EXTENSIONS } from './vars-files.js';
import { YamlInventoryReader } from './yaml-inventory.js';

export interface LoadInventoryOptions {
  vault?: VaultDecrypter;
  /** Accepted `ansible_connection` values (the transports the run has); default ssh and local. */
  connections?: string[];
}

/** Parses `-i` sources (YAML or INI files, inventory directories, or `a,b,` host lists) into one inventory. */
export function loadInventory(sources: string[], opts: LoadInventoryOptions = {}): Inventory {
  const b = new InventoryBuilder(opts.vault, opts.connections);
  const baseDirs: string[] = [];
  for (const source of sources) {
    if (source.includes(',') && !existsSync(source)) {
      b.addHostList(source);
      continue;
    }
    const abs = resolve(source);
    let st;
    try {
      st = statSync(abs);
    } catch {
      b.errors.push(
        new ObiamError('E_INVENTORY_NOT_FOUND', `inventory source ${source} does not exist`, {
          remedy: 'pass -i with an inventory file (YAML or INI), an inventory directory, or a host list such as `host1,host2,`',
          exitCode: EXIT.BAD_OPTIONS,
        }),
      );
      continue;
    }
    b.inv.sources.push(abs);
    if (st.isDirectory()) {
      // An inventory directory: every inventory file in it (sorted), vars dirs inside it.
      for (const f of inventoryFilesIn(abs, b.errors)) addFile(b, f, opts);
      baseDirs.push(abs);
    } else {
      addFile(b, abs, opts);
      baseDirs.push(dirname(abs));
    }
  }
  b.reconcile();
  loadVarsDirs(b, baseDirs);
  if (b.errors.length) throw new ObiamErrors(b.errors, b.errors[0]!.exitCode);
  return b.seal();
}

/** One inventory file, YAML or INI, chosen as Ansible's plugin order chooses (yaml first for .yml/.yaml/.json/no extension). */
function addFile(b: InventoryBuilder, file: string, opts: LoadInventoryOptions): void {
  if (isExecutable(file)) {
    b.err('E_INVENTORY_SCRIPT', 'inventory scripts are not supported: this inventory file is executable', { file, line: 1, col: 1 }, 'write the hosts to a YAML or INI file (e.g. `./script --list` converted with `ansible-inventory -i SCRIPT --list -y`), or remove the executable bit (chmod -x) if it is a static file');
    return;
  }
  const text = b.readText(file);
  if (text === undefined) return;
  const ext = extname(file);
  if (ext === '.toml') {
    b.err('E_INVENTORY_TOML', 'TOML inventories are not supported', { file, line: 1, col: 1 }, 'convert it to YAML with `ansible-inventory -i FILE --list -y > inventory.yml`');
    return;
  }
  const yamlFirst = !ext || VARS_EXTENSIONS.includes(ext);
  const yaml = new YamlInventoryReader(b);
  if (!yamlFirst) return readIniInventory(b, file, text);
  const kind = yamlRoot(text, file, opts);
  if (kind === 'map') return yaml.addFile(file, text);
  // Not a YAML mapping: INI when it reads as INI (Ansible's ini plugin comes after yaml); when it
  // does not, the errors of the format it looks like (a plain line is INI, a list or `key:` is YAML).
  const significant = text.split('\n').find((l) => l.trim() && !/^\s*[#;]/.test(l));
  const section = significant !== undefined && /^\s*\[[^\]]*\]\s*(?:[#;].*)?$/.test(significant);
  // An empty file without extension is an empty INI inventory, as Ansible reads it; an empty .yml is refused.
  if ((kind !== 'empty' || !ext) && (section || kind === 'scalar' || (!LOOKS_YAML.test(text) && iniIsClean(text, file, opts)))) return readIniInventory(b, file, text);
  yaml.addFile(file, text);
}

/** A `key:` line (no `=` before the colon), a list item or a document marker: written as YAML. */
const LOOKS_YAML = /^(?:\s*[^\s#;=][^=\n]*:(?:\s|$)|\s*- |---)/m;

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function yamlRoot(text: string, file: string, opts: LoadInventoryOptions): 'map' | 'seq' | 'scalar' | 'empty' | 'error' {
  try {
    const root = parseYaml(text, file, { vault: opts.vault }).doc?.contents;
    if (isMap(root)) return 'map';
    if (isSeq(root)) return 'seq';
    return root === null || root === undefined || (isScalar(root) && root.value === null) ? 'empty' : 'scalar';
  } catch {
    return 'error';
  }
}

function iniIsClean(text: string, file: string, opts: LoadInventoryOptions): boolean {
  const scratch = new InventoryBuilder(opts.vault, opts.connections);
  readIniInventory(scratch, file, text);
  return scratch.errors.length === 0;
}

/** Ansible's INVENTORY_IGNORE_EXTS: files with these endings in an inventory directory are not inventories. */
const IGNORED_EXTENSIONS = ['~', '.orig', '.ini', '.cfg', '.retry', '.pyc', '.pyo', '.swp', '.bak', '.rpm', '.md', '.txt', '.rst'];

/**
 * The inventory files of an inventory directory, as Ansible reads one: every entry, sorted, and
 * subdirectories likewise, except hidden entries, group_vars/ and host_vars/ (vars, read beside the
 * inventory), and ignored extensions (README.md, a vault password .txt, and .ini as in Ansible).
 * A link to nothing and a lab's state directory are errors that say so.
 */
function inventoryFilesIn(dir: string, errors: ObiamError[]): string[] {
  if (existsSync(join(dir, 'lab.json')) && existsSync(join(dir, 'inventory.yml'))) {
    errors.push(
      new ObiamError('E_INVENTORY_DIR', `${dir} is the state directory of an obiam-run lab, not an inventory directory`, {
        remedy: `use its inventory file: -i ${join(dir, 'inventory.yml')}`,
        exitCode: EXIT.BAD_OPTIONS,
      }),
    );
    return [];
  }
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    if (name.startsWith('.') || name === 'group_vars' || name === 'host_vars' || IGNORED_EXTENSIONS.some((e) => name.endsWith(e))) continue;
    const full = join(dir, name);
    let st;
    try {
      st = statSync(full);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      let target = '';
      try {
        target = ` -> ${readlinkSync(full)}`;
      } catch {
        // not a link: the code says what is wrong
      }
      errors.push(
        new ObiamError('E_INVENTORY_BROKEN_LINK', `${full}${target} in inventory directory ${dir} cannot be read (${code === 'ENOENT' ? 'it points to nothing' : code})`, {
          remedy: 'remove the dangling link or fix its target; hidden files (.name) are not read',
          exitCode: EXIT.BAD_OPTIONS,
        }),
      );
      continue;
    }
    if (st.isDirectory()) out.push(...inventoryFilesIn(full, errors));
    else if (st.isFile()) out.push(full);
  }
  return out;
}
