// ansible.cfg and its ANSIBLE_* environment equivalents, for the settings obiam-run has a use for.
// One file is read, the first of: $ANSIBLE_CONFIG, ./ansible.cfg (not in a world-writable directory),
// ~/.ansible.cfg, /etc/ansible/ansible.cfg, as Ansible 2.14 finds it. Precedence: command line >
// environment > file > default. A setting obiam-run does not use is a warning, never an error.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';

export interface AnsibleConfig {
  /** The file read, if any. */
  file?: string;
  inventory?: string[];
  rolesPath?: string[];
  forks?: number;
  /** false: unknown host keys are accepted on first contact (changed keys are still refused). */
  hostKeyChecking?: boolean;
  /** Connect timeout, seconds. */
  timeout?: number;
  remoteUser?: string;
  privateKeyFile?: string;
  /** DEFAULT_TRANSPORT: the connection of hosts that set none. */
  connection?: string;
  forceHandlers?: boolean;
  warnings: string[];
}

type Kind = 'pathlist' | 'pathspec' | 'int' | 'bool' | 'string' | 'path' | 'accepted';

interface Setting {
  key: keyof Omit<AnsibleConfig, 'file' | 'warnings'> | null;
  kind: Kind;
  env: string[];
}

/** `section.key` -> what it sets. `accepted` settings are read and have no effect here (said in the docs). */
const SETTINGS: Record<string, Setting> = {
  'defaults.inventory': { key: 'inventory', kind: 'pathlist', env: ['ANSIBLE_INVENTORY'] },
  'defaults.hostfile': { key: 'inventory', kind: 'pathlist', env: [] },
  'defaults.roles_path': { key: 'rolesPath', kind: 'pathspec', env: ['ANSIBLE_ROLES_PATH'] },
  'defaults.forks': { key: 'forks', kind: 'int', env: ['ANSIBLE_FORKS'] },
  'defaults.host_key_checking': { key: 'hostKeyChecking', kind: 'bool', env: ['ANSIBLE_HOST_KEY_CHECKING'] },
  'defaults.timeout': { key: 'timeout', kind: 'int', env: ['ANSIBLE_TIMEOUT'] },
  'defaults.remote_user': { key: 'remoteUser', kind: 'string', env: ['ANSIBLE_REMOTE_USER'] },
  'defaults.private_key_file': { key: 'privateKeyFile', kind: 'path', env: ['ANSIBLE_PRIVATE_KEY_FILE'] },
  'defaults.transport': { key: 'connection', kind: 'string', env: ['ANSIBLE_TRANSPORT'] },
  'defaults.force_handlers': { key: 'forceHandlers', kind: 'bool', env: ['ANSIBLE_FORCE_HANDLERS'] },
  // Read so they do not warn: pipelining is what obiam-run does anyway (one process per host-task).
  'ssh_connection.pipelining': { key: null, kind: 'accepted', env: ['ANSIBLE_PIPELINING', 'ANSIBLE_SSH_PIPELINING'] },
  'connection.pipelining': { key: null, kind: 'accepted', env: [] },
};

/** Ansible's boolean(): y/yes/on/1/true/t and n/no/off/0/false/f, any case. */
function parseBool(v: string): boolean | undefined {
  const s = v.trim().toLowerCase();
  if (['y', 'yes', 'on', '1', 'true', 't'].includes(s)) return true;
  if (['n', 'no', 'off', '0', 'false', 'f'].includes(s)) return false;
  return undefined;
}

/** Python's configparser with `;` inline comments: `[section]`, `key = value` or `key: value`, indented continuation lines. */
export function parseIniConfig(text: string): Map<string, { value: string; line: number }> {
  const out = new Map<string, { value: string; line: number }>();
  let section = '';
  let last: string | undefined;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    const trimmed = raw.trim();
    if (!trimmed || trimmed.startsWith('#') || trimmed.startsWith(';')) continue;
    if (/^\s/.test(raw) && last) {
      const prev = out.get(last)!;
      prev.value = `${prev.value}\n${stripInline(trimmed)}`;
      continue;
    }
    const sec = /^\[([^\]]+)\]/.exec(trimmed);
    if (sec) {
      section = sec[1]!.trim();
      last = undefined;
      continue;
    }
    const kv = /^([^=:]+?)\s*[=:]\s*(.*)$/.exec(trimmed);
    if (!kv) continue;
    last = `${section}.${kv[1]!.toLowerCase()}`;
    out.set(last, { value: stripInline(kv[2]!), line: i + 1 });
  }
  return out;
}

