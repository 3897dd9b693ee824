// The YAML inventory format (Ansible's yaml inventory plugin): all/hosts/children/vars to any depth,
// host ranges as keys, `<<` merges, and the YAML vars files of group_vars/ and host_vars/.
import { isAlias, isMap, isScalar, isSeq, type Document, type Node as YamlNode, type Pair } from 'yaml';
import type { SourceLocation } from '../errors.js';
import type { Vars } from '../types.js';
import { didYouMean } from '../load/did-you-mean.js';
import { parseYaml } from '../load/yaml.js';
import type { InventoryBuilder } from './builder.js';
import { expandHostRange, splitPort } from './host-range.js';

const GROUP_KEYS = ['hosts', 'children', 'vars'];

/** Offsets -> 1-based line/col for one YAML text (the loader reports positions of nodes it walks). */
export class Positions {
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

export function isNull(node: YamlNode | null): boolean {
  return node === null || (isScalar(node) && node.value === null);
}

function describeNode(node: YamlNode | null): string {
  if (isNull(node)) return 'nothing';
  if (isSeq(node)) return 'a list';
  if (isMap(node)) return 'a mapping';
  if (isScalar(node)) return typeof node.value === 'string' ? `the string '${node.value}'` : `the ${typeof node.value} ${String(node.value)}`;
  return 'something else';
}

export class YamlInventoryReader {
  constructor(private readonly b: InventoryBuilder) {}

  /** The YAML document of a file's text, or undefined with its errors on the builder. */
  parse(file: string, text: string): { doc: Document; pos: Positions } | undefined {
    try {
      const loaded = parseYaml(text, file, { vault: this.b.vault });
      return { doc: loaded.doc!, pos: new Positions(file, text) };
    } catch (e) {
      this.b.addError(e, file);
      return undefined;
    }
  }

  /** A group_vars/ or host_vars/ file: a mapping of vars (empty is fine). */
  varsFile(file: string, text: string, what: string): Vars | undefined {
    const r = this.parse(file, text);
    if (!r) return undefined;
    const root = r.doc.contents as YamlNode | null;
    if (isNull(root)) return {};
    return this.varsOf(r.doc, r.pos, root, what);
  }
  /** A mapping's string keys; reports the others (Ansible would stringify `1:` or `yes:` silently). */
  stringEntries(doc: Document, pos: Positions, map: YamlNode, what: string): Array<Entry & { key: string }> {
    const out: Array<Entry & { key: string }> = [];
    for (const e of entriesOf(doc, map)) {
      if (typeof e.key === 'string') out.push(e as Entry & { key: string });
      else
        this.b.err(
          'E_INVENTORY_KEY_TYPE',
          `${what} must be a string, got ${isScalar(e.keyNode) ? `${e.key === null ? 'null' : typeof e.key} ${String(e.key)}` : 'a complex key'}`,
          pos.at(e.keyNode, pos.at(e.value)),
          'quote the name (YAML reads yes/no/on/off as booleans and 123 as a number)',
        );
    }
    return out;
  }

  varsOf(doc: Document, pos: Positions, node: YamlNode | null, what: string): Vars | undefined {
    if (isNull(node)) return {};
    if (!isMap(node)) {
      this.b.err('E_INVENTORY_VARS_NOT_MAPPING', `${what} must be a mapping of variable names to values, got ${describeNode(node)}`, pos.at(node), 'write variables as `name: value` lines indented under the key');
      return undefined;
    }
    const out: Vars = {};
    for (const e of this.stringEntries(doc, pos, node, 'a variable name')) {
      out[e.key] = e.value === null ? null : e.value.toJS(doc, { maxAliasCount: 10_000 });
      this.b.checkVar(e.key, out[e.key], pos.at(e.value), what);
    }
    return out;
  }

