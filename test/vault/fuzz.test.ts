// Property-based fuzzing of vault decryption: mutated and tampered payloads (text edits, changed hex,
// broken headers) end in the plaintext or a coded E_VAULT error, never a JavaScript error; any
// plaintext and password round-trip, and a wrong password is refused with E_VAULT_PASSWORD.
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { ObiamError } from '../../src/errors.js';
import { parseYaml } from '../../src/load/yaml.js';
import { clearSecrets } from '../../src/redact.js';
import { createVaultDecrypter, decryptVault, encryptVault, formatVaultYaml, type VaultSecret } from '../../src/vault/vault.js';
import { endsCoded, fuzzParams, fuzzTimeout, mutatedText } from '../support/fuzz.js';

const pw = (password: string, id?: string): VaultSecret => ({ id, password, source: 'fuzz' });
const SECRETS = [pw('fuzz-password'), pw('other', 'prod')];
const PAYLOADS = [
  encryptVault('db_password: s3cret\nadmin: {user: a, pass: b}\n', 'fuzz-password'),
  encryptVault('short', 'fuzz-password', { vaultId: 'prod' }),
  encryptVault('', 'fuzz-password'),
];
const HEADERS = ['$ANSIBLE_VAULT;1.1;AES256', '$ANSIBLE_VAULT;1.2;AES256;prod', '$ANSIBLE_VAULT;1.2;AES256', '$ANSIBLE_VAULT;2.0;AES256', '$ANSIBLE_VAULT;1.1;AES128', '$ANSIBLE_VAULT', ''];
const RUNS = 60;

afterEach(() => clearSecrets());

/** A payload whose hex body is rebuilt from changed salt / HMAC / ciphertext parts. */
const tampered = fc
  .tuple(fc.constantFrom(...PAYLOADS), fc.nat({ max: 2 }), fc.oneof(fc.string({ unit: 'binary', maxLength: 40 }), fc.constantFrom('', 'zz', '0', '00'.repeat(33))), fc.constantFrom(...HEADERS))
  .map(([payload, part, replacement, header]) => {
    const [, ...body] = payload.trim().split('\n');
    const parts = Buffer.from(body.join(''), 'hex').toString('latin1').split('\n');
    parts[part] = replacement;
    const hex = Buffer.from(parts.join('\n'), 'latin1').toString('hex');
    return `${header}\n${(hex.match(/.{1,80}/g) ?? ['']).join('\n')}\n`;
  });

describe('fuzzing vault decryption', () => {
  it(
    'mutated and tampered payloads decrypt or fail with a coded error',
    () => {
      fc.assert(
        fc.property(fc.oneof(mutatedText(PAYLOADS, 'yaml', 3), tampered, fc.string({ maxLength: 120 }).map((s) => `$ANSIBLE_VAULT;1.1;AES256\n${s}`)), (payload) => {
          endsCoded(() => decryptVault(payload, SECRETS, 'fuzz.yml'), { located: true });
        }),
        fuzzParams(RUNS),
      );
    },
    fuzzTimeout(RUNS, 200),
  );

  it(
    'a !vault value with a mutated payload loads or fails at its file:line:col',
    () => {
      const vault = createVaultDecrypter(SECRETS);
      fc.assert(
        fc.property(fc.oneof(mutatedText(PAYLOADS, 'yaml', 3), tampered), (payload) => {
          endsCoded(() => parseYaml(`x: 1\n${formatVaultYaml(payload, 'secret', 2)}\n`, 'vars.yml', { vault }), { located: true });
        }),
        fuzzParams(RUNS),
      );
    },
    fuzzTimeout(RUNS, 200),
  );

  it(
    'any plaintext and password round-trip; another password is refused with E_VAULT_PASSWORD',
    () => {
      fc.assert(
        fc.property(fc.string({ unit: 'grapheme', maxLength: 60 }), fc.string({ minLength: 1, maxLength: 20 }), (plain, password) => {
          const payload = encryptVault(plain, password);
          expect(decryptVault(payload, [pw(password)])).toBe(plain);
          try {
            decryptVault(payload, [pw(`${password}x`)]);
            expect.unreachable('a wrong password decrypted');
          } catch (e) {
            expect(e).toBeInstanceOf(ObiamError);
            expect((e as ObiamError).code).toBe('E_VAULT_PASSWORD');
          }
        }),
        // Each case derives keys three times (PBKDF2, 10000 rounds): few cases in CI.
        fuzzParams(8),
      );
    },
    fuzzTimeout(8, 1500),
  );
});
