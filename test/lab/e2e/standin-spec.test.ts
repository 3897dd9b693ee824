// The OB IAM stand-in pack of each spec starts as built, and refuses to start (log line naming the
// setting) when the toml module removes a vendor table of its spec, when realm_manager.data_source
// names no [[datasource]], or when deployment.toml does not parse. Runs the real stand-in on this
// machine (no lab hosts needed), on a port offset of its own.
import { execFileSync, spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tomlModule, type TomlArgs } from '../../../src/modules/toml.js';
import { localContext } from '../../support/module-context.js';
import { REPO } from './run-cli.js';

/** Runs the stand-in until it logs that it started or refused; returns the log. */
function runStandin(home: string): Promise<string> {
  const log = path.join(home, 'repository/logs/wso2carbon.log');
  return new Promise((resolve, reject) => {
    const p = spawn('java', [`-Dcarbon.home=${home}`, '-Dlab.profile=obiam', '-Dlab.version=2.0.0', '-Dlab.startupDelayMs=100', '-cp', path.join(home, 'lib/lab-standin.jar'), 'lab.standin.Carbon'], { stdio: 'ignore' });
    const started = Date.now();
    const poll = setInterval(() => {
      let text = '';
      try {
        text = readFileSync(log, 'utf8');
      } catch {
        // not written yet
      }
      if (/WSO2 Carbon started|Invalid configuration/.test(text) || Date.now() - started > 60_000) {
        clearInterval(poll);
        p.kill('SIGKILL');
        resolve(text);
      }
    }, 100);
    p.on('error', (e) => {
      clearInterval(poll);
      reject(e);
    });
  });
}

async function edit(home: string, a: Omit<TomlArgs, 'path'>): Promise<void> {
  const r = await tomlModule.run({ path: path.join(home, 'repository/conf/deployment.toml'), ...a }, await localContext());
  expect(r.failed ?? false).toBe(false);
}

const REMOVED: Record<string, { table: string; key: string }> = {
  uk: { table: 'open_banking.uk.signing_config', key: 'open_banking.uk.signing_config.enable' },
  berlin: { table: 'open_banking.berlin.sca', key: 'open_banking.berlin.sca.auth_cancellation.enable' },
  au: { table: 'open_banking.au.metadata_cache', key: 'open_banking.au.metadata_cache.data_recipient_discovery_url' },
};

describe('OB IAM stand-in packs per spec', () => {
  for (const spec of ['uk', 'berlin', 'au']) {
    it(`${spec}: starts as built; refuses a file without a vendor table, an unknown data_source, a parse error`, async () => {
      const dir = mkdtempSync(path.join(tmpdir(), `obr-spec-${spec}-`));
      execFileSync('bash', [path.join(REPO, 'lab-product/build.sh'), '--out', dir, '--obiam-spec', spec], { stdio: 'pipe' });
      const fresh = (name: string): string => {
        const d = path.join(dir, name);
        execFileSync('unzip', ['-q', path.join(dir, 'wso2-obiam-2.0.0.zip'), '-d', d]);
        return path.join(d, 'wso2-obiam-2.0.0');
      };
      // Ports of our own (9443 + offset), away from other stand-ins on this machine.
      const offset = { uk: 611, berlin: 612, au: 613 }[spec]!;

      const ok = fresh('ok');
      await edit(ok, { key: 'server.offset', value: offset });
      expect(await runStandin(ok)).toContain('WSO2 Carbon started');

      const lost = fresh('lost');
      await edit(lost, { settings: { 'server.offset': offset }, remove: [REMOVED[spec]!.table] });
      const lostLog = await runStandin(lost);
      expect(lostLog).not.toContain('WSO2 Carbon started');
      expect(lostLog).toContain(`${REMOVED[spec]!.key} is missing`);

      const realm = fresh('realm');
      await edit(realm, { settings: { 'server.offset': offset, 'realm_manager.data_source': 'NO_SUCH_DB' } });
      expect(await runStandin(realm)).toContain('realm_manager.data_source names NO_SUCH_DB, but no [[datasource]] has that id');

      const broken = fresh('broken');
      appendFileSync(path.join(broken, 'repository/conf/deployment.toml'), '\n[server]\nhostname = "again"\n');
      const brokenLog = await runStandin(broken);
      expect(brokenLog).toMatch(/deployment\.toml:\d+: table \[server\] is defined twice/);
      expect(brokenLog).not.toContain('WSO2 Carbon started');
    }, 120_000);
  }
});
