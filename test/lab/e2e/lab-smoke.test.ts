// The README's main job on the lab: playbooks/lab-smoke.yml converges, and a second run changes nothing.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { getLab } from '../lab-fixture.js';
import { REPO, runCli, sum } from './run-cli.js';

describe('playbooks/lab-smoke.yml on the lab', () => {
  it('converges on the first run and changes nothing on the second', async () => {
    const lab = getLab();
    const pb = path.join(REPO, 'playbooks/lab-smoke.yml');
    const first = await runCli([pb, '-i', lab.inventoryFile, '--json']);
    expect(first.code, first.stdout + first.stderr).toBe(0);
    const nodes = lab.hosts.filter((h) => h.role === 'node').map((h) => h.name);
    for (const n of nodes) expect(first.recap[n]?.changed, n).toBeGreaterThan(0);
    // The handler ran once per node.
    const handlerRuns = first.events.filter((e) => e.event === 'host-result' && e.task === 'Announce change');
    expect(handlerRuns.map((e) => e.host).sort()).toEqual([...nodes].sort());
    const second = await runCli([pb, '-i', lab.inventoryFile, '--json']);
    expect(second.code, second.stdout + second.stderr).toBe(0);
    expect(sum(second.recap, 'changed')).toBe(0);
  }, 180_000);
});
