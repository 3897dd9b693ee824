// Property-based fuzzing of templating: Jinja generated from a small grammar (names, literals, every
// filter and test, operators, loops, namespace()) and mutated copies of the templates and `{{ }}`
// expressions in the repository end in a rendered string or an E_TEMPLATE error in our words.
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { createTemplater } from '../../src/vars/template.js';
import { TEMPLATE_VARS, corpusTexts, endsCoded, fuzzParams, fuzzTimeout, generatedTemplate, mutatedText, templateSeeds } from '../support/fuzz.js';

const t = createTemplater();
const SOURCE = { file: 'fuzz.yml', line: 1, col: 1 };
const EXPRESSIONS = templateSeeds(['playbooks', 'test/fixtures/playbooks']);
const TEMPLATES = corpusTexts(['playbooks'], /\.j2$/);
const RUNS = 300;

describe('fuzzing templating', () => {
  it(
    'generated templates render or fail with a coded error',
    () => {
      fc.assert(
        fc.property(generatedTemplate(), (src) => {
          endsCoded(() => t.render(src, TEMPLATE_VARS, SOURCE), { located: true });
          endsCoded(() => t.renderValue(src, TEMPLATE_VARS, SOURCE), { located: true });
        }),
        fuzzParams(RUNS),
      );
    },
    fuzzTimeout(RUNS),
  );

  it(
    'mutated expressions of the repository render, evaluate as conditions, or fail with a coded error',
    () => {
      fc.assert(
        fc.property(mutatedText(EXPRESSIONS, 'jinja', 4), (src) => {
          endsCoded(() => t.render(src, TEMPLATE_VARS, SOURCE), { located: true });
          const bare = src.replace(/^\{\{|\}\}$/g, '');
          endsCoded(() => t.evalConditions([bare], TEMPLATE_VARS, SOURCE), { located: true });
        }),
        fuzzParams(RUNS),
      );
    },
    fuzzTimeout(RUNS),
  );

  it(
    'mutated template files render or fail with a coded error',
    () => {
      fc.assert(
        fc.property(mutatedText(TEMPLATES, 'jinja', 4), (src) => {
          endsCoded(() => t.render(src, TEMPLATE_VARS, 'templates/fuzz.j2', { file: true }));
        }),
        fuzzParams(Math.ceil(RUNS / 3)),
      );
    },
    fuzzTimeout(RUNS),
  );
});
