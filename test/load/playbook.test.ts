// The playbook loader on real files: every play and task keyword lands in the model, roles resolve
// with their defaults/vars/params/handlers, imports are expanded, free-form arguments are split, and
// the project's own playbooks load without an error.
import { cpSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ObiamErrors } from '../../src/errors.js';
import { loadInventory } from '../../src/inventory/sources.js';
import type { Block, Handler, Play, Task, TaskNode } from '../../src/load/model.js';
import { loadPlaybook, loadTasksFile, parseFreeForm } from '../../src/load/playbook.js';
import { NO_INHERIT, inherit } from '../../src/run/run-state.js';
import { parseYaml } from '../../src/load/yaml.js';
import type { Vars } from '../../src/types.js';

const GOOD = path.resolve('test/fixtures/playbooks/good');
const root = mkdtempSync(path.join(tmpdir(), 'obr-playbook-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

/** A fresh directory with these files; returns its path. */
function workspace(files: Record<string, string>): string {
  const dir = path.join(root, `w${++n}`);
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

/** Loads `site.yml` of a new workspace and returns its plays. */
function plays(files: Record<string, string>): Play[] {
  const dir = workspace(files);
  return loadPlaybook(path.join(dir, 'site.yml')).playbook.plays;
}

/** The tasks of the only play of a one-play playbook with these tasks. */
function tasksOf(tasksYaml: string, extra: Record<string, string> = {}): TaskNode[] {
  return plays({ 'site.yml': `- hosts: all\n  tasks:\n${tasksYaml}`, ...extra })[0]!.tasks;
}

/** The model without source positions and with paths relative to `base`, for exact comparison. */
function plain(v: unknown, base = GOOD): unknown {
  return JSON.parse(JSON.stringify(v, (k, x: unknown) => (k === 'location' ? undefined : typeof x === 'string' && x.startsWith(`${base}/`) ? x.slice(base.length + 1) : x)));
}

function errorsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ObiamErrors);
    return (e as ObiamErrors).errors.map((x) => `${x.code}@${x.location?.line}:${x.location?.col}`);
  }
  throw new Error('expected the load to fail');
}

const task = (over: Partial<Task>): Record<string, unknown> => ({ kind: 'task', when: [], tags: [], vars: {}, notify: [], ...over });

