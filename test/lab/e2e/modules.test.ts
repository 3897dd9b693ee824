// Every module on real lab hosts through the CLI: first run changed, second run unchanged,
// --check changes nothing but reports the change, --diff shows content diffs.
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { getLab } from '../lab-fixture.js';
import { runCli, sum, workspace } from './run-cli.js';

interface Case {
  name: string;
  /** Tasks that converge the hosts to state A. */
  tasks: string;
  /** Tasks that would move them to state B (run with --check only). Omitted: module never changes. */
  other?: string;
  /** The run must report diffs (content-changing modules). */
  diff?: boolean;
  files?: Record<string, string>;
}

const INIT_SCRIPT = `#!/bin/sh
### BEGIN INIT INFO
# Provides: obr-echo
# Required-Start:
# Required-Stop:
# Default-Start: 2 3 4 5
# Default-Stop: 0 1 6
# Short-Description: lab test daemon
### END INIT INFO
PID=/run/obr-echo.pid
case "$1" in
  start) setsid sleep 100000 </dev/null >/dev/null 2>&1 & echo $! > $PID ;;
  stop) [ -f $PID ] && kill "$(cat $PID)"; rm -f $PID ;;
  restart|reload) "$0" stop; "$0" start ;;
  status) [ -f $PID ] && kill -0 "$(cat $PID)" 2>/dev/null ;;
esac
`;

const CASES: Case[] = [
  { name: 'command', tasks: '- command: touch /srv/cmd-a\n  args: { creates: /srv/cmd-a }', other: '- command: touch /srv/cmd-b\n  args: { creates: /srv/cmd-b }' },
  { name: 'shell', tasks: '- shell: echo a > /srv/sh-a\n  args: { creates: /srv/sh-a }', other: '- shell: echo b > /srv/sh-b\n  args: { creates: /srv/sh-b }' },
  { name: 'copy', tasks: '- copy: { content: "a\\n", dest: /srv/copy.txt, mode: "0640" }', other: '- copy: { content: "b\\n", dest: /srv/copy.txt, mode: "0640" }', diff: true },
  {
    name: 'template',
    tasks: '- template: { src: t.j2, dest: /srv/t.txt }',
    other: '- template: { src: t.j2, dest: /srv/t.txt }\n  vars: { word: other }',
    diff: true,
    files: { 'templates/t.j2': 'host={{ inventory_hostname }} word={{ word | default("a") }}\n' },
  },
  { name: 'file', tasks: '- file: { path: /srv/dir-a, state: directory, mode: "0750" }', other: '- file: { path: /srv/dir-a, state: directory, mode: "0700" }' },
  {
    name: 'lineinfile',
    tasks: '- lineinfile: { path: /srv/li.conf, line: "key=a", regexp: "^key=", create: true }',
    other: '- lineinfile: { path: /srv/li.conf, line: "key=b", regexp: "^key=", create: true }',
    diff: true,
  },
  {
    name: 'blockinfile',
    tasks: '- blockinfile: { path: /srv/bi.conf, block: "one\\ntwo", create: true }',
    other: '- blockinfile: { path: /srv/bi.conf, block: "three", create: true }',
    diff: true,
  },
  { name: 'stat', tasks: '- stat: { path: /etc/hostname }\n  register: s\n- assert: { that: ["s.stat.exists", "s.stat.isreg"] }' },
  {
    name: 'unarchive',
    tasks: '- file: { path: /srv/unpacked, state: directory }\n- unarchive: { src: bundle.tar.gz, dest: /srv/unpacked, creates: /srv/unpacked/bundle/readme.txt }',
    other: '- unarchive: { src: bundle.tar.gz, dest: /srv, creates: /srv/bundle/readme.txt }',
  },
  { name: 'wait_for', tasks: '- wait_for: { port: 22, timeout: 10 }\n- wait_for: { path: /etc/hostname, search_regex: "node" }' },
  { name: 'uri', tasks: '- uri: { url: "http://127.0.0.1:1/", status_code: -1, timeout: 2 }\n  failed_when: false' },
  {
    name: 'service',
    tasks: `- copy: { src: obr-echo, dest: /etc/init.d/obr-echo, mode: "0755" }\n- service: { name: obr-echo, state: started }`,
    other: '- service: { name: obr-echo, state: stopped }',
    files: { 'files/obr-echo': INIT_SCRIPT },
  },
  {
    name: 'mount',
    tasks: '- mount: { path: /mnt/shared, src: "storage1:/srv/export", fstype: nfs4, opts: rw, state: mounted }',
    other: '- mount: { path: /mnt/shared, state: absent }',
    diff: true,
  },
  {
    name: 'sysctl',
    tasks: '- sysctl: { name: net.ipv4.tcp_fin_timeout, value: "30", sysctl_file: /etc/sysctl.d/90-obr.conf }',
    other: '- sysctl: { name: net.ipv4.tcp_fin_timeout, value: "45", sysctl_file: /etc/sysctl.d/90-obr.conf }',
    diff: true,
  },
  {
    name: 'pam_limits',
    tasks: '- pam_limits: { domain: wso2carbon, limit_type: "-", limit_item: nofile, value: 65535, dest: /etc/security/limits.d/90-obr.conf }',
    other: '- pam_limits: { domain: wso2carbon, limit_type: "-", limit_item: nofile, value: 4096, dest: /etc/security/limits.d/90-obr.conf }',
    diff: true,
  },
  { name: 'group', tasks: '- group: { name: obrgrp, gid: 1802 }', other: '- group: { name: obrgrp, gid: 1803 }' },
  { name: 'user', tasks: '- group: { name: obrgrp, gid: 1802 }\n- user: { name: obruser, uid: 1802, group: obrgrp, shell: /bin/sh }', other: '- user: { name: obruser, uid: 1802, group: obrgrp, shell: /bin/bash }' },
  { name: 'package', tasks: '- copy: { src: obr-hello.deb, dest: /srv/obr-hello.deb }\n- package: { deb: /srv/obr-hello.deb }', other: '- package: { name: obr-hello, state: absent }' },
  { name: 'setup', tasks: '- setup:\n- assert: { that: ["ansible_os_family == \'Debian\'", "ansible_memtotal_mb > 0"] }' },
];

