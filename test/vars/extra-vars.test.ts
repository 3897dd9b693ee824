import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXIT, ObiamError } from '../../src/errors.js';
import { parseExtraVars, splitKeyValues } from '../../src/vars/extra-vars.js';

const cwd = mkdtempSync(path.join(tmpdir(), 'obr-ev-'));
writeFileSync(path.join(cwd, 'vars.yml'), 'a: 1\nflag: yes\nlist: [x, y]\n');
writeFileSync(path.join(cwd, 'vars.json'), '{"a": 2, "j": {"k": true}}');
writeFileSync(path.join(cwd, 'list.yml'), '- 1\n');
writeFileSync(path.join(cwd, 'enc.yml'), '$ANSIBLE_VAULT;1.1;AES256\nabc\n');

function bad(specs: string[]): ObiamError {
  try {
    parseExtraVars(specs, { cwd });
  } catch (e) {
    expect(e).toBeInstanceOf(ObiamError);
    return e as ObiamError;
  }
  throw new Error('expected an error');
}

describe('parseExtraVars', () => {
  it('key=value pairs are strings, quotes removed', () => {
    expect(parseExtraVars(["port=9443 name='Key Manager' x=\"a b\" empty= n=1"], { cwd })).toEqual({ port: '9443', name: 'Key Manager', x: 'a b', empty: '', n: '1' });
  });
  it('inline JSON and YAML mappings keep types', () => {
    expect(parseExtraVars(['{"a": 1, "b": [true, null]}'], { cwd })).toEqual({ a: 1, b: [true, null] });
    expect(parseExtraVars(['{a: yes, b: "x"}'], { cwd })).toEqual({ a: true, b: 'x' });
  });
  it('@file loads YAML or JSON relative to cwd', () => {
    expect(parseExtraVars(['@vars.yml'], { cwd })).toEqual({ a: 1, flag: true, list: ['x', 'y'] });
    expect(parseExtraVars([`@${path.join(cwd, 'vars.json')}`], { cwd })).toEqual({ a: 2, j: { k: true } });
  });
  it('later ones override earlier ones, shallowly', () => {
    expect(parseExtraVars(['@vars.json', 'a=3', '{"j": {"z": 1}}'], { cwd })).toEqual({ a: '3', j: { z: 1 } });
  });
  it('@file with a vault payload uses the vault', () => {
    const vault = { hasSecrets: true, decrypt: () => 'secret_var: s3cret\n' };
    expect(parseExtraVars(['@enc.yml'], { cwd, vault })).toEqual({ secret_var: 's3cret' });
  });
  it('rejects bad input with E_EXTRA_VARS, exit 5, naming the argument', () => {
    for (const spec of ['novalue', '=x', '1abc=2', "a='unterminated", '@missing.yml', '@list.yml', '{"a": ', '', '@']) {
      const e = bad([spec]);
      expect(e.code, spec).toBe('E_EXTRA_VARS');
      expect(e.exitCode).toBe(EXIT.BAD_OPTIONS);
      expect(e.message).toContain(JSON.stringify(spec));
    }
  });
  it('splits like shlex', () => {
    expect(splitKeyValues(`a=1  b='x "y"' c="p\\"q" d=e\\ f`)).toEqual(['a=1', 'b=x "y"', 'c=p"q', 'd=e f']);
  });
});
