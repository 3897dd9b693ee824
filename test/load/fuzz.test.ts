// Property-based fuzzing of the loaders: mutated copies of the malformed corpus and of the repository's
// own playbooks and inventories, and playbooks generated from the language's keywords, each end in a
// loaded result or coded errors at a file:line:col, never a JavaScript error (see test/support/fuzz.ts).
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, it } from 'vitest';
import { loadInventory } from '../../src/inventory/sources.js';
import { loadPlaybook, loadTasksFile } from '../../src/load/playbook.js';
import { parseYaml } from '../../src/load/yaml.js';
import { corpusTexts, endsCoded, fuzzParams, fuzzTimeout, generatedPlaybook, mutatedText } from '../support/fuzz.js';

const root = mkdtempSync(path.join(tmpdir(), 'obr-fuzz-load-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

// The malformed corpus with its roles/, tasks/ and vars/, so mutated imports and roles still resolve.
const books = path.join(root, 'books');
cpSync(path.resolve('test/fixtures/playbooks/bad'), books, { recursive: true });
const bookFile = path.join(books, 'fuzz-case.yml');

const PLAYBOOK_SEEDS = corpusTexts(['test/fixtures/playbooks', 'playbooks'], /\.ya?ml$/);
const INVENTORY_SEEDS = corpusTexts(['test/fixtures/inventory', 'inventory'], /\.ya?ml$/);
const RUNS = 150;

describe('fuzzing the playbook loader', () => {
  it(
    'mutated playbooks and task files end in a result or located coded errors',
    () => {
      fc.assert(
        fc.property(mutatedText(PLAYBOOK_SEEDS, 'yaml'), (text) => {
          writeFileSync(bookFile, text);
          endsCoded(() => loadPlaybook(bookFile), { located: true });
          endsCoded(() => loadTasksFile(bookFile), { located: true });
        }),
        fuzzParams(RUNS),
      );
    },
    fuzzTimeout(RUNS),
  );

  it(
    'generated playbooks (keywords, modules, random values) end in a result or located coded errors',
    () => {
      fc.assert(
        fc.property(generatedPlaybook(), (text) => {
          writeFileSync(bookFile, text);
          endsCoded(() => loadPlaybook(bookFile), { located: true });
        }),
        fuzzParams(RUNS),
      );
    },
    fuzzTimeout(RUNS),
  );

  it(
    'arbitrary text parses as YAML or fails with a located E_YAML error',
    () => {
      fc.assert(
        fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), mutatedText(PLAYBOOK_SEEDS, 'yaml', 8)), (text) => {
          endsCoded(() => parseYaml(text, 'fuzz.yml'), { located: true });
        }),
        fuzzParams(RUNS),
      );
    },
    fuzzTimeout(RUNS),
  );

  it('deeply nested YAML is refused or loaded, never a stack overflow', () => {
    for (const depth of [100, 1000, 5000]) {
      endsCoded(() => parseYaml(`${'['.repeat(depth)}1${']'.repeat(depth)}\n`, 'deep.yml'), { located: true });
      writeFileSync(bookFile, `- hosts: all\n  vars:\n    x: ${'['.repeat(depth)}1${']'.repeat(depth)}\n  tasks: []\n`);
      endsCoded(() => loadPlaybook(bookFile), { located: true });
    }
  });
});

describe('fuzzing the inventory loader', () => {
  const dir = path.join(root, 'inv');
  mkdirSync(path.join(dir, 'group_vars'), { recursive: true });
  mkdirSync(path.join(dir, 'host_vars'), { recursive: true });
  const inv = path.join(dir, 'inventory.yml');

  it(
    'mutated inventories end in an inventory or located coded errors',
    () => {
      fc.assert(
        fc.property(mutatedText(INVENTORY_SEEDS, 'yaml'), (text) => {
          writeFileSync(inv, text);
          endsCoded(() => loadInventory([inv]), { located: true });
        }),
        fuzzParams(RUNS),
      );
    },
    fuzzTimeout(RUNS),
  );

  it(
    'mutated group_vars and host_vars files end in an inventory or located coded errors',
    () => {
      writeFileSync(inv, 'all:\n  children:\n    web:\n      hosts:\n        web1:\n        web[2:3]:\n');
      fc.assert(
        fc.property(mutatedText(INVENTORY_SEEDS, 'yaml'), fc.boolean(), (text, asHost) => {
          const file = path.join(dir, asHost ? 'host_vars/web1.yml' : 'group_vars/web.yml');
          writeFileSync(file, text);
          try {
            endsCoded(() => loadInventory([inv]), { located: true });
          } finally {
            rmSync(file, { force: true });
          }
        }),
        fuzzParams(RUNS),
      );
    },
    fuzzTimeout(RUNS),
  );
});
