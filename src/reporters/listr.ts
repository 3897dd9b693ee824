// The live terminal view: one listr2 list per playbook task with a row per host (status, duration).
// listr2 is only a renderer fed by events; the runner never waits on it. Each task gets its own Listr
// (listr2 cannot add top-level tasks to a running list); they run one after another on a queue, and
// text between them (play banners, diffs, warnings, recap) is written on the same queue, in order.
import { Listr, ListrLogger, ProcessOutput, type ListrTaskWrapper } from 'listr2';
import { formatLocation } from '../errors.js';
import type { Reporter, RunEvent } from '../events/types.js';
import { redact } from '../redact.js';
import { colorDiff, formatDiff } from './plain.js';
import { formatRecap } from './recap.js';
import { createRollSummary } from './roll-summary.js';
import { banner, formatDuration, painter } from './style.js';

export interface ListrReporterOptions {
  verbosity: number;
  color?: boolean;
  /** Writes text between live lists (banners, diffs, warnings, recap); default process.stdout. */
  out?: (s: string) => void;
  /** Streams the renderer draws on; default process.stdout / process.stderr. */
  stdout?: NodeJS.WriteStream;
  stderr?: NodeJS.WriteStream;
  /** Draw the live view even if the stream is not a TTY (tests). */
  forceTTY?: boolean;
}

type HostResult = Extract<RunEvent, { event: 'host-result' }>;

interface Outcome {
  title: string;
  kind: 'done' | 'skip' | 'fail';
  error?: string;
}

interface Row {
  settle: (o: Outcome) => void;
  settled: boolean;
  wrapper?: ListrTaskWrapper<any, any, any>;
  items: number;
}

interface LiveTask {
  title: string;
  module: string;
  rows: Map<string, Row>;
  parent?: ListrTaskWrapper<any, any, any>;
  /** Text shown after the list finished (diffs, failure details). */
  after: string[];
  /** The title with the task's duration, once task-end came (the list may start later). */
  endTitle?: string;
}

function statusWord(e: HostResult): string {
  if (e.status === 'ignored') return 'failed (ignored)';
  if (e.status === 'rescued') return 'failed (rescued)';
  return e.status;
}

export { liveViewSupported } from './live-view.js';

