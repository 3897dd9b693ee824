import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ObiamError } from '../../src/errors.js';
import { loadInventory } from '../../src/inventory/sources.js';
import { globToRegExp, orderPatterns, patternWarnings, selectHosts, splitPattern } from '../../src/inventory/patterns.js';

const NESTED = resolve('test/fixtures/inventory/nested/inventory.yml');
const inv = loadInventory([NESTED]);
const ALL = ['lone.example.com', 'km1', 'km2', 'iam1', 'web01.example.com', 'web02.example.com', 'web03.example.com', 'gw-a', 'gw-b'];

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'obr-patterns-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('splitPattern / orderPatterns', () => {
  it('splits on commas if any, else on colons outside brackets', () => {
    expect(splitPattern('web:&ob:!km1')).toEqual(['web', '&ob', '!km1']);
    expect(splitPattern(' web , db ,')).toEqual(['web', 'db']);
    expect(splitPattern('web[0:2]:db')).toEqual(['web[0:2]', 'db']);
    expect(splitPattern('a:b,c')).toEqual(['a:b', 'c']);
    expect(splitPattern('fe80::1')).toEqual(['fe80::1']);
  });

  it('orders unions, then intersections, then exclusions; only modifiers start from all', () => {
    expect(orderPatterns(['!a', '&b', 'c', 'd'])).toEqual(['c', 'd', '&b', '!a']);
    expect(orderPatterns(['!a'])).toEqual(['all', '!a']);
  });

  it('translates globs like fnmatch', () => {
    expect(globToRegExp('web0?.*').test('web01.example.com')).toBe(true);
    expect(globToRegExp('gw-[ab]').test('gw-b')).toBe(true);
    expect(globToRegExp('gw-[!a]').test('gw-a')).toBe(false);
    expect(globToRegExp('km').test('km1')).toBe(false);
    expect(globToRegExp('a.b').test('axb')).toBe(false);
    expect(globToRegExp('x[').test('x[')).toBe(true);
  });
});

describe('selectHosts', () => {
  it.each([
    ['all', ALL],
    ['*', ALL],
    ['km', ['km1', 'km2']],
    ['ob', ['km1', 'km2', 'iam1']],
    ['km2', ['km2']],
    ['web0*', ['web01.example.com', 'web02.example.com', 'web03.example.com']],
    ['k*', ['km1', 'km2']],
    ['~^(gw|web0[13])', ['web01.example.com', 'web03.example.com', 'gw-a', 'gw-b']],
    ['~(?P<n>km)2', ['km2']],
    ['iam:web', ['km1', 'iam1', 'web01.example.com', 'web02.example.com', 'web03.example.com']],
    ['iam,edge', ['km1', 'iam1', 'web02.example.com', 'gw-a', 'gw-b']],
    ['web:&edge', ['web02.example.com']],
    ['ob:!iam', ['km2']],
    ['ungrouped', ['lone.example.com']],
    ['km[0]', ['km1']],
    ['km[-1]', ['km2']],
    ['web[1:]', ['web02.example.com', 'web03.example.com']],
    ['ob[0:1]', ['km1', 'km2']],
    ['nosuch', []],
  ])('%s', (pattern, expected) => {
    expect(selectHosts(inv, pattern)).toEqual(expected);
  });

  it('evaluates unions before intersections before exclusions, whatever the written order', () => {
    // Left to right, `!iam` first would exclude nothing; Ansible applies it last.
    expect(selectHosts(inv, '!iam:ob')).toEqual(['km2']);
    expect(selectHosts(inv, '&edge:web:ob')).toEqual(['web02.example.com']);
    expect(selectHosts(inv, '!km1:&ob:iam:km')).toEqual(['km2', 'iam1']);
    expect(selectHosts(inv, '!ob')).toEqual(ALL.filter((h) => !['km1', 'km2', 'iam1'].includes(h)));
  });

  it('returns hosts in inventory order, not pattern order', () => {
    expect(selectHosts(inv, 'edge:ob')).toEqual(['km1', 'km2', 'iam1', 'web02.example.com', 'gw-a', 'gw-b']);
  });

  it('matches the implicit localhost only when named and absent, and puts it last', () => {
    expect(selectHosts(inv, 'all')).not.toContain('localhost');
    expect(selectHosts(inv, 'localhost')).toEqual(['localhost']);
    expect(selectHosts(inv, 'localhost:km2')).toEqual(['km2', 'localhost']);
    const withLocal = loadInventory(['localhost,other,']);
    expect(selectHosts(withLocal, 'all')).toEqual(['localhost', 'other']);
  });

  it('applies --limit the same way, including several limits and @file', () => {
    expect(selectHosts(inv, 'all', 'ob:!km1')).toEqual(['km2', 'iam1']);
    expect(selectHosts(inv, 'ob', ['km', 'iam1'])).toEqual(['km1', 'km2', 'iam1']);
    expect(selectHosts(inv, 'ob', 'web')).toEqual([]);
    expect(selectHosts(inv, 'ob', 'nosuch')).toEqual([]);
    const file = join(dir, 'retry');
    writeFileSync(file, 'km2\n\n  web01.example.com  \n!km1\n');
    expect(selectHosts(inv, 'all', `@${file}`)).toEqual(['km2', 'web01.example.com']);
    expect(selectHosts(inv, 'all', `@${file},iam1`)).toEqual(['km2', 'iam1', 'web01.example.com']);
  });

  it('reports a missing limit file and a bad regex as ObiamErrors', () => {
    expect(() => selectHosts(inv, 'all', `@${join(dir, 'missing')}`)).toThrow(ObiamError);
    expect(() => selectHosts(inv, 'all', `@${join(dir, 'missing')}`)).toThrow(/cannot read limit file .*missing: no such file/);
    expect(() => selectHosts(inv, 'all', `@${dir}`)).toThrow(/is a directory/);
    expect(() => selectHosts(inv, '~web(,')).toThrow(/invalid host pattern '~web\('/);
    expect(() => selectHosts(inv, 'km[5]')).toThrow(/no host matched the subscripted pattern 'km\[5\]'/);
  });

  it('warns about terms that match no host or group, like Ansible', () => {
    expect(patternWarnings(inv, 'ob:!nosuch:&km*:typo[0]')).toEqual([
      'Could not match supplied host pattern, ignoring: nosuch',
      'Could not match supplied host pattern, ignoring: typo[0]',
    ]);
    expect(patternWarnings(inv, 'all:localhost:km1:ungrouped')).toEqual([]);
    // An empty group is a match (no warning), as in Ansible.
    const empty = loadInventory([NESTED, 'x,']);
    expect(patternWarnings(empty, 'ungrouped')).toEqual([]);
  });
});

