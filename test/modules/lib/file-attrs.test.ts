import { describe, expect, it } from 'vitest';
import { checkMode, resolveMode } from '../../../src/modules/lib/file-attrs.js';

describe('modes', () => {
  it.each([
    [0o644, 0o600, false, 0o644],
    ['0755', 0o600, false, 0o755],
    ['644', 0o600, false, 0o644],
    ['u+x', 0o644, false, 0o744],
    ['go-rwx', 0o755, false, 0o700],
    ['u=rwX,g=rX,o=', 0o644, false, 0o640],
    ['u=rwX,g=rX,o=', 0o644, true, 0o750],
    ['a+X', 0o744, false, 0o755],
    ['g=u', 0o740, false, 0o770],
    ['u+s', 0o755, false, 0o4755],
    ['+t', 0o777, true, 0o1777],
  ] as const)('%s on %o (dir %s) -> %o', (mode, cur, dir, want) => {
    expect(resolveMode(mode, cur, dir)).toBe(want);
  });

  it('rejects malformed modes before anything runs', () => {
    expect(checkMode('rwx')).toMatch(/octal .* or symbolic/);
    expect(checkMode('0999')).toBeDefined();
    expect(checkMode(0o10000)).toMatch(/out of range/);
    expect(checkMode('u+x,g-w')).toBeUndefined();
  });
});