export function createListrReporter(opts: ListrReporterOptions): Reporter {
  const paint = painter(opts.color ?? true);
  const v = opts.verbosity;
  const out = opts.out ?? ((s: string) => void process.stdout.write(s));
  let queue: Promise<void> = Promise.resolve();
  let current: LiveTask | undefined;

  const enqueue = (fn: () => Promise<unknown> | unknown): void => {
    // A renderer error must not stop later output nor surface as an unhandled rejection.
    queue = queue.then(fn).then(
      () => undefined,
      (e: unknown) => out(`[WARNING]: live view failed: ${(e as Error).message}\n`),
    );
  };
  const text = (s: string): void => enqueue(() => out(redact(s.endsWith('\n') ? s : `${s}\n`)));

  function finish(task: LiveTask): void {
    for (const [host, row] of task.rows) if (!row.settled) row.settle({ title: `[${host}] not run`, kind: 'skip' });
  }

  function startTask(e: Extract<RunEvent, { event: 'task-start' }>): void {
    if (current) finish(current);
    const title = `${e.handler ? 'RUNNING HANDLER' : 'TASK'} [${e.role ? `${e.role} : ` : ''}${e.task}]`;
    const task: LiveTask = { title, module: e.module, rows: new Map(), after: [] };
    current = task;
    const rows = e.hosts.map((host) => {
      let settle!: (o: Outcome) => void;
      const done = new Promise<Outcome>((resolve) => (settle = resolve));
      const row: Row = { settle: (o) => ((row.settled = true), settle(o)), settled: false, items: 0 };
      task.rows.set(host, row);
      return {
        title: `[${host}]`,
        task: async (_ctx: unknown, w: ListrTaskWrapper<any, any, any>): Promise<void> => {
          row.wrapper = w;
          const o = await done;
          if (o.kind === 'skip') return void w.skip(redact(o.title));
          w.title = redact(o.title);
          if (o.kind === 'fail') throw new Error(redact(o.error ?? o.title));
        },
      };
    });
    const list = new Listr(
      [
        {
          title: redact(title),
          task: (_ctx: unknown, w: ListrTaskWrapper<any, any, any>) => {
            task.parent = w;
            if (task.endTitle) w.title = task.endTitle;
            return w.newListr(rows, { concurrent: true, exitOnError: false });
          },
        },
      ],
      {
        renderer: 'default',
        rendererOptions: {
          collapseSubtasks: false,
          collapseErrors: false,
          collapseSkips: true,
          showErrorMessage: true,
          formatOutput: 'truncate',
          // The renderer draws through its logger's ProcessOutput; give it ours so the streams are configurable.
          logger: new ListrLogger({
            useIcons: true,
            toStderr: [],
            processOutput: new ProcessOutput(opts.stdout ?? process.stdout, opts.stderr ?? process.stderr, { leaveEmptyLine: false }),
          }),
        },
        exitOnError: false,
        // Ctrl-C belongs to the CLI (it aborts the run and prints the recap); listr2 must not exit.
        registerSignalListeners: false,
        fallbackRendererCondition: false,
        silentRendererCondition: false,
        forceTTY: opts.forceTTY ?? false,
      } as ConstructorParameters<typeof Listr>[1],
    );
    enqueue(() => list.run());
    if (v >= 2 && e.location) task.after.push(`task path: ${formatLocation(e.location)}`);
  }

  function hostResult(e: HostResult): void {
    const row = current?.rows.get(e.host);
    const task = current;
    if (!row || !task || row.settled) {
      // A host the task did not announce (delegation, run_once): keep it visible as text.
      text(`${statusWord(e)}: [${e.host}]${e.item !== undefined ? ` (item=${e.item})` : ''}${e.msg ? ` => ${e.msg}` : ''}`);
      return;
    }
    const took = formatDuration(e.durationMs);
    const tag = e.delegatedTo && e.delegatedTo !== e.host ? `[${e.host} -> ${e.delegatedTo}]` : `[${e.host}]`;
    for (const d of e.diff ?? []) task.after.push(`${tag}${e.item !== undefined ? ` (item=${e.item})` : ''}\n${colorDiff(formatDiff(d), paint)}`);
    if (e.isItem) {
      row.items++;
      if (row.wrapper) row.wrapper.output = redact(`${statusWord(e)}: (item=${e.item ?? ''}) ${took}`);
      if (e.status === 'failed' || e.status === 'ignored' || e.status === 'rescued') task.after.push(`failed: ${tag} (item=${e.item ?? ''}) => ${e.msg ?? ''}`);
      return;
    }
    const items = row.items > 0 ? ` ${row.items} item${row.items === 1 ? '' : 's'}` : '';
    const title = `${statusWord(e)}: ${tag}${items} ${took}`;
    switch (e.status) {
      case 'ok':
      case 'changed':
        // debug output is the point of a debug task; other results only with -v.
        if (task.module === 'debug' || v >= 1) {
          const { changed: _c, ...rest } = e.result;
          task.after.push(`${e.status}: ${tag} => ${JSON.stringify(task.module === 'debug' ? rest : e.result, null, v >= 3 || task.module === 'debug' ? 4 : undefined)}`);
        }
        row.settle({ title, kind: 'done' });
        break;
      case 'skipped':
        row.settle({ title: `skipping: ${tag}`, kind: 'skip' });
        break;
      case 'ignored':
      case 'rescued':
        // Not a failure of the run: show it as done, with the message after the list.
        task.after.push(`fatal: ${tag}: FAILED! => ${e.msg ?? ''}${e.status === 'ignored' ? '\n...ignoring' : ''}`);
        row.settle({ title, kind: 'done' });
        break;
      case 'failed':
      case 'unreachable': {
        const msg = e.msg ?? (typeof e.result.censored === 'string' ? e.result.censored : JSON.stringify(e.result));
        const stderr = typeof e.result.stderr === 'string' && e.result.stderr ? `\n  stderr: ${e.result.stderr.trimEnd()}` : '';
        task.after.push(`fatal: ${tag}: ${e.status === 'failed' ? 'FAILED!' : 'UNREACHABLE!'} => ${msg}${stderr}`);
        row.settle({ title, kind: 'fail', error: msg });
        break;
      }
    }
  }

  const summary = createRollSummary();
  return {
    onEvent(e: RunEvent): void {
      summary.onEvent(e);
      switch (e.event) {
        case 'run-start':
          if (v >= 1) text(`PLAYBOOK: ${e.playbook}${e.check ? ' (check mode)' : ''}`);
          break;
        case 'play-start':
          if (current) finish(current);
          text(`\n${paint('bold', banner(`PLAY [${e.play}]`, opts.stdout?.columns || process.stdout.columns || 80))}`);
          break;
        case 'batch-start':
          if (e.batches > 1) text(`batch ${e.batch}/${e.batches}: ${e.hosts.join(', ')}`);
          break;
        case 'task-start':
          startTask(e);
          break;
        case 'host-result':
          hostResult(e);
          break;
        case 'task-end': {
          const task = current;
          if (!task) break;
          task.endTitle = redact(`${task.title} ${formatDuration(e.durationMs)}`);
          if (task.parent) task.parent.title = task.endTitle;
          finish(task);
          for (const a of task.after) text(a);
          task.after = [];
          break;
        }
        case 'verbose':
          if (v >= e.level) text(paint('blue', e.host ? `<${e.host}> ${e.message}` : e.message));
          break;
        case 'warning':
          text(paint('magenta', `[WARNING]: ${e.location ? `${formatLocation(e.location)}: ` : ''}${e.message}`));
          break;
        case 'play-end':
          break;
        case 'recap': {
          if (current) finish(current);
          const roll = summary.format({ color: opts.color ?? true, width: opts.stdout?.columns || process.stdout.columns || 80 });
          if (roll) text(`\n${roll}`);
          text(`\n${formatRecap(e.hosts, { color: opts.color ?? true, width: opts.stdout?.columns || process.stdout.columns || 80 })}\n`);
          text(`finished in ${formatDuration(e.durationMs)} (exit code ${e.exitCode})`);
          break;
        }
      }
    },
    async close(): Promise<void> {
      // An interrupted run may end mid-task: settle its rows so the list (and the queue) can finish.
      if (current) finish(current);
      await queue;
    },
  };
}
