// bin/obiam-run.js answers `--version` alone itself (without loading the CLI) with what the CLI prints,
// and hands everything else to the CLI (needs `npm run build`: the launcher runs dist/).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';

const BIN = path.resolve('bin/obiam-run.js');
const run = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, NO_COLOR: '1' } });

describe('bin/obiam-run.js', () => {
  it('--version prints the package version, as the CLI does', async () => {
    const r = run(['--version']);
    expect(r.status).toBe(0);
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    expect(r.stdout).toBe(`${pkg.version}\n`);
    let cli = '';
    const code = await main(['--version'], { out: (s) => (cli += s), err: () => undefined });
    expect(code).toBe(0);
    expect(r.stdout).toBe(cli.endsWith('\n') ? cli : `${cli}\n`);
  });

  it('anything else goes to the CLI, exit code included', () => {
    expect(existsSync(path.resolve('dist/cli/main.js')), 'run `npm run build` first').toBe(true);
    const help = run(['--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('lab');
    const bad = run(['--no-such-flag']);
    expect(bad.status).toBe(5);
  });
});
