import { describe, expect, it } from 'vitest';
import { Ajv } from 'ajv';
import { blockinfileModule } from '../../src/modules/blockinfile.js';
import { copyModule } from '../../src/modules/copy.js';
import { fileModule } from '../../src/modules/file.js';
import { lineinfileModule } from '../../src/modules/lineinfile.js';
import { getModule } from '../../src/modules/registry.js';
import { checkMode, resolveMode } from '../../src/modules/remote-file.js';
import { statModule } from '../../src/modules/stat.js';
import { templateModule } from '../../src/modules/template.js';
import { unarchiveModule } from '../../src/modules/unarchive.js';

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

describe('argument schemas of the file-content modules', () => {
  const mods = [copyModule, templateModule, fileModule, lineinfileModule, blockinfileModule, statModule, unarchiveModule];
  it.each(mods.map((m) => [m.name, m] as const))('%s compiles (ajv strict), is registered, and rejects a typo', (name, m) => {
    const validate = new Ajv({ allErrors: true, strict: true }).compile(m.schema);
    expect(getModule(name)).toBe(m);
    expect(getModule(`ansible.builtin.${name}`)).toBe(m);
    expect(m.supportsCheck).toBe(true);
    expect(validate({ path: '/x', dest: '/x', src: 'a', destt: 1 })).toBe(false);
    expect(validate.errors?.some((e) => e.keyword === 'additionalProperties' && e.params.additionalProperty === 'destt')).toBe(true);
  });

  it('accepts YAML modes as integers and strings', () => {
    const validate = new Ajv({ strict: true }).compile(copyModule.schema);
    expect(validate({ dest: '/x', content: 'a', mode: 0o644 })).toBe(true);
    expect(validate({ dest: '/x', content: 'a', mode: 'u+x' })).toBe(true);
    expect(validate({ dest: '/x', content: 'a', mode: true })).toBe(false);
  });
});
