import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ObiamError } from '../../src/errors.js';
import { VaultedValue, parseYaml } from '../../src/load/yaml.js';
import { createTemplater, hasTemplate, truthy } from '../../src/vars/template.js';

const t = createTemplater();

function err(fn: () => unknown): ObiamError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ObiamError);
    return e as ObiamError;
  }
  throw new Error('expected an error');
}

describe('undefined values', () => {
  it('names the variable and the source', () => {
    const e = err(() => t.render('port={{ http_port }}', {}, "task 'configure' at site.yml:12"));
    expect(e.code).toBe('E_TEMPLATE');
    expect(e.message).toContain("'http_port' is undefined");
    expect(e.message).toContain("task 'configure' at site.yml:12");
    expect(e.remedy).toMatch(/default/);
  });
  it('gives the line inside a multi-line template', () => {
    const e = err(() => t.render('a={{ a }}\nb={{ b }}\n', { a: 1 }, 'templates/x.conf.j2', { file: true }));
    expect(e.message).toMatch(/^templates\/x\.conf\.j2, line 2: 'b' is undefined/);
  });
  it('keeps a SourceLocation as the error location', () => {
    const loc = { file: 'site.yml', line: 7, col: 9 };
    expect(err(() => t.render('{{ nope }}', {}, loc)).location).toEqual(loc);
  });
  it('names a missing attribute of a defined object', () => {
    expect(err(() => t.render('{{ node.port }}', { node: { host: 'h' } })).message).toContain("'node' has no attribute 'port'");
    expect(err(() => t.render("{{ hostvars['h9'].x }}", { hostvars: { h1: {} } })).message).toContain("has no attribute 'h9'");
  });
  it('raises when used in filters, operators, conditions and loops', () => {
    for (const tpl of ['{{ x | upper }}', '{{ x + 1 }}', '{{ x ~ "a" }}', '{% if x %}y{% endif %}', '{% for i in x %}{% endfor %}', '{{ x.split() }}', '{{ not x }}', '{{ x == 1 }}']) {
      expect(err(() => t.render(tpl, {})).message, tpl).toContain("'x' is undefined");
    }
  });
  it('lets default, d, is defined / undefined and mandatory look at it', () => {
    expect(t.render('{{ x | default("dflt") }}|{{ x | d(3) }}|{{ x is defined }}|{{ x is undefined }}', {})).toBe('dflt|3|False|True');
    expect(t.render('{{ x.y.z | default("deep") }}|{{ x.y is defined }}', {})).toBe('deep|False');
    expect(t.render('{{ a.missing | default("m") }}|{{ a.b is defined }}', { a: { b: 1 } })).toBe('m|True');
    expect(t.render('{{ x is defined and x > 1 }}', {})).toBe('False');
    expect(t.render('{{ (x | default([])) | length }}', {})).toBe('0');
    expect(err(() => t.render('{{ java_home | mandatory }}', {})).message).toContain("Mandatory variable 'java_home' not defined.");
    expect(err(() => t.render('{{ java_home | mandatory("set java_home") }}', {})).message).toContain('set java_home');
    expect(t.render('{{ v | mandatory }}', { v: 'ok' })).toBe('ok');
  });
  it('default(v, true) also replaces falsy values; without it only undefined', () => {
    expect(t.render('{{ "" | default("e", true) }}|{{ "" | default("e") }}|{{ none | default("n", true) }}|{{ [] | default("l", boolean=true) }}', {})).toBe('e||n|l');
  });
  it('treats a variable whose value is null as defined (None)', () => {
    expect(t.render('{{ v is defined }}|{{ v is none }}|[{{ v }}]|{{ v | default("d") }}', { v: null })).toBe('True|True|[]|');
  });
});

