// Runs the built CLI under a real pseudo-terminal and renders what it wrote into a terminal screen
// (@xterm/headless), so tests assert on what a person would see, after every cursor movement and
// erase, not on the raw bytes.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { spawn, type IPty } from '@lydell/node-pty';
import xterm from '@xterm/headless';

const ROOT = path.resolve(import.meta.dirname, '../..');
export const CLI = path.join(ROOT, 'bin/obiam-run.js');

function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

/** The pty runs bin/obiam-run.js, which loads dist/: build it when src/ is newer (a unit run without `npm run build`). */
export function ensureBuilt(): void {
  const main = path.join(ROOT, 'dist/cli/main.js');
  if (existsSync(main) && statSync(main).mtimeMs >= newest(path.join(ROOT, 'src'))) return;
  const r = spawnSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`npm run build failed:\n${r.stdout}${r.stderr}`);
}

export interface Screen {
  /** Logical lines (wrapped rows joined), scrollback included, trailing blank lines dropped. */
  lines: string[];
  /** Physical rows as drawn, scrollback included. */
  rows: string[];
  text: string;
}

export interface PtyRun {
  exitCode: number;
  screen: Screen;
}

export interface PtyOptions {
  cols: number;
  rows?: number;
  cwd: string;
  env?: Record<string, string>;
  /** Called with the screen so far whenever output arrives; may write to the pty (Ctrl-C). */
  onScreen?: (screen: Screen, pty: IPty) => void;
  timeoutMs?: number;
}

function readScreen(term: xterm.Terminal): Screen {
  const buf = term.buffer.active;
  const rows: string[] = [];
  const lines: string[] = [];
  for (let i = 0; i < buf.length; i++) {
    const l = buf.getLine(i);
    if (!l) continue;
    const s = l.translateToString(true);
    rows.push(s);
    if (l.isWrapped && lines.length > 0) lines[lines.length - 1] += s;
    else lines.push(s);
  }
  while (lines.length > 0 && lines[lines.length - 1]!.trim() === '') lines.pop();
  while (rows.length > 0 && rows[rows.length - 1]!.trim() === '') rows.pop();
  return { lines, rows, text: lines.join('\n') };
}

/** What a terminal of this size shows after receiving `data`. */
export async function renderScreen(data: string, cols: number, rows = 40): Promise<Screen> {
  const term = new xterm.Terminal({ cols, rows, scrollback: 100_000, allowProposedApi: true });
  // A pty turns \n into \r\n (onlcr); a plain stream handed to the reporter does not.
  await new Promise<void>((r) => term.write(data.replace(/\r?\n/g, '\r\n'), r));
  const screen = readScreen(term);
  term.dispose();
  return screen;
}

export async function runInPty(args: string[], opts: PtyOptions): Promise<PtyRun> {
  const rows = opts.rows ?? 40;
  const term = new xterm.Terminal({ cols: opts.cols, rows, scrollback: 100_000, allowProposedApi: true });
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', TERM: 'xterm-256color', ...opts.env };
  const pty = spawn(process.execPath, [CLI, ...args], { name: 'xterm-256color', cols: opts.cols, rows, cwd: opts.cwd, env });
  let pending = Promise.resolve();
  pty.onData((d) => {
    pending = pending.then(
      () =>
        new Promise<void>((resolve) =>
          term.write(d, () => {
            opts.onScreen?.(readScreen(term), pty);
            resolve();
          }),
        ),
    );
  });
  const exitCode = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      pty.kill('SIGKILL');
      reject(new Error(`the CLI did not end within ${opts.timeoutMs ?? 60_000} ms; screen:\n${readScreen(term).text}`));
    }, opts.timeoutMs ?? 60_000);
    pty.onExit(({ exitCode: c }) => {
      clearTimeout(timer);
      resolve(c);
    });
  });
  // Output can still be on its way after the exit notice.
  await new Promise((r) => setTimeout(r, 100));
  await pending;
  const screen = readScreen(term);
  term.dispose();
  return { exitCode, screen };
}
