// Runs one conformance case with ansible-playbook and with obiam-run and collects what each tool did:
// exit code, the recap counts per host, and every JSON file the playbook wrote to its output dir.
// Each tool gets its own copy of the case directory (an ansible.cfg or files the playbook writes stay
// apart), on the local connection, with no colour and a private state/temp dir.
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

export const CASES_DIR = path.resolve('test/conformance/cases');
const BIN = path.resolve('bin/obiam-run.js');
const DEFAULT_INVENTORY = path.resolve('test/conformance/inventory.yml');

/** case.json beside a playbook: extra command-line words, another inventory, another playbook file. */
export interface CaseSpec {
  args?: string[];
  /** An inventory file inside the case dir (or a host list such as `localhost,`); default ../inventory.yml. */
  inventory?: string;
  playbook?: string;
}

export type Recap = Record<string, Record<string, number>>;

export interface ToolRun {
  tool: 'ansible' | 'obiam';
  code: number | null;
  recap: Recap;
  /** file name -> parsed JSON (or the raw text when it is not JSON). */
  outputs: Record<string, unknown>;
  log: string;
}

export function listCases(): string[] {
  return readdirSync(CASES_DIR, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
}

export function readSpec(name: string): CaseSpec {
  const f = path.join(CASES_DIR, name, 'case.json');
  return existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as CaseSpec) : {};
}

const RECAP_LINE = /^(\S+)\s*:\s*((?:\w+=\d+\s*)+)$/;

/** The PLAY RECAP block's counts, per host; both tools print `host : ok=1 changed=0 ...`. */
export function parseRecap(out: string): Recap {
  const recap: Recap = {};
  const at = out.lastIndexOf('PLAY RECAP');
  if (at < 0) return recap;
  for (const line of out.slice(at).split('\n').slice(1)) {
    const m = RECAP_LINE.exec(line.trim());
    if (!m) continue;
    const counts: Record<string, number> = {};
    for (const kv of m[2]!.trim().split(/\s+/)) {
      const [k, v] = kv.split('=');
      counts[k!] = Number(v);
    }
    recap[m[1]!] = counts;
  }
  return recap;
}

function readOutputs(dir: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!existsSync(dir)) return out;
  for (const f of readdirSync(dir).sort()) {
    const text = readFileSync(path.join(dir, f), 'utf8');
    try {
      out[f] = JSON.parse(text);
    } catch {
      out[f] = text;
    }
  }
  return out;
}

function exec(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ code: number | null; log: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    child.stdout.on('data', (d: Buffer) => (log += d.toString()));
    child.stderr.on('data', (d: Buffer) => (log += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ code: null, log: `${log}\n${cmd}: ${e.message}` });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, log });
    });
  });
}

/** Runs the case with one tool inside `work` (a fresh directory); returns what it saw. */
export async function runTool(tool: 'ansible' | 'obiam', name: string, work: string): Promise<ToolRun> {
  const spec = readSpec(name);
  const dir = path.join(work, tool, name);
  mkdirSync(path.dirname(dir), { recursive: true });
  cpSync(path.join(CASES_DIR, name), dir, { recursive: true });
  const outDir = path.join(dir, 'out');
  const tmp = path.join(dir, '.tmp');
  mkdirSync(outDir);
  mkdirSync(tmp);
  const inventory = spec.inventory ?? DEFAULT_INVENTORY;
  const playbook = spec.playbook ?? 'playbook.yml';
  const common = [playbook, '-i', inventory, '-e', `out_dir=${outDir}`, ...(spec.args ?? [])];
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', HOME: tmp };
  let r;
  if (tool === 'ansible') {
    Object.assign(env, {
      ANSIBLE_NOCOLOR: '1',
      ANSIBLE_FORCE_COLOR: '0',
      ANSIBLE_HOME: path.join(tmp, 'ansible'),
      ANSIBLE_LOCAL_TEMP: path.join(tmp, 'local'),
      ANSIBLE_REMOTE_TEMP: path.join(tmp, 'remote'),
      ANSIBLE_RETRY_FILES_ENABLED: '0',
      ANSIBLE_PYTHON_INTERPRETER: '/usr/bin/python3',
    });
    r = await exec('ansible-playbook', common, dir, env, 120_000);
  } else {
    env.OBIAM_RUN_STATE_DIR = path.join(tmp, 'state');
    r = await exec(process.execPath, [BIN, ...common], dir, env, 120_000);
  }
  return { tool, code: r.code, recap: parseRecap(r.log), outputs: readOutputs(outDir), log: r.log };
}
