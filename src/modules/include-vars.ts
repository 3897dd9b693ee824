// include_vars: reads variables from a YAML/JSON file (or every file of a directory) on the controller
// into the host's variables, optionally under one name. Files are looked for in the role's vars/,
// then the playbook's vars/ and directory, then beside the tasks file.
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { ModuleDef } from './types.js';

interface IncludeVarsArgs {
  _raw_params?: string;
  file?: string;
  dir?: string;
  name?: string;
  depth?: number;
  files_matching?: string;
  ignore_files?: string[] | string;
  extensions?: string[];
  ignore_unknown_extensions?: boolean;
  hash_behaviour?: 'replace' | 'merge';
}

/** ctx.findFile's places, then the role directory itself (`dir: vars` in a role is its vars/). */
function find(ctx: Parameters<ModuleDef['run']>[1], name: string): string {
  const rolePath = ctx.vars.role_path;
  if (typeof rolePath === 'string' && !path.isAbsolute(name)) {
    const inRole = [path.join(rolePath, 'vars', name), path.join(rolePath, name)].find((p) => existsSync(p));
    if (inRole) return inRole;
  }
  return ctx.findFile('vars', name);
}

const isMap = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function merge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = isMap(out[k]) && isMap(v) ? merge(out[k] as Record<string, unknown>, v) : v;
  return out;
}

/** The files of a directory, sorted by name, to `depth` levels (0: all). */
function walk(dir: string, depth: number, level = 1): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) {
      if (depth === 0 || level < depth) out.push(...walk(p, depth, level + 1));
    } else out.push(p);
  }
  return out;
}

export const includeVarsModule: ModuleDef<IncludeVarsArgs> = {
  name: 'include_vars',
  aliases: ['ansible.builtin.include_vars'],
  controllerOnly: true,
  setsHostFacts: true,
  supportsCheck: true,
  freeForm: true,
  schema: {
    type: 'object',
    properties: {
      _raw_params: { type: 'string' },
      file: { type: 'string' },
      dir: { type: 'string' },
      name: { type: 'string' },
      depth: { type: 'integer', minimum: 0 },
      files_matching: { type: 'string' },
      ignore_files: { type: ['array', 'string'] },
      extensions: { type: 'array', items: { type: 'string' } },
      ignore_unknown_extensions: { type: 'boolean' },
      hash_behaviour: { enum: ['replace', 'merge'] },
    },
    additionalProperties: false,
  },
  async run(args, ctx) {
    const read = ctx.readVarsFile;
    if (!read) return { changed: false, failed: true, msg: 'include_vars: this run cannot read vars files' };
    const extensions = args.extensions ?? ['yaml', 'yml', 'json'];
    let files: string[];
    if (args.dir !== undefined) {
      const dir = find(ctx, args.dir);
      const ignore = new Set(typeof args.ignore_files === 'string' ? [args.ignore_files] : (args.ignore_files ?? []));
      const matching = args.files_matching !== undefined ? new RegExp(args.files_matching) : undefined;
      files = walk(dir, args.depth ?? 0).filter((f) => {
        const base = path.basename(f);
        if (ignore.has(base) || (matching && !matching.test(base))) return false;
        const ext = path.extname(f).slice(1);
        if (!extensions.includes(ext)) {
          if (args.ignore_unknown_extensions) return false;
          throw new Error(`${f} does not have a valid extension: ${extensions.join(', ')}`);
        }
        return true;
      });
    } else {
      const name = args.file ?? args._raw_params;
      if (!name) return { changed: false, failed: true, msg: 'include_vars: give a file (`include_vars: file.yml` or file:) or dir:' };
      files = [find(ctx, name.trim())];
    }
    let vars: Record<string, unknown> = {};
    for (const f of files) {
      const data = read(f);
      if (data === null || data === undefined) continue;
      if (!isMap(data)) return { changed: false, failed: true, msg: `${f} must be stored as a dictionary/hash` };
      vars = args.hash_behaviour === 'merge' ? merge(vars, data) : { ...vars, ...data };
    }
    return { changed: false, ansible_facts: args.name ? { [args.name]: vars } : vars, ansible_included_var_files: files };
  },
};
