// Malformed playbooks: each must fail before anything connects, with every error at the file:line:col
// of the offending key or value, one line naming it and what is allowed, a "did you mean" for typos,
// a hint, and no stack trace; the CLI prints the same and exits 4.
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { EXIT, formatError, ObiamError, ObiamErrors } from '../../src/errors.js';
import { loadPlaybook } from '../../src/load/playbook.js';
import { createVaultDecrypter } from '../../src/vault/vault.js';

const B = 'test/fixtures/playbooks/bad';
const ABS = resolve(B);

interface Case {
  file: string;
  /** First line of each formatError, in order, with the fixture directory removed from paths. */
  errors: string[];
  /** Text the first error (message or hint) must contain: what is allowed, or where it looked. */
  allowed?: string;
}

const CORPUS: Case[] = [
  { file: '01-yaml-syntax.yml', errors: ['01-yaml-syntax.yml:3:21: error E_YAML_SYNTAX: Unexpected flow-seq-end token in YAML stream: "]"'] },
  { file: '02-duplicate-key.yml', errors: ['02-duplicate-key.yml:5:7: error E_YAML_DUPLICATE_KEY: duplicate key in mapping'] },
  { file: '03-tabs.yml', errors: ['03-tabs.yml:3:1: error E_YAML_SYNTAX: Tabs are not allowed as indentation'] },
  { file: '04-not-a-list.yml', errors: ['04-not-a-list.yml:1:1: error E_PLAYBOOK_SHAPE: a playbook is a list of plays'], allowed: '- hosts:' },
  { file: '05-play-not-mapping.yml', errors: ['05-play-not-mapping.yml:4:3: error E_PLAY_SHAPE: a play must be a mapping, got "just a string"'] },
  { file: '06-missing-hosts.yml', errors: ['06-missing-hosts.yml:1:3: error E_PLAY_NO_HOSTS: a play needs `hosts:`'] },
  {
    file: '07-play-keyword-typo.yml',
    errors: ['07-play-keyword-typo.yml:2:3: error E_UNKNOWN_KEYWORD: unknown play keyword `hsots`; did you mean `hosts`?'],
    allowed: 'play keywords: any_errors_fatal, become,',
  },
  {
    file: '08-task-keyword-typo.yml',
    errors: ['08-task-keyword-typo.yml:5:7: error E_UNKNOWN_KEYWORD: unknown task keyword `whne`; did you mean `when`?'],
    allowed: 'task keywords: any_errors_fatal, args,',
  },
  { file: '09-module-typo-command.yml', errors: ['09-module-typo-command.yml:4:7: error E_UNKNOWN_MODULE: unknown module or keyword `comand`; did you mean `command`?'], allowed: 'docs/modules.md' },
  { file: '10-module-typo-lineinfile.yml', errors: ['10-module-typo-lineinfile.yml:4:7: error E_UNKNOWN_MODULE: unknown module or keyword `lineinfle`; did you mean `lineinfile`?'] },
  {
    file: '11-module-arg-typo.yml',
    errors: ['11-module-arg-typo.yml:4:27: error E_MODULE_ARGS: copy: unsupported argument `dset`; did you mean `dest`?'],
    allowed: 'copy takes: content, src, dest, mode',
  },
  { file: '12-module-arg-missing.yml', errors: ['12-module-arg-missing.yml:4:7: error E_MODULE_ARGS: copy: missing required argument `dest`'], allowed: 'add `dest:` (a string)' },
  { file: '13-module-arg-type.yml', errors: ['13-module-arg-type.yml:7:15: error E_MODULE_ARGS: copy: `mode` must be a whole number or a string; got [1]'] },
  {
    file: '14-module-arg-enum.yml',
    errors: ['14-module-arg-enum.yml:6:16: error E_MODULE_ARGS: group: `state` must be one of "present", "absent"; got "presnt"; did you mean `present`?'],
  },
  { file: '15-two-modules.yml', errors: ['15-two-modules.yml:5:7: error E_TASK_ACTIONS: a task has one module; this one has `command` and `shell`'] },
  { file: '16-no-module.yml', errors: ['16-no-module.yml:3:7: error E_TASK_NO_MODULE: this task has no module'], allowed: 'command: ...' },
  {
    file: '17-notify-unknown.yml',
    errors: ['17-notify-unknown.yml:7:15: error E_NOTIFY_UNKNOWN: notify: no handler is named or listens to `restart nginxx`; did you mean `restart nginx`?'],
    allowed: 'handlers of this play: restart nginx',
  },
  {
    file: '18-template-src-missing.yml',
    errors: ['18-template-src-missing.yml:5:14: error E_SRC_NOT_FOUND: template: src `nowhere.conf.j2` not found'],
    allowed: 'looked in templates/nowhere.conf.j2, nowhere.conf.j2',
  },
  { file: '19-role-unknown.yml', errors: ['19-role-unknown.yml:3:7: error E_ROLE_NOT_FOUND: role `commmon` not found; did you mean `common`?'], allowed: 'roles/<name>/' },
  { file: '20-role-cycle.yml', errors: ['roles/cycle_b/meta/main.yml:2:5: error E_ROLE_CYCLE: role dependency cycle: cycle_a -> cycle_b -> cycle_a'] },
  { file: '21-import-tasks-missing.yml', errors: ['21-import-tasks-missing.yml:4:21: error E_INCLUDE_NOT_FOUND: import_tasks: file not found: tasks/not-there.yml'] },
  {
    file: '22-import-tasks-cycle.yml',
    errors: ['tasks/cycle-b.yml:3:17: error E_IMPORT_CYCLE: import_tasks cycle: 22-import-tasks-cycle.yml -> tasks/cycle-a.yml -> tasks/cycle-b.yml -> tasks/cycle-a.yml'],
  },
  { file: '23-include-tasks-missing.yml', errors: ['23-include-tasks-missing.yml:4:22: error E_INCLUDE_NOT_FOUND: include_tasks: file not found: tasks/not-there.yml'] },
  {
    file: '24-bad-serial.yml',
    errors: ['24-bad-serial.yml:2:11: error E_BAD_VALUE: `serial` must be a number (1), a percentage ("30%") or a list of them ([1, "50%"]); got "half"'],
  },
  { file: '25-bad-register.yml', errors: ['25-bad-register.yml:4:17: error E_BAD_VALUE: `register` must be a variable name (letters, digits, _); got "my-result"'] },
  {
    file: '26-bad-loop-control.yml',
    errors: ['26-bad-loop-control.yml:6:9: error E_BAD_VALUE: unknown loop_control key `loopvar`; did you mean `loop_var`? (loop_control takes loop_var, index_var, label, pause, extended, extended_allitems)'],
  },
  { file: '27-vars-prompt.yml', errors: ['27-vars-prompt.yml:2:3: error E_UNSUPPORTED_KEYWORD: `vars_prompt` is not supported by obiam-run'], allowed: 'pass the values with -e' },
  {
    file: '28-async.yml',
    errors: ['28-async.yml:5:7: error E_UNSUPPORTED_KEYWORD: `async` is not supported by obiam-run', '28-async.yml:6:7: error E_UNSUPPORTED_KEYWORD: `poll` is not supported by obiam-run'],
    allowed: 'wait_for',
  },
  { file: '29-rescue-without-block.yml', errors: ['29-rescue-without-block.yml:5:7: error E_UNKNOWN_KEYWORD: `rescue` needs a `block:` in the same task'] },
  { file: '30-listen-on-task.yml', errors: ['30-listen-on-task.yml:5:7: error E_UNKNOWN_KEYWORD: `listen` is only allowed on handlers'] },
  {
    file: '31-meta-unknown.yml',
    errors: ['31-meta-unknown.yml:3:13: error E_BAD_VALUE: unknown meta action "flush_handler"; did you mean `flush_handlers`? (meta takes flush_handlers, end_play, end_host, end_batch, clear_host_errors, clear_facts, reset_connection, refresh_inventory, noop)'],
  },
  { file: '32-import-playbook-missing.yml', errors: ['32-import-playbook-missing.yml:1:20: error E_FILE_NOT_FOUND: cannot read other-site.yml: no such file'] },
  { file: '33-vault-vars-file.yml', errors: ['33-vault-vars-file.yml:3:7: error E_VAULT_NO_PASSWORD: vars/secret.yml is vault-encrypted and no vault password was given'], allowed: '--vault-password-file' },
  {
    file: '34-several-errors.yml',
    errors: [
      '34-several-errors.yml:4:7: error E_UNKNOWN_MODULE: unknown module or keyword `comand`; did you mean `command`?',
      '34-several-errors.yml:8:9: error E_MODULE_ARGS: file: unsupported argument `stat`; did you mean `state`?',
      '34-several-errors.yml:10:3: error E_UNKNOWN_KEYWORD: unknown play keyword `gather_fatcs`; did you mean `gather_facts`?',
      '34-several-errors.yml:14:17: error E_BAD_VALUE: `register` must be a variable name (letters, digits, _); got "1bad"',
    ],
  },
  { file: '35-task-keyword-on-play.yml', errors: ['35-task-keyword-on-play.yml:2:3: error E_UNKNOWN_KEYWORD: `command` is not a play keyword'], allowed: 'put it under `tasks:`' },
  {
    file: '36-bad-when-type.yml',
    errors: ['36-bad-when-type.yml:5:9: error E_BAD_VALUE: `when` must be a condition (a Jinja expression without {{ }}), true/false, or a list of them; got {"os":"Debian"}'],
  },
  { file: '37-handler-no-name.yml', errors: ['37-handler-no-name.yml:5:7: error E_HANDLER_NAME: a handler needs a `name:` (tasks notify it by name)'] },
  { file: '38-import-tasks-templated.yml', errors: ['38-import-tasks-templated.yml:3:21: error E_BAD_VALUE: import_tasks is static: its file name cannot use a template'], allowed: 'include_tasks' },
  { file: '39-tasks-not-list.yml', errors: ['39-tasks-not-list.yml:3:5: error E_BAD_VALUE: `tasks` must be a list of tasks; got {"command":"echo hi"}'] },
  { file: '40-vars-file-missing.yml', errors: ['40-vars-file-missing.yml:4:7: error E_FILE_NOT_FOUND: vars file not found: vars/absent.yml'] },
  {
    file: '41-free-form-not-allowed.yml',
    errors: ['41-free-form-not-allowed.yml:4:13: error E_MODULE_ARGS: copy does not take free-form text ("/etc/hosts /tmp/hosts")'],
    allowed: 'name=value pairs: content, src, dest',
  },
  { file: '42-loop-and-with-items.yml', errors: ['42-loop-and-with-items.yml:5:7: error E_TASK_LOOPS: a task has one loop; this one has loop and with_items'] },
  { file: '43-import-playbook-cycle.yml', errors: ['43-import-playbook-cycle.yml:4:20: error E_IMPORT_CYCLE: import_playbook cycle: 43-import-playbook-cycle.yml -> 43-import-playbook-cycle.yml'] },
  { file: '44-become-method-enum.yml', errors: ['44-become-method-enum.yml:3:18: error E_BAD_VALUE: `become_method` must be sudo or su; got "suod"; did you mean `sudo`?'] },
  { file: '45-import-role-unknown.yml', errors: ['45-import-role-unknown.yml:4:15: error E_ROLE_NOT_FOUND: role `comon` not found; did you mean `common`?'] },
  { file: '46-action-typo.yml', errors: ['46-action-typo.yml:3:15: error E_UNKNOWN_MODULE: action: unknown module "shel"; did you mean `shell`?'] },
  {
    file: '47-handler-in-role-typo.yml',
    errors: ['roles/with_handler/tasks/main.yml:7:7: error E_NOTIFY_UNKNOWN: notify: no handler is named or listens to `restart ap`; did you mean `restart app`?'],
    allowed: 'with_handler : restart app',
  },
  {
    file: '48-defaults-link-as-file.yml',
    errors: ['roles/pointer/defaults/main.yml:1:1: error E_VARS_SHAPE: this vars file holds only the path "../../../vars/common.yml": a symbolic link saved as a plain file'],
    allowed: 'ln -sf ../../../vars/common.yml roles/pointer/defaults/main.yml',
  },
  { file: '49-vars-file-not-mapping.yml', errors: ['vars/list.yml:1:1: error E_VARS_SHAPE: a vars file must hold a mapping of variables; got ["a","b"]'], allowed: 'name: value' },
];

