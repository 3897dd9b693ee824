// Runs the built CLI (bin/obiam-run.js) as a user would, with --json so results can be asserted.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const BIN = path.join(REPO, 'bin/obiam-run.js');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  events: Record<string, any>[];
  recap: Record<string, { ok: number; changed: number; unreachable: number; failed: number; skipped: number; rescued: number; ignored: number }>;
}

/** A HOME of its own, so runs never read or write the machine user's ~/.ssh. */
const HOME = mkdtempSync(path.join(tmpdir(), 'obr-home-'));

export function runCli(args: string[], opts: { cwd?: string; env?: Record<string, string>; timeoutMs?: number; onStdout?: (chunk: string) => void; onSpawn?: (child: ChildProcess) => void } = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: opts.cwd ?? REPO,
      env: { ...process.env, HOME, CI: 'true', NO_COLOR: '1', ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    opts.onSpawn?.(child);
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    child.stdout.on('data', (b: Buffer) => {
      stdout += b.toString();
      opts.onStdout?.(b.toString());
    });
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const events: Record<string, any>[] = [];
      if (args.includes('--json')) {
        for (const line of stdout.split('\n')) if (line.trim()) events.push(JSON.parse(line) as Record<string, any>);
      }
      const recapEv = events.find((e) => e.event === 'recap');
      resolve({ code: code ?? -1, stdout, stderr, events, recap: (recapEv?.hosts ?? {}) as CliRun['recap'] });
    });
  });
}

/** Writes files into a fresh temp dir and returns its path. */
export function workspace(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'obr-e2e-'));
  for (const [name, text] of Object.entries(files)) {
    const p = path.join(dir, name);
    mkdirSync(path.dirname(p), { recursive: true });
    writeFileSync(p, text);
  }
  return dir;
}

export function sum(recap: CliRun['recap'], field: keyof CliRun['recap'][string]): number {
  return Object.values(recap).reduce((n, c) => n + c[field], 0);
}
