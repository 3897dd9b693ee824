// The runner: runs the plays in order and ends the run (background jobs, connections, the recap).
// The parts: run-state.ts (shared state), play-iterator.ts (batches, blocks, includes, meta),
// task-executor.ts (one task on one host), results.ts (applying and reporting results),
// handlers.ts, host-vars.ts. See docs/architecture.md.
import { EXIT } from '../errors.js';
import type { HostCounts } from '../events/types.js';
import { runPlay } from './play-iterator.js';
import { Interrupted, RunState } from './run-state.js';
import type { RunOptions, RunOutcome } from './types.js';

export async function runPlaybook(opts: RunOptions): Promise<RunOutcome> {
  const rs = new RunState(opts);
  const started = Date.now();
  const { playbook } = opts;
  rs.emit({ event: 'run-start', playbook: playbook.file, check: opts.check, diff: opts.diff });
  let interrupted = false;
  const onStopRequest = (): void => announceStop(rs);
  opts.stopRequest?.addEventListener('abort', onStopRequest, { once: true });
  try {
    for (const [index, play] of playbook.plays.entries()) {
      // Between plays any stop counts: no host is in the middle of anything here.
      if (opts.signal?.aborted || opts.stopRequest?.aborted) {
        if (index > 0 && opts.stopRequest?.aborted) rs.stoppedBetweenBatches = true;
        throw new Interrupted();
      }
      const stop = await runPlay(rs, play, index);
      if (stop) break;
    }
  } catch (e) {
    if (e instanceof Interrupted) interrupted = true;
    else throw e;
  } finally {
    opts.stopRequest?.removeEventListener('abort', onStopRequest);
    await stopBackground(rs);
    await rs.pool.closeAll();
  }
  if (rs.stopNow()) interrupted = true;
  const hosts: Record<string, HostCounts> = {};
  for (const [h, c] of rs.counts) hosts[h] = { ...c };
  const anyFailed = [...rs.state.values()].includes('failed') || Object.values(hosts).some((c) => c.failed > 0);
  const anyUnreachable = [...rs.state.values()].includes('unreachable');
  // 2 wins over 3: a failed task is the more specific problem (documented in docs/runner.md).
  const exitCode = interrupted ? EXIT.INTERRUPTED : anyFailed ? EXIT.HOST_FAILED : anyUnreachable ? EXIT.HOST_UNREACHABLE : EXIT.OK;
  if (interrupted && rs.stoppedBetweenBatches) rs.emit({ event: 'warning', message: 'stopped at a safe point: every batch that started was finished' });
  else if (interrupted) rs.emit({ event: 'warning', message: 'interrupted: no new tasks were started; tasks already running were allowed to finish' });
  // As ansible-playbook: a start task that was never reached (it may sit behind an include) is
  // reported, and the exit code stays that of the run.
  if (!rs.startReached && opts.startAtTask !== undefined) {
    rs.emit({ event: 'warning', message: `No matching task "${opts.startAtTask}" found: nothing after it ran. Note: --start-at-task can only follow tasks that exist when the play reaches them` });
  }
  rs.emit({ event: 'recap', hosts, exitCode, durationMs: Date.now() - started });
  return { exitCode };
}

function announceStop(rs: RunState): void {
  const pr = rs.current;
  if (pr?.serial && pr.batch.length > 0) {
    rs.emit({
      event: 'warning',
      message: `stop requested: finishing the current batch (${pr.batch.join(', ')}) of '${pr.play.name}' so that no host is left half done, then stopping; interrupt again to stop after the running tasks`,
    });
  } else {
    rs.emit({ event: 'warning', message: 'stop requested: no new tasks are started' });
  }
}

async function stopBackground(rs: RunState): Promise<void> {
  for (const job of rs.background.splice(0)) {
    try {
      const report = await job.stop();
      if (report) rs.emit({ event: 'probe-report', name: job.name, report });
    } catch (e) {
      rs.emit({ event: 'warning', message: `stopping ${job.name}: ${e instanceof Error ? e.message : String(e)}` });
    }
  }
}
