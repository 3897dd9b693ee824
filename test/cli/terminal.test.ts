// The CLI in a real pseudo-terminal, at 80 and 160 columns: the live view's final screen (rendered by a
// terminal emulator from everything the CLI wrote) must show every task, failures with their message,
// debug output, diffs, the roll summary, the recap and the --resume hint; Ctrl-C ends with the
// interrupt message and the recap.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, runInPty, type Screen } from '../support/pty.js';

const root = mkdtempSync(path.join(tmpdir(), 'obr-pty-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
beforeAll(() => ensureBuilt(), 120_000);

const INV = `all:
  hosts:
    alpha:
      ansible_connection: local
    beta:
      ansible_connection: local
`;

/** Eight tasks: the third fails on beta, alpha goes on; a loop, a debug, a diff, a retry, an ignored failure. */
const SITE = `- name: Configure the nodes
  hosts: all
  gather_facts: false
  tasks:
    - name: first step
      command: sleep 0.2
    - name: second step
      command: echo two
    - name: third step fails on beta
      command: sh -c 'test {{ inventory_hostname }} = alpha || { echo "no disk on beta" >&2; exit 3; }'
    - name: fourth step shows a message
      debug:
        msg: "value from {{ inventory_hostname }}"
    - name: fifth step writes a file
      copy:
        content: "written by {{ inventory_hostname }}\\n"
        dest: "{{ out_dir }}/{{ inventory_hostname }}.txt"
    - name: sixth step loops
      command: echo {{ item }}
      loop: [one, two, three]
    - name: seventh step retries
      shell: "n=$(cat {{ out_dir }}/tries 2>/dev/null || echo 0); n=$((n+1)); echo $n > {{ out_dir }}/tries; echo $n"
      register: tries
      until: tries.stdout | int >= 3
      retries: 5
      delay: 1
    - name: eighth step ignored failure
      command: /bin/false
      ignore_errors: true

- name: Roll the nodes
  hosts: all
  gather_facts: false
  serial: 1
  tasks:
    - name: restart one node
      command: echo restart {{ inventory_hostname }}
`;

/** A roll whose second node fails: roll summary, recap, and the journal's --resume hint on stderr. */
const ROLL = `- name: Roll the nodes
  hosts: all
  gather_facts: false
  serial: 1
  tasks:
    - name: restart one node
      command: sh -c 'test {{ inventory_hostname }} = alpha || { echo "beta would not stop" >&2; exit 1; }'
`;

const SLOW = `- name: Slow play
  hosts: all
  gather_facts: false
  tasks:
    - name: long wait
      # alpha ends once beta runs; so beta is surely running when Ctrl-C comes, and it ignores the
      # terminal's SIGINT (a local command is in the terminal's process group), as a remote one would.
      command: "{{ alpha_cmd if inventory_hostname == 'alpha' else beta_cmd }}"
      vars:
        alpha_cmd: sh -c 'until [ -e {{ out_dir }}/beta-running ]; do sleep 0.05; done'
        beta_cmd: sh -c 'trap "" INT; touch {{ out_dir }}/beta-running; sleep 3'
    - name: never reached
      command: echo never
`;

let n = 0;
function workspace(playbook: string): string {
  const dir = path.join(root, `w${++n}`);
  mkdirSync(path.join(dir, 'out'), { recursive: true });
  writeFileSync(path.join(dir, 'inv.yml'), INV);
  writeFileSync(path.join(dir, 'pb.yml'), playbook);
  return dir;
}

const env = (dir: string): Record<string, string> => ({ OBIAM_RUN_STATE_DIR: path.join(dir, 'state') });

/** Index of the first screen line containing `s`, or a failure that shows the screen. */
function at(screen: Screen, s: string): number {
  const i = screen.lines.findIndex((l) => l.includes(s));
  if (i < 0) throw new Error(`not on screen: ${JSON.stringify(s)}\n--- screen ---\n${screen.text}`);
  return i;
}

function inOrder(screen: Screen, parts: string[]): void {
  const idx = parts.map((p) => at(screen, p));
  for (let i = 1; i < idx.length; i++) expect(idx[i], `${parts[i - 1]} before ${parts[i]}`).toBeGreaterThanOrEqual(idx[i - 1]!);
}

describe.each([80, 160])('live view at %i columns', (cols) => {
  it('shows every task, the failure with its message, debug output, the diff, retries, the roll and the recap', async () => {
    const dir = workspace(SITE);
    // The retry count is shown while the task waits (it is gone from the final screen, as a spinner is).
    const retryRows: string[] = [];
    const { exitCode, screen } = await runInPty(['pb.yml', '-i', 'inv.yml', '--diff', '-e', `out_dir=${path.join(dir, 'out')}`], {
      cols,
      cwd: dir,
      env: env(dir),
      onScreen: (s) => retryRows.push(...s.rows.filter((r) => r.includes('retries left'))),
    });
    expect(exitCode, screen.text).toBe(2);
    inOrder(screen, [
      'PLAY [Configure the nodes]',
      'TASK [first step]',
      'TASK [second step]',
      'TASK [third step fails on beta]',
      'fatal: [beta]: FAILED! => non-zero return code',
      'stderr: no disk on beta',
      'TASK [fourth step shows a message]',
      '"msg": "value from alpha"',
      'TASK [fifth step writes a file]',
      '+written by alpha',
      'TASK [sixth step loops]',
      'changed: [alpha] 3 items',
      'TASK [seventh step retries]',
      'TASK [eighth step ignored failure]',
      '...ignoring',
      'PLAY [Roll the nodes]',
      'TASK [restart one node]',
      'ROLL SUMMARY',
      'PLAY RECAP',
      'finished in',
    ]);
    // beta failed in the third task: it shows as failed there and is not in later tasks.
    expect(screen.text).toMatch(/✖ failed: \[beta\] \d/);
    expect(screen.lines.filter((l) => l.includes('[beta]')).some((l) => l.includes('fourth'))).toBe(false);
    expect(retryRows.some((r) => /\[alpha\] [\d.]+m?s +attempt 1\/6 failed, 5 retries left/.test(r)), retryRows.join('\n')).toBe(true);
    expect(retryRows.every((r) => r.length <= cols)).toBe(true);
    expect(screen.text).toMatch(/✔ changed: \[alpha\] [\d.]+m?s \(3 attempts\)/);
    expect(screen.text).toMatch(/alpha +: ok=9 +changed=8 +unreachable=0 +failed=0 +skipped=0 +rescued=0 +ignored=1/);
    expect(screen.text).toMatch(/beta +: ok=2 +changed=2 +unreachable=0 +failed=1/);
    // Nothing of the live block is left behind: no spinner, and each task header appears once.
    expect(screen.text).not.toMatch(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/);
    expect(screen.lines.filter((l) => l.includes('TASK [second step]'))).toHaveLength(1);
    // Banners fill the width exactly: no lone `*` wrapped onto a row of its own.
    const banner = screen.rows.find((r) => r.startsWith('PLAY [Configure the nodes]'))!;
    expect(banner).toHaveLength(cols);
    expect(screen.rows.some((r) => /^\*+$/.test(r))).toBe(false);
    expect(screen.text).toMatch(/^finished in .* \(exit code 2\)$/m);
  });

  it('shows a failed roll: the roll summary, the recap and the --resume hint', async () => {
    const dir = workspace(ROLL);
    const { exitCode, screen } = await runInPty(['pb.yml', '-i', 'inv.yml'], { cols, cwd: dir, env: env(dir) });
    expect(exitCode, screen.text).toBe(2);
    inOrder(screen, ['batch 1/2: alpha', 'batch 2/2: beta', 'fatal: [beta]: FAILED!', 'ROLL SUMMARY', 'failed: beta', 'PLAY RECAP', 'finished in', '--resume']);
  });

  it('after Ctrl-C shows the interrupt message and the recap, not a bare ^C', async () => {
    const dir = workspace(SLOW);
    let sent = false;
    const { screen } = await runInPty(['pb.yml', '-i', 'inv.yml', '-e', `out_dir=${path.join(dir, 'out')}`], {
      cols,
      cwd: dir,
      env: env(dir),
      onScreen: (s, pty) => {
        if (!sent && s.text.includes('[alpha]') && s.text.includes('TASK [long wait]')) {
          sent = true;
          pty.write('\x03');
        }
      },
    });
    expect(sent).toBe(true);
    // The message is printed when the signal came, above the task that was still running.
    inOrder(screen, ['SIGINT: stopping at the next safe point', 'TASK [long wait]', 'changed: [beta]', 'PLAY RECAP', 'finished in']);
    expect(screen.text).not.toContain('TASK [never reached]');
    expect(screen.lines.at(-1)).toMatch(/^finished in .*\(exit code \d+\)$/);
  });
});