describe('Jinja semantics on nunjucks', () => {
  it('knows True/False/None and prints Python values', () => {
    expect(t.render('{{ True }} {{ False }} {{ None is none }} {{ [True, None, "a"] }} {{ {"k": 1} }}', {})).toBe("True False True [True, None, 'a'] {'k': 1}");
  });
  it('uses Python truthiness: empty lists and dicts are false', () => {
    expect(t.render('{% if [] %}a{% elif {} %}b{% else %}c{% endif %}{{ "y" if [0] else "n" }}', {})).toBe('cy');
    expect(t.evaluate('[] or "alt"', {})).toBe('alt');
  });
  it('compares and adds like Python', () => {
    expect(t.evaluate('[1, 2] == [1, 2]', {})).toBe(true);
    expect(t.evaluate('1 == "1"', {})).toBe(false);
    expect(t.evaluate('[1] + [2]', {})).toEqual([1, 2]);
    expect(err(() => t.evaluate('port > 1024', { port: '8080' })).message).toMatch(/'>' not supported between instances of 'str' and 'int'/);
    expect(t.evaluate('port | int > 1024', { port: '8080' })).toBe(true);
  });
  it('supports str, list and dict methods without touching prototypes', () => {
    const v = { s: ' a,b ', d: { k: 'v' }, l: ['x', 'y'] };
    expect(t.render("{{ s.strip().split(',') }}|{{ s.startswith(' a') }}|{{ 'x-y'.replace('-', '_') }}|{{ d.get('k') }}|{{ d.get('z', 0) }}|{{ l.index('y') }}|{{ 'ab'.upper() }}", v)).toBe("['a', 'b']|True|x_y|v|0|1|AB");
    expect(t.render('{% for k, v in d.items() %}{{ k }}={{ v }}{% endfor %} {{ d.keys() | list }} {{ d.values() | list }}', v)).toBe("k=v ['k'] ['v']");
    expect(Object.getOwnPropertyNames(String.prototype)).not.toContain('startswith');
    expect(Object.getOwnPropertyNames(Array.prototype)).not.toContain('index');
  });
  it('supports a loop filter, tuples and dict literals with nested braces', () => {
    expect(t.render('{% for u in users if u.on %}{{ u.n }}{% endfor %}', { users: [{ n: 'a', on: true }, { n: 'b', on: false }] })).toBe('a');
    expect(t.render('{{ "%s:%d" % (h, p) }}', { h: 'km1', p: 9443 })).toBe('km1:9443');
    expect(t.evaluate('{"a": {"b": 1}}', {})).toEqual({ a: { b: 1 } });
  });
  it('magic vars: hostvars, groups and item work as plain objects', () => {
    const v = { hostvars: { km1: { ansible_host: '10.0.0.1', x: 1 } }, groups: { nodes: ['km1'] }, item: 'km1', inventory_hostname: 'km1' };
    expect(t.render("{{ hostvars['km1'].x }} {{ hostvars[item]['ansible_host'] }} {{ groups['nodes'] | length }} {{ hostvars[inventory_hostname].x }}", v)).toBe('1 10.0.0.1 1 1');
  });
  it('treats backslashes in playbook strings like Ansible and in template files like Jinja2', () => {
    expect(t.render("{{ 'v11.0.2' | regex_replace('^v(\\d+)\\..*$', '\\1') }}", {})).toBe('11');
    expect(t.render("{{ 'a1' is match('\\w\\d') }}", {})).toBe('True');
    expect(t.evaluate("'a1' is match('\\w\\d')", {})).toBe(true);
    expect(t.render("{{ 'a\\nb' }}", {}, undefined, { file: true })).toBe('a\nb');
    expect(t.render("{{ 'a\\nb' }}", {})).toBe('a\\nb');
    expect(t.render("{{ 'x' | regex_replace('x', '\\\\d') }}", {}, undefined, { file: true })).toBe('\\d');
  });
});

