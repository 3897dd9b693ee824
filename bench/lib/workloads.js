// The playbooks of the benchmark. One file drives every tool, so it uses only what both engines have:
// command, file, copy (content and src), template, lineinfile, stat; gather_facts off.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** Where every task writes on the hosts; removed between runs for a fresh first run. */
export const TARGET_DIR = '/srv/bench';

const q = (s) => JSON.stringify(String(s)); // a JSON string is a valid YAML double-quoted scalar

const TEMPLATE = `# bench template {{ idx }}
host = {{ inventory_hostname }}
address = {{ ansible_host }}
{% for p in [8080, 8443, 9443] %}
port.{{ loop.index }} = {{ p + idx }}
{% endfor %}
`;

/** The task kinds in the order they cycle; `command` alternates between an idempotent write and a read. */
const KINDS = ['file', 'copy', 'template', 'lineinfile', 'stat', 'command'];

/** YAML lines of task k (k >= 2; task 1 is always the target directory). */
function mixedTask(k, commandCount) {
  const kind = KINDS[(k - 2) % KINDS.length];
  const d = TARGET_DIR;
  switch (kind) {
    case 'file':
      return { kind, yaml: [`    - name: ${q(`${k} file`)}`, '      file:', `        path: ${q(`${d}/d${k}`)}`, '        state: directory', "        mode: '0750'"] };
    case 'copy':
      return { kind, yaml: [`    - name: ${q(`${k} copy`)}`, '      copy:', `        content: ${q(`copy ${k} on {{ inventory_hostname }}\n`)}`, `        dest: ${q(`${d}/c${k}.txt`)}`, "        mode: '0644'"] };
    case 'template':
      return { kind, yaml: [`    - name: ${q(`${k} template`)}`, '      template:', '        src: bench.conf.j2', `        dest: ${q(`${d}/t${k}.conf`)}`, "        mode: '0644'", '      vars:', `        idx: ${k}`] };
    case 'lineinfile':
      return { kind, yaml: [`    - name: ${q(`${k} lineinfile`)}`, '      lineinfile:', `        path: ${q(`${d}/lines.conf`)}`, `        regexp: ${q(`^key${k}=`)}`, `        line: ${q(`key${k}=value${k}`)}`, '        create: true', "        mode: '0644'"] };
    case 'stat':
      return { kind, yaml: [`    - name: ${q(`${k} stat`)}`, '      stat:', `        path: ${q(`${d}/lines.conf`)}`] };
    case 'command':
      if (commandCount % 2 === 0) {
        return { kind: 'command-write', yaml: [`    - name: ${q(`${k} command write`)}`, '      command:', `        cmd: ${q(`touch ${d}/m${k}`)}`, `        creates: ${q(`${d}/m${k}`)}`] };
      }
      return { kind: 'command-read', yaml: [`    - name: ${q(`${k} command read`)}`, '      command:', '        cmd: cat /etc/hostname', '      changed_when: false'] };
  }
  throw new Error(`no task kind for ${k}`);
}

function playHeader(title) {
  return [`- name: ${q(title)}`, '  hosts: bench', '  gather_facts: false', '  tasks:',
    '    - name: "1 target directory"', '      file:', `        path: ${q(TARGET_DIR)}`, '        state: directory', "        mode: '0755'"];
}

/**
 * Writes `<dir>/<name>.yml`: `count` tasks (a target directory, then the kinds in turn).
 * Returns the file and how many tasks of each kind it has (the calibration needs the commands).
 */
export function writeMixedPlaybook(dir, name, count) {
  mkdirSync(path.join(dir, 'templates'), { recursive: true });
  writeFileSync(path.join(dir, 'templates', 'bench.conf.j2'), TEMPLATE);
  const lines = playHeader(`bench ${name}: ${count} mixed tasks`);
  const kinds = { file: 1 };
  let commands = 0;
  for (let k = 2; k <= count; k++) {
    const t = mixedTask(k, commands);
    if (t.kind.startsWith('command')) commands++;
    kinds[t.kind] = (kinds[t.kind] ?? 0) + 1;
    lines.push(...t.yaml);
  }
  const file = path.join(dir, `${name}.yml`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return { file, tasks: count, kinds };
}

/** Writes the artifact playbook: the target directory, then `copy src=<artifact>`. */
export function writeCopyPlaybook(dir, artifact) {
  const lines = [...playHeader('bench b: artifact distribution'),
    '    - name: "2 copy artifact"', '      copy:', `        src: ${q(artifact)}`, `        dest: ${q(`${TARGET_DIR}/artifact.bin`)}`, "        mode: '0644'"];
  const file = path.join(dir, 'b-artifact.yml');
  writeFileSync(file, `${lines.join('\n')}\n`);
  return { file, tasks: 2, kinds: { file: 1, copy: 1 } };
}
