import { describe, expect, it } from 'vitest';
import { PRECEDENCE, VarScope, composeTaskVars, factsToVars } from '../../src/run/vars.js';
import { createTemplater } from '../../src/vars/template.js';

describe('composeTaskVars', () => {
  it('applies every layer in Ansible order, the later one winning', () => {
    // Each layer sets `x` to its own name and a private key; x must end as the highest layer.
    const layers: Record<string, unknown> = {};
    for (const k of PRECEDENCE) layers[k] = k === 'blocks' ? [{ x: 'outer-block' }, { x: 'blocks' }] : { x: k, [`only_${k}`]: true };
    const v = composeTaskVars(layers);
    expect(v.x).toBe('extra');
    for (let i = 0; i < PRECEDENCE.length; i++) {
      const upTo = Object.fromEntries(PRECEDENCE.slice(0, i + 1).map((k) => [k, layers[k]]));
      expect(composeTaskVars(upTo).x).toBe(PRECEDENCE[i]);
    }
  });
  it('replaces dicts whole', () => {
    expect(composeTaskVars({ play: { d: { a: 1, b: 2 } }, task: { d: { a: 3 } } }).d).toEqual({ a: 3 });
  });
});

describe('factsToVars', () => {
  it('exposes facts top level with ansible_ and under ansible_facts without it', () => {
    expect(factsToVars({ ansible_hostname: 'n1', distribution: 'Debian' })).toEqual({
      ansible_hostname: 'n1',
      ansible_distribution: 'Debian',
      ansible_facts: { hostname: 'n1', distribution: 'Debian' },
    });
  });
});

describe('VarScope', () => {
  const t = createTemplater();
  it('renders referenced variables lazily and leaves broken unused ones alone', () => {
    const s = new VarScope({ a: '{{ b }}-x', b: '{{ c | upper }}', c: 'v', broken: 'x-{{ nope }}', list: ['{{ c }}'] }, t);
    expect(s.render('{{ a }}')).toBe('V-x');
    expect(s.renderValue('{{ list }}')).toEqual(['v']);
    expect(s.conditions(["a == 'V-x'", true])).toBe(true);
    expect(() => s.render('{{ broken }}')).toThrow(/variable 'broken'/);
    expect(s.all().broken).toBe('x-{{ nope }}');
  });
  it('with() adds loop variables', () => {
    const s = new VarScope({ base: '{{ item }}!' }, t).with({ item: 'i' });
    expect(s.render('{{ base }}')).toBe('i!');
  });
});
