// The CLI in-process: main([...]) with captured stdout/stderr, real files, local-connection hosts.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main, reportError, type MainIo } from '../../src/cli/main.js';
import { EXIT, ObiamError, ObiamErrors } from '../../src/errors.js';
import { clearSecrets } from '../../src/redact.js';
import { encryptString } from '../../src/vault/vault.js';

const root = mkdtempSync(path.join(tmpdir(), 'obr-cli-main-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

/** A fresh directory with these files. */
function workspace(files: Record<string, string>): string {
  const dir = path.join(root, `w${++n}`);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  mkdirSync(dir, { recursive: true });
  return dir;
}

interface Run {
  code: number;
  out: string;
  err: string;
}

async function run(argv: string[], io: Partial<MainIo> = {}): Promise<Run> {
  let out = '';
  let err = '';
  const ac = new AbortController();
  const code = await main(argv, {
    out: (s) => (out += s),
    err: (s) => (err += s),
    env: { PATH: process.env.PATH, HOME: process.env.HOME },
    isTTY: false,
    cwd: root,
    signal: ac.signal,
    ...io,
  });
  return { code, out, err };
}

function jsonLines(out: string): Record<string, any>[] {
  return out
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, any>);
}

const pkgVersion = (JSON.parse(readFileSync(path.resolve('package.json'), 'utf8')) as { version: string }).version;

const LOCAL_INV = `all:
  hosts:
    alpha:
      ansible_connection: local
    beta:
      ansible_connection: local
`;

const SMOKE = `- name: smoke
  hosts: all
  gather_facts: false
  tasks:
    - name: greet
      debug:
        msg: "hello {{ inventory_hostname }}"
    - name: remember
      set_fact:
        answer: 42
    - name: echo
      command: echo {{ answer }}
      register: out
    - name: check
      assert:
        that:
          - out.stdout == '42'
`;

describe('obiam-run usage', () => {
  it('--help lists the playbook options and the subcommands, exit 0', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('Usage: obiam-run [options] [command] <playbook...>');
    for (const opt of ['--inventory <file>', '--limit <pattern>', '--extra-vars <spec>', '--host-key-policy <policy>', '--check', '--diff', '--json', '--vault-id <spec>', '--list-tasks', '--syntax-check']) {
      expect(r.out).toContain(opt);
    }
    for (const cmd of ['inventory', 'vault', 'lab']) expect(r.out).toMatch(new RegExp(`\\n  ${cmd}\\b`));
  });

  it('--version prints the package version', async () => {
    const r = await run(['--version']);
    expect(r.code).toBe(0);
    expect(r.out.trim()).toBe(pkgVersion);
  });

  it('an unknown option exits 5 with commander\'s message', async () => {
    const r = await run(['--bogus', 'site.yml']);
    expect(r.code).toBe(EXIT.BAD_OPTIONS);
    expect(r.err).toContain("error: unknown option '--bogus'");
  });

  it('a bad --host-key-policy exits 5 naming the allowed values', async () => {
    const r = await run(['--host-key-policy', 'yes', 'site.yml']);
    expect(r.code).toBe(EXIT.BAD_OPTIONS);
    expect(r.err).toContain('allowed values: strict, accept-new');
  });

  it('a bad --forks and a missing playbook argument exit 5', async () => {
    expect((await run(['-f', '0', 'site.yml'])).code).toBe(EXIT.BAD_OPTIONS);
    const none = await run(['-i', 'a,']);
    expect(none.code).toBe(EXIT.BAD_OPTIONS);
    expect(none.err).toContain("missing required argument 'playbook'");
  });

  it('no -i and no inventory/hosts.yml: a clear usage error', async () => {
    const dir = workspace({ 'site.yml': SMOKE });
    const r = await run(['site.yml'], { cwd: dir });
    expect(r.code).toBe(EXIT.BAD_OPTIONS);
    expect(r.err).toContain('error E_NO_INVENTORY: no inventory given and inventory/hosts.yml does not exist');
    expect(r.err).toContain('hint: pass -i FILE');
  });

  it('a missing playbook file: a clear error, no stack trace', async () => {
    const dir = workspace({ 'hosts.yml': LOCAL_INV });
    const r = await run(['-i', 'hosts.yml', 'nope.yml'], { cwd: dir });
    expect([EXIT.PARSE, EXIT.BAD_OPTIONS]).toContain(r.code);
    expect(r.err).toContain('nope.yml');
    expect(r.err).toMatch(/error E_[A-Z_]+/);
    expect(r.err).not.toMatch(/\n\s+at /);
  });

  it('a YAML error in a playbook is reported with file:line:col and exit 4', async () => {
    const dir = workspace({ 'hosts.yml': LOCAL_INV, 'bad.yml': '- hosts: all\n  tasks:\n    - debug: {msg: x}\n    - debug: {msg: y\n' });
    const r = await run(['-i', 'hosts.yml', 'bad.yml'], { cwd: dir });
    expect(r.code).toBe(EXIT.PARSE);
    expect(r.err).toContain(`${path.join(dir, 'bad.yml')}:`);
    expect(r.err).toMatch(/bad\.yml:\d+:\d+: error E_/);
    expect(r.err).not.toMatch(/\n\s+at /);
  });

  it('an internal error exits 250 with "this is a bug", versions and the stack', async () => {
    const dir = workspace({ 'hosts.yml': LOCAL_INV, 'site.yml': SMOKE });
    const r = await run(['-i', 'hosts.yml', '--ask-vault-pass', 'site.yml'], {
      cwd: dir,
      prompt: async () => {
        throw new TypeError('prompt exploded');
      },
    });
    expect(r.code).toBe(EXIT.INTERNAL);
    expect(r.err).toContain('ERROR! Unexpected internal error — this is a bug in obiam-run');
    expect(r.err).toContain(`obiam-run ${pkgVersion}, Node ${process.version}, ${process.platform}`);
    expect(r.err).toContain('TypeError: prompt exploded');
    expect(r.err).toMatch(/\n\s+at /);
  });

  it('reportError prints every error of an ObiamErrors with its location and remedy', () => {
    let err = '';
    const code = reportError(
      new ObiamErrors([
        new ObiamError('E_ONE', 'first', { location: { file: '/x/site.yml', line: 3, col: 5 }, remedy: 'fix it', exitCode: EXIT.PARSE }),
        new ObiamError('E_TWO', 'second', { host: 'node1', exitCode: EXIT.PARSE }),
      ]),
      (s) => (err += s),
    );
    expect(code).toBe(EXIT.PARSE);
    expect(err).toBe('/x/site.yml:3:5: error E_ONE: first\n  hint: fix it\nnode1: error E_TWO: second\n2 errors\n');
  });
});