describe('play keywords', () => {
  const { playbook, warnings } = loadPlaybook(path.join(GOOD, 'full.yml'));
  const play = playbook.plays[0]!;

  it('reads every play keyword into the model', () => {
    expect(warnings).toEqual([]);
    expect(playbook.file).toBe(path.join(GOOD, 'full.yml'));
    expect(playbook.dir).toBe(GOOD);
    expect(play.name).toBe('everything');
    expect(play.hosts).toBe('web,db');
    expect(play.gatherFacts).toBe(false);
    expect([play.become, play.becomeUser, play.becomeMethod]).toEqual([true, 'root', 'sudo']);
    expect(play.serial).toEqual([1, '30%']);
    expect(play.maxFailPercentage).toBe(25);
    expect(play.anyErrorsFatal).toBe(true);
    expect(play.tags).toEqual(['deploy', 'web']);
    expect(play.environment).toEqual({ LANG: 'C' });
    expect(play.location).toEqual({ file: path.join(GOOD, 'full.yml'), line: 2, col: 3 });
  });

  it('reads vars with YAML 1.1 semantics: yes is true, 0644 is octal, << merges', () => {
    expect(play.vars).toEqual({ mode: 0o644, enabled: true, base: { a: 1, b: 2 }, merged: { a: 1, b: 3 } });
  });

  it('reads vars_files in order; a list entry takes the first file that exists', () => {
    expect(plain(play.varsFiles)).toEqual(['vars/common.yml', 'vars/fallback.yml']);
    expect(play.varsFromFiles).toEqual({ app_port: 8080, app_user: 'wso2', chosen: 'fallback' });
  });

  it('keeps pre_tasks, role tasks, tasks and post_tasks apart', () => {
    expect(plain(play.preTasks)).toEqual([task({ module: 'debug', args: { msg: 'pre' }, name: 'before' })]);
    expect(play.roles.map((r) => r.name)).toEqual(['web']);
    expect(plain(play.roleTasks)).toEqual([
      task({
        module: 'debug',
        args: { msg: 'web on {{ web_port }}' },
        name: 'web task',
        role: { name: 'web', path: 'roles/web', defaults: { web_port: 80 }, vars: {}, params: {} },
      }),
    ]);
    expect(plain(play.postTasks)).toEqual([task({ module: 'copy', args: { src: 'a.txt', dest: '/tmp/a.txt', mode: 0o644 }, name: 'after' })]);
  });

  it('lists play handlers, then role handlers, with their listen topics', () => {
    expect(play.handlers.map((h) => [h.name, h.kind === 'task' ? h.module : h.kind, h.listen, h.role?.name])).toEqual([
      ['restart app', 'service', [], undefined],
      ['reload app', 'service', ['app changed'], undefined],
      ['reload web', 'command', [], 'web'],
    ]);
  });

  it('reads every task keyword', () => {
    const [looped, checked] = plain(play.tasks) as Record<string, unknown>[];
    expect(looped).toEqual(
      task({
        module: 'debug',
        args: { msg: '{{ pkg }} {{ i }}' },
        name: 'conditional loop',
        when: ['ansible_os_family == "Debian"', 'enabled'],
        tags: ['loop'],
        loop: ['a', 'b'],
        loopControl: { loopVar: 'pkg', indexVar: 'i', label: '{{ pkg }}', pause: 1 },
        register: 'looped',
      }),
    );
    expect(checked).toEqual(
      task({
        module: 'command',
        args: { _raw_params: '/bin/check' },
        name: 'checked command',
        vars: { local: 1 },
        become: false,
        ignoreErrors: true,
        delegateTo: 'localhost',
        runOnce: true,
        noLog: true,
        checkMode: false,
        diff: false,
        environment: { PATH: '/usr/bin' },
        register: 'checked',
        notify: ['restart app', 'app changed'],
        changedWhen: [false],
        failedWhen: ["'ERROR' in checked.stdout"],
        until: ['checked.rc == 0'],
        retries: 5,
        delay: 2,
      }),
    );
  });

  it('reads block / rescue / always with the keywords of the block', () => {
    expect(plain(play.tasks[2])).toEqual({
      kind: 'block',
      name: 'protected',
      when: ['do_risky | default(true)'],
      tags: [],
      vars: {},
      become: true,
      block: [task({ module: 'command', args: { _raw_params: '/bin/risky' }, name: 'risky' })],
      rescue: [task({ module: 'debug', args: { msg: 'recovered' }, name: 'recover' })],
      always: [task({ module: 'file', args: { path: '/tmp/scratch', state: 'absent' }, name: 'cleanup' })],
    });
  });

  it('expands import_tasks now (a block carries its keywords) and leaves include_tasks for the run', () => {
    expect(plain(play.tasks[3])).toEqual({
      kind: 'block',
      when: [],
      tags: ['imported'],
      vars: {},
      block: [
        task({ module: 'debug', args: { msg: 'one' }, name: 'imported one' }),
        task({ module: 'command', args: { _raw_params: 'echo two' }, name: 'imported two' }),
      ],
      rescue: [],
      always: [],
    });
    expect(plain(play.tasks[4])).toEqual({ kind: 'include', file: 'tasks/dynamic.yml', baseDir: GOOD, name: 'dynamic', when: [], tags: [], vars: {}, loop: [1, 2] });
    expect(plain(play.tasks[5])).toEqual({ kind: 'meta', action: 'flush_handlers', when: [], tags: [], vars: {} });
  });

  it('keeps with_items, with_dict and a templated with_items as the terms of their lookup (run at run time)', () => {
    const loops = play.tasks.slice(6).map((t) => [(t as Task).loopWith, (t as Task).loop]);
    expect(loops).toEqual([
      ['items', [['x', 'y'], 'z']],
      ['dict', { k1: 'v1', k2: 'v2' }],
      ['items', '{{ groups_list }}'],
    ]);
  });

  it('takes hosts as a string, serial as a number or a percentage, and defaults gather_facts to true', () => {
    const [a, b, c] = plays({
      'site.yml': `- hosts: web:&prod
  serial: 2
  tasks: []
- hosts: db
  serial: "25%"
  max_fail_percentage: "30%"
- name: third
  hosts: all
  gather_facts: no
  tags: deploy
`,
    });
    expect([a!.hosts, a!.name, a!.serial, a!.gatherFacts, a!.maxFailPercentage, a!.anyErrorsFatal]).toEqual(['web:&prod', 'web:&prod', [2], true, undefined, false]);
    expect([b!.serial, b!.maxFailPercentage]).toEqual([['25%'], 30]);
    expect([c!.name, c!.serial, c!.gatherFacts, c!.tags]).toEqual(['third', [], false, ['deploy']]);
  });

  it('reads play-level when and task keywords onto the play; they reach each task at one stage (inherit)', () => {
    const [p] = plays({
      'site.yml': `- hosts: all
  when: enabled
  check_mode: true
  no_log: yes
  tasks:
    - debug: msg=a
    - debug: msg=b
      no_log: false
      when: other
`,
    });
    expect([p!.when, p!.checkMode, p!.noLog]).toEqual([['enabled'], true, true]);
    const fromPlay = inherit({ ...p!, vars: undefined }, NO_INHERIT);
    expect(p!.tasks.map((t) => inherit(t, fromPlay)).map((i) => [i.when, i.checkMode, i.noLog])).toEqual([
      [['enabled'], true, true],
      [['enabled', 'other'], true, false],
    ]);
  });
});

