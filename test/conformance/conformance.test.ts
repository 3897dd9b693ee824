// The differential conformance suite: every directory under test/conformance/cases is a playbook run
// by ansible-playbook (ansible-core 2.14, the reference) and by obiam-run on the local connection.
// They must agree on the exit code, the recap counts and every JSON file the playbook writes to
// `{{ out_dir }}`. Needs `npm run build` (bin/obiam-run.js runs dist/) and ansible-playbook on PATH.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pLimit from 'p-limit';
import { afterAll, describe, expect, it } from 'vitest';
import { listCases, runTool, type ToolRun } from './differ.js';

const work = mkdtempSync(path.join(tmpdir(), 'obr-conformance-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

// Two cases at a time, both tools of a case at once: four processes on a two-core machine.
const limit = pLimit(2);

function summary(r: ToolRun): { code: number | null; recap: ToolRun['recap']; outputs: ToolRun['outputs'] } {
  return { code: r.code, recap: r.recap, outputs: r.outputs };
}

describe.concurrent('conformance with ansible-playbook 2.14', () => {
  for (const name of listCases()) {
    it(name, { timeout: 240_000 }, async () => {
      const [ansible, obiam] = await limit(() => Promise.all([runTool('ansible', name, work), runTool('obiam', name, work)]));
      // The reference run must itself have worked: a case that ansible-playbook cannot run proves nothing.
      expect(ansible.code, `ansible-playbook did not run:\n${ansible.log}`).not.toBeNull();
      expect(Object.keys(ansible.recap).length + Object.keys(ansible.outputs).length, `ansible-playbook produced no recap and no output:\n${ansible.log}`).toBeGreaterThan(0);
      expect(summary(obiam), `obiam-run's log:\n${obiam.log}\n\nansible-playbook's log:\n${ansible.log}`).toEqual(summary(ansible));
    });
  }
});
