// The fuzzed inputs through the real command line (bin/obiam-run.js, built by `npm run build`): a sample
// of mutated playbooks and inventories, and playbooks of debug/set_fact/assert tasks with generated
// templates run on a local-connection host. None may exit 250 or print a stack trace.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../src/errors.js';
import { FUZZ_SEED, corpusTexts, fuzzRuns, generatedTemplate, mutatedText } from '../support/fuzz.js';

const BIN = path.resolve('bin/obiam-run.js');
const root = mkdtempSync(path.join(tmpdir(), 'obr-fuzz-cli-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
cpSync(path.resolve('test/fixtures/playbooks/bad'), root, { recursive: true });
const INV = path.join(root, 'fuzz-inventory.yml');
writeFileSync(INV, 'all:\n  hosts:\n    fuzzhost:\n      ansible_connection: local\n');

/** A Node stack frame line: `    at fn (file:1:2)` or `    at file:1:2`. */
const STACK = /^\s+at .+:\d+:\d+\)?$/m;

function cli(args: string[]): { code: number | null; stderr: string; stdout: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: root, encoding: 'utf8', timeout: 60_000, env: { ...process.env, NO_COLOR: '1', OBIAM_VAULT_PASSWORD_FILE: '' } });
  return { code: r.status, stderr: r.stderr, stdout: r.stdout };
}

function expectNoInternalError(r: ReturnType<typeof cli>, what: string): void {
  expect(r.code, `${what}\n${r.stderr}`).not.toBe(EXIT.INTERNAL);
  expect(r.code, `${what} timed out or was killed`).not.toBeNull();
  expect(r.stderr, what).not.toMatch(STACK);
  expect(r.stderr, what).not.toContain('internal error');
}

const N = fuzzRuns(3);

describe('fuzzed files through bin/obiam-run.js', () => {
  it('the CLI is built (npm run build)', () => {
    expect(existsSync(path.resolve('dist/cli/main.js')), 'run `npm run build` first: this test runs bin/obiam-run.js').toBe(true);
  });

  it(
    'mutated playbooks: --syntax-check ends with a coded error or success, never 250 or a stack trace',
    () => {
      const seeds = corpusTexts(['test/fixtures/playbooks', 'playbooks'], /\.ya?ml$/);
      fc.sample(mutatedText(seeds, 'yaml'), { seed: FUZZ_SEED, numRuns: N }).forEach((text, i) => {
        const file = path.join(root, `fuzz-${i}.yml`);
        writeFileSync(file, text);
        expectNoInternalError(cli([file, '-i', INV, '--syntax-check']), `playbook ${file}:\n${text}`);
      });
    },
    120_000 + N * 5_000,
  );

  it(
    'mutated inventories: `inventory --list` ends with a coded error or the inventory',
    () => {
      const seeds = corpusTexts(['test/fixtures/inventory', 'inventory'], /\.ya?ml$/);
      fc.sample(mutatedText(seeds, 'yaml'), { seed: FUZZ_SEED + 1, numRuns: N }).forEach((text, i) => {
        const file = path.join(root, `fuzz-inv-${i}.yml`);
        writeFileSync(file, text);
        expectNoInternalError(cli(['inventory', '-i', file, '--list']), `inventory ${file}:\n${text}`);
      });
    },
    120_000 + N * 5_000,
  );

  it(
    'generated templates in debug, set_fact and assert tasks run to a recap, never 250 or a stack trace',
    () => {
      const tpl = generatedTemplate();
      const book = fc.array(tpl, { minLength: 3, maxLength: 3 }).map(([a, b, c]) =>
        stringify([
          {
            hosts: 'all',
            gather_facts: false,
            vars: { s: 'text', n: 3, l: [1, 'two'], d: { a: 1 } },
            tasks: [
              { name: 'show', debug: { msg: a }, ignore_errors: true },
              { name: 'keep', set_fact: { fact: b }, ignore_errors: true },
              { name: 'check', assert: { that: [c] }, ignore_errors: true },
            ],
          },
        ]),
      );
      fc.sample(book, { seed: FUZZ_SEED + 2, numRuns: N }).forEach((text, i) => {
        const file = path.join(root, `fuzz-run-${i}.yml`);
        writeFileSync(file, text);
        const r = cli([file, '-i', INV]);
        expectNoInternalError(r, `run of ${file}:\n${text}`);
        expect(r.stdout, text).toContain('PLAY RECAP');
      });
    },
    120_000 + N * 5_000,
  );
});