const relative = (s: string): string => s.replaceAll(`${ABS}/`, '');

function errorsOf(file: string, opts: Parameters<typeof loadPlaybook>[1] = {}): ObiamErrors {
  try {
    loadPlaybook(`${B}/${file}`, opts);
  } catch (e) {
    expect(e).toBeInstanceOf(ObiamErrors);
    return e as ObiamErrors;
  }
  throw new Error(`expected ${file} to fail`);
}

describe('malformed playbook corpus', () => {
  it('has a case for every fixture and at least 30 of them', () => {
    expect(CORPUS.length).toBeGreaterThanOrEqual(30);
    expect(new Set(CORPUS.map((c) => c.file)).size).toBe(CORPUS.length);
  });

  it.each(CORPUS.map((c) => [c.file, c] as const))('%s', (_file, c) => {
    const all = errorsOf(c.file);
    expect(all.exitCode).toBe(EXIT.PARSE);
    const shown = all.errors.map((e) => relative(formatError(e)));
    expect(shown.map((s) => s.split('\n')[0])).toEqual(c.errors);
    for (const [i, s] of shown.entries()) {
      // One line of message, one hint, no stack.
      expect(s.split('\n')).toHaveLength(2);
      expect(s.split('\n')[1]).toMatch(/^ {2}hint: \S/);
      expect(s).not.toMatch(/\n\s+at /);
      expect(all.errors[i]!.exitCode).toBe(EXIT.PARSE);
    }
    if (c.allowed) expect(shown[0]).toContain(c.allowed);
  });

  it('reports every error of a file in one pass, in file order', () => {
    const all = errorsOf('34-several-errors.yml');
    expect(all.errors.map((e) => [e.code, e.location?.line, e.location?.col])).toEqual([
      ['E_UNKNOWN_MODULE', 4, 7],
      ['E_MODULE_ARGS', 8, 9],
      ['E_UNKNOWN_KEYWORD', 10, 3],
      ['E_BAD_VALUE', 14, 17],
    ]);
  });

  it('loads the vault-encrypted vars file once the password is given', () => {
    const vault = createVaultDecrypter([{ password: 'fixture-password', source: 'test' }]);
    const { playbook } = loadPlaybook(`${B}/33-vault-vars-file.yml`, { vault });
    expect(playbook.plays[0]!.varsFromFiles).toEqual({ db_password: 's3cret' });
  });

  it('accepts templated values where the schema wants another type (13 and 14 with templates)', () => {
    const { playbook } = loadPlaybook('test/fixtures/playbooks/good/templated-args.yml');
    const args = playbook.plays[0]!.tasks.map((t) => (t.kind === 'task' ? t.args : undefined));
    expect(args).toEqual([
      { name: 'wso2', gid: '{{ ob_gid }}', state: '{{ group_state }}' },
      { content: 'x', dest: '/tmp/x', mode: '{{ file_mode }}' },
      { path: '/tmp/d', state: '{{ \'directory\' if make_dir else \'absent\' }}' },
    ]);
  });

  it('every error is an ObiamError with exit code 4', () => {
    for (const e of errorsOf('06-missing-hosts.yml').errors) {
      expect(e).toBeInstanceOf(ObiamError);
      expect(e.exitCode).toBe(EXIT.PARSE);
    }
  });
});