describe('renderValue / evaluate / evalConditions', () => {
  const v = { l: [1, 2], d: { a: 1 }, n: 5, b: false, s: 'txt' };
  it('gives values as Ansible 2.14 does with jinja2_native off', () => {
    expect(t.renderValue('{{ l }}', v)).toEqual([1, 2]);
    expect(t.renderValue('{{ d }}', v)).toEqual({ a: 1 });
    // a lone variable keeps its number/bool; any other expression's number is text
    expect(t.renderValue('{{ n }}', v)).toBe(5);
    expect(t.renderValue('{{ n + 1 }}', v)).toBe('6');
    expect(t.renderValue('{{ b }}', v)).toBe(false);
    expect(t.renderValue('{{ none }}', v)).toBe('');
    expect(t.renderValue('n={{ n }}', v)).toBe('n=5');
    expect(t.renderValue({ k: ['{{ s }}', 3, '{{ l | length }}'] }, v)).toEqual({ k: ['txt', 3, '2'] });
    // text that spells a list, dict or bool becomes one (ast.literal_eval)
    expect(t.renderValue(`{{ "[1, 'a', None]" }}`, v)).toEqual([1, 'a', null]);
    expect(t.renderValue('[{{ n }}, {{ n + 1 }}]', v)).toEqual([5, 6]);
    expect(t.renderValue("{{ 'True' }}", v)).toBe(true);
    expect(t.renderValue("{{ '{\"a\": 1}' }}", v)).toEqual({ a: 1 });
    expect(t.renderValue("{{ '[not, a literal' }}", v)).toBe('[not, a literal');
    expect(t.renderValue("{{ '1' }}", v)).toBe('1');
  });
  it('returns copies, not the caller variables', () => {
    const out = t.renderValue('{{ d }}', v) as Record<string, unknown>;
    out.a = 2;
    expect(v.d.a).toBe(1);
  });
  it('names the expression, not the wrapper a module put around it', () => {
    const m = err(() => t.render('{{ (missing is is_dir) | dump }}', v)).message;
    expect(m).toContain('in "missing is is_dir"');
    expect(m).not.toContain('dump');
  });
  it('names the written text when a single expression fails', () => {
    expect(err(() => t.renderValue('{{ missing }}', v, "variable 'x'")).message).toBe(`variable 'x': 'missing' is undefined in "{{ missing }}"`);
  });
  it('evaluates bare when: conditions', () => {
    expect(t.evalConditions(['n > 3', 'l | length == 2', true], v)).toBe(true);
    expect(t.evalConditions(['n > 3', 'b'], v)).toBe(false);
    expect(t.evalConditions(['x is not defined'], v)).toBe(true);
    expect(t.evaluate('s is string and d is mapping', v)).toBe(true);
  });
  it('hasTemplate and truthy', () => {
    expect(hasTemplate('a {{ b }}')).toBe(true);
    expect(hasTemplate('{% if %}')).toBe(true);
    expect(hasTemplate('plain')).toBe(false);
    expect([truthy('no'), truthy('yes'), truthy([]), truthy({ a: 1 }), truthy(0)]).toEqual([false, true, false, true, false]);
  });
});

describe('vaulted values', () => {
  it('decrypts through the vault given to the templater', () => {
    const vault = { hasSecrets: true, decrypt: (p: string) => (p === 'PAYLOAD' ? 's3cret' : 'x') };
    const tv = createTemplater({ vault });
    const v = { pw: new VaultedValue('PAYLOAD'), nested: { pw: new VaultedValue('PAYLOAD') } };
    expect(tv.render('{{ pw }}|{{ nested.pw | upper }}|{{ pw | length }}', v)).toBe('s3cret|S3CRET|6');
    expect(tv.renderValue('{{ nested }}', v)).toEqual({ pw: 's3cret' });
  });
  it('refuses to render a vaulted value without a password', () => {
    expect(err(() => t.render('{{ pw }}', { pw: new VaultedValue('P') })).code).toBe('E_VAULT_NO_PASSWORD');
    expect(t.render('{{ pw is defined }}', { pw: new VaultedValue('P') })).toBe('True');
  });
});

