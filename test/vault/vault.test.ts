import { beforeEach, describe, expect, it } from 'vitest';
import { ObiamError } from '../../src/errors.js';
import { parseYaml } from '../../src/load/yaml.js';
import { clearSecrets, redact, REDACTED } from '../../src/redact.js';
import { isVaultPayload } from '../../src/vault/types.js';
import {
  createVaultDecrypter,
  decryptVault,
  decryptVaultBytes,
  encryptString,
  encryptVault,
  parseVaultEnvelope,
  type VaultSecret,
} from '../../src/vault/vault.js';

const pw = (password: string, id?: string): VaultSecret => ({ id, password, source: 'test' });

// Made by ansible-vault 2.14 (`ansible-vault encrypt --vault-id kat@pw`, password "kat-password").
const ANSIBLE_KAT = `$ANSIBLE_VAULT;1.2;AES256;kat
66623331623937386430626535316130656339313534323937646335393265623839633063396630
6666333964346232333732656438643466643564663637310a343737393033613235343535656666
30303863383630383737326137643031633138336439333137336633333332663966623838353538
3862303264653865300a386661646335626266643065396337653565666261373232383130396234
64336163636432656163333636643563363035316365653733313962366535303739
`;

/** Rebuilds a payload after changing its decoded salt/hmac/ciphertext parts. */
function tamper(payload: string, change: (parts: string[]) => void): string {
  const [header, ...body] = payload.trim().split('\n');
  const parts = Buffer.from(body.join(''), 'hex').toString('latin1').split('\n');
  change(parts);
  const hex = Buffer.from(parts.join('\n'), 'latin1').toString('hex');
  return `${header}\n${hex.match(/.{1,80}/g)!.join('\n')}\n`;
}

function flipHex(hex: string, at: number): string {
  const c = hex[at] === '0' ? '1' : '0';
  return hex.slice(0, at) + c + hex.slice(at + 1);
}

function catchError(fn: () => unknown): ObiamError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ObiamError);
    return e as ObiamError;
  }
  throw new Error('expected an ObiamError');
}

describe('encryptVault / decryptVault', () => {
  it('round-trips text with a 1.1 header, 80-column body and a trailing newline', () => {
    const payload = encryptVault('db_password: s3cr3t\n', 'pw');
    const lines = payload.split('\n');
    expect(lines[0]).toBe('$ANSIBLE_VAULT;1.1;AES256');
    expect(payload.endsWith('\n')).toBe(true);
    expect(lines.at(-1)).toBe('');
    for (const l of lines.slice(1, -2)) expect(l).toMatch(/^[0-9a-f]{80}$/);
    expect(lines.at(-2)).toMatch(/^[0-9a-f]{1,80}$/);
    expect(isVaultPayload(payload)).toBe(true);
    expect(decryptVault(payload, [pw('pw')])).toBe('db_password: s3cr3t\n');
  });

  it('uses a fresh salt each time', () => {
    const a = encryptVault('same', 'pw');
    const b = encryptVault('same', 'pw');
    expect(a).not.toBe(b);
    expect(parseVaultEnvelope(a).salt.length).toBe(32);
    expect(decryptVault(b, [pw('pw')])).toBe('same');
  });

  it('writes a 1.2 header for a vault id, and 1.1 for "default"', () => {
    const p = encryptVault('x', 'pw', { vaultId: 'prod' });
    expect(p.split('\n')[0]).toBe('$ANSIBLE_VAULT;1.2;AES256;prod');
    expect(parseVaultEnvelope(p).vaultId).toBe('prod');
    expect(decryptVault(p, [pw('pw')])).toBe('x');
    expect(encryptVault('x', 'pw', { vaultId: 'default' }).split('\n')[0]).toBe('$ANSIBLE_VAULT;1.1;AES256');
  });

  it('rejects a vault id that would break the header', () => {
    expect(catchError(() => encryptVault('x', 'pw', { vaultId: 'a;b' })).code).toBe('E_VAULT_ID');
  });

  it('round-trips binary data at every padding boundary', () => {
    for (const n of [0, 1, 15, 16, 17, 31, 32, 1000]) {
      const data = Buffer.from(Array.from({ length: n }, (_, i) => (i * 37 + 11) % 256));
      const out = decryptVaultBytes(encryptVault(data, 'pw'), [pw('pw')]).plaintext;
      expect(out.equals(data)).toBe(true);
      expect(parseVaultEnvelope(encryptVault(data, 'pw')).ciphertext.length).toBe((Math.floor(n / 16) + 1) * 16);
    }
  });

  it('round-trips UTF-8 text and passwords', () => {
    const text = 'pässwörd ✓ 日本語\n';
    expect(decryptVault(encryptVault(text, 'clé✓'), [pw('clé✓')])).toBe(text);
  });

  it('decrypts a payload made by ansible-vault (known answer)', () => {
    const out = decryptVaultBytes(ANSIBLE_KAT, [pw('kat-password', 'kat')], 'k.txt');
    expect(out.plaintext.toString('utf8')).toBe('known answer\nsecond line\n');
    expect(out.vaultId).toBe('kat');
  });

  it('accepts the payload indented, with CRLF line ends and upper-case hex', () => {
    const p = encryptVault('indented', 'pw');
    const messy = p
      .trim()
      .split('\n')
      .map((l, i) => (i === 0 ? `  ${l}` : `    ${l.toUpperCase()}`))
      .join('\r\n');
    expect(decryptVault(messy, [pw('pw')])).toBe('indented');
  });

  it('refuses an empty password', () => {
    expect(catchError(() => encryptVault('x', '')).code).toBe('E_VAULT_PASSWORD_EMPTY');
  });
});

