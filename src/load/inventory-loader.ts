// Loads Ansible-compatible YAML inventories (all/hosts/children/vars to any depth, host ranges,
// group_vars/ and host_vars/ beside the inventory) and computes inventory-level host vars with
// Ansible's precedence. Every error of every file is collected and thrown at once.
import { existsSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { dirname, extname, join, relative, resolve } from 'node:path';
import { isAlias, isMap, isScalar, isSeq, type Document, type Node as YamlNode, type Pair } from 'yaml';
import { EXIT, ObiamError, ObiamErrors, isObiamError, type SourceLocation } from '../errors.js';
import type { Vars } from '../types.js';
import { isVaultPayload, type VaultDecrypter } from '../vault/types.js';
import { didYouMean } from './did-you-mean.js';
import { CONNECTION_VARS, connectionSchema } from './inventory-schema.js';
import { describeSchema, shortValue, valueFits } from './validate.js';
import type { Inventory, InventoryGroup, InventoryHost } from './inventory.js';
import { parseYaml, VaultedValue } from './yaml.js';

export interface LoadInventoryOptions {
  vault?: VaultDecrypter;
  /** Accepted `ansible_connection` values (the transports the run has); default ssh and local. */
  connections?: string[];
}

/** Names Ansible treats as the implicit localhost when a pattern names them and the inventory lacks them. */
export const IMPLICIT_LOCALHOST_NAMES: ReadonlySet<string> = new Set(['localhost', '127.0.0.1', '::1']);

const GROUP_KEYS = ['hosts', 'children', 'vars'];
const VARS_EXTENSIONS = ['.yml', '.yaml', '.json'];

/**
 * Vars by origin. Ansible ranks them: inventory-file group vars (all, then groups) < group_vars/all <
 * group_vars/<group> < inventory-file host vars < host_vars/<host>. InventoryGroup.vars and
 * InventoryHost.vars hold the merge of both origins; the split is kept here for hostVarsOf.
 */
interface VarLayers {
  groupFile: Map<string, Vars>;
  groupDir: Map<string, Vars>;
  hostFile: Map<string, Vars>;
  hostDir: Map<string, Vars>;
  priority: Map<string, number>;
}
const layersOf = new WeakMap<Inventory, VarLayers>();

/** Parses `-i` sources (YAML files, inventory directories, or `a,b,` host lists) into one inventory. */
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
          remedy: 'pass -i with a YAML inventory file, an inventory directory, or a host list such as `host1,host2,`',
          exitCode: EXIT.BAD_OPTIONS,
        }),
      );
      continue;
    }
    b.inv.sources.push(abs);
    if (st.isDirectory()) {
      // An inventory directory: every YAML file in it (sorted), vars dirs inside it.
      for (const f of inventoryFilesIn(abs, b.errors)) b.addFile(f);
      baseDirs.push(abs);
    } else {
      b.addFile(abs);
      baseDirs.push(dirname(abs));
    }
  }
  b.finish(baseDirs);
  if (b.errors.length) throw new ObiamErrors(b.errors, b.errors[0]!.exitCode);
  return b.inv;
}

/** Ansible's INVENTORY_IGNORE_EXTS: files with these endings in an inventory directory are not inventories. */
const IGNORED_EXTENSIONS = ['~', '.orig', '.ini', '.cfg', '.retry', '.pyc', '.pyo', '.swp', '.bak', '.rpm', '.md', '.txt', '.rst'];

/**
 * The inventory files of an inventory directory, as Ansible reads one: every entry, sorted, and
 * subdirectories likewise, except hidden entries, group_vars/ and host_vars/ (vars, read beside the
 * inventory), and ignored extensions (README.md, a vault password .txt...). Only YAML/JSON files are
 * inventories here. A link to nothing and a lab's state directory are errors that say so.
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
    else if (VARS_EXTENSIONS.includes(extname(name))) out.push(full);
  }
  return out;
}

/** Offsets -> 1-based line/col for one YAML text (the loader reports positions of nodes it walks). */
class Positions {
  private readonly starts: number[] = [0];
  constructor(
    readonly file: string,
    text: string,
  ) {
    for (let i = 0; i < text.length; i++) if (text[i] === '\n') this.starts.push(i + 1);
  }
  at(node: YamlNode | null | undefined, fallback?: SourceLocation): SourceLocation {
    const off = node?.range?.[0];
    if (off === undefined) return fallback ?? { file: this.file, line: 1, col: 1 };
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= off) lo = mid;
      else hi = mid - 1;
    }
    return { file: this.file, line: lo + 1, col: off - this.starts[lo]! + 1 };
  }
}

