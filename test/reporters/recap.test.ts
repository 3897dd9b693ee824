import { describe, expect, it } from 'vitest';
import { emptyCounts } from '../../src/events/types.js';
import { formatRecap } from '../../src/reporters/recap.js';

describe('formatRecap', () => {
  it('aligns like ansible-playbook: host padded to 26, counters as key=N padded to 4', () => {
    const text = formatRecap({
      'obiam-1': { ...emptyCounts(), ok: 12, changed: 3 },
      lb: { ...emptyCounts(), unreachable: 1 },
    });
    expect(text).toMatchInlineSnapshot(`
      "PLAY RECAP *********************************************************************
      obiam-1                    : ok=12   changed=3    unreachable=0    failed=0    skipped=0    rescued=0    ignored=0
      lb                         : ok=0    changed=0    unreachable=1    failed=0    skipped=0    rescued=0    ignored=0"
    `);
  });

  it('widens the host column for long names so every row lines up', () => {
    const long = 'a-very-long-host-name.internal.example.com';
    const text = formatRecap({ [long]: emptyCounts(), short: { ...emptyCounts(), failed: 1234 } });
    const rows = text.split('\n').slice(1);
    expect(rows.map((r) => r.indexOf(' : '))).toEqual([long.length, long.length]);
    expect(rows[1]).toContain('failed=1234 skipped=0');
  });

  it('colors non-zero counters and the host by its worst state', () => {
    const text = formatRecap({ h: { ...emptyCounts(), ok: 1, failed: 1 } }, { color: true });
    expect(text).toContain('\x1b[31mh\x1b[0m');
    expect(text).toContain('\x1b[32mok=1   \x1b[0m');
    expect(text).toContain('changed=0    ');
    expect(formatRecap({ h: emptyCounts() })).not.toContain('\x1b');
  });

  it('prints just the banner for a run without hosts', () => {
    expect(formatRecap({})).toBe(`PLAY RECAP ${'*'.repeat(69)}`);
  });
});
