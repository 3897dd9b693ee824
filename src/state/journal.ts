// The roll journal: a JSON file, rewritten after every batch and task, that says which hosts finished
// each play, which batch the run was in and at which task. `--resume` reads it to continue from the
// first host not done; an operator reads it to know where an interrupted roll left the cluster.
import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EXIT, ObiamError } from '../errors.js';
import type { Reporter, RunEvent } from '../events/types.js';
import type { ResumeState } from '../run/types.js';
import { redactValue } from '../redact.js';
import { pidAlive } from './lock.js';

export type JournalStatus = 'running' | 'done' | 'failed' | 'interrupted';

export interface JournalPlay {
  index: number;
  name: string;
  serial: boolean;
  /** Hosts that went through the whole play (their batch ended without them failing). */
  done: string[];
  failed: string[];
  /** The batch of a serial play in progress: its hosts and the task they were at. */
  current?: { batch: number; batches: number; hosts: string[]; task?: string };
  /** Every host of the play, those a resumed run had done included (absent in older journals). */
  hosts?: string[];
  /**
   * startedAt of the earlier run this record was kept from: a run that stopped before reaching this
   * play (a refused gate) keeps the unfinished roll's state, so that --resume still knows it.
   */
  keptFrom?: string;
}

export interface JournalRun {
  /** The command to run again (without --resume), for messages. */
  command: string;
  playbooks: string[];
  inventories: string[];
  limit?: string;
  /** Digest of the extra variables: a resume with other values is refused. */
  extraVars: string;
}

export interface Journal extends JournalRun {
  version: 1;
  status: JournalStatus;
  exitCode?: number;
  pid: number;
  hostname: string;
  startedAt: string;
  updatedAt: string;
  /** startedAt of the run this one resumed. */
  resumedFrom?: string;
  /** The run's id, also in its run record (`last-run.json` beside this file) for `obiam-run report`. */
  runId?: string;
  plays: JournalPlay[];
}

export const journalFile = (stateDir: string): string => path.join(stateDir, 'journal.json');

/** The journal in the state dir, if any; a `running` journal of a process that is gone reads as interrupted. */
export function readJournal(stateDir: string): Journal | undefined {
  const file = journalFile(stateDir);
  if (!existsSync(file)) return undefined;
  let j: Journal;
  try {
    j = JSON.parse(readFileSync(file, 'utf8')) as Journal;
  } catch (e) {
    throw new ObiamError('E_JOURNAL', `cannot read the journal ${file}: ${(e as Error).message}`, {
      exitCode: EXIT.ERROR,
      remedy: 'look at the file; remove it to start afresh (nothing can be resumed then)',
    });
  }
  if (j.status === 'running' && !(j.hostname === os.hostname() && pidAlive(j.pid))) j.status = 'interrupted';
  return j;
}

/** What --resume may continue, or an error saying why not. */
export function resumeFrom(j: Journal | undefined, run: JournalRun, playNames: string[], stateDir: string): ResumeState {
  const refuse = (msg: string, remedy: string): ObiamError => new ObiamError('E_RESUME', msg, { exitCode: EXIT.BAD_OPTIONS, remedy });
  if (!j) throw refuse(`nothing to resume: no journal in ${stateDir}`, 'run without --resume');
  if (j.status === 'done') throw refuse(`nothing to resume: the run started ${j.startedAt} finished`, 'run without --resume');
  if (!sameRun(j, run)) {
    throw refuse(`--resume continues the run started ${j.startedAt}, which had other playbooks, inventory, --limit or extra vars: ${j.command}`, `give the same arguments with --resume: ${j.command} --resume`);
  }
  // By index: a journal may hold only some plays (kept from an earlier run, or the run stopped early).
  if (!j.plays.every((p) => playNames[p.index] === p.name)) {
    const names = j.plays.map((p) => p.name);
    throw refuse(`the playbook changed since the run started ${j.startedAt} (plays ${JSON.stringify(names)}, now ${JSON.stringify(j.plays.map((p) => playNames[p.index] ?? null))})`, 'run without --resume');
  }
  const done: Record<number, string[]> = {};
  for (const p of j.plays) if (p.serial && p.done.length) done[p.index] = [...p.done];
  // Hosts left inside their step: the batch in progress at a hard stop, and the hosts that failed
  // their step (the roll stopped at them). The gate of the resumed run does not count them, and
  // they go through their step again first.
  const interrupted = [...new Set(j.plays.filter((p) => p.serial).flatMap((p) => [...(p.current?.hosts ?? []), ...p.failed]))];
  return { done, interrupted };
}

