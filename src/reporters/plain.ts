// The plain line reporter for CI and pipes: one line per event, the host name on every host line
// (lines of parallel hosts can never be confused), Ansible's wording, and a duration per result.
import { createRequire } from 'node:module';
import type * as Diff from 'diff';
import { formatLocation } from '../errors.js';
import type { FileDiff, Reporter, RunEvent } from '../events/types.js';
import { redact } from '../redact.js';
import { formatRecap } from './recap.js';
import { createRollSummary } from './roll-summary.js';
import { banner, formatDuration, painter, type Color, type Paint } from './style.js';

// Loaded at the first diff shown (--diff), not at start-up.
let diffLib: typeof Diff | undefined;
const diff = (): typeof Diff => (diffLib ??= createRequire(import.meta.url)('diff') as typeof Diff);

export interface PlainReporterOptions {
  verbosity: number;
  color?: boolean;
  /** Banner width; default 80 like Ansible without a terminal. */
  width?: number;
}

type HostResult = Extract<RunEvent, { event: 'host-result' }>;

/** Result keys worth showing under a failure line without -v (what an operator needs to act). */
const FAILURE_DETAILS = ['cmd', 'rc', 'stdout', 'stderr'] as const;
/** Keys that say nothing in a printed debug result. */
const DEBUG_NOISE = new Set(['changed', 'failed', 'skipped']);

/** `[host]` or `[host -> delegate]`, as Ansible names a delegated result. */
function hostTag(e: HostResult): string {
  return e.delegatedTo && e.delegatedTo !== e.host ? `[${e.host} -> ${e.delegatedTo}]` : `[${e.host}]`;
}

function json(v: unknown, pretty: boolean): string {
  try {
    return JSON.stringify(v, null, pretty ? 4 : undefined) ?? String(v);
  } catch {
    return String(v);
  }
}

/** A unified diff per changed file, without the `=====` separator line the diff package adds. */
export function formatDiff(d: FileDiff): string {
  const before = d.beforeHeader ?? (d.path !== undefined ? `before: ${d.path}` : 'before');
  const after = d.afterHeader ?? (d.path !== undefined ? `after: ${d.path}` : 'after');
  const patch = diff().createTwoFilesPatch(before, after, d.before, d.after);
  return patch.replace(/^=+\n/, '').replace(/\n$/, '');
}

/** `FAILED - RETRYING: [host]: task (N retries left).` as Ansible prints it, plus the attempt and time so far. */
export function retryLine(e: Extract<RunEvent, { event: 'progress' }>): string {
  const tail = e.attempt !== undefined ? ` attempt ${e.attempt}${e.elapsedMs !== undefined ? `, ${formatDuration(e.elapsedMs)} elapsed` : ''}` : '';
  return `FAILED - RETRYING: [${e.host}]: ${e.task} (${e.retriesLeft ?? 0} retries left).${tail}`;
}

export function colorDiff(text: string, paint: Paint): string {
  return text
    .split('\n')
    .map((l) => (l.startsWith('+++') || l.startsWith('---') ? l : l.startsWith('+') ? paint('green', l) : l.startsWith('-') ? paint('red', l) : l.startsWith('@@') ? paint('cyan', l) : l))
    .join('\n');
}

/** Indents a possibly multi-line value under its key. */
function detail(key: string, value: unknown): string {
  const text = typeof value === 'string' ? value.replace(/\n$/, '') : json(value, false);
  return text.includes('\n') ? `  ${key}: |\n${text.replace(/^/gm, '    ')}` : `  ${key}: ${text}`;
}

