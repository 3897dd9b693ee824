// Small remote text files (fstab, sysctl.conf, limits.conf) edited on the controller: one exec reads
// the file, one exec writes it back atomically (temp file in the same directory, then rename).
import { EXIT, ObiamError } from '../errors.js';
import type { FileDiff } from '../events/types.js';
import { shq, type ModuleContext } from './types.js';

export interface RemoteText {
  exists: boolean;
  content: string;
}

export async function readRemoteText(ctx: ModuleContext, path: string, extra = ''): Promise<RemoteText & { extra: string }> {
  const r = await ctx.conn.exec(`if [ -f ${shq(path)} ]; then echo y; cat ${shq(path)}; else echo n; fi; printf '\\n@@extra\\n'; ${extra || ':'}`, {
    become: ctx.become,
  });
  if (r.exitCode !== 0) {
    throw new ObiamError('E_READ_FILE', `cannot read ${path} on ${ctx.host}: ${r.stderr.trim()}`, { host: ctx.host, exitCode: EXIT.HOST_FAILED });
  }
  const i = r.stdout.lastIndexOf('\n@@extra\n');
  const head = r.stdout.slice(0, i);
  return { exists: head.startsWith('y'), content: head.slice(2), extra: r.stdout.slice(i + 9) };
}

/** Writes content keeping the existing file's mode/owner (new files: 0644 root). */
export async function writeRemoteText(ctx: ModuleContext, path: string, content: string): Promise<void> {
  const p = shq(path);
  const r = await ctx.conn.exec(
    `t=$(mktemp ${shq(`${path}.obr.XXXXXX`)}) || exit 1
cat >"$t" || { rm -f "$t"; exit 1; }
if [ -e ${p} ]; then chmod --reference=${p} "$t" && chown --reference=${p} "$t"; else chmod 0644 "$t"; fi
mv -f "$t" ${p}`,
    { stdin: content, become: ctx.become },
  );
  if (r.exitCode !== 0) {
    throw new ObiamError('E_WRITE_FILE', `cannot write ${path} on ${ctx.host}: ${r.stderr.trim()}`, { host: ctx.host, exitCode: EXIT.HOST_FAILED });
  }
}

export function textDiff(path: string, before: string, after: string): FileDiff[] {
  return [{ path, before, after, beforeHeader: `${path} (before)`, afterHeader: `${path} (after)` }];
}

/** Normalises line endings so an edit appends to a file whose last line has no newline. */
export function linesOf(content: string): string[] {
  if (content === '') return [];
  return content.replace(/\n$/, '').split('\n');
}
