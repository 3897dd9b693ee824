// Long waits say what they wait for, in the plain log without -v: a finished upload with its size and
// rate, an unpack, a wait_for, and Ansible's FAILED - RETRYING line with the attempt and time so far.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';

const root = mkdtempSync(path.join(tmpdir(), 'obr-progress-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function run(argv: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const code = await main(argv, { out: (s) => (out += s), err: (s) => (out += s), env: { PATH: process.env.PATH, HOME: process.env.HOME }, isTTY: false, cwd: root, signal: new AbortController().signal });
  return { code, out };
}

describe('progress of long steps in the plain log', () => {
  it('prints the upload, the unpack, the wait and each retry, by default', async () => {
    const files = path.join(root, 'files');
    mkdirSync(path.join(files, 'pack'), { recursive: true });
    // Bigger than the stdin limit, so copy streams it with putFile.
    writeFileSync(path.join(files, 'big.bin'), Buffer.alloc(600 * 1024, 7));
    writeFileSync(path.join(files, 'pack', 'a.txt'), 'a\n');
    execFileSync('tar', ['-cf', path.join(files, 'pack.tar'), '-C', files, 'pack']);
    const dest = path.join(root, 'dest');
    mkdirSync(dest);
    writeFileSync(path.join(root, 'inv.yml'), 'all:\n  hosts:\n    alpha:\n      ansible_connection: local\n');
    writeFileSync(
      path.join(root, 'pb.yml'),
      `- hosts: all
  gather_facts: false
  tasks:
    - name: upload the pack
      copy: { src: ${files}/big.bin, dest: ${dest}/big.bin }
    - name: unpack it
      unarchive: { src: ${files}/pack.tar, dest: ${dest} }
    - name: wait for the file
      wait_for: { path: ${dest}/pack/a.txt, search_regex: "^a$", timeout: 5 }
    - name: count to two
      shell: "n=$(cat ${dest}/n 2>/dev/null || echo 0); echo $((n+1)) > ${dest}/n; echo $((n+1))"
      register: n
      until: n.stdout | int >= 2
      retries: 3
      delay: 0
`,
    );
    const { code, out } = await run(['pb.yml', '-i', 'inv.yml']);
    expect(code, out).toBe(0);
    expect(out).toMatch(/^upload: \[alpha\] big\.bin 600\.0 KiB uploaded in [\d.]+s, [\d.]+ [KMG]iB\/s$/m);
    expect(out).toContain(`unpack: [alpha] unpacking pack.tar (2 entries) into ${dest}`);
    expect(out).toContain(`wait: [alpha] waiting for \`^a$\` in ${dest}/pack/a.txt (timeout 5s)`);
    expect(out).toMatch(/^FAILED - RETRYING: \[alpha\]: count to two \(3 retries left\)\. attempt 1, \d+ms elapsed$/m);
    expect(out.match(/FAILED - RETRYING/g)).toHaveLength(1);
  });
});
