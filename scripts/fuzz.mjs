#!/usr/bin/env node
// The long fuzz run: the same properties as CI (test/**/fuzz*.test.ts) with more cases and any seed.
//   npm run fuzz -- --runs 100000 [--seed 42] [--only load|vars|vault|cli]
import { spawnSync } from 'node:child_process';

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1] : def;
};
const runs = opt('runs', '10000');
const seed = opt('seed', String(Date.now() % 2147483647));
const only = opt('only', undefined);
const files = ['test/load/fuzz.test.ts', 'test/vars/fuzz.test.ts', 'test/vault/fuzz.test.ts', 'test/cli/fuzz-cli.test.ts'].filter((f) => !only || f.includes(`/${only}/`));
console.log(`fuzzing ${files.join(', ')} with ${runs} runs per property, seed ${seed}`);
const r = spawnSync('npx', ['vitest', 'run', '--project', 'unit', ...files], {
  stdio: 'inherit',
  env: { ...process.env, OBIAM_FUZZ_RUNS: runs, OBIAM_FUZZ_SEED: seed },
});
process.exit(r.status ?? 1);
