// Checks made after loading and before the first host is touched: a --limit that matches nothing, a
// --start-at-task that names no task, and the --step prompt (a terminal is needed).
import { openSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { ReadStream } from 'node:tty';
import { EXIT, ObiamError } from '../errors.js';
import { didYouMean } from '../load/did-you-mean.js';
import type { Inventory } from '../inventory/model.js';
import type { Playbook, TaskNode } from '../load/model.js';
import { limitTerms, patternWarnings, selectHosts } from '../inventory/patterns.js';
import { parseStepAnswer, startAtMatches, type StepAnswer } from '../run/start-at.js';

/**
 * ansible-playbook stops when the inventory and --limit leave no host ("does not match any hosts"):
 * exit 1, with a guess for each term that names no host or group.
 */
export function checkLimit(inv: Inventory, limit: string | undefined): void {
  if (limit === undefined) return;
  if (selectHosts(inv, 'all', limit).length > 0) return;
  const names = [...inv.hosts.keys(), ...inv.groups.keys()];
  const guesses: string[] = [];
  for (const term of limitTerms(limit)) {
    if (patternWarnings(inv, term).length === 0) continue;
    const bare = term.replace(/^[&!]/, '');
    const guess = didYouMean(bare, names);
    if (guess) guesses.push(`'${bare}': did you mean '${guess}'?`);
  }
  throw new ObiamError('E_LIMIT_NO_HOSTS', `--limit '${limit}' does not match any hosts in the inventory${guesses.length ? ` (${guesses.join('; ')})` : ''}`, {
    remedy: `list the hosts and groups with \`obiam-run inventory -i INVENTORY --graph\`; nothing was run`,
    exitCode: EXIT.ERROR,
  });
}

interface NamedTask {
  name: string;
  role?: string;
}

function staticTasks(nodes: TaskNode[], out: NamedTask[], includes: { n: number }): void {
  for (const n of nodes) {
    if (n.kind === 'block') staticTasks([...n.block, ...n.rescue, ...n.always], out, includes);
    else if (n.kind === 'include') includes.n++;
    else if (n.kind === 'task') out.push({ name: n.name ?? n.module, role: n.role?.name });
  }
}

/**
 * `--start-at-task NAME` must name a task (or `role : task`, or match it as a glob). A playbook with
 * include_tasks may hold the task in a file read at run time, so it is not refused then (the runner
 * starts there when it reaches it, which ansible-playbook cannot do).
 */
export function checkStartAtTask(playbook: Playbook, name: string | undefined): void {
  if (name === undefined) return;
  const tasks: NamedTask[] = [];
  const includes = { n: 0 };
  for (const p of playbook.plays) staticTasks([...p.preTasks, ...p.roleTasks, ...p.tasks, ...p.postTasks], tasks, includes);
  if (tasks.some((t) => startAtMatches(name, t.name, t.role)) || includes.n > 0) return;
  const guess = didYouMean(name, [...new Set(tasks.flatMap((t) => (t.role ? [t.name, `${t.role} : ${t.name}`] : [t.name])))]);
  throw new ObiamError('E_START_AT_TASK', `No matching task "${name}" found${guess ? `: did you mean "${guess}"?` : ''}`, {
    remedy: 'give a task name as `--list-tasks` prints it (with or without the `role : ` prefix; * and ? match as in a shell); nothing was run',
    exitCode: EXIT.ERROR,
  });
}

/** The terminal the --step question is asked on: stdin when it is one, else /dev/tty, else none. */
function openTerminal(stdin: NodeJS.ReadStream): { input: NodeJS.ReadableStream; close(): void } | undefined {
  if (stdin.isTTY) return { input: stdin, close: () => undefined };
  try {
    const tty = new ReadStream(openSync('/dev/tty', 'r'));
    return { input: tty, close: () => tty.destroy() };
  } catch {
    return undefined;
  }
}

export interface StepPrompt {
  ask(task: string): Promise<StepAnswer>;
  close(): void;
}

/**
 * `--step`: before each task, `Perform task: TASK: NAME (N)o/(y)es/(c)ontinue: ` as ansible-playbook
 * asks it. Without a terminal there is nobody to answer: E_NO_TTY before anything runs.
 */
export function openStepPrompt(write: (s: string) => void, stdin: NodeJS.ReadStream = process.stdin): StepPrompt {
  const term = openTerminal(stdin);
  if (!term) {
    throw new ObiamError('E_NO_TTY', '--step asks before every task, and there is no terminal to answer on', {
      remedy: 'run it in a terminal, or drop --step (use --start-at-task, --tags or --check to pick what runs)',
      exitCode: EXIT.BAD_OPTIONS,
    });
  }
  const rl = createInterface({ input: term.input, terminal: false });
  const lines: string[] = [];
  const waiting: ((l: string) => void)[] = [];
  let ended = false;
  rl.on('line', (l) => (waiting.length ? waiting.shift()!(l) : lines.push(l)));
  rl.on('close', () => {
    ended = true;
    for (const w of waiting.splice(0)) w('');
  });
  return {
    async ask(task: string): Promise<StepAnswer> {
      write(`\nPerform task: TASK: ${task} (N)o/(y)es/(c)ontinue: `);
      const line = lines.length ? lines.shift()! : ended ? '' : await new Promise<string>((r) => waiting.push(r));
      return parseStepAnswer(line);
    },
    close(): void {
      rl.close();
      term.close();
    },
  };
}
