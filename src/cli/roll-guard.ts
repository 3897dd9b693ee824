// A run of a playbook with `serial` plays is a roll: it takes the environment's lock (one roll per
// inventory at a time) and keeps a journal, so an interrupted roll can be told apart from a finished
// one and continued with --resume.
import { createHash } from 'node:crypto';
import path from 'node:path';
import { EXIT, ObiamError } from '../errors.js';
import type { Reporter } from '../events/types.js';
import type { Playbook } from '../load/model.js';
import type { ResumeState } from '../run/types.js';
import { journalFile, createJournalReporter, readJournal, resumeFrom, rollPartWay, sameRun, unfinishedHosts, type Journal } from '../state/journal.js';
import { acquireLock, type HeldLock } from '../state/lock.js';
import { stateDirFor } from '../state/state-dir.js';
import type { Vars } from '../types.js';

export interface RollGuard {
  resume?: ResumeState;
  reporter: Reporter;
  /** Warnings to show once the reporters are up (a stale lock taken over, an earlier roll not finished). */
  notes: string[];
  /** The lines to print after a run that did not end OK (journal, how to continue). */
  afterwords(exitCode: number): string[];
  /** Releases the lock (again is a no-op): after the run, whatever happened. */
  release(): void;
}

export interface RollGuardOptions {
  playbook: Playbook;
  playbookFiles: string[];
  inventories: string[];
  limit?: string;
  extraVars: Vars;
  resume: boolean;
  stateDir?: string;
  env: NodeJS.ProcessEnv;
  cwd: string;
  argv?: string[];
  /** The run record's id, kept in the journal so `obiam-run report` can find the record. */
  runId?: string;
}

export const isRoll = (pb: Playbook): boolean => pb.plays.some((p) => p.serial.length > 0);

const shellWord = (s: string): string => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/** Takes the lock and opens the journal, or throws (E_LOCKED, E_RESUME). */
export function openRollGuard(o: RollGuardOptions): RollGuard {
  const stateDir = stateDirFor({ base: o.stateDir ?? (o.env.OBIAM_RUN_STATE_DIR || undefined), inventories: o.inventories, cwd: o.cwd });
  const args = (o.argv ?? [...o.playbookFiles, ...o.inventories.flatMap((i) => ['-i', i])]).filter((a) => a !== '--resume');
  const command = ['obiam-run', ...args].map(shellWord).join(' ');
  const run = {
    command,
    playbooks: o.playbookFiles,
    inventories: o.inventories,
    ...(o.limit ? { limit: o.limit } : {}),
    extraVars: createHash('sha256').update(JSON.stringify(o.extraVars)).digest('hex').slice(0, 16),
  };
  const environment = o.inventories.map((i) => (path.isAbsolute(i) ? path.relative(o.cwd, i) || i : i)).join(' + ');
  const lock: HeldLock = acquireLock(stateDir, command, environment);
  try {
    const before = readJournal(stateDir);
    const notes: string[] = [];
    if (lock.tookOver) notes.push(`took over the lock of pid ${lock.tookOver.pid}, which is gone (${lock.tookOver.command})`);
    let resume: ResumeState | undefined;
    const partWay = before !== undefined && rollPartWay(before);
    if (o.resume) {
      resume = resumeFrom(
        before,
        run,
        o.playbook.plays.map((p) => p.name),
        stateDir,
      );
      const half = unfinishedHosts(before!);
      // After a hard stop (SIGKILL, a crash) these may be out of the load balancer or stopped.
      if (half.length) notes.push(`resuming the roll started ${before!.startedAt}, which left hosts in the middle of a step (they may be out of the load balancer or stopped; each goes through its step again first): ${half.join('; ')}`);
    } else if (partWay) {
      notes.push(`the roll started ${before.startedAt} did not finish (${before.status}); this run starts over. ${journalFile(stateDir)} said: ${unfinishedHosts(before).join('; ') || 'no host was in the middle of a batch'}. Use --resume to continue a roll instead`);
    }
    // The state of a roll left part way by this same command stays in the journal until this run
    // gets to the roll itself: a gate that refuses the half-done cluster must not erase it.
    const keep = before && partWay && (o.resume || sameRun(before, run)) ? before : undefined;
    const reporter = createJournalReporter(stateDir, run, o.resume ? before : undefined, keep, o.runId);
    return {
      resume,
      reporter,
      notes,
      // Only a roll left part way has anything to continue; a failure before its first batch has not.
      afterwords: (exitCode: number): string[] => (exitCode === EXIT.OK || !rollPartWay(reporter.journal) ? [] : afterwords(reporter.journal, journalFile(stateDir))),
      release: () => lock.release(),
    };
  } catch (e) {
    lock.release();
    throw e;
  }
}

/** What an operator needs after a roll that did not finish: where it stopped, how to go on. */
function afterwords(j: Journal, file: string): string[] {
  const lines = [`roll journal: ${file}`];
  const kept = j.plays.find((p) => p.keptFrom)?.keptFrom;
  if (kept) lines.push(`the roll started ${kept} is still not finished (this run stopped before it got there):`);
  const unfinished = unfinishedHosts(j);
  if (unfinished.length) {
    lines.push('stopped in the middle of a batch; these hosts may be out of the load balancer or stopped:');
    for (const u of unfinished) lines.push(`  ${u}`);
  }
  const rolled = j.plays.filter((p) => p.serial);
  for (const p of rolled) lines.push(`'${p.name}': done ${p.done.length ? p.done.join(', ') : '(none)'}${p.failed.length ? `; failed ${p.failed.join(', ')}` : ''}`);
  if (j.status === 'interrupted' || j.status === 'failed') lines.push(`to continue from the first host not done: ${j.command} --resume`);
  return lines;
}

/** --resume on a run that is no roll. */
export function resumeNeedsRoll(check: boolean): ObiamError {
  return new ObiamError('E_RESUME', check ? '--resume cannot be combined with --check' : '--resume continues a roll, and this playbook has no play with `serial`', {
    exitCode: EXIT.BAD_OPTIONS,
    remedy: 'run without --resume',
  });
}