describe('lookups and includes', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'obr-tpl-'));
  mkdirSync(path.join(dir, 'files'));
  mkdirSync(path.join(dir, 'role', 'files'), { recursive: true });
  writeFileSync(path.join(dir, 'files', 'cert.pem'), 'CERT\n');
  writeFileSync(path.join(dir, 'plain.txt'), 'plain\n\n');
  writeFileSync(path.join(dir, 'role', 'files', 'cert.pem'), 'ROLE CERT\n');
  writeFileSync(path.join(dir, 'macros.j2'), '{% macro kv(k, v) %}{{ k }}={{ v }}{% endmacro %}');
  writeFileSync(path.join(dir, 'part.j2'), 'part {{ name }} {{ missing_in_part }}');
  const tl = createTemplater({ searchPaths: [dir] });
  it('file: relative to the base dir (files/ first), trailing newlines stripped; role_path first', () => {
    expect(tl.render("{{ lookup('file', 'cert.pem') }}|{{ lookup('file', 'plain.txt') }}", {})).toBe('CERT|plain');
    expect(tl.render("{{ lookup('file', 'cert.pem') }}", { role_path: path.join(dir, 'role') })).toBe('ROLE CERT');
    expect(tl.render(`{{ lookup('file', '${path.join(dir, 'plain.txt')}') }}`, {})).toBe('plain');
    expect(err(() => tl.render("{{ lookup('file', 'nope.txt') }}", {})).message).toContain('could not locate file in lookup: nope.txt');
  });
  it('env, query and q', () => {
    process.env.OBR_T_A = 'va';
    expect(tl.renderValue("{{ query('env', 'OBR_T_A') }}", {})).toEqual(['va']);
    expect(tl.renderValue("{{ q('file', 'cert.pem', 'plain.txt') }}", {})).toEqual(['CERT', 'plain']);
    expect(tl.render("{{ lookup('env', 'OBR_T_A') }}|{{ lookup('env', 'OBR_T_UNSET_X', default='dd') }}", {})).toBe('va|dd');
    expect(err(() => tl.render("{{ lookup('nope', 'x') }}", {})).message).toContain("lookup plugin 'nope' not found");
  });
  it('include and import from the search paths', () => {
    expect(tl.render('{% import "macros.j2" as m %}{{ m.kv("a", 1) }}', {}, undefined, { file: true })).toBe('a=1');
    expect(err(() => tl.render('{% include "part.j2" %}', { name: 'n' })).message).toContain("'missing_in_part' is undefined");
  });
});

describe('serialisation filters', () => {
  it('to_nice_yaml sorts keys and indents mappings by 4, and parses back', () => {
    const data = { b: [1, 2], a: { c: 'x' } };
    const out = t.render('{{ v | to_nice_yaml }}', { v: data });
    expect(out.startsWith('a:\n    c: x\nb:\n')).toBe(true);
    expect(parseYaml(out, 'x').data).toEqual(data);
  });
  it('tuples are lists (no tuple type): zip and items through to_json', () => {
    expect(t.render('{{ [1, 2] | zip(["a", "b"]) | to_json }}', {})).toBe('[[1, "a"], [2, "b"]]');
  });
  it('version test for JDK checks', () => {
    expect(t.evaluate("java_version is version('11', '>=')", { java_version: '17.0.8' })).toBe(true);
    expect(t.evaluate("java_version is version('11', '>=')", { java_version: '1.8.0_292' })).toBe(false);
    expect(err(() => t.evaluate("'1' is version('2', 'bad')", {})).message).toContain("invalid operator 'bad'");
  });
});

describe('namespace() and values that contain themselves', () => {
  it('carries state out of a loop through namespace(), as Jinja does', () => {
    const src = '{% set ns = namespace(found=false, n=0) %}{% for i in [1, 2, 3] %}{% if i == 2 %}{% set ns.found = true %}{% endif %}{% set ns.n = ns.n + i %}{% endfor %}{{ ns.found }} {{ ns.n }}';
    expect(t.render(src, {})).toBe('True 6');
    expect(t.render("{% set ns = namespace({'a': 1}, b=2) %}{{ ns.a + ns.b }}", {})).toBe('3');
  });
  it('refuses to set an attribute of anything but a namespace, with a coded error', () => {
    expect(err(() => t.render('{% set x = 1 %}{% set x.y = 2 %}', {})).message).toContain("cannot set an attribute of 'x': it is a int, not a namespace()");
    expect(err(() => t.render('{% set ns = namespace(1) %}', {})).code).toBe('E_TEMPLATE');
  });
  it('refuses to print or serialise a value that contains itself instead of overflowing the stack', () => {
    const cyc: Record<string, unknown> = { a: 1 };
    cyc.self = cyc;
    for (const src of ['{{ x | to_nice_json }}', '{{ x | to_json }}', '{{ x | to_yaml }}', '{{ x }}']) {
      expect(err(() => t.render(src, { x: cyc })).message).toContain('Circular reference detected');
    }
  });
});
