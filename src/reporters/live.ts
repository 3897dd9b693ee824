// The live terminal view, fed by events only: finished output scrolls up as ordinary lines, and only
// the running task (a header plus a row per host: spinner, elapsed time, what it is doing now) is
// redrawn in place at the bottom. Every line of that live block is cut to the terminal width, so it
// never wraps and can always be erased exactly. Text that arrives meanwhile (banners, warnings, -v
// messages, the CLI's own messages on stderr) is written above the block at once, never held back.
import { formatLocation } from '../errors.js';
import type { Reporter, RunEvent } from '../events/types.js';
import { redact } from '../redact.js';
import { colorDiff, formatDiff, retryLine } from './plain.js';
import { formatRecap } from './recap.js';
import { createRollSummary } from './roll-summary.js';
import { banner, formatDuration, painter, type Color } from './style.js';

export interface LiveReporterOptions {
  verbosity: number;
  color?: boolean;
  /** The terminal drawn on; default process.stdout. */
  stream?: NodeJS.WriteStream;
  /**
   * Streams that others write to while the view runs (default process.stdout and process.stderr):
   * their writes are wrapped so the live block is lifted off before and drawn again after.
   */
  foreign?: NodeJS.WriteStream[];
  /** Redraw period for spinners and elapsed times; default 120 ms. */
  tickMs?: number;
}

type HostResult = Extract<RunEvent, { event: 'host-result' }>;
type Kind = 'done' | 'skip' | 'fail';

interface HostRow {
  host: string;
  /** Set once the host's result came: the final row text. */
  final?: { text: string; kind: Kind };
  /** What the host is doing now (upload progress, retry count), shown after the elapsed time. */
  note?: string;
  items: number;
}

interface LiveTask {
  title: string;
  module: string;
  started: number;
  rows: Map<string, HostRow>;
  /** Text printed under the task once it ends (failures, debug output, diffs). */
  after: string[];
}

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const ICON: Record<Kind, { icon: string; color: Color }> = {
  done: { icon: '✔', color: 'green' },
  skip: { icon: '↓', color: 'yellow' },
  fail: { icon: '✖', color: 'red' },
};
const ESC = '\x1b';

function statusWord(e: HostResult): string {
  if (e.status === 'ignored') return 'failed (ignored)';
  if (e.status === 'rescued') return 'failed (rescued)';
  return e.status;
}

/** Cuts plain text to `width` columns (one column per code point is close enough for our own text). */
function fit(s: string, width: number): string {
  const chars = [...s.replace(/[\r\n\t]+/g, ' ')];
  return chars.length <= width ? s : `${chars.slice(0, Math.max(0, width - 1)).join('')}…`;
}