interface Entry {
  key: unknown;
  keyNode: YamlNode | null;
  value: YamlNode | null;
}

/** Pairs of a YAML mapping, `<<` merges resolved (explicit keys win, as in PyYAML). */
function entriesOf(doc: Document, map: YamlNode): Entry[] {
  if (!isMap(map)) return [];
  const own: Entry[] = [];
  const merged: Entry[] = [];
  for (const pair of map.items as Pair<unknown, unknown>[]) {
    const keyNode = (pair.key ?? null) as YamlNode | null;
    const key = isScalar(keyNode) ? keyNode.value : keyNode === null ? null : keyNode;
    let value = (pair.value ?? null) as YamlNode | null;
    if (isScalar(keyNode) && (typeof key === 'symbol' || keyNode.source === '<<')) {
      const sources = isSeq(value) ? (value.items as YamlNode[]) : [value];
      for (let src of sources) {
        if (isAlias(src)) src = src.resolve(doc) as YamlNode;
        if (src && isMap(src)) merged.push(...entriesOf(doc, src));
      }
      continue;
    }
    if (isAlias(value)) value = (value.resolve(doc) ?? null) as YamlNode | null;
    own.push({ key, keyNode, value });
  }
  const ownKeys = new Set(own.map((e) => e.key));
  return [...merged.filter((e) => !ownKeys.has(e.key)), ...own];
}

function isNull(node: YamlNode | null): boolean {
  return node === null || (isScalar(node) && node.value === null);
}

function describe(node: YamlNode | null): string {
  if (isNull(node)) return 'nothing';
  if (isSeq(node)) return 'a list';
  if (isMap(node)) return 'a mapping';
  if (isScalar(node)) return typeof node.value === 'string' ? `the string '${node.value}'` : `the ${typeof node.value} ${String(node.value)}`;
  return 'something else';
}

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
function splitPort(spec: string): { name: string; port?: number } {
  const m = /^([^:[\]]+|[^:]*\[[^\]]*\][^:]*):(\d+)$/.exec(spec);
  if (m) return { name: m[1]!, port: Number(m[2]) };
  const br = /^\[([0-9a-fA-F:.]+)\]:(\d+)$/.exec(spec);
  if (br) return { name: br[1]!, port: Number(br[2]) };
  return { name: spec };
}

class InventoryBuilder {
  readonly inv: Inventory = { sources: [], hosts: new Map(), groups: new Map() };
  readonly errors: ObiamError[] = [];
  readonly layers: VarLayers = { groupFile: new Map(), groupDir: new Map(), hostFile: new Map(), hostDir: new Map(), priority: new Map() };
  /** parent -> child -> where the edge was declared (for cycle reports). */
  private readonly edges = new Map<string, Map<string, SourceLocation | undefined>>();

  constructor(
    private readonly vault: VaultDecrypter | undefined,
    private readonly connections: string[] = ['ssh', 'local'],
  ) {
    // As in Ansible, ungrouped is all's first child from the start.
    this.group('all').children.push('ungrouped');
    this.group('ungrouped').parents.push('all');
  }

  group(name: string, location?: SourceLocation): InventoryGroup {
    let g = this.inv.groups.get(name);
    if (!g) {
      g = { name, vars: {}, hosts: [], children: [], parents: [], location };
      this.inv.groups.set(name, g);
    } else if (!g.location && location) g.location = location;
    return g;
  }

  private addHost(name: string, group: string, vars: Vars, location?: SourceLocation): void {
    let h = this.inv.hosts.get(name);
    if (!h) {
      h = { name, vars: {}, groups: [], location } satisfies InventoryHost;
      this.inv.hosts.set(name, h);
    }
    const g = this.group(group);
    if (!g.hosts.includes(name)) g.hosts.push(name);
    if (!h.groups.includes(group)) h.groups.push(group);
    // A host listed in several places: later vars override earlier ones, key by key.
    this.layers.hostFile.set(name, { ...this.layers.hostFile.get(name), ...vars });
  }

