// include_tasks at run time: the playbook loader parses the file (with the including role's context).
import type { RoleContext, TaskNode } from '../load/model.js';
import { EXIT, ObiamError } from '../errors.js';

type LoadTasksFile = (file: string, opts: { role?: RoleContext }) => TaskNode[] | Promise<TaskNode[]>;

let loader: LoadTasksFile | undefined;

/** Lets the CLI or a test hand in the loader explicitly (defaults to src/load/playbook.ts). */
export function setTasksFileLoader(fn: LoadTasksFile | undefined): void {
  loader = fn;
}

export async function loadIncludedTasks(file: string, role?: RoleContext): Promise<TaskNode[]> {
  if (!loader) {
    // Resolved at run time so the runner does not depend on the loader at build time.
    const spec = '../load/playbook.js';
    try {
      const mod = (await import(spec)) as { loadTasksFile?: LoadTasksFile };
      if (mod.loadTasksFile) loader = mod.loadTasksFile;
    } catch {
      /* reported below */
    }
  }
  if (!loader) {
    throw new ObiamError('E_INCLUDE_UNSUPPORTED', `cannot include ${file}: no tasks-file loader is available`, { exitCode: EXIT.INTERNAL });
  }
  return await loader(file, { role });
}
