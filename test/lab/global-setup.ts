// Vitest globalSetup for the lab suite: ONE lab named `test` (node1..3, lb1, storage1, bastion1) for
// every lab test file, taken down at the end, on failure and on SIGINT/SIGTERM. Not root: fail loudly.
import type { TestProject } from 'vitest/node';
import { labDown, labStatus, labUp } from '../../src/lab/lab.js';
import type { LabInfo } from '../../src/lab/types.js';

/** OBIAM_TEST_LAB names the lab instead, so two checkouts can run the lab suite side by side. */
export const TEST_LAB = process.env.OBIAM_TEST_LAB || 'test';

declare module 'vitest' {
  export interface ProvidedContext {
    lab: LabInfo;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) {
    throw new Error('the lab test suite needs Linux and root (network namespaces, bridges, mounts): run it as root, e.g. `sudo npm run test:lab`');
  }
  // A previous run killed hard leaves its state behind: clean it before starting again.
  const stale = await labStatus({}).then((ls) => ls.find((l) => l.name === TEST_LAB));
  if (stale) await labDown({ name: TEST_LAB });
  let down: Promise<void> | undefined;
  const teardown = (): Promise<void> => {
    down ??= labDown({ name: TEST_LAB }).then((r) => {
      if (r.leftovers.length > 0) throw new Error(`lab '${TEST_LAB}' left: ${r.leftovers.join(', ')}`);
    });
    return down;
  };
  const onSignal = (sig: NodeJS.Signals): void => {
    void teardown().finally(() => process.exit(sig === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const info = await labUp({ name: TEST_LAB, hosts: 3, with: ['lb', 'storage', 'bastion'] });
  project.provide('lab', info);
  return async () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await teardown();
  };
}