export function createPlainReporter(out: (s: string) => void, opts: PlainReporterOptions): Reporter {
  const paint = painter(opts.color ?? false);
  const v = opts.verbosity;
  let module = '';
  /** `task\0host` pairs whose loop items were printed: the whole-task line after them is redundant. */
  const itemsShown = new Set<string>();

  // Every byte leaves through here: no secret is written, whatever the verbosity.
  const line = (s: string): void => out(`${redact(s)}\n`);

  /** ` => {...}` for ok/changed results: always for debug, with -v for everything else. */
  function okPayload(e: HostResult): string {
    if (module === 'debug' && !e.isItem) {
      const shown = Object.fromEntries(Object.entries(e.result).filter(([k]) => !DEBUG_NOISE.has(k)));
      return ` => ${json(shown, true)}`;
    }
    if (v >= 1) return ` => ${json(e.result, v >= 3)}`;
    return '';
  }

  /** ` => msg` for failures; -v shows the whole result instead, -vvv pretty-printed. */
  function failPayload(e: HostResult): { head: string; details: string[] } {
    if (v >= 1) return { head: ` => ${json(e.result, v >= 3)}`, details: [] };
    const msg = e.msg ?? (typeof e.result.msg === 'string' ? e.result.msg : typeof e.result.censored === 'string' ? e.result.censored : undefined);
    const details = FAILURE_DETAILS.filter((k) => e.result[k] !== undefined && e.result[k] !== '').map((k) => detail(k, e.result[k]));
    return { head: msg !== undefined ? ` => ${msg}` : ` => ${json(e.result, false)}`, details };
  }

  function hostResult(e: HostResult): void {
    const key = `${e.task}\0${e.host}`;
    if (e.isItem) itemsShown.add(key);
    else if (itemsShown.has(key)) {
      // Ansible prints a loop only item by item; keep just the marker of an ignored failure.
      if (e.status === 'ignored') line(paint('cyan', '...ignoring'));
      return;
    }
    const tag = hostTag(e);
    const item = e.item !== undefined ? ` (item=${e.item})` : '';
    const took = ` (${formatDuration(e.durationMs)})`;
    const say = (color: Color, text: string): void => line(paint(color, text));
    switch (e.status) {
      case 'ok':
      case 'changed':
        say(e.status === 'ok' ? 'green' : 'yellow', `${e.status}: ${tag}${item ? ` =>${item}` : ''}${took}${okPayload(e)}`);
        break;
      case 'skipped':
        say('cyan', `skipping: ${tag}${item ? ` =>${item}` : ''}${v >= 1 && !e.isItem ? ` => ${json(e.result, v >= 3)}` : ''}`);
        break;
      case 'unreachable':
        say('brightRed', `fatal: ${tag}: UNREACHABLE!${took}${failPayload(e).head}`);
        break;
      case 'failed':
      case 'ignored':
      case 'rescued': {
        const { head, details } = failPayload(e);
        say('red', e.isItem ? `failed: ${tag}${item}${took}${head}` : `fatal: ${tag}: FAILED!${took}${head}`);
        for (const d of details) say('red', d);
        if (e.status === 'ignored' && !e.isItem) say('cyan', '...ignoring');
        break;
      }
    }
    for (const d of e.diff ?? []) line(colorDiff(formatDiff(d), paint));
  }

  const summary = createRollSummary();
  return {
    onEvent(e: RunEvent): void {
      summary.onEvent(e);
      switch (e.event) {
        case 'run-start':
          if (v >= 1) line(`PLAYBOOK: ${e.playbook}${e.check ? ' (check mode)' : ''}${e.diff ? ' (diff)' : ''}`);
          break;
        case 'play-start':
          line('');
          line(banner(`PLAY [${e.play}]${e.hosts.length === 0 ? ' (no hosts)' : ''}`, opts.width));
          break;
        case 'batch-start':
          if (e.batches > 1) line(`batch ${e.batch}/${e.batches}: ${e.hosts.join(', ')}`);
          break;
        case 'task-start': {
          module = e.module;
          itemsShown.clear();
          const title = `${e.role ? `${e.role} : ` : ''}${e.task}`;
          line('');
          line(banner(e.handler ? `RUNNING HANDLER [${title}]` : `TASK [${title}]`, opts.width));
          if (v >= 2 && e.location) line(`task path: ${formatLocation(e.location)}`);
          break;
        }
        case 'host-result':
          hostResult(e);
          break;
        case 'task-end':
          if (v >= 2) line(`(task took ${formatDuration(e.durationMs)})`);
          break;
        case 'progress':
          // Retries always, as Ansible's FAILED - RETRYING; an unpack or wait when it starts; an upload once done.
          if (e.kind === 'retry') line(paint('yellow', retryLine(e)));
          else if (e.kind !== 'upload' || (e.totalBytes !== undefined && e.bytes === e.totalBytes)) line(`${e.kind}: [${e.host}] ${e.message}`);
          break;
        case 'verbose':
          if (v >= e.level) line(paint('blue', e.host ? `<${e.host}> ${e.message}` : e.message));
          break;
        case 'warning':
          line(paint('magenta', `[WARNING]: ${e.location ? `${formatLocation(e.location)}: ` : ''}${e.message}`));
          break;
        case 'play-end':
          break;
        case 'recap': {
          const roll = summary.format({ color: opts.color, width: opts.width });
          if (roll) {
            line('');
            line(roll);
          }
          line('');
          line(formatRecap(e.hosts, { color: opts.color, width: opts.width }));
          line('');
          line(`finished in ${formatDuration(e.durationMs)} (exit code ${e.exitCode})`);
          break;
        }
      }
    },
  };
}