const PY = '/usr/bin/python3';

describe('agrees with Ansible InventoryManager (same host sets)', () => {
  it('for every pattern form and limits', () => {
    const cases: Array<{ pattern: string; limit?: string }> = [
      { pattern: 'all' }, { pattern: 'ob' }, { pattern: 'web0*' }, { pattern: '~^(gw|web0[13])' },
      { pattern: 'iam:web' }, { pattern: 'iam,edge' }, { pattern: 'web:&edge' }, { pattern: '!iam:ob' },
      { pattern: '&edge:web:ob' }, { pattern: '!km1:&ob:iam:km' }, { pattern: 'km[0]' }, { pattern: 'km[-1]' },
      { pattern: 'web[1:]' }, { pattern: 'ob[0:1]' }, { pattern: 'ungrouped' }, { pattern: 'g*' }, { pattern: 'localhost' },
      { pattern: 'all', limit: 'ob:!km1' }, { pattern: 'ob', limit: 'web' }, { pattern: '*.example.com', limit: '!edge' },
    ];
    const script = [
      'import json, sys',
      'from ansible.parsing.dataloader import DataLoader',
      'from ansible.inventory.manager import InventoryManager',
      'im = InventoryManager(loader=DataLoader(), sources=[sys.argv[1]])',
      'out = []',
      'for c in json.loads(sys.argv[2]):',
      '    im.subset(c.get("limit")); im.clear_caches()',
      '    out.append([h.name for h in im.get_hosts(c["pattern"])])',
      'print(json.dumps(out))',
    ].join('\n');
    const real = JSON.parse(execFileSync(PY, ['-c', script, NESTED, JSON.stringify(cases)], { encoding: 'utf8', env: { ...process.env, ANSIBLE_HOST_PATTERN_MISMATCH: 'ignore' } })) as string[][];
    const ours = cases.map((c) => selectHosts(inv, c.pattern, c.limit));
    expect(ours.map((hs) => [...hs].sort())).toEqual(real.map((hs) => [...hs].sort()));
  });
});