describe('obiam-run playbook runs on local hosts', () => {
  it('--json: every line parses, the last is the recap, exit 0', async () => {
    const dir = workspace({ 'hosts.yml': LOCAL_INV, 'site.yml': SMOKE });
    const r = await run(['-i', 'hosts.yml', '--json', 'site.yml'], { cwd: dir });
    expect(r.code, r.err + r.out).toBe(0);
    const lines = jsonLines(r.out);
    const last = lines.at(-1)!;
    expect(last.event).toBe('recap');
    expect(last.exitCode).toBe(0);
    expect(last.hosts).toEqual({
      alpha: { ok: 4, changed: 1, unreachable: 0, failed: 0, skipped: 0, rescued: 0, ignored: 0 },
      beta: { ok: 4, changed: 1, unreachable: 0, failed: 0, skipped: 0, rescued: 0, ignored: 0 },
    });
    const greet = lines.filter((l) => l.event === 'host-result' && l.task === 'greet');
    expect(greet.map((g) => g.msg).sort()).toEqual(['hello alpha', 'hello beta']);
  });

  it('a failed task exits 2 and the plain log names the host', async () => {
    const pb = `- hosts: all
  gather_facts: false
  tasks:
    - name: break beta
      command: /bin/false
      when: inventory_hostname == 'beta'
    - name: after
      debug:
        msg: still here
`;
    const dir = workspace({ 'hosts.yml': LOCAL_INV, 'site.yml': pb });
    const r = await run(['-i', 'hosts.yml', 'site.yml'], { cwd: dir });
    expect(r.code).toBe(EXIT.HOST_FAILED);
    expect(r.out).toMatch(/skipping: \[alpha\]/);
    expect(r.out).toMatch(/fatal: \[beta\]: FAILED! \(\d+(ms|\.\d+s)\) => /);
    expect(r.out).toMatch(/ok: \[alpha\] \(\d+ms\) => \{\n {4}"msg": "still here"\n\}/);
    expect(r.out).toMatch(/beta {23}: ok=0 {4}changed=0 {4}unreachable=0 {4}failed=1 /);
    const json = await run(['-i', 'hosts.yml', '--json', 'site.yml'], { cwd: dir });
    expect(json.code).toBe(EXIT.HOST_FAILED);
    expect(jsonLines(json.out).at(-1)).toMatchObject({ event: 'recap', exitCode: 2, hosts: { beta: { failed: 1 }, alpha: { failed: 0, skipped: 1 } } });
  });

  it('-e, --limit, --check and --diff reach the runner', async () => {
    const pb = `- hosts: all
  gather_facts: false
  tasks:
    - name: show
      debug:
        msg: "{{ greeting }} check={{ ansible_check_mode }}"
`;
    const dir = workspace({ 'hosts.yml': LOCAL_INV, 'site.yml': pb });
    const r = await run(['-i', 'hosts.yml', '-l', 'beta', '-e', 'greeting=hi', '-C', '-D', '--json', 'site.yml'], { cwd: dir });
    expect(r.code, r.err).toBe(0);
    const lines = jsonLines(r.out);
    expect(lines[0]).toMatchObject({ event: 'run-start', check: true, diff: true });
    const shows = lines.filter((l) => l.event === 'host-result');
    expect(shows).toHaveLength(1);
    expect(shows[0]).toMatchObject({ host: 'beta', msg: 'hi check=True' });
  });

  it('vault values, and the output of a no_log task, are hidden in every output mode', async () => {
    clearSecrets();
    const vaulted = encryptString('vault-s3cret-value', 'pw1').replace(/\n/g, '\n      ');
    const inv = `all:\n  hosts:\n    alpha:\n      ansible_connection: local\n      db_password: ${vaulted}\n`;
    const pb = `- hosts: all
  gather_facts: false
  tasks:
    - name: show vaulted
      debug:
        msg: "password is {{ db_password }}"
    - name: hidden
      command: echo nolog-token-123
      no_log: true
      register: hidden
`;
    const dir = workspace({ 'hosts.yml': inv, 'site.yml': pb, 'pw': 'pw1\n' });
    for (const mode of [[], ['-vvv'], ['--json']]) {
      const r = await run(['-i', 'hosts.yml', '--vault-password-file', 'pw', ...mode, 'site.yml'], { cwd: dir });
      expect(r.code, r.err + r.out).toBe(0);
      expect(r.out).not.toContain('vault-s3cret-value');
      expect(r.out).not.toContain('nolog-token-123');
      expect(r.out).toContain('password is ********');
    }
  });

  it('an interrupt stops before the next task, still ends with a recap, exit 99', async () => {
    const pb = `- hosts: all
  gather_facts: false
  tasks:
    - name: slow
      command: sleep 0.5
    - name: never
      debug:
        msg: not reached
`;
    const dir = workspace({ 'hosts.yml': LOCAL_INV, 'site.yml': pb });
    const ac = new AbortController();
    let out = '';
    const code = await main(['-i', 'hosts.yml', '--json', 'site.yml'], {
      cwd: dir,
      isTTY: false,
      env: {},
      signal: ac.signal,
      err: () => undefined,
      out: (s) => {
        out += s;
        if (s.includes('"event":"task-start"')) ac.abort();
      },
    });
    expect(code).toBe(EXIT.INTERRUPTED);
    const lines = jsonLines(out);
    expect(lines.filter((l) => l.event === 'task-start').map((l) => l.task)).toEqual(['slow']);
    expect(lines.at(-1)).toMatchObject({ event: 'recap', exitCode: 99 });
  });

  it('--list-hosts, --list-tasks, --list-tags and --syntax-check print and exit 0 without running', async () => {
    const pb = `- name: web
  hosts: beta
  gather_facts: false
  tags: [play]
  tasks:
    - name: one
      command: touch ran-one
      tags: [a, b]
    - block:
        - name: two
          command: touch ran-two
          tags: [c]
`;
    const dir = workspace({ 'hosts.yml': LOCAL_INV, 'site.yml': pb });
    const hosts = await run(['-i', 'hosts.yml', '--list-hosts', 'site.yml'], { cwd: dir });
    expect(hosts.code).toBe(0);
    expect(hosts.out).toContain(`playbook: ${path.join(dir, 'site.yml')}`);
    expect(hosts.out).toContain("  play #1 (beta): web\tTAGS: [play]\n    pattern: ['beta']\n    hosts (1):\n      beta\n");
    const tasks = await run(['-i', 'hosts.yml', '--list-tasks', '--skip-tags', 'c', 'site.yml'], { cwd: dir });
    expect(tasks.out).toContain('    tasks:\n      one\tTAGS: [a, b, play]\n');
    expect(tasks.out).not.toContain('two');
    const tags = await run(['-i', 'hosts.yml', '--list-tags', 'site.yml'], { cwd: dir });
    expect(tags.out).toContain('      TASK TAGS: [a, b, c, play]\n');
    const syntax = await run(['-i', 'hosts.yml', '--syntax-check', 'site.yml'], { cwd: dir });
    expect(syntax.code).toBe(0);
    expect(syntax.out.trim()).toBe(`playbook: ${path.join(dir, 'site.yml')}`);
    expect(() => readFileSync(path.join(dir, 'ran-one'))).toThrow();
  });
});

