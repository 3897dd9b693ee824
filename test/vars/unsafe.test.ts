// Registered data and `!unsafe` values are never templated again; what reads them is data too.
import { describe, expect, it } from 'vitest';
import { parseYaml } from '../../src/load/yaml.js';
import { createTemplater } from '../../src/vars/template.js';
import { UnsafeText, isUnsafe, registeredData } from '../../src/vars/unsafe.js';

const t = createTemplater();

describe('unsafe marking', () => {
  const r = registeredData({ stdout: '{{ x }}', stdout_lines: ['{{ x }}'] });
  it('output that read a registered result is unsafe when kept, plain text otherwise', () => {
    const kept = t.renderValue('a{{ r.stdout | upper }}', { r, x: 1 }, 's', { keepUnsafe: true });
    expect(kept).toBeInstanceOf(UnsafeText);
    expect(String(kept)).toBe('a{{ X }}');
    expect(t.renderValue('{{ r.stdout }}', { r, x: 1 }, 's')).toBe('{{ x }}');
  });
  it('only the parts of a structure that read unsafe data are marked', () => {
    const out = t.renderValue({ a: '{{ r.stdout }}', b: '{{ x }}', c: '{{ r.stdout_lines }}' }, { r, x: 1 }, 's', { keepUnsafe: true }) as Record<string, unknown>;
    expect(out.a).toBeInstanceOf(UnsafeText);
    expect(out.b).toBe(1);
    expect(isUnsafe(out.c)).toBe(true);
  });
  it('an unsafe value given to renderValue is returned as its text, unrendered', () => {
    expect(t.renderValue(new UnsafeText('{{ x }}'), { x: 1 }, 's')).toBe('{{ x }}');
    expect(t.render('{{ v }}', { v: new UnsafeText('{{ x }}'), x: 1 })).toBe('{{ x }}');
  });
  it('!unsafe in YAML marks a scalar, a list and a mapping', () => {
    const y = parseYaml('a: !unsafe "{{ x }}"\nb: !unsafe ["{{ x }}"]\nc: !unsafe {k: "{{ x }}"}\n', 'f.yml').data as Record<string, unknown>;
    expect(y.a).toBeInstanceOf(UnsafeText);
    expect(isUnsafe(y.b)).toBe(true);
    expect(isUnsafe(y.c)).toBe(true);
    expect(y.b).toEqual(['{{ x }}']);
  });
});
