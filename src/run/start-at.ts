// --start-at-task matching and the --step question, shared by the CLI's load-time check and the runner.
import { globToRegExp } from '../inventory/patterns.js';

/**
 * Does a task start the run? Like ansible-playbook: the task's name or its `role : name` form, equal
 * to the argument or matching it as a shell glob (`Install*`).
 */
export function startAtMatches(pattern: string, name: string, role?: string): boolean {
  const names = role ? [name, `${role} : ${name}`] : [name];
  if (names.includes(pattern)) return true;
  if (!/[*?[]/.test(pattern)) return false;
  const re = globToRegExp(pattern);
  return names.some((n) => re.test(n));
}

/** The answer to `--step`'s question for one task. */
export type StepAnswer = 'yes' | 'no' | 'continue';

/** Reads an answer the way ansible-playbook does: y/yes, c/continue; anything else (Enter) is no. */
export function parseStepAnswer(text: string): StepAnswer {
  const a = text.trim().toLowerCase();
  if (a === 'y' || a === 'yes') return 'yes';
  if (a === 'c' || a === 'continue') return 'continue';
  return 'no';
}