/** The same command: playbooks, inventories, --limit and extra vars. */
export function sameRun(j: JournalRun, run: JournalRun): boolean {
  const same = (a: string[], b: string[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);
  return same(j.playbooks, run.playbooks) && same(j.inventories, run.inventories) && (j.limit ?? '') === (run.limit ?? '') && j.extraVars === run.extraVars;
}

/**
 * A roll left part way: a serial play with a batch in progress, a host that failed it, or hosts done
 * but not all. Only such a journal is worth a --resume hint or a warning on the next run; a run that
 * stopped before its first batch (preflight, a refused gate, an unreachable host at the gate) left
 * nothing half done.
 */
export function rollPartWay(j: Journal): boolean {
  if (j.status === 'done') return false;
  return j.plays.some((p) => p.serial && (p.current !== undefined || p.failed.length > 0 || (p.done.length > 0 && (p.hosts === undefined || p.done.length < p.hosts.length))));
}

/**
 * Keeps the journal file up to date from the run's events. `resumed`: the run --resume continues
 * (its done hosts are carried). `unfinished`: the earlier roll left part way by the same command;
 * its serial plays stay in the journal until this run reaches them, so a run that stops before
 * (a gate refusing a half-done cluster) does not make that roll's state disappear.
 */
export function createJournalReporter(stateDir: string, run: JournalRun, resumed?: Journal, unfinished?: Journal, runId?: string): Reporter & { journal: Journal } {
  const file = journalFile(stateDir);
  const now = (): string => new Date().toISOString();
  const journal: Journal = {
    version: 1,
    ...run,
    status: 'running',
    pid: process.pid,
    hostname: os.hostname(),
    startedAt: now(),
    updatedAt: now(),
    ...(resumed ? { resumedFrom: resumed.startedAt } : {}),
    ...(runId ? { runId } : {}),
    plays: (unfinished?.plays ?? [])
      .filter((p) => p.serial && (p.current || p.failed.length || p.done.length))
      .map((p) => ({ ...structuredClone(p), keptFrom: p.keptFrom ?? unfinished!.startedAt })),
  };
  const carried = new Map((resumed?.plays ?? []).filter((p) => p.serial).map((p) => [p.index, p.done]));
  const write = (): void => {
    journal.updatedAt = now();
    const tmp = `${file}.${process.pid}.tmp`;
    // Owner-only, and redacted: a journal may name failures whose messages quoted a secret.
    writeFileSync(tmp, `${JSON.stringify(redactValue(journal), null, 2)}\n`, { mode: 0o600 });
    chmodSync(tmp, 0o600);
    renameSync(tmp, file);
  };
  let play: JournalPlay | undefined;
  write();
  return {
    journal,
    onEvent(e: RunEvent): void {
      switch (e.event) {
        case 'play-start': {
          const index = e.index ?? journal.plays.length;
          play = { index, name: e.play, serial: e.serial ?? false, done: [...(carried.get(index) ?? [])], failed: [], hosts: [...(e.resumedDone ?? []), ...e.hosts] };
          // This run reached the play: its own record replaces one kept from the earlier run.
          journal.plays = [...journal.plays.filter((p) => p.index !== index), play].sort((a, b) => a.index - b.index);
          write();
          break;
        }
        case 'batch-start':
          // Only a serial play's batch is "a host in the middle of its step": a gate or deploy play
          // interrupted part way is simply run again, and must not excuse its hosts on --resume.
          if (play?.serial) {
            play.current = { batch: e.batch, batches: e.batches, hosts: e.hosts };
            write();
          }
          break;
        case 'task-start':
          if (play?.current) {
            play.current.task = e.role ? `${e.role} : ${e.task}` : e.task;
            write();
          }
          break;
        case 'batch-end':
          if (play) {
            play.done.push(...e.ok.filter((h) => !play!.done.includes(h)));
            play.failed.push(...e.failed.filter((h) => !play!.failed.includes(h)));
            delete play.current;
          }
          write();
          break;
        case 'recap':
          journal.exitCode = e.exitCode;
          journal.status = e.exitCode === EXIT.OK ? 'done' : e.exitCode === EXIT.INTERRUPTED ? 'interrupted' : 'failed';
          write();
          break;
        default:
          break;
      }
    },
  };
}

/** One line per host the run left in the middle of a batch: what an operator must know. */
export function unfinishedHosts(j: Journal): string[] {
  return j.plays.flatMap((p) => (p.current ? p.current.hosts.map((h) => `${h}: in '${p.name}' at '${p.current!.task ?? '(before its first task)'}'`) : []));
}