describe('secrets and errors', () => {
  it('says which file could not be decrypted, and how to give the password', () => {
    const p = encryptVault('x', 'right');
    const err = catchError(() => decryptVault(p, [pw('wrong'), pw('also-wrong', 'dev')], 'group_vars/all/vault.yml'));
    expect(err.code).toBe('E_VAULT_PASSWORD');
    expect(err.message).toMatch(/^Decryption failed \(no vault secrets were found that could decrypt\) on group_vars\/all\/vault\.yml: the vault password is wrong for it \(tried /);
    expect(err.remedy).toContain('--vault-password-file');
    expect(err.remedy).toContain('--ask-vault-pass');
    expect(err.exitCode).toBe(1);
    expect(err.location?.file).toBe('group_vars/all/vault.yml');
  });

  it('fails the same way with no secrets at all', () => {
    const err = catchError(() => decryptVault(encryptVault('x', 'pw'), [], 'f.yml'));
    expect(err.code).toBe('E_VAULT_PASSWORD');
    expect(err.message).toContain('on f.yml');
  });

  it('tries every secret, and the one named by the 1.2 header first', () => {
    const p = encryptVault('x', 'shared', { vaultId: 'dev' });
    // Both open it; the header names "dev", so "dev" must be the one used.
    expect(decryptVaultBytes(p, [pw('shared', 'other'), pw('shared', 'dev')]).secret.id).toBe('dev');
    // The id does not have to match: a wrongly labelled password still opens it, as in ansible.
    expect(decryptVaultBytes(p, [pw('bad', 'dev'), pw('shared', 'prod')]).secret.id).toBe('prod');
  });

  it('rejects a tampered HMAC or ciphertext (no silent garbage)', () => {
    const p = encryptVault('important', 'pw');
    const badHmac = tamper(p, (parts) => (parts[1] = flipHex(parts[1]!, 5)));
    const badCipher = tamper(p, (parts) => (parts[2] = flipHex(parts[2]!, 3)));
    const badSalt = tamper(p, (parts) => (parts[0] = flipHex(parts[0]!, 0)));
    for (const t of [badHmac, badCipher, badSalt]) {
      expect(t).not.toBe(p);
      expect(catchError(() => decryptVault(t, [pw('pw')], 'x.yml')).code).toBe('E_VAULT_PASSWORD');
    }
    // Sanity: the helper itself keeps a valid payload valid.
    expect(decryptVault(tamper(p, () => undefined), [pw('pw')])).toBe('important');
  });

  it('reports malformed payloads as E_VAULT_FORMAT naming the source', () => {
    const good = encryptVault('x', 'pw');
    const body = good.split('\n').slice(1).join('\n');
    const cases: Array<[string, RegExp]> = [
      ['$ANSIBLE_VAULT;1.1;AES256\n', /body is empty/],
      [`$ANSIBLE_VAULT;1.3;AES256\n${body}`, /version "1.3"/],
      [`$ANSIBLE_VAULT;1.1;AES\n${body}`, /cipher "AES"/],
      [`$ANSIBLE_VAULT;1.2;AES256\n${body}`, /needs a vault id/],
      [`$ANSIBLE_VAULT;1.1;AES256\n${body.replace(/[0-9a-f]/, 'z')}`, /not valid hex/],
      [`$ANSIBLE_VAULT;1.1;AES256\n${body.trim().slice(0, -1)}`, /not valid hex/],
      [`$ANSIBLE_VAULT;1.1;AES256\n${Buffer.from('aa\nbb').toString('hex')}`, /salt, HMAC and ciphertext/],
      [tamper(good, (p) => (p[1] = 'abcd')), /HMAC is not 32 bytes/],
      [tamper(good, (p) => (p[2] = p[2]!.slice(0, 30))), /multiple of 16/],
      ['not a vault', /does not start with/],
    ];
    for (const [payload, why] of cases) {
      const err = catchError(() => decryptVault(payload, [pw('pw')], 'roles/x/vars/main.yml'));
      expect(err.code, payload).toBe('E_VAULT_FORMAT');
      expect(err.message).toMatch(why);
      expect(err.message).toContain('roles/x/vars/main.yml');
      expect(err.exitCode).toBe(1);
    }
  });
});

describe('createVaultDecrypter', () => {
  beforeEach(() => clearSecrets());

  it('knows whether it has secrets', () => {
    expect(createVaultDecrypter([]).hasSecrets).toBe(false);
    expect(createVaultDecrypter([pw('a')]).hasSecrets).toBe(true);
  });

  it('registers every decrypted value for redaction', () => {
    const d = createVaultDecrypter([pw('pw')]);
    expect(redact('token=Zx9-secret-token')).toBe('token=Zx9-secret-token');
    expect(d.decrypt(encryptVault('Zx9-secret-token', 'pw'), 'v.yml')).toBe('Zx9-secret-token');
    expect(redact('token=Zx9-secret-token')).toBe(`token=${REDACTED}`);
  });

  it('registers the lines and values of a multi-line plaintext, but not YAML punctuation or booleans', () => {
    const d = createVaultDecrypter([pw('pw')]);
    const file = '---\ndb_password: "hunter22"\nenabled: true\n-----BEGIN KEY-----\nMIIBOgIBAAJBAK\n';
    d.decrypt(encryptVault(file, 'pw'), 'vault.yml');
    expect(redact('login with hunter22')).toBe(`login with ${REDACTED}`);
    expect(redact('key MIIBOgIBAAJBAK end')).toBe(`key ${REDACTED} end`);
    expect(redact('--- a/file\nchanged: true')).toBe('--- a/file\nchanged: true');
  });

  it('is what the YAML loader uses for !vault values and vaulted files', () => {
    const d = createVaultDecrypter([pw('pw', 'dev')]);
    const block = encryptString('p@ss-w0rd', 'pw', 'admin_password', 'dev');
    const loaded = parseYaml(`plain: 1\n${block}\n`, 'vars.yml', { vault: d });
    expect(loaded.data).toEqual({ plain: 1, admin_password: 'p@ss-w0rd' });
    const whole = parseYaml(encryptVault('a: 1\nb: two-two\n', 'pw'), 'whole.yml', { vault: d });
    expect(whole.data).toEqual({ a: 1, b: 'two-two' });
    expect(redact('b is two-two')).toBe(`b is ${REDACTED}`);
  });
});

describe('encryptString', () => {
  it('prints the `name: !vault |` block indented 10 spaces, like ansible-vault encrypt_string', () => {
    const out = encryptString('value', 'pw', 'api_key');
    const lines = out.split('\n');
    expect(lines[0]).toBe('api_key: !vault |');
    expect(lines[1]).toBe('          $ANSIBLE_VAULT;1.1;AES256');
    for (const l of lines.slice(2)) expect(l).toMatch(/^ {10}[0-9a-f]{1,80}$/);
    expect(out.endsWith('\n')).toBe(false);
    const payload = lines.slice(1).join('\n');
    expect(decryptVault(payload, [pw('pw')])).toBe('value');
  });

  it('omits the name when none is given and uses a 1.2 header with a vault id', () => {
    const lines = encryptString('v', 'pw', undefined, 'stage').split('\n');
    expect(lines[0]).toBe('!vault |');
    expect(lines[1]).toBe('          $ANSIBLE_VAULT;1.2;AES256;stage');
  });
});