describe('module arguments', () => {
  it('splits free-form command options from the command line', () => {
    const [t] = tasksOf('    - command: chdir=/tmp ls -l\n');
    expect((t as Task).module).toBe('command');
    expect((t as Task).args).toEqual({ chdir: '/tmp', _raw_params: 'ls -l' });
  });

  it('keeps the rest of a command exactly as written (quoted runs of spaces included)', () => {
    const [t] = tasksOf('    - command: creates=/tmp/done echo "a   b"  c\n');
    expect((t as Task).args).toEqual({ creates: '/tmp/done', _raw_params: 'echo "a   b"  c' });
  });

  it('keeps a multi-line shell block verbatim', () => {
    const [t] = tasksOf(`    - shell: |
        set -e
        if [ -d /opt ]; then
          echo "x=1 y=2"
        fi
`);
    expect((t as Task).module).toBe('shell');
    expect((t as Task).args).toEqual({ _raw_params: 'set -e\nif [ -d /opt ]; then\n  echo "x=1 y=2"\nfi' });
  });

  it('reads key=value arguments with quotes, and coerces them to the types the module wants', () => {
    const [d, f] = tasksOf(`    - debug: msg="a b"
    - file: path=/tmp/x state=directory mode=0755 recurse=yes
`);
    expect((d as Task).args).toEqual({ msg: 'a b' });
    expect((f as Task).args).toEqual({ path: '/tmp/x', state: 'directory', mode: '0755', recurse: true });
  });

  it('maps ansible.builtin. names to the module and merges `args:`', () => {
    const [c, s] = tasksOf(
      `    - ansible.builtin.copy:
        src: a.txt
        dest: /tmp/a
    - ansible.legacy.shell: make
      args:
        chdir: /src
`,
      { 'files/a.txt': 'a' },
    );
    expect([(c as Task).module, (c as Task).args]).toEqual(['copy', { src: 'a.txt', dest: '/tmp/a' }]);
    expect([(s as Task).module, (s as Task).args]).toEqual(['shell', { chdir: '/src', _raw_params: 'make' }]);
  });

  it('reads `action:` in both forms', () => {
    const [a, b] = tasksOf(`    - action: shell echo hi
    - action:
        module: debug
        msg: hello
`);
    expect([(a as Task).module, (a as Task).args]).toEqual(['shell', { _raw_params: 'echo hi' }]);
    expect([(b as Task).module, (b as Task).args]).toEqual(['debug', { msg: 'hello' }]);
  });

  it('does not check the type of a templated value', () => {
    const [g] = tasksOf(`    - group:
        name: wso2
        gid: "{{ x }}"
`);
    expect((g as Task).args).toEqual({ name: 'wso2', gid: '{{ x }}' });
  });

  it('parseFreeForm takes only the listed keys out of a command', () => {
    expect(parseFreeForm('removes=/a FOO=bar ./run.sh', ['removes'])).toEqual({ args: { removes: '/a' }, rest: 'FOO=bar ./run.sh' });
    expect(parseFreeForm('msg="{{ a }} b" var=x', 'all')).toEqual({ args: { msg: '{{ a }} b', var: 'x' }, rest: '' });
  });
});

