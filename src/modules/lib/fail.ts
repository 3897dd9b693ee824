// One way for a module to fail. `run` returns `fail(msg, extra)`: Ansible's failed result
// ({changed: false, failed: true, msg, ...return values}). Code below `run` that cannot return a
// result (a probe, a write, a parser) throws `hostError(ctx, code, msg)`; the task executor turns
// any error a module throws into the same failed result, with the code and remedy in msg.
import { EXIT, ObiamError } from '../../errors.js';
import type { ModuleContext, ModuleResult } from '../types.js';

/** Ansible's failed result: `extra` carries the module's return values (path, rc, changed: true after a partial change). */
export function fail(msg: unknown, extra: Record<string, unknown> = {}): ModuleResult {
  return { changed: false, ...extra, failed: true, msg };
}

/** A failure on the host found below `run` (a read, a write, bad content): thrown, reported as fail(). */
export function hostError(ctx: Pick<ModuleContext, 'host'> | undefined, code: string, message: string, remedy?: string): ObiamError {
  return new ObiamError(code, message, { ...(ctx ? { host: ctx.host } : {}), exitCode: EXIT.HOST_FAILED, ...(remedy ? { remedy } : {}) });
}
