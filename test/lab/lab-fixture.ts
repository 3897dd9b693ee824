// How lab test files get the running lab (brought up once by test/lab/global-setup.ts).
import { inject } from 'vitest';
import type { LabInfo } from '../../src/lab/types.js';

export function getLab(): LabInfo {
  const lab = inject('lab');
  if (!lab) throw new Error('no lab: run lab tests through the `lab` vitest project (test/lab/global-setup.ts)');
  return lab;
}

/** A lab of its own for one test file, named after the shared one so that two checkouts never clash. */
export function ownLabName(suffix: string): string {
  return `${getLab().name}-${suffix}`;
}