describe('handlers and notify', () => {
  it('takes a notify string as one handler name, commas included', () => {
    const [p] = plays({
      'site.yml': `- hosts: all
  tasks:
    - command: echo
      notify: restart a, then b
  handlers:
    - name: restart a, then b
      command: echo restart
`,
    });
    expect((p!.tasks[0] as Task).notify).toEqual(['restart a, then b']);
  });

  it('lets handlers notify handlers, by name or listen topic', () => {
    const [p] = plays({
      'site.yml': `- hosts: all
  tasks:
    - command: echo
      notify: first
  handlers:
    - name: first
      command: echo 1
      notify: [second topic]
    - name: second
      command: echo 2
      listen: [second topic, other topic]
`,
    });
    expect(p!.handlers.map((h: Handler) => [h.name, h.kind === 'task' ? h.notify : [], h.listen])).toEqual([
      ['first', ['second topic'], []],
      ['second', [], ['second topic', 'other topic']],
    ]);
  });

  it('takes meta and block handlers (the tasks in a handler block need no name)', () => {
    const [p] = plays({
      'site.yml': `- hosts: all
  tasks:
    - command: echo
      notify: [flush, restart]
  handlers:
    - name: flush
      meta: noop
    - name: restart
      listen: restart topic
      block:
        - command: echo 1
        - command: echo 2
`,
    });
    expect(p!.handlers.map((h: Handler) => [h.name, h.kind, h.listen])).toEqual([
      ['flush', 'meta', []],
      ['restart', 'block', ['restart topic']],
    ]);
  });

  it('names an unknown notify target at its own list item', () => {
    const dir = workspace({
      'site.yml': `- hosts: all
  tasks:
    - command: echo
      notify:
        - known
        - unknown one
  handlers:
    - name: known
      command: echo
`,
    });
    expect(errorsOf(() => loadPlaybook(path.join(dir, 'site.yml')))).toEqual(['E_NOTIFY_UNKNOWN@6:11']);
  });
});