const stripInline = (v: string): string => v.replace(/\s;.*$/, '').trim();

/** The config file Ansible would read, and a warning when ./ansible.cfg is skipped. */
function findConfigFile(env: NodeJS.ProcessEnv, cwd: string, warnings: string[]): string | undefined {
  const home = env.HOME || homedir();
  const expand = (p: string): string => path.resolve(cwd, p.replace(/^~(?=$|\/)/, home));
  if (env.ANSIBLE_CONFIG) {
    let p = expand(env.ANSIBLE_CONFIG);
    if (existsSync(p) && statSync(p).isDirectory()) p = path.join(p, 'ansible.cfg');
    if (existsSync(p)) return p;
  }
  const local = path.join(cwd, 'ansible.cfg');
  if (existsSync(local)) {
    // Ansible refuses a config from a directory anyone can write to.
    if ((statSync(cwd).mode & 0o002) !== 0) warnings.push(`obiam-run is being run in a world writable directory (${cwd}), ignoring it as an ansible.cfg source`);
    else return local;
  }
  for (const p of [path.join(home, '.ansible.cfg'), '/etc/ansible/ansible.cfg']) if (existsSync(p)) return p;
  return undefined;
}

/** Reads the config file and the environment into the settings obiam-run uses. */
export function readAnsibleConfig(env: NodeJS.ProcessEnv, cwd: string): AnsibleConfig {
  const cfg: AnsibleConfig = { warnings: [] };
  const file = findConfigFile(env, cwd, cfg.warnings);
  let entries = new Map<string, { value: string; line: number }>();
  if (file) {
    cfg.file = file;
    try {
      entries = parseIniConfig(readFileSync(file, 'utf8'));
    } catch (e) {
      cfg.warnings.push(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}; its settings are ignored`);
    }
  }
  const home = env.HOME || homedir();
  const ignored: string[] = [];
  for (const [name, { value, line }] of entries) {
    const s = SETTINGS[name];
    if (!s) {
      ignored.push(`[${name.replace('.', '] ')}`);
      continue;
    }
    // The environment wins over the file.
    if (s.env.some((e) => env[e] !== undefined)) continue;
    set(cfg, s, value, path.dirname(file!), home, `${file}:${line}`);
  }
  for (const s of Object.values(SETTINGS)) {
    for (const e of s.env) {
      const v = env[e];
      if (v !== undefined) {
        set(cfg, s, v, cwd, home, e);
        break;
      }
    }
  }
  if (ignored.length) cfg.warnings.push(`${file}: settings obiam-run does not use, ignored: ${ignored.join(', ')}`);
  return cfg;
}

function set(cfg: AnsibleConfig, s: Setting, value: string, base: string, home: string, where: string): void {
  if (!s.key) return;
  const resolvePath = (p: string): string => path.resolve(base, p.trim().replace(/^~(?=$|\/)/, home));
  const target = cfg as unknown as Record<string, unknown>;
  switch (s.kind) {
    case 'pathlist':
      target[s.key] = value.split(',').map((p) => p.trim()).filter(Boolean).map(resolvePath);
      return;
    case 'pathspec':
      target[s.key] = value.split(':').map((p) => p.trim()).filter(Boolean).map(resolvePath);
      return;
    case 'path':
      target[s.key] = resolvePath(value);
      return;
    case 'int': {
      const n = Number(value.trim());
      if (/^\d+$/.test(value.trim()) && n >= 1) target[s.key] = n;
      else cfg.warnings.push(`${where}: expected a whole number of at least 1, got '${value}'; ignored`);
      return;
    }
    case 'bool': {
      const b = parseBool(value);
      if (b === undefined) cfg.warnings.push(`${where}: expected true or false, got '${value}'; ignored`);
      else target[s.key] = b;
      return;
    }
    default:
      if (value.trim()) target[s.key] = value.trim();
  }
}
