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
  const same = (a: string[], b: string[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);
  if (!same(j.playbooks, run.playbooks) || !same(j.inventories, run.inventories) || (j.limit ?? '') !== (run.limit ?? '') || j.extraVars !== run.extraVars) {
    throw refuse(`--resume continues the run started ${j.startedAt}, which had other playbooks, inventory, --limit or extra vars: ${j.command}`, `give the same arguments with --resume: ${j.command} --resume`);
  }
  const names = j.plays.map((p) => p.name);
  if (!names.every((n, i) => playNames[i] === n)) {
    throw refuse(`the playbook changed since the run started ${j.startedAt} (plays ${JSON.stringify(names)}, now ${JSON.stringify(playNames.slice(0, names.length))})`, 'run without --resume');
  }
  const done: Record<number, string[]> = {};
  for (const p of j.plays) if (p.serial && p.done.length) done[p.index] = [...p.done];
  const interrupted = [...new Set(j.plays.flatMap((p) => p.current?.hosts ?? []))];
  return { done, interrupted };
}

/** Keeps the journal file up to date from the run's events. `carried` = hosts done by the run resumed. */
export function createJournalReporter(stateDir: string, run: JournalRun, resumed?: Journal): Reporter & { journal: Journal } {
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
    plays: [],
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
        case 'play-start':
          play = { index: e.index ?? journal.plays.length, name: e.play, serial: e.serial ?? false, done: [...(carried.get(e.index ?? -1) ?? [])], failed: [] };
          journal.plays.push(play);
          write();
          break;
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