describe('roles', () => {
  const { playbook } = loadPlaybook(path.join(GOOD, 'roles.yml'));
  const [web, db] = playbook.plays;

  it('runs meta dependencies first and each role once per play (same params)', () => {
    expect(web!.roles.map((r) => r.name)).toEqual(['dep', 'base', 'web']);
    expect(web!.roleTasks.map((t) => [t.role?.name, t.name])).toEqual([
      ['dep', 'dep task'],
      ['base', 'base config'],
      ['base', 'base by role name'],
      ['base', 'base by topic'],
      ['web', 'web task'],
    ]);
  });

  it('gives each role task its role context: defaults (its meta dependencies\' below its own), vars and params (entry keys and `vars:`)', () => {
    expect(plain(web!.roles)).toEqual([
      { name: 'dep', path: 'roles/dep', defaults: { dep_level: 'low' }, vars: {}, params: {} },
      { name: 'base', path: 'roles/base', defaults: { dep_level: 'low', base_port: 80, base_name: 'default' }, vars: { base_fixed: true }, params: {} },
      { name: 'web', path: 'roles/web', defaults: { web_port: 80 }, vars: {}, params: { web_port: 8443, web_tls: true } },
    ]);
    expect(web!.roleTasks[1]!.role).toBe(web!.roles[1]);
  });

  it('finds role templates in the role and collects role handlers (by name, role : name, listen)', () => {
    expect((web!.roleTasks[1] as Task).args).toEqual({ src: 'base.conf.j2', dest: '/etc/base.conf' });
    expect(web!.roleTasks.slice(1, 4).map((t) => (t as Task).notify)).toEqual([['restart base'], ['base : restart base'], ['base changed']]);
    expect(web!.handlers.map((h) => [h.role?.name, h.name, h.listen])).toEqual([
      ['base', 'restart base', []],
      ['base', 'reload base', ['base changed']],
      ['web', 'reload web', []],
    ]);
    expect((web!.tasks[0] as Task).notify).toEqual(['reload web']);
  });

  it('puts the tasks of a role entry with `when:` in a block carrying it', () => {
    expect(plain(db!.roleTasks)).toEqual([
      {
        kind: 'block',
        when: ['run_dep | bool'],
        tags: ['again'],
        vars: {},
        role: { name: 'dep', path: 'roles/dep', defaults: { dep_level: 'low' }, vars: {}, params: {} },
        block: [task({ module: 'debug', args: { msg: 'dep' }, name: 'dep task', role: { name: 'dep', path: 'roles/dep', defaults: { dep_level: 'low' }, vars: {}, params: {} } })],
        rescue: [],
        always: [],
      },
    ]);
  });

  it("a role's own defaults win over those of its dependencies, which win over theirs (a defaults-only role shares variables)", () => {
    const [p] = plays({
      'site.yml': '- hosts: all\n  roles: [app]\n',
      'roles/common/defaults/main.yml': 'shared: common\nport: 1\nlevel: common\n',
      'roles/mid/meta/main.yml': 'dependencies: [common]\n',
      'roles/mid/defaults/main.yml': 'level: mid\n',
      'roles/app/meta/main.yml': 'dependencies: [mid]\n',
      'roles/app/defaults/main.yml': 'port: 2\n',
      'roles/app/tasks/main.yml': '- debug: msg={{ shared }}\n',
    });
    expect(p!.roles.map((r) => [r.name, r.defaults])).toEqual([
      ['common', { shared: 'common', port: 1, level: 'common' }],
      ['mid', { shared: 'common', port: 1, level: 'mid' }],
      ['app', { shared: 'common', port: 2, level: 'mid' }],
    ]);
  });

  it('runs a role again when its params differ, and reads import_role with vars as params', () => {
    const [p] = plays({
      'site.yml': `- hosts: all
  roles:
    - {role: r, x: 1}
    - {role: r, x: 2}
  tasks:
    - import_role:
        name: r
      vars:
        x: 3
`,
      'roles/r/tasks/main.yml': '- debug: msg={{ x }}\n',
    });
    expect(p!.roles.map((r) => r.params)).toEqual([{ x: 1 }, { x: 2 }, { x: 3 }]);
    expect(p!.tasks.map((t) => t.role?.params)).toEqual([{ x: 3 }]);
  });

  it('import_role runs the role each time it is imported (a roles: entry runs once)', () => {
    const [p] = plays({
      'site.yml': `- hosts: all
  roles: [r, r]
  tasks:
    - import_role: {name: r, tasks_from: step.yml}
    - import_role: {name: r, tasks_from: step.yml}
`,
      'roles/r/tasks/main.yml': '- debug: msg=main\n',
      'roles/r/tasks/step.yml': '- debug: msg=step\n',
      'roles/r/handlers/main.yml': '- name: h\n  debug: msg=h\n',
    });
    expect(p!.roleTasks).toHaveLength(1);
    expect(p!.tasks.map((t) => (t as unknown as { args: { msg: string } }).args.msg)).toEqual(['step', 'step']);
    expect(p!.handlers.map((h) => h.name)).toEqual(['h']);
  });

  it('looks in the rolesPath option when the role is not beside the playbook', () => {
    const shared = workspace({ 'extra/tasks/main.yml': '- debug: msg=extra\n' });
    const dir = workspace({ 'site.yml': '- hosts: all\n  roles: [extra]\n' });
    const { playbook: pb } = loadPlaybook(path.join(dir, 'site.yml'), { rolesPath: [shared] });
    expect(pb.plays[0]!.roles.map((r) => [r.name, r.path])).toEqual([['extra', path.join(shared, 'extra')]]);
  });
});