  /** Reads one YAML inventory file's groups and hosts into the builder. */
  addFile(file: string, text: string): void {
    const r = this.parse(file, text);
    if (!r) return;
    const { doc, pos } = r;
    const root = doc.contents as YamlNode | null;
    if (isNull(root)) {
      this.b.err('E_INVENTORY_EMPTY', 'the inventory file is empty', pos.at(root), 'add an `all:` group with `hosts:` and `children:`');
      return;
    }
    if (!isMap(root)) {
      this.b.err(
        'E_INVENTORY_NOT_MAPPING',
        `a YAML inventory must be a mapping of group names, got ${describeNode(root)}`,
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
        this.b.err('E_INVENTORY_PLUGIN', 'inventory plugin configuration files are not supported', pos.at(e.keyNode), 'use a static YAML inventory (all/hosts/children/vars)');
        return;
      }
      if (GROUP_KEYS.includes(e.key)) {
        this.b.err(
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
    this.b.group(name, pos.at(keyNode));
    if (isNull(node)) return;
    if (!isMap(node)) {
      this.b.err(
        'E_INVENTORY_GROUP_NOT_MAPPING',
        `group '${name}' must be a mapping with hosts, children or vars, got ${describeNode(node)}`,
        pos.at(node),
        isSeq(node) ? 'list hosts as mapping keys under `hosts:` (`web1:` not `- web1`)' : 'indent `hosts:`, `children:` or `vars:` under the group name',
      );
      return;
    }
    for (const e of this.stringEntries(doc, pos, node, `a key in group '${name}'`)) {
      if (e.key === 'vars') {
        const vars = this.varsOf(doc, pos, e.value, `vars of group '${name}'`);
        if (vars) this.b.setGroupVars(name, vars);
      } else if (e.key === 'hosts') {
        this.parseHosts(doc, pos, name, e.value);
      } else if (e.key === 'children') {
        this.parseChildren(doc, pos, name, e.value, path);
      } else {
        const guess = didYouMean(e.key, GROUP_KEYS);
        this.b.err(
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
      this.b.err(
        'E_INVENTORY_HOSTS_NOT_MAPPING',
        `hosts of group '${group}' must be a mapping of host names, got ${describeNode(node)}`,
        pos.at(node),
        isSeq(node) ? 'write each host as a key (`web1:`), not as a list item (`- web1`)' : 'indent host names under `hosts:`, each followed by a colon',
      );
      return;
    }
    for (const e of this.stringEntries(doc, pos, node, `a host name in group '${group}'`)) {
      let vars: Vars | undefined = {};
      if (!isNull(e.value)) {
        if (!isMap(e.value)) {
          this.b.err(
            'E_INVENTORY_HOST_NOT_MAPPING',
            `host '${e.key}' in group '${group}' must have a mapping of variables or nothing, got ${describeNode(e.value)}`,
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
      this.b.err('E_INVENTORY_HOST_RANGE', `bad host range in '${spec}': ${(e as Error).message}`, pos.at(keyNode), 'ranges look like web[01:10], db-[a:f] or node[0:20:5]');
      return;
    }
    if (!name) {
      this.b.err('E_INVENTORY_HOST_NAME', `empty host name in group '${group}'`, pos.at(keyNode));
      return;
    }
    for (const h of names) this.b.addHost(h, group, port === undefined ? vars : { ansible_port: port, ...vars }, pos.at(keyNode));
  }

  private parseChildren(doc: Document, pos: Positions, parent: string, node: YamlNode | null, path: string[]): void {
    if (isNull(node)) return;
    if (isScalar(node) && typeof node.value === 'string') {
      this.childEdge(pos, parent, node.value, node, path);
      this.parseGroup(doc, pos, node.value, node, null, [...path, node.value]);
      return;
    }
    if (!isMap(node)) {
      this.b.err(
        'E_INVENTORY_CHILDREN_NOT_MAPPING',
        `children of group '${parent}' must be a mapping of group names, got ${describeNode(node)}`,
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
      this.b.err('E_INVENTORY_GROUP_CYCLE', `group 'all' cannot be a child of '${parent}': every group is already inside 'all'`, pos.at(keyNode), 'remove `all` from this children list');
      return false;
    }
    if (path.includes(child)) {
      this.b.err(
        'E_INVENTORY_GROUP_CYCLE',
        `group '${child}' is its own ancestor: ${[...path.slice(path.indexOf(child)), child].join(' > ')}`,
        pos.at(keyNode),
        'a group cannot contain itself, directly or through its children',
      );
      return false;
    }
    this.b.addChild(parent, child, pos.at(keyNode));
    return true;
  }
}