  private addChild(parent: string, child: string, location: SourceLocation): void {
    const p = this.group(parent);
    const c = this.group(child, location);
    if (!this.edges.has(parent)) this.edges.set(parent, new Map());
    if (!this.edges.get(parent)!.has(child)) this.edges.get(parent)!.set(child, location);
    if (!p.children.includes(child)) p.children.push(child);
    if (!c.parents.includes(parent)) c.parents.push(parent);
  }

  private setGroupVars(group: string, vars: Vars): void {
    // Like Ansible, ansible_group_priority orders groups and is not itself a variable.
    const { ansible_group_priority: prio, ...rest } = vars;
    this.layers.groupFile.set(group, { ...this.layers.groupFile.get(group), ...rest });
    if (prio !== undefined && Number.isInteger(Number(prio))) this.layers.priority.set(group, Number(prio));
  }

  addHostList(source: string): void {
    this.inv.sources.push(source);
    for (const raw of source.split(',')) {
      const spec = raw.trim();
      if (!spec) continue;
      const { name, port } = splitPort(spec);
      this.addHost(name, 'ungrouped', port === undefined ? {} : { ansible_port: port });
    }
  }

  /** Reads YAML (decrypting a whole-file vault first so positions refer to the plain text). */
  private read(file: string): { doc: Document; pos: Positions } | undefined {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      this.errors.push(new ObiamError('E_FILE_NOT_FOUND', `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { exitCode: EXIT.BAD_OPTIONS }));
      return undefined;
    }
    try {
      if (isVaultPayload(text) && this.vault?.hasSecrets) text = this.vault.decrypt(text, file);
      const ini = /^(?:\s*(?:[#;].*)?\n)*\s*\[[^\]\s]+\]\s*(?:\n|$)/.exec(text);
      if (ini) {
        const line = text.slice(0, ini[0].trimEnd().length).split('\n').length;
        this.err('E_INVENTORY_INI', 'INI inventories are not supported: this file starts with an INI section header', { file, line, col: 1 }, 'convert it to YAML with `ansible-inventory -i FILE --list -y > inventory.yml`');
        return undefined;
      }
      const loaded = parseYaml(text, file, { vault: this.vault });
      return { doc: loaded.doc!, pos: new Positions(file, text) };
    } catch (e) {
      if (e instanceof ObiamErrors) this.errors.push(...e.errors);
      else if (isObiamError(e)) this.errors.push(e.location ? e : new ObiamError(e.code, e.message, { location: { file, line: 1, col: 1 }, remedy: e.remedy, exitCode: e.exitCode }));
      else throw e;
      return undefined;
    }
  }

  private err(code: string, message: string, location: SourceLocation, remedy?: string): void {
    this.errors.push(new ObiamError(code, message, { location, remedy, exitCode: EXIT.PARSE }));
  }

  /** A mapping's string keys; reports the others (Ansible would stringify `1:` or `yes:` silently). */
  private stringEntries(doc: Document, pos: Positions, map: YamlNode, what: string): Array<Entry & { key: string }> {
    const out: Array<Entry & { key: string }> = [];
    for (const e of entriesOf(doc, map)) {
      if (typeof e.key === 'string') out.push(e as Entry & { key: string });
      else
        this.err(
          'E_INVENTORY_KEY_TYPE',
          `${what} must be a string, got ${isScalar(e.keyNode) ? `${e.key === null ? 'null' : typeof e.key} ${String(e.key)}` : 'a complex key'}`,
          pos.at(e.keyNode, pos.at(e.value)),
          'quote the name (YAML reads yes/no/on/off as booleans and 123 as a number)',
        );
    }
    return out;
  }

  private varsOf(doc: Document, pos: Positions, node: YamlNode | null, what: string): Vars | undefined {
    if (isNull(node)) return {};
    if (!isMap(node)) {
      this.err('E_INVENTORY_VARS_NOT_MAPPING', `${what} must be a mapping of variable names to values, got ${describe(node)}`, pos.at(node), 'write variables as `name: value` lines indented under the key');
      return undefined;
    }
    const out: Vars = {};
    for (const e of this.stringEntries(doc, pos, node, 'a variable name')) {
      out[e.key] = e.value === null ? null : e.value.toJS(doc, { maxAliasCount: 10_000 });
      const schema = e.key === 'ansible_connection' ? connectionSchema(this.connections) : CONNECTION_VARS[e.key];
      if (schema && out[e.key] !== null && !(out[e.key] instanceof VaultedValue) && !valueFits(schema, out[e.key])) {
        this.err('E_INVENTORY_BAD_VALUE', `${e.key} must be ${describeSchema(schema)}, got ${shortValue(out[e.key])}`, pos.at(e.value), `fix ${e.key} in ${what}`);
      }
    }
    return out;
  }

  addFile(file: string): void {
    const r = this.read(file);
    if (!r) return;
    const { doc, pos } = r;
    const root = doc.contents as YamlNode | null;
    if (isNull(root)) {
      this.err('E_INVENTORY_EMPTY', 'the inventory file is empty', pos.at(root), 'add an `all:` group with `hosts:` and `children:`');
      return;
    }
    if (!isMap(root)) {
      this.err(
        'E_INVENTORY_NOT_MAPPING',
        `a YAML inventory must be a mapping of group names, got ${describe(root)}`,
        pos.at(root),
        'start with `all:`; INI inventories are not read: convert one with `ansible-inventory -i FILE --list -y`',
      );
      return;
    }
    const entries = this.stringEntries(doc, pos, root, 'a group name');
    const plugin = entries.find((e) => e.key === 'plugin');
    for (const e of plugin ? [plugin] : entries) {
      if (e.key === 'plugin') {
        // The other keys are the plugin's options, not groups: one error for the file is enough.
        this.err('E_INVENTORY_PLUGIN', 'inventory plugin configuration files are not supported', pos.at(e.keyNode), 'use a static YAML inventory (all/hosts/children/vars)');
        return;
      }
      if (GROUP_KEYS.includes(e.key)) {
        this.err(
          'E_INVENTORY_TOP_LEVEL_KEY',
          `'${e.key}' at the top level would be read as a group named '${e.key}'`,
          pos.at(e.keyNode),
          `top-level keys are group names: put '${e.key}:' under a group, e.g. \`all:\` then \`  ${e.key}:\``,
        );
        continue;
      }
      this.parseGroup(doc, pos, e.key, e.keyNode, e.value, [e.key]);
    }
  }

  private parseGroup(doc: Document, pos: Positions, name: string, keyNode: YamlNode | null, node: YamlNode | null, path: string[]): void {
    this.group(name, pos.at(keyNode));
    if (isNull(node)) return;
    if (!isMap(node)) {
      this.err(
        'E_INVENTORY_GROUP_NOT_MAPPING',
        `group '${name}' must be a mapping with hosts, children or vars, got ${describe(node)}`,
        pos.at(node),
        isSeq(node) ? 'list hosts as mapping keys under `hosts:` (`web1:` not `- web1`)' : 'indent `hosts:`, `children:` or `vars:` under the group name',
      );
      return;
    }
    for (const e of this.stringEntries(doc, pos, node, `a key in group '${name}'`)) {
      if (e.key === 'vars') {
        const vars = this.varsOf(doc, pos, e.value, `vars of group '${name}'`);
        if (vars) this.setGroupVars(name, vars);
      } else if (e.key === 'hosts') {
        this.parseHosts(doc, pos, name, e.value);
      } else if (e.key === 'children') {
        this.parseChildren(doc, pos, name, e.value, path);
      } else {
        const guess = didYouMean(e.key, GROUP_KEYS);
        this.err(
          'E_INVENTORY_UNKNOWN_KEY',
          `unknown key '${e.key}' in group '${name}'${guess ? `: did you mean '${guess}'?` : ''}`,
          pos.at(e.keyNode),
          'a group takes only `hosts:`, `children:` and `vars:`; hosts go under `hosts:` and variables under `vars:`',
        );
      }
    }
  }

  private parseHosts(doc: Document, pos: Positions, group: string, node: YamlNode | null): void {
    if (isNull(node)) return;
    if (isScalar(node) && typeof node.value === 'string') {
      // Ansible accepts `hosts: web1` as a one-host mapping.
      this.addHostSpec(pos, group, node.value, node, {});
      return;
    }
    if (!isMap(node)) {
      this.err(
        'E_INVENTORY_HOSTS_NOT_MAPPING',
        `hosts of group '${group}' must be a mapping of host names, got ${describe(node)}`,
        pos.at(node),
        isSeq(node) ? 'write each host as a key (`web1:`), not as a list item (`- web1`)' : 'indent host names under `hosts:`, each followed by a colon',
      );
      return;
    }
    for (const e of this.stringEntries(doc, pos, node, `a host name in group '${group}'`)) {
      let vars: Vars | undefined = {};
      if (!isNull(e.value)) {
        if (!isMap(e.value)) {
          this.err(
            'E_INVENTORY_HOST_NOT_MAPPING',
            `host '${e.key}' in group '${group}' must have a mapping of variables or nothing, got ${describe(e.value)}`,
            pos.at(e.value),
            'write `host:` alone, or `host:` followed by indented `var: value` lines',
          );
          continue;
        }
        vars = this.varsOf(doc, pos, e.value, `vars of host '${e.key}'`);
      }
      if (vars) this.addHostSpec(pos, group, e.key, e.keyNode, vars);
    }
  }

  private addHostSpec(pos: Positions, group: string, spec: string, keyNode: YamlNode | null, vars: Vars): void {
    const { name, port } = splitPort(spec.trim());
    let names: string[];
    try {
      names = expandHostRange(name);
    } catch (e) {
      this.err('E_INVENTORY_HOST_RANGE', `bad host range in '${spec}': ${(e as Error).message}`, pos.at(keyNode), 'ranges look like web[01:10], db-[a:f] or node[0:20:5]');
      return;
    }
    if (!name) {
      this.err('E_INVENTORY_HOST_NAME', `empty host name in group '${group}'`, pos.at(keyNode));
      return;
    }
    for (const h of names) this.addHost(h, group, port === undefined ? vars : { ansible_port: port, ...vars }, pos.at(keyNode));
  }

  private parseChildren(doc: Document, pos: Positions, parent: string, node: YamlNode | null, path: string[]): void {
    if (isNull(node)) return;
    if (isScalar(node) && typeof node.value === 'string') {
      this.childEdge(pos, parent, node.value, node, path);
      this.parseGroup(doc, pos, node.value, node, null, [...path, node.value]);
      return;
    }
    if (!isMap(node)) {
      this.err(
        'E_INVENTORY_CHILDREN_NOT_MAPPING',
        `children of group '${parent}' must be a mapping of group names, got ${describe(node)}`,
        pos.at(node),
        isSeq(node) ? 'write each child group as a key (`web:`), not as a list item (`- web`)' : 'indent child group names under `children:`',
      );
      return;
    }
    for (const e of this.stringEntries(doc, pos, node, `a child group name of '${parent}'`)) {
      if (!this.childEdge(pos, parent, e.key, e.keyNode, path)) continue;
      this.parseGroup(doc, pos, e.key, e.keyNode, e.value, [...path, e.key]);
    }
  }

  /** Adds parent -> child unless it closes a loop along the current nesting path. */
  private childEdge(pos: Positions, parent: string, child: string, keyNode: YamlNode | null, path: string[]): boolean {
    if (child === 'all') {
      this.err('E_INVENTORY_GROUP_CYCLE', `group 'all' cannot be a child of '${parent}': every group is already inside 'all'`, pos.at(keyNode), 'remove `all` from this children list');
      return false;
    }
    if (path.includes(child)) {
      this.err(
        'E_INVENTORY_GROUP_CYCLE',
        `group '${child}' is its own ancestor: ${[...path.slice(path.indexOf(child)), child].join(' > ')}`,
        pos.at(keyNode),
        'a group cannot contain itself, directly or through its children',
      );
      return false;
    }
    this.addChild(parent, child, pos.at(keyNode));
    return true;
  }

  /** Cycles made across separate definitions (`a: {children: {b:}}` and `b: {children: {a:}}`). */
  private breakCycles(): void {
    const state = new Map<string, 'open' | 'done'>();
    const stack: string[] = [];
    const visit = (g: string): void => {
      state.set(g, 'open');
      stack.push(g);
      for (const child of [...(this.inv.groups.get(g)?.children ?? [])]) {
        const s = state.get(child);
        if (s === 'open') {
          const loop = [...stack.slice(stack.indexOf(child)), child];
          const loc = this.edges.get(g)?.get(child) ?? this.inv.groups.get(child)?.location ?? { file: '', line: 1, col: 1 };
          this.err('E_INVENTORY_GROUP_CYCLE', `group '${child}' is its own ancestor: ${loop.join(' > ')}`, loc, 'a group cannot contain itself, directly or through its children');
          const pg = this.inv.groups.get(g)!;
          pg.children = pg.children.filter((c) => c !== child);
          const cg = this.inv.groups.get(child)!;
          cg.parents = cg.parents.filter((p) => p !== g);
        } else if (s === undefined) visit(child);
      }
      stack.pop();
      state.set(g, 'done');
    };
    for (const g of this.inv.groups.keys()) if (!state.has(g)) visit(g);
  }

  /** Ansible's reconcile: parentless groups go under all, hosts in no group go to ungrouped; then vars dirs. */
  finish(baseDirs: string[]): void {
    this.breakCycles();
    const all = this.inv.groups.get('all')!;
    for (const g of this.inv.groups.values()) {
      if (g.name !== 'all' && g.parents.length === 0) {
        all.children.push(g.name);
        g.parents.push('all');
      }
    }
    const ungrouped = this.inv.groups.get('ungrouped')!;
    for (const h of this.inv.hosts.values()) {
      const real = h.groups.filter((g) => g !== 'all' && g !== 'ungrouped');
      if (real.length === 0 && !h.groups.includes('ungrouped')) {
        h.groups.push('ungrouped');
        ungrouped.hosts.push(h.name);
      } else if (real.length > 0 && h.groups.includes('ungrouped')) {
        h.groups = h.groups.filter((g) => g !== 'ungrouped');
        ungrouped.hosts = ungrouped.hosts.filter((n) => n !== h.name);
      }
    }
    for (const dir of [...new Set(baseDirs)]) {
      for (const g of this.inv.groups.keys()) this.loadVarsFor(dir, 'group_vars', g, this.layers.groupDir);
      for (const h of [...this.inv.hosts.keys(), ...IMPLICIT_LOCALHOST_NAMES]) this.loadVarsFor(dir, 'host_vars', h, this.layers.hostDir);
    }
    for (const g of this.inv.groups.values()) g.vars = { ...this.layers.groupFile.get(g.name), ...this.layers.groupDir.get(g.name) };
    for (const h of this.inv.hosts.values()) h.vars = { ...this.layers.hostFile.get(h.name), ...this.layers.hostDir.get(h.name) };
    layersOf.set(this.inv, this.layers);
  }

  /** Like Ansible's host_group_vars: the first of `<name>` (file or directory), `<name>.yml`, `.yaml`, `.json`. */
  private loadVarsFor(dir: string, kind: string, name: string, into: Map<string, Vars>): void {
    const base = join(dir, kind, name);
    for (const ext of ['', ...VARS_EXTENSIONS]) {
      const p = base + ext;
      if (!existsSync(p)) continue;
      const files = statSync(p).isDirectory() ? varsFilesIn(p) : [p];
      for (const f of files) {
        const vars = this.loadVarsFile(f, relative(dir, f));
        if (vars) into.set(name, { ...into.get(name), ...vars });
      }
      return;
    }
  }

  private loadVarsFile(file: string, what: string): Vars | undefined {
    const r = this.read(file);
    if (!r) return undefined;
    const root = r.doc.contents as YamlNode | null;
    if (isNull(root)) return {};
    return this.varsOf(r.doc, r.pos, root, what);
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

/** Longest path from `all` (all = 0), as Ansible's group depth. */
function groupDepths(inv: Inventory): Map<string, number> {
  const depth = new Map<string, number>();
  const of = (g: string, seen: Set<string>): number => {
    const known = depth.get(g);
    if (known !== undefined) return known;
    if (g === 'all' || seen.has(g)) return 0;
    seen.add(g);
    const parents = inv.groups.get(g)?.parents ?? [];
    const d = parents.length ? Math.max(...parents.map((p) => of(p, seen) + 1)) : 1;
    seen.delete(g);
    depth.set(g, d);
    return d;
  };
  for (const g of inv.groups.keys()) of(g, new Set());
  return depth;
}

/** The host's groups with their ancestors, `all` excluded. */
function allGroupsOf(inv: Inventory, host: string): Set<string> {
  const out = new Set<string>();
  const add = (g: string): void => {
    if (out.has(g) || g === 'all') return;
    out.add(g);
    for (const p of inv.groups.get(g)?.parents ?? []) add(p);
  };
  for (const g of inv.hosts.get(host)?.groups ?? []) add(g);
  return out;
}

/** Ansible's sort_groups: depth, then ansible_group_priority (default 1), then name. */
function sortGroups(inv: Inventory, groups: Iterable<string>): string[] {
  const depth = groupDepths(inv);
  const prio = layersOf.get(inv)?.priority;
  return [...groups].sort((a, b) => (depth.get(a) ?? 0) - (depth.get(b) ?? 0) || (prio?.get(a) ?? 1) - (prio?.get(b) ?? 1) || (a < b ? -1 : a > b ? 1 : 0));
}

/** Groups of a host, sorted (the `group_names` magic var: all excluded, ungrouped kept, as Ansible does). */
export function groupNamesOf(inv: Inventory, host: string): string[] {
  return [...allGroupsOf(inv, host)].sort();
}

/** The `groups` magic var: every group -> its hosts and its descendants' hosts, in inventory order. */
export function groupsMap(inv: Inventory): Record<string, string[]> {
  const members = new Map<string, Set<string>>();
  const collect = (g: string, seen: Set<string>): Set<string> => {
    const done = members.get(g);
    if (done) return done;
    const set = new Set<string>();
    if (seen.has(g)) return set;
    seen.add(g);
    const grp = inv.groups.get(g);
    for (const h of grp?.hosts ?? []) set.add(h);
    for (const c of grp?.children ?? []) for (const h of collect(c, seen)) set.add(h);
    members.set(g, set);
    return set;
  };
  const out: Record<string, string[]> = {};
  const order = [...inv.hosts.keys()];
  for (const name of inv.groups.keys()) {
    const set = name === 'all' ? new Set(order) : collect(name, new Set());
    out[name] = order.filter((h) => set.has(h));
  }
  return out;
}

/**
 * Inventory-level vars of a host with Ansible's precedence (low to high): inventory-file vars of `all`,
 * inventory-file vars of the other groups, group_vars/all, the other group_vars/ files (groups by depth,
 * parent before child, then ansible_group_priority, then name), the host's inventory-file vars, then
 * host_vars/. Adds inventory_hostname, inventory_hostname_short, group_names, inventory_file/dir.
 */
export function hostVarsOf(inv: Inventory, host: string): Vars {
  const layers = layersOf.get(inv);
  const fileVars = (g: string): Vars | undefined => (layers ? layers.groupFile.get(g) : inv.groups.get(g)?.vars);
  const dirVars = (g: string): Vars | undefined => layers?.groupDir.get(g);
  const groups = sortGroups(inv, allGroupsOf(inv, host));
  const out: Vars = {};
  // Ansible's default VARIABLE_PRECEDENCE: all_inventory, groups_inventory, all_plugins_inventory, groups_plugins_inventory.
  Object.assign(out, fileVars('all'));
  for (const g of groups) Object.assign(out, fileVars(g));
  Object.assign(out, dirVars('all'));
  for (const g of groups) Object.assign(out, dirVars(g));
  const h = inv.hosts.get(host);
  if (h) {
    if (layers) Object.assign(out, layers.hostFile.get(host), layers.hostDir.get(host));
    else Object.assign(out, h.vars);
  } else if (IMPLICIT_LOCALHOST_NAMES.has(host)) {
    // Ansible's implicit localhost: not in `all`, but gets all's vars and runs on the controller.
    out.ansible_connection = 'local';
    Object.assign(out, layers?.hostDir.get(host));
  }
  out.inventory_hostname = host;
  // Ansible keeps an IP address whole instead of cutting it at the first dot.
  out.inventory_hostname_short = /^\d+\.\d+\.\d+\.\d+$/.test(host) || host.includes(':') ? host : host.split('.')[0];
  out.group_names = groupNamesOf(inv, host);
  const file = h?.location?.file;
  if (file) {
    out.inventory_file = file;
    out.inventory_dir = dirname(file);
  }
  return out;
}

/** Group vars as `ansible-inventory --graph --vars` shows them (inventory file, then group_vars/). */
export function groupVarsOf(inv: Inventory, group: string): Vars {
  const layers = layersOf.get(inv);
  const g = inv.groups.get(group);
  if (!g) return {};
  const out: Vars = layers ? { ...layers.groupFile.get(group), ...layers.groupDir.get(group) } : { ...g.vars };
  const prio = layers?.priority.get(group);
  if (prio !== undefined && prio !== 1) out.ansible_group_priority = prio;
  return out;
}