describe('imports and includes', () => {
  it('import_playbook: its vars win over the play vars, its tags come first', () => {
    const { playbook } = loadPlaybook(path.join(GOOD, 'site.yml'));
    const [imported, own] = playbook.plays;
    expect([imported!.name, imported!.hosts, imported!.vars, imported!.tags]).toEqual(['imported play', 'db', { who: 'importer', only_play: 1 }, ['imported']]);
    expect([own!.name, own!.tags]).toEqual(['own play', []]);
  });

  it('warns about a host pattern that names nothing in the inventory', () => {
    const inventory = loadInventory([path.join(GOOD, 'inventory.yml')]);
    const { warnings } = loadPlaybook(path.join(GOOD, 'site.yml'), { inventory });
    expect(warnings).toEqual([{ message: 'Could not match supplied host pattern, ignoring: nosuchgroup', location: { file: path.join(GOOD, 'site.yml'), line: 6, col: 10 } }]);
    expect(loadPlaybook(path.join(GOOD, 'site.yml')).warnings).toEqual([]);
  });

  it('import_tasks with when: the block carries the condition; nested imports resolve from the importing file', () => {
    const [t] = tasksOf('    - import_tasks: sub/a.yml\n      when: x\n', {
      'sub/a.yml': '- import_tasks: b.yml\n',
      'sub/b.yml': '- debug: msg=b\n',
    });
    expect(plain(t)).toEqual({
      kind: 'block',
      when: ['x'],
      tags: [],
      vars: {},
      block: [task({ module: 'debug', args: { msg: 'b' } })],
      rescue: [],
      always: [],
    });
  });

  it('loadTasksFile reads an include_tasks file at run time, keeping the role context', () => {
    const role = { name: 'r', path: path.join(GOOD, 'roles', 'base'), defaults: {}, vars: {}, params: {} };
    const nodes = loadTasksFile(path.join(GOOD, 'tasks/dynamic.yml'), { role, playbookDir: GOOD });
    expect(nodes).toHaveLength(1);
    expect(plain(nodes[0])).toEqual(task({ module: 'debug', args: { msg: "{{ item | default('none') }}" }, name: 'included at run time', role: { ...role, path: 'roles/base' } }));
    expect(nodes[0]!.role).toBe(role);
    expect(nodes[0]!.location).toEqual({ file: path.join(GOOD, 'tasks/dynamic.yml'), line: 1, col: 3 });
  });

  it('loadTasksFile reports every problem of the file', () => {
    const dir = workspace({ 'bad.yml': '- comand: x\n- debug: msg=ok\n- file: {path: /x, stat: file}\n' });
    expect(errorsOf(() => loadTasksFile(path.join(dir, 'bad.yml')))).toEqual(['E_UNKNOWN_MODULE@1:3', 'E_MODULE_ARGS@3:20']);
  });

  it('an empty playbook is a warning, not an error', () => {
    const dir = workspace({ 'site.yml': '# nothing yet\n' });
    const r = loadPlaybook(path.join(dir, 'site.yml'));
    expect(r.playbook.plays).toEqual([]);
    expect(r.warnings.map((w) => w.message)).toEqual([`${path.join(dir, 'site.yml')} is empty: nothing to do`]);
  });
});

/** A copy of playbooks/ in which role files saved as "path of the link target" are links again. */
function projectPlaybooks(): string {
  const dir = path.join(root, 'project-playbooks');
  cpSync(path.resolve('playbooks'), dir, { recursive: true, verbatimSymlinks: true });
  for (const role of readdirSync(path.join(dir, 'roles'))) {
    const f = path.join(dir, 'roles', role, 'defaults', 'main.yml');
    let st;
    try {
      st = lstatSync(f);
    } catch {
      continue;
    }
    const text = st.isFile() ? readFileSync(f, 'utf8') : '';
    if (/^\.\.\/[\w./-]+\.yml$/.test(text.trim())) {
      unlinkSync(f);
      symlinkSync(text.trim(), f);
    }
  }
  return dir;
}

