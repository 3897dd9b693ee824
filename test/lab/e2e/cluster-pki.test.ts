// The product role's cluster key store and trust store (playbooks/roles/product/tasks/pki.yml), run
// for real by the CLI on the controller: the lab CA is made once and kept (a re-run and --check are
// changed=0, the CA's bytes stay), the key store holds the cluster's key under its alias and opens with
// its password, the trust store is the supplied one plus the LB certificate and the lab CA, rebuilt
// when the LB certificate changes; no password reaches the output. No lab host is needed (the tasks
// run once, delegated to localhost).
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO, runCli, sum, workspace } from './run-cli.js';

const KS_PASS = 'ks-Secret-4711';
const TS_PASS = 'ts-Secret-0815';
const SRC_PASS = 'src-Secret-1234';

const keytool = (...a: string[]): string => execFileSync('keytool', a, { encoding: 'utf8', stdio: 'pipe' });
const fingerprint = (list: string): string => /SHA256: ([0-9A-F:]+)/.exec(list)?.[1] ?? '';

describe('product role: cluster key store and trust store from a lab CA', () => {
  const dir = workspace({
    'inventory.yml': [
      'obiam:',
      '  hosts:',
      '    n1: {ansible_connection: local, ansible_host: 10.0.0.1}',
      '    n2: {ansible_connection: local, ansible_host: 10.0.0.2}',
      '',
    ].join('\n'),
    'pb.yml': [
      '- hosts: obiam',
      '  gather_facts: false',
      '  tasks:',
      '    - include_role: {name: product, tasks_from: pki.yml}',
      '',
    ].join('\n'),
  });
  const pki = path.join(dir, 'pki');
  // The supplied trust store the cluster's is made from (one entry, its own password).
  keytool('-genkeypair', '-alias', 'supplied', '-keyalg', 'RSA', '-keysize', '2048', '-validity', '30', '-dname', 'CN=supplied', '-keystore', path.join(dir, 'src.jks'), '-storetype', 'JKS', '-storepass', SRC_PASS, '-keypass', SRC_PASS);
  const extra = {
    ob_pki_generate: true, ob_pki_ca_dir: pki, ob_pki_dir: `${pki}/obiam`, ob_pki_ca_name: 'obr test CA',
    ob_public_hostname: 'iam.obr.test', ob_lb_cert_file: `${pki}/lb.crt`, ob_keystore_name: 'cluster.jks', ob_keystore_alias: 'cluster',
    ob_keystore_password: KS_PASS, ob_truststore_password: TS_PASS, ob_truststore_file: path.join(dir, 'src.jks'), ob_truststore_source_password: SRC_PASS,
  };
  const run = (...more: string[]): ReturnType<typeof runCli> =>
    runCli([path.join(dir, 'pb.yml'), '-i', path.join(dir, 'inventory.yml'), '-e', JSON.stringify(extra), '--json', ...more],
      { env: { OBIAM_ROLES_PATH: path.join(REPO, 'playbooks/roles') } });
  const noSecrets = (out: string): void => {
    for (const s of [KS_PASS, TS_PASS, SRC_PASS]) expect(out).not.toContain(s);
  };

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('first run makes them, the second and --check change nothing, a new LB certificate rebuilds the trust store', async () => {
    const first = await run();
    expect(first.code, first.stdout + first.stderr).toBe(0);
    expect(sum(first.recap, 'changed')).toBeGreaterThan(0);
    noSecrets(first.stdout + first.stderr);

    const ks = keytool('-list', '-v', '-keystore', `${pki}/obiam/cluster.jks`, '-storepass', KS_PASS, '-alias', 'cluster');
    expect(ks).toContain('PrivateKeyEntry');
    expect(ks).toMatch(/Owner: CN=iam\.obr\.test/);
    expect(ks).toMatch(/Issuer: CN=obr test CA, O=obiam-run lab/);
    expect(ks).toMatch(/DNSName: n1.*DNSName: n2|DNSName: n1[\s\S]*DNSName: n2/);
    const ts = keytool('-list', '-keystore', `${pki}/obiam/client-truststore.jks`, '-storepass', TS_PASS);
    expect(ts).toMatch(/^supplied,/m);
    expect(ts).toMatch(/^ob-lb,.*trustedCertEntry/m);
    expect(ts).toMatch(/^obiam-run-lab-ca,.*trustedCertEntry/m);
    const lbInStore = fingerprint(keytool('-list', '-v', '-keystore', `${pki}/obiam/client-truststore.jks`, '-storepass', TS_PASS, '-alias', 'ob-lb'));
    expect(lbInStore).toBe(fingerprint(keytool('-printcert', '-file', `${pki}/lb.crt`)));
    // The LB certificate chains to the lab CA.
    expect(execFileSync('openssl', ['verify', '-CAfile', `${pki}/ca.crt`, `${pki}/lb.crt`], { encoding: 'utf8' })).toContain('OK');

    const ca = readFileSync(`${pki}/ca.crt`, 'utf8');
    const again = await run();
    expect(again.code).toBe(0);
    expect(sum(again.recap, 'changed')).toBe(0);
    const check = await run('--check');
    expect(check.code).toBe(0);
    expect(sum(check.recap, 'changed')).toBe(0);
    expect(readFileSync(`${pki}/ca.crt`, 'utf8')).toBe(ca);

    // A new LB certificate (the old one removed): issued by the same CA, and the trust store follows.
    rmSync(`${pki}/lb.crt`);
    const renewed = await run();
    expect(renewed.code).toBe(0);
    expect(sum(renewed.recap, 'changed')).toBeGreaterThan(0);
    noSecrets(renewed.stdout + renewed.stderr);
    expect(readFileSync(`${pki}/ca.crt`, 'utf8')).toBe(ca);
    const now = fingerprint(keytool('-list', '-v', '-keystore', `${pki}/obiam/client-truststore.jks`, '-storepass', TS_PASS, '-alias', 'ob-lb'));
    expect(now).toBe(fingerprint(keytool('-printcert', '-file', `${pki}/lb.crt`)));
    expect(now).not.toBe(lbInStore);
  }, 180_000);
});
