#!/usr/bin/env node
// Thin launcher: the CLI lives in dist/ (built by `npm run build`). `--version` alone is answered here,
// from package.json, without loading the CLI and its dependencies (a third of a second and more).
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
if (args.length === 1 && args[0] === '--version') {
  let version = 'unknown';
  try {
    version = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version ?? 'unknown';
  } catch {
    // as the CLI does: an unreadable package.json is version 'unknown'
  }
  process.stdout.write(`${version}\n`);
} else {
  const { main } = await import('../dist/cli/main.js');
  process.exitCode = await main(args);
}