describe('the project playbooks', () => {
  const dir = projectPlaybooks();
  const defaultsOf = (role: string): Vars => (parseYaml(readFileSync(path.join(dir, 'roles', role, 'defaults', 'main.yml'), 'utf8'), `${role}/defaults/main.yml`).data ?? {}) as Vars;

  it('site.yml loads with no error, every role resolved with its own defaults over those of common', () => {
    // The dev inventory is an OB KM cluster: the plays for `obiam:obkm` warn about the absent group.
    const inventory = loadInventory([path.resolve('examples/inventory/dev.yml')]);
    const { playbook, warnings } = loadPlaybook(path.join(dir, 'site.yml'), { inventory });
    expect(warnings.map((w) => [w.message, w.location?.line])).toEqual([9, 24, 51].map((line) => ['Could not match supplied host pattern, ignoring: obiam', line]));
    expect(playbook.plays.map((p) => [p.name, p.roles.map((r) => r.name)])).toEqual([
      // Preflight runs the database role's verify.yml (a query and a bind from each node).
      ['Preflight (read only; any failure stops the run)', ['common', 'preflight', 'database']],
      ['Shared storage server', ['common', 'storage_server']],
      ['Product nodes', ['common', 'jdk', 'product', 'configure', 'shared_storage', 'database', 'service']],
      ['Load balancer', ['common', 'loadbalancer']],
      ['Rolling restart of nodes whose configuration changed', ['common', 'service', 'loadbalancer', 'loadbalancer']],
      ['Where the cluster answers', []],
    ]);
    for (const p of playbook.plays) {
      for (const r of p.roles) {
        expect(r.path).toBe(path.join(dir, 'roles', r.name));
        expect(r.defaults).toEqual(r.name === 'common' ? defaultsOf('common') : { ...defaultsOf('common'), ...defaultsOf(r.name) });
      }
    }
    // Shared variables come from common (a meta dependency of every role), the role's own from its file.
    const service = playbook.plays[2]!.roles.find((r) => r.name === 'service')!;
    expect([service.defaults.ob_home, service.defaults.ob_start_timeout]).toEqual([defaultsOf('common').ob_home, 300]);
    expect(defaultsOf('service').ob_home).toBeUndefined();
    const restart = playbook.plays[4]!;
    expect(restart.serial).toEqual([1]);
    // Nodes with nothing to restart leave the play first (meta: end_host), the others run restart.yml.
    expect(restart.tasks.map((t) => [t.kind, t.when])).toEqual([
      ['meta', ['not (product_restart_needed | default(false) | bool)']],
      ['block', ['product_restart_needed | default(false) | bool']],
    ]);
    const restartBlock = restart.tasks[1] as Block;
    expect(restartBlock.block.every((t) => t.role?.name === 'service' && t.role.params.ob_service_action === 'restart')).toBe(true);
    // restart.yml's drain and ready are the loadbalancer role's tasks.
    const names = (list: TaskNode[]): string[] => list.flatMap((t) => (t.kind === 'block' ? names([...t.block, ...t.rescue]) : [`${t.role?.name}:${t.name ?? ''}`]));
    expect(names(restartBlock.block)).toContain('loadbalancer:Drain the node on the load balancer');
    expect(names(restartBlock.block)).toContain('loadbalancer:A request through the load balancer reaches this node');
  });

  it('every notify of site.yml names a handler of its play', () => {
    const { playbook } = loadPlaybook(path.join(dir, 'site.yml'));
    let count = 0;
    for (const p of playbook.plays) {
      const names = new Set(p.handlers.flatMap((h) => [h.name, ...(h.role ? [`${h.role.name} : ${h.name}`] : []), ...h.listen]));
      const walk = (list: TaskNode[]): void => {
        for (const t of list) {
          if (t.kind === 'block') walk([...t.block, ...t.rescue, ...t.always]);
          if (t.kind !== 'task') continue;
          for (const target of t.notify) {
            count++;
            expect(names.has(target), `${p.name}: ${target}`).toBe(true);
          }
        }
      };
      walk([...p.preTasks, ...p.roleTasks, ...p.tasks, ...p.postTasks, ...p.handlers]);
    }
    expect(count).toBeGreaterThan(0);
  });

  it('lab-smoke.yml loads with no error', () => {
    const { playbook, warnings } = loadPlaybook(path.resolve('playbooks/lab-smoke.yml'));
    expect(warnings).toEqual([]);
    expect(playbook.plays.length).toBeGreaterThan(0);
    expect(playbook.plays.every((p) => p.tasks.length > 0 && p.handlers.length > 0)).toBe(true);
  });
});