describe('obiam-run subcommands', () => {
  it('inventory --list takes vault flags of its own', async () => {
    clearSecrets();
    const vaulted = encryptString('inv-s3cret', 'pw2').replace(/\n/g, '\n      ');
    const dir = workspace({ 'hosts.yml': `all:\n  hosts:\n    h1:\n      token: ${vaulted}\n`, pw: 'pw2\n' });
    const r = await run(['inventory', '-i', path.join(dir, 'hosts.yml'), '--vault-password-file', 'pw', '--host', 'h1'], { cwd: dir });
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out)).toEqual({ token: '********' });
  });

  it('vault encrypt-string goes through the same boundary (bad option -> 5)', async () => {
    const dir = workspace({ pw: 'pw3\n' });
    const ok = await run(['vault', 'encrypt-string', '--vault-password-file', 'pw', '--name', 'x', 'value1'], { cwd: dir });
    expect(ok.code, ok.err).toBe(0);
    expect(ok.out).toMatch(/^x: !vault \|\n\s+\$ANSIBLE_VAULT;1\.1;AES256/);
    const bad = await run(['vault', 'encrypt-string', '--nope'], { cwd: dir });
    expect(bad.code).toBe(EXIT.BAD_OPTIONS);
    expect(bad.err).toContain("unknown option '--nope'");
  });
});
