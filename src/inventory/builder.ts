// Builds the inventory model as Ansible's InventoryData does: groups and hosts added by the readers
// (YAML, INI, host lists), then reconciled (parentless groups under all, hostless-group hosts in
// ungrouped). Every error of every file is collected on the builder and thrown at once by sources.ts.
import { readFileSync } from 'node:fs';
import { EXIT, ObiamError, ObiamErrors, isObiamError, type SourceLocation } from '../errors.js';
import type { Vars } from '../types.js';
import { isVaultPayload, type VaultDecrypter } from '../vault/types.js';
import { describeSchema, shortValue, valueFits } from '../load/validate.js';
import { VaultedValue } from '../load/yaml.js';
import { splitPort } from './host-range.js';
import { setVarLayers, type Inventory, type InventoryGroup, type InventoryHost, type VarLayers } from './model.js';
import { CONNECTION_VARS, connectionSchema } from './schema.js';

export class InventoryBuilder {
  readonly inv: Inventory = { sources: [], hosts: new Map(), groups: new Map() };
  readonly errors: ObiamError[] = [];
  readonly layers: VarLayers = { groupFile: new Map(), groupDir: new Map(), hostFile: new Map(), hostDir: new Map(), priority: new Map() };
  /** parent -> child -> where the edge was declared (for cycle reports). */
  private readonly edges = new Map<string, Map<string, SourceLocation | undefined>>();

  constructor(
    readonly vault: VaultDecrypter | undefined,
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

  addHost(name: string, group: string, vars: Vars, location?: SourceLocation): void {
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

  /** parent -> child; the caller has ruled out loops along its own nesting path. */
  addChild(parent: string, child: string, location: SourceLocation): void {
    const p = this.group(parent);
    const c = this.group(child, location);
    if (!this.edges.has(parent)) this.edges.set(parent, new Map());
    if (!this.edges.get(parent)!.has(child)) this.edges.get(parent)!.set(child, location);
    if (!p.children.includes(child)) p.children.push(child);
    if (!c.parents.includes(parent)) c.parents.push(parent);
  }

  setGroupVars(group: string, vars: Vars): void {
    // Like Ansible, ansible_group_priority orders groups and is not itself a variable.
    const { ansible_group_priority: prio, ...rest } = vars;
    this.layers.groupFile.set(group, { ...this.layers.groupFile.get(group), ...rest });
    if (prio !== undefined && Number.isInteger(Number(prio))) this.layers.priority.set(group, Number(prio));
  }

  /** `-i host1,host2:2222,`: those hosts in ungrouped. */
  addHostList(source: string): void {
    this.inv.sources.push(source);
    for (const raw of source.split(',')) {
      const spec = raw.trim();
      if (!spec) continue;
      const { name, port } = splitPort(spec);
      this.addHost(name, 'ungrouped', port === undefined ? {} : { ansible_port: port });
    }
  }

  err(code: string, message: string, location: SourceLocation, remedy?: string): void {
    this.errors.push(new ObiamError(code, message, { location, remedy, exitCode: EXIT.PARSE }));
  }

  /** A file's text, a whole-file vault decrypted first so positions refer to the plain text. */
  readText(file: string): string | undefined {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      this.errors.push(new ObiamError('E_FILE_NOT_FOUND', `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { exitCode: EXIT.BAD_OPTIONS }));
      return undefined;
    }
    try {
      if (isVaultPayload(text) && this.vault?.hasSecrets) text = this.vault.decrypt(text, file);
    } catch (e) {
      this.addError(e, file);
      return undefined;
    }
    return text;
  }

  /** Collects an ObiamError (or several) thrown by a reader, located in `file` when it has no place. */
  addError(e: unknown, file: string): void {
    if (e instanceof ObiamErrors) this.errors.push(...e.errors);
    else if (isObiamError(e)) this.errors.push(e.location ? e : new ObiamError(e.code, e.message, { location: { file, line: 1, col: 1 }, remedy: e.remedy, exitCode: e.exitCode }));
    else throw e;
  }

  /** Connection variables are checked where they are set, so `ansible_port: twenty-two` is caught at load. */
  checkVar(key: string, value: unknown, location: SourceLocation, what: string): void {
    const schema = key === 'ansible_connection' ? connectionSchema(this.connections) : CONNECTION_VARS[key];
    if (schema && value !== null && value !== undefined && !(value instanceof VaultedValue) && !valueFits(schema, value)) {
      this.err('E_INVENTORY_BAD_VALUE', `${key} must be ${describeSchema(schema)}, got ${shortValue(value)}`, location, `fix ${key} in ${what}`);
    }
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

  /** Ansible's reconcile: parentless groups go under all, hosts in no group go to ungrouped. */
  reconcile(): void {
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
  }

  /** After the vars directories: the merged vars on the model, the split kept for hostVarsOf. */
  seal(): Inventory {
    for (const g of this.inv.groups.values()) g.vars = { ...this.layers.groupFile.get(g.name), ...this.layers.groupDir.get(g.name) };
    for (const h of this.inv.hosts.values()) h.vars = { ...this.layers.hostFile.get(h.name), ...this.layers.hostDir.get(h.name) };
    setVarLayers(this.inv, this.layers);
    return this.inv;
  }
}
