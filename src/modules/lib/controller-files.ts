// Controller files: the arguments a module reads from the controller (copy's src, template's src ...)
// and the one search list for them, used both by the loader's check and by the module at run time.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { ObiamError, type SourceLocation } from '../../errors.js';

export type FileKind = 'files' | 'templates' | 'vars';

/** A module argument that names a file on the controller. */
export interface ControllerFileArg {
  arg: string;
  kind: FileKind;
  /** When the argument is not a controller file for these arguments (remote_src, a URL). */
  unless?(args: Record<string, unknown>): boolean;
}

export interface FileSearch {
  /** Absolute path of the role the task belongs to. */
  rolePath?: string;
  playbookDir: string;
  /** Directory of the tasks file the task is written in. */
  taskDir?: string;
}

/** Where `name` is looked for, in order: the role's files/ or templates/, the playbook's, the playbook dir, the tasks file's dir. */
export function controllerFileCandidates(kind: FileKind, name: string, s: FileSearch): string[] {
  if (path.isAbsolute(name)) return [name];
  return [
    ...new Set([
      ...(s.rolePath ? [path.join(s.rolePath, kind, name)] : []),
      path.join(s.playbookDir, kind, name),
      path.join(s.playbookDir, name),
      ...(s.taskDir ? [path.join(s.taskDir, name)] : []),
    ]),
  ];
}

/** The first candidate that exists, or undefined. */
export function lookupControllerFile(kind: FileKind, name: string, s: FileSearch): string | undefined {
  return controllerFileCandidates(kind, name, s).find((c) => existsSync(c));
}

/** The file, or an E_FILE_NOT_FOUND naming every place looked in. */
export function findControllerFile(kind: FileKind, name: string, s: FileSearch, location?: SourceLocation): string {
  if (path.isAbsolute(name)) return name;
  const hit = lookupControllerFile(kind, name, s);
  if (hit) return hit;
  throw new ObiamError('E_FILE_NOT_FOUND', `could not find '${name}' (looked in ${controllerFileCandidates(kind, name, s).join(', ')})`, {
    location,
    remedy: `put the file under ${s.rolePath ? `the role's ${kind}/ or ` : ''}${path.join(s.playbookDir, kind)}`,
  });
}
