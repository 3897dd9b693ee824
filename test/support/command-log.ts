// A PATH of logging wrappers: every external command a shell runs through it is recorded by name, and
// any command not in the list is "not found". Tests use it to assert which processes a script starts
// (each external command is one fork+exec on the host; builtins and redirections are none).
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sq } from '../../src/transport/remote-shell.js';

export interface CommandLog {
  /** The directory to use as PATH. */
  dir: string;
  /** Commands run since the last call, in order; clears the log. */
  take(): string[];
}

export function commandLog(names: string[]): CommandLog {
  const dir = mkdtempSync(path.join(tmpdir(), 'obr-cmdlog-'));
  const log = path.join(dir, '.log');
  writeFileSync(log, '');
  for (const name of names) {
    const real = execFileSync('/bin/sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();
    const file = path.join(dir, name);
    writeFileSync(file, `#!/bin/sh\nprintf '%s\\n' ${sq(name)} >>${sq(log)}\nexec ${sq(real)} "$@"\n`);
    chmodSync(file, 0o755);
  }
  return {
    dir,
    take: () => {
      const lines = readFileSync(log, 'utf8').split('\n').filter(Boolean);
      writeFileSync(log, '');
      return lines;
    },
  };
}