export function createLiveReporter(opts: LiveReporterOptions): Reporter {
  const stream = opts.stream ?? process.stdout;
  const paint = painter(opts.color ?? true);
  const v = opts.verbosity;
  const write = stream.write.bind(stream) as (s: string) => boolean;
  const columns = (): number => stream.columns || 80;
  const rows = (): number => stream.rows || 24;

  let current: LiveTask | undefined;
  /** Lines of the live block now on screen (0: nothing to erase). */
  let drawn = 0;
  /** A foreign write left a partial line (a prompt): draw nothing until a line ends. */
  let suspended = false;
  let frame = 0;
  let timer: NodeJS.Timeout | undefined;
  let restoreHooks: (() => void) | undefined;
  let cursorHidden = false;

  const showCursor = (): void => {
    if (cursorHidden) write(`${ESC}[?25h`);
    cursorHidden = false;
  };
  const onExit = (): void => showCursor();

  function erase(): void {
    if (drawn > 0) write(`\r${ESC}[${drawn}A${ESC}[J`);
    drawn = 0;
  }

  function liveLines(task: LiveTask): string[] {
    const width = Math.max(20, columns() - 1);
    const spin = SPINNER[frame % SPINNER.length]!;
    const elapsed = formatDuration(Date.now() - task.started);
    // A long task name is cut, never the elapsed time after it (the time is what says the task is alive).
    const lines = [`${paint('yellow', spin)} ${fit(task.title, Math.max(8, width - 3 - elapsed.length))} ${elapsed}`];
    const all = [...task.rows.values()];
    // Running hosts first when they do not all fit: they are the ones that change.
    const budget = Math.max(1, rows() - 3);
    const shown = all.length <= budget ? all : [...all.filter((r) => !r.final), ...all.filter((r) => r.final)].slice(0, budget - 1);
    for (const r of shown) {
      if (r.final) {
        const { icon, color } = ICON[r.final.kind];
        lines.push(`  ${paint(color, icon)} ${fit(r.final.text, width - 4)}`);
      } else {
        const items = r.items > 0 ? ` ${r.items} item${r.items === 1 ? '' : 's'}` : '';
        lines.push(`  ${paint('yellow', spin)} ${fit(`[${r.host}]${items} ${elapsed}${r.note ? `  ${r.note}` : ''}`, width - 4)}`);
      }
    }
    if (shown.length < all.length) {
      const hidden = all.length - shown.length;
      lines.push(`  … ${hidden} more host${hidden === 1 ? '' : 's'} (${all.filter((r) => r.final).length}/${all.length} done)`);
    }
    return lines;
  }

  function draw(): void {
    if (suspended || !current) return;
    erase();
    const lines = liveLines(current);
    if (!cursorHidden) {
      write(`${ESC}[?25l`);
      cursorHidden = true;
    }
    write(`${redact(lines.join('\n'))}\n`);
    drawn = lines.length;
  }

  /** Permanent text: above the live block, which is drawn again under it. */
  function print(s: string): void {
    erase();
    write(redact(s.endsWith('\n') ? s : `${s}\n`));
    draw();
  }

  function hook(): void {
    if (restoreHooks) return;
    const targets = opts.foreign ?? [process.stdout, process.stderr];
    const undo: (() => void)[] = [];
    for (const s of new Set(targets)) {
      const orig = s.write;
      // Our own writes go through `write` (bound to the original), so only others' writes land here.
      s.write = function (this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]): boolean {
        erase();
        const r = (orig as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
        const text = typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) ? chunk.toString() : '';
        suspended = text.length > 0 ? !text.endsWith('\n') : suspended;
        if (!suspended) draw();
        return r;
      } as typeof s.write;
      undo.push(() => (s.write = orig));
    }
    process.on('exit', onExit);
    restoreHooks = () => {
      for (const u of undo) u();
      process.off('exit', onExit);
      restoreHooks = undefined;
    };
  }

  function startTicking(): void {
    hook();
    if (timer) return;
    timer = setInterval(() => {
      frame++;
      draw();
    }, opts.tickMs ?? 120);
    // The view must never keep the process alive on its own.
    timer.unref();
  }

  function stopTicking(): void {
    if (timer) clearInterval(timer);
    timer = undefined;
    showCursor();
  }

  /** Ends the task on screen: its final block and details become ordinary lines. */
  function commit(task: LiveTask, durationMs?: number): void {
    erase();
    for (const r of task.rows.values()) if (!r.final) r.final = { text: `[${r.host}] not run`, kind: 'skip' };
    const failed = [...task.rows.values()].some((r) => r.final?.kind === 'fail');
    const head = ICON[failed ? 'fail' : 'done'];
    const lines = [`${paint(head.color, head.icon)} ${task.title}${durationMs !== undefined ? ` ${formatDuration(durationMs)}` : ''}`];
    for (const r of task.rows.values()) {
      const { icon, color } = ICON[r.final!.kind];
      lines.push(`  ${paint(color, icon)} ${r.final!.text}`);
    }
    lines.push(...task.after);
    if (current === task) current = undefined;
    stopTicking();
    write(redact(`${lines.join('\n')}\n`));
  }

  function startTask(e: Extract<RunEvent, { event: 'task-start' }>): void {
    if (current) commit(current);
    const title = `${e.handler ? 'RUNNING HANDLER' : 'TASK'} [${e.role ? `${e.role} : ` : ''}${e.task}]`;
    const task: LiveTask = { title, module: e.module, started: e.time, rows: new Map(), after: [] };
    for (const host of e.hosts) task.rows.set(host, { host, items: 0 });
    if (v >= 2 && e.location) task.after.push(`task path: ${formatLocation(e.location)}`);
    current = task;
    startTicking();
    draw();
  }

  function hostResult(e: HostResult): void {
    const task = current;
    const row = task?.rows.get(e.host);
    if (!task || !row || row.final) {
      // A host the task did not announce (delegation, run_once): keep it visible as text.
      print(`${statusWord(e)}: [${e.host}]${e.item !== undefined ? ` (item=${e.item})` : ''}${e.msg ? ` => ${e.msg}` : ''}`);
      return;
    }
    const took = formatDuration(e.durationMs);
    const tag = e.delegatedTo && e.delegatedTo !== e.host ? `[${e.host} -> ${e.delegatedTo}]` : `[${e.host}]`;
    for (const d of e.diff ?? []) task.after.push(`${tag}${e.item !== undefined ? ` (item=${e.item})` : ''}\n${colorDiff(formatDiff(d), paint)}`);
    if (e.isItem) {
      row.items++;
      row.note = `${statusWord(e)}: (item=${e.item ?? ''}) ${took}`;
      if (e.status === 'failed' || e.status === 'ignored' || e.status === 'rescued') task.after.push(`failed: ${tag} (item=${e.item ?? ''}) => ${e.msg ?? ''}`);
      draw();
      return;
    }
    const items = row.items > 0 ? ` ${row.items} item${row.items === 1 ? '' : 's'}` : '';
    const tries = typeof e.result.attempts === 'number' && e.result.attempts > 1 ? ` (${e.result.attempts} attempts)` : '';
    const text = `${statusWord(e)}: ${tag}${items} ${took}${tries}`;
    switch (e.status) {
      case 'ok':
      case 'changed':
        // debug output is the point of a debug task; other results only with -v.
        if (task.module === 'debug' || v >= 1) {
          const { changed: _c, ...rest } = e.result;
          task.after.push(`${e.status}: ${tag} => ${JSON.stringify(task.module === 'debug' ? rest : e.result, null, v >= 3 || task.module === 'debug' ? 4 : undefined)}`);
        }
        row.final = { text, kind: 'done' };
        break;
      case 'skipped':
        row.final = { text: `skipping: ${tag}`, kind: 'skip' };
        break;
      case 'ignored':
      case 'rescued':
        // Not a failure of the run: shown as done, the message under the task.
        task.after.push(paint('red', `fatal: ${tag}: FAILED! => ${e.msg ?? ''}`) + (e.status === 'ignored' ? `\n${paint('cyan', '...ignoring')}` : ''));
        row.final = { text, kind: 'done' };
        break;
      case 'failed':
      case 'unreachable': {
        const msg = e.msg ?? (typeof e.result.censored === 'string' ? e.result.censored : JSON.stringify(e.result));
        const stderr = typeof e.result.stderr === 'string' && e.result.stderr ? `\n  stderr: ${e.result.stderr.trimEnd()}` : '';
        task.after.push(paint(e.status === 'failed' ? 'red' : 'brightRed', `fatal: ${tag}: ${e.status === 'failed' ? 'FAILED!' : 'UNREACHABLE!'} => ${msg}${stderr}`));
        row.final = { text, kind: 'fail' };
        break;
      }
    }
    draw();
  }

  const summary = createRollSummary();
  return {
    onEvent(e: RunEvent): void {
      summary.onEvent(e);
      switch (e.event) {
        case 'run-start':
          if (v >= 1) print(`PLAYBOOK: ${e.playbook}${e.check ? ' (check mode)' : ''}`);
          break;
        case 'play-start':
          if (current) commit(current);
          print(`\n${paint('bold', banner(`PLAY [${e.play}]${e.hosts.length === 0 ? ' (no hosts)' : ''}`, columns()))}`);
          break;
        case 'batch-start':
          if (e.batches > 1) print(`batch ${e.batch}/${e.batches}: ${e.hosts.join(', ')}`);
          break;
        case 'task-start':
          startTask(e);
          break;
        case 'host-result':
          hostResult(e);
          break;
        case 'progress': {
          const row = current?.rows.get(e.host);
          if (row && !row.final) {
            row.note = e.message;
            draw();
          } else if (e.kind === 'retry') print(retryLine(e));
          break;
        }
        case 'task-end':
          if (current) commit(current, e.durationMs);
          break;
        case 'verbose':
          if (v >= e.level) print(paint('blue', e.host ? `<${e.host}> ${e.message}` : e.message));
          break;
        case 'warning':
          print(paint('magenta', `[WARNING]: ${e.location ? `${formatLocation(e.location)}: ` : ''}${e.message}`));
          break;
        case 'play-end':
        case 'batch-end':
        case 'probe-report':
          break;
        case 'recap': {
          if (current) commit(current);
          const width = columns();
          const roll = summary.format({ color: opts.color ?? true, width });
          if (roll) print(`\n${roll}`);
          print(`\n${formatRecap(e.hosts, { color: opts.color ?? true, width })}\n`);
          print(`finished in ${formatDuration(e.durationMs)} (exit code ${e.exitCode})`);
          break;
        }
      }
    },
    close(): void {
      // An interrupted run may end mid-task: its block is written out with the hosts that never ended.
      if (current) commit(current);
      stopTicking();
      restoreHooks?.();
    },
  };
}