describe('the CLI on malformed playbooks', () => {
  async function run(file: string, extra: string[] = []): Promise<{ code: number; out: string; err: string }> {
    let out = '';
    let err = '';
    const code = await main(['-i', 'alpha,', ...extra, file], {
      out: (s) => (out += s),
      err: (s) => (err += s),
      env: { PATH: process.env.PATH, HOME: process.env.HOME },
      isTTY: false,
      cwd: ABS,
      signal: new AbortController().signal,
    });
    return { code, out, err };
  }

  it.each([
    ['07-play-keyword-typo.yml', []],
    ['14-module-arg-enum.yml', ['--syntax-check']],
    ['20-role-cycle.yml', ['--check']],
    ['34-several-errors.yml', []],
  ] as const)('%s: file:line:col errors, no stack, exit 4', async (file, extra) => {
    const r = await run(file, [...extra]);
    expect(r.code).toBe(EXIT.PARSE);
    expect(r.out).toBe('');
    expect(r.err).not.toMatch(/\n\s+at /);
    expect(r.err).not.toContain('this is a bug');
    const heads = r.err.split('\n').filter((l) => l.includes(' error '));
    const want = CORPUS.find((c) => c.file === file)!.errors;
    expect(heads.map(relative)).toEqual(want);
    for (const h of heads) expect(h).toMatch(/^\/.+:\d+:\d+: error E_[A-Z_]+: /);
    if (want.length > 1) expect(r.err).toContain(`${want.length} errors`);
  });
});