function playbook(tasks: string): string {
  const indented = tasks.split('\n').map((l) => `    ${l}`).join('\n');
  return `- hosts: nodes\n  gather_facts: false\n  tasks:\n${indented}\n`;
}

let artifacts: Record<string, string> = {};

beforeAll(() => {
  // Real artifacts for unarchive and package: a tar.gz and a minimal .deb built with dpkg-deb.
  const dir = mkdtempSync(path.join(tmpdir(), 'obr-art-'));
  execFileSync('sh', ['-c', `mkdir -p ${dir}/bundle ${dir}/deb/DEBIAN ${dir}/deb/usr/share/obr-hello && echo hi > ${dir}/bundle/readme.txt
    tar -C ${dir} -czf ${dir}/bundle.tar.gz bundle
    printf 'Package: obr-hello\\nVersion: 1.0\\nArchitecture: all\\nMaintainer: lab <lab@example.invalid>\\nDescription: obiam-run lab test package\\n' > ${dir}/deb/DEBIAN/control
    echo hello > ${dir}/deb/usr/share/obr-hello/hello.txt
    dpkg-deb --build ${dir}/deb ${dir}/obr-hello.deb >/dev/null`]);
  artifacts = { bundle: path.join(dir, 'bundle.tar.gz'), deb: path.join(dir, 'obr-hello.deb') };
});

describe('modules on lab hosts (first run changed, re-run unchanged, check mode, diff)', () => {
  for (const c of CASES) {
    it(c.name, async () => {
      const lab = getLab();
      const files: Record<string, string> = { 'a.yml': playbook(c.tasks), ...(c.files ?? {}) };
      if (c.other) files['b.yml'] = playbook(c.other);
      const dir = workspace(files);
      execFileSync('sh', ['-c', `mkdir -p ${dir}/files && cp ${artifacts.bundle} ${artifacts.deb} ${dir}/files/`]);
      const inv = ['-i', lab.inventoryFile];

      const first = await runCli([path.join(dir, 'a.yml'), ...inv, '--json', '--diff']);
      expect(first.stderr).not.toMatch(/\n\s+at /);
      expect(first.code, first.stdout + first.stderr).toBe(0);
      const nodes = Object.keys(first.recap).length;
      expect(nodes).toBeGreaterThanOrEqual(2);
      if (c.other) expect(sum(first.recap, 'changed')).toBeGreaterThanOrEqual(nodes);
      else expect(sum(first.recap, 'changed')).toBe(0);
      if (c.diff) expect(first.events.some((e) => e.event === 'host-result' && Array.isArray(e.diff) && e.diff.length > 0)).toBe(true);

      const again = await runCli([path.join(dir, 'a.yml'), ...inv, '--json']);
      expect(again.code, again.stdout + again.stderr).toBe(0);
      expect(sum(again.recap, 'changed')).toBe(0);

      if (c.other) {
        const check = await runCli([path.join(dir, 'b.yml'), ...inv, '--json', '--check', '--diff']);
        expect(check.code, check.stdout + check.stderr).toBe(0);
        expect(sum(check.recap, 'changed')).toBeGreaterThanOrEqual(nodes);
        // Nothing moved: the converged playbook still has nothing to do.
        const after = await runCli([path.join(dir, 'a.yml'), ...inv, '--json']);
        expect(sum(after.recap, 'changed')).toBe(0);
      }
    }, 120_000);
  }
});
