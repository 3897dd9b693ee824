import { describe, expect, it } from 'vitest';
import { parseYaml } from '../../src/load/yaml.js';
import { ObiamErrors } from '../../src/errors.js';

describe('parseYaml (YAML 1.1 like Ansible)', () => {
  it('reads yes as true, 0644 as octal and merges <<', () => {
    const y = parseYaml('a: yes\nb: 0644\nbase: &b {x: 1}\nc:\n  <<: *b\n  y: 2\n', 'f.yml');
    expect(y.data).toEqual({ a: true, b: 0o644, base: { x: 1 }, c: { x: 1, y: 2 } });
  });
  it('locates keys and values by path', () => {
    const y = parseYaml('- name: t\n  hosts: all\n  tasks:\n    - debug: {msg: hi}\n', 'p.yml');
    expect(y.locate([0, 'tasks', 0, 'debug'])).toEqual({ file: 'p.yml', line: 4, col: 7 });
    expect(y.locate([0, 'hosts'], 'value')).toEqual({ file: 'p.yml', line: 2, col: 10 });
    expect(y.locate([0, 'nope', 3])).toEqual({ file: 'p.yml', line: 1, col: 3 });
  });
  it('reports duplicate keys with their line', () => {
    try {
      parseYaml('a: 1\nb: 2\na: 3\n', 'd.yml');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ObiamErrors);
      const err = (e as ObiamErrors).errors[0]!;
      expect(err.code).toBe('E_YAML_DUPLICATE_KEY');
      expect(err.location).toMatchObject({ file: 'd.yml', line: 3 });
    }
  });
});

describe('unclosed flow collections', () => {
  const firstError = (text: string): { line: number; col: number; message: string } => {
    try {
      parseYaml(text, 'f.yml');
    } catch (e) {
      const err = (e as ObiamErrors).errors[0]!;
      return { line: err.location!.line, col: err.location!.col, message: err.message };
    }
    throw new Error('expected an error');
  };
  it('points at the [ that is never closed, not at the end of the file', () => {
    expect(firstError('- hosts: all\n  vars:\n    ports: [80, 443\n  tasks:\n    - debug: msg=hi\n\n\n')).toEqual({
      line: 3,
      col: 12,
      message: 'this [ is never closed: a flow sequence must end with ]',
    });
  });
  it('points at the { of an unclosed flow mapping inside a closed sequence', () => {
    expect(firstError('a:\n  - [1, {b: 2]\n')).toMatchObject({ line: 2, col: 9, message: 'this { is never closed: a flow mapping must end with }' });
  });
});
