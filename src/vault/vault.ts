// Ansible Vault (format 1.1 / 1.2, AES256), byte-compatible with `ansible-vault`, on node:crypto only.
//
// Payload: header `$ANSIBLE_VAULT;1.1;AES256` (or `;1.2;AES256;<vault-id>`), then the body wrapped at
// 80 columns. Body = hex(hex(salt) "\n" hex(hmac) "\n" hex(ciphertext)). Keys come from PBKDF2-SHA256
// (10000 rounds, 32-byte salt) -> 80 bytes: AES key, HMAC key, CTR initial counter.
import { createCipheriv, createDecipheriv, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { EXIT, ObiamError } from '../errors.js';
import { registerSecret } from '../redact.js';
import type { VaultDecrypter } from './types.js';

/** A vault password and where it came from (`--vault-password-file /x`, `prompt`, ...). */
export interface VaultSecret {
  /** Vault id (`dev` in `dev@file`); undefined or `default` means none. */
  id?: string;
  password: string;
  source: string;
}

export const VAULT_HEADER = '$ANSIBLE_VAULT';
const KDF_ITERATIONS = 10_000;
const SALT_LEN = 32;
const KEY_LEN = 32;
const IV_LEN = 16;
const BLOCK = 16;
const WRAP = 80;

export const PASSWORD_REMEDY =
  'give the right password with --vault-password-file FILE (or [id@]FILE, --vault-id), --ask-vault-pass, or OBIAM_VAULT_PASSWORD_FILE';

/** The parsed envelope of a vault payload. */
export interface VaultEnvelope {
  version: '1.1' | '1.2';
  cipher: 'AES256';
  vaultId?: string;
  salt: Buffer;
  hmac: Buffer;
  ciphertext: Buffer;
}

export interface DecryptedVault {
  plaintext: Buffer;
  /** The vault id from a 1.2 header. */
  vaultId?: string;
  /** The secret that opened it (edit/rekey re-encrypt with the same one). */
  secret: VaultSecret;
}

/** Vault ids other than `default` are written in a 1.2 header, as ansible-vault does. */
export function effectiveVaultId(id: string | undefined): string | undefined {
  return id && id !== 'default' ? id : undefined;
}

function deriveKeys(password: string, salt: Buffer): { aesKey: Buffer; hmacKey: Buffer; iv: Buffer } {
  const derived = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, KDF_ITERATIONS, 2 * KEY_LEN + IV_LEN, 'sha256');
  return {
    aesKey: derived.subarray(0, KEY_LEN),
    hmacKey: derived.subarray(KEY_LEN, 2 * KEY_LEN),
    iv: derived.subarray(2 * KEY_LEN),
  };
}

function pkcs7Pad(data: Buffer): Buffer {
  const n = BLOCK - (data.length % BLOCK);
  return Buffer.concat([data, Buffer.alloc(n, n)]);
}

function pkcs7Unpad(data: Buffer): Buffer | undefined {
  if (data.length === 0 || data.length % BLOCK !== 0) return undefined;
  const n = data[data.length - 1]!;
  if (n < 1 || n > BLOCK) return undefined;
  for (let i = data.length - n; i < data.length; i++) if (data[i] !== n) return undefined;
  return data.subarray(0, data.length - n);
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  for (let i = 0; i < text.length; i += width) lines.push(text.slice(i, i + width));
  return lines;
}

/** Encrypts to a full vault payload (header, body lines, trailing newline). A fresh salt every time. */
export function encryptVault(plaintext: string | Buffer, password: string, opts: { vaultId?: string } = {}): string {
  if (password.length === 0) {
    throw new ObiamError('E_VAULT_PASSWORD_EMPTY', 'the vault password is empty', {
      remedy: 'give a non-empty password',
      exitCode: EXIT.BAD_OPTIONS,
    });
  }
  const data = typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext;
  const salt = randomBytes(SALT_LEN);
  const { aesKey, hmacKey, iv } = deriveKeys(password, salt);
  const cipher = createCipheriv('aes-256-ctr', aesKey, iv);
  const ciphertext = Buffer.concat([cipher.update(pkcs7Pad(data)), cipher.final()]);
  const hmac = createHmac('sha256', hmacKey).update(ciphertext).digest();
  const inner = [salt.toString('hex'), hmac.toString('hex'), ciphertext.toString('hex')].join('\n');
  const body = Buffer.from(inner, 'ascii').toString('hex');
  const id = effectiveVaultId(opts.vaultId);
  if (id !== undefined && /[;\s]/.test(id)) {
    throw new ObiamError('E_VAULT_ID', `vault id "${id}" may not contain ";" or whitespace`, {
      remedy: 'use a vault id made of letters, digits, "-", "_" or "."',
      exitCode: EXIT.BAD_OPTIONS,
    });
  }
  const header = id === undefined ? `${VAULT_HEADER};1.1;AES256` : `${VAULT_HEADER};1.2;AES256;${id}`;
  return [header, ...wrap(body, WRAP), ''].join('\n');
}

function formatError(source: string | undefined, detail: string): ObiamError {
  const where = source ? ` in ${source}` : '';
  return new ObiamError('E_VAULT_FORMAT', `malformed vault payload${where}: ${detail}`, {
    remedy: 'the vaulted text was damaged (edited by hand, re-indented, truncated?); restore it or re-encrypt the value',
    location: source ? { file: source, line: 1, col: 1 } : undefined,
    exitCode: EXIT.ERROR,
  });
}

function unhex(text: string, what: string, source: string | undefined): Buffer {
  // Buffer.from(hex) silently stops at the first bad character: check first, as Python's unhexlify does.
  if (text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(text)) throw formatError(source, `${what} is not valid hex`);
  return Buffer.from(text, 'hex');
}

/** Splits a payload into its header fields and binary parts; throws E_VAULT_FORMAT. */
export function parseVaultEnvelope(payload: string, source?: string): VaultEnvelope {
  const lines = payload.trim().split(/\r?\n/).map((l) => l.trim());
  const header = (lines[0] ?? '').split(';').map((f) => f.trim());
  if (header[0] !== VAULT_HEADER) throw formatError(source, `it does not start with ${VAULT_HEADER}`);
  const version = header[1];
  if (version !== '1.1' && version !== '1.2') throw formatError(source, `unsupported vault format version "${version ?? ''}"`);
  if (header[2] !== 'AES256') throw formatError(source, `unsupported cipher "${header[2] ?? ''}" (only AES256 is supported)`);
  const vaultId = header[3] ? header[3] : undefined;
  if (version === '1.2' && vaultId === undefined) throw formatError(source, 'a 1.2 header needs a vault id');
  const body = lines.slice(1).join('');
  if (body.length === 0) throw formatError(source, 'the body is empty');
  const inner = unhex(body, 'the body', source).toString('latin1');
  const parts = inner.split('\n');
  if (parts.length !== 3) throw formatError(source, 'the body does not hold salt, HMAC and ciphertext');
  const salt = unhex(parts[0]!, 'the salt', source);
  const hmac = unhex(parts[1]!, 'the HMAC', source);
  const ciphertext = unhex(parts[2]!, 'the ciphertext', source);
  if (hmac.length !== 32) throw formatError(source, 'the HMAC is not 32 bytes');
  if (salt.length === 0) throw formatError(source, 'the salt is empty');
  if (ciphertext.length === 0 || ciphertext.length % BLOCK !== 0) throw formatError(source, 'the ciphertext length is not a multiple of 16');
  return { version, cipher: 'AES256', vaultId, salt, hmac, ciphertext };
}

/** Decrypts with one password; undefined when the HMAC does not match (wrong password or tampering). */
function tryDecrypt(env: VaultEnvelope, password: string, source: string | undefined): Buffer | undefined {
  const { aesKey, hmacKey, iv } = deriveKeys(password, env.salt);
  const expected = createHmac('sha256', hmacKey).update(env.ciphertext).digest();
  if (!timingSafeEqual(expected, env.hmac)) return undefined;
  const decipher = createDecipheriv('aes-256-ctr', aesKey, iv);
  const padded = Buffer.concat([decipher.update(env.ciphertext), decipher.final()]);
  const plain = pkcs7Unpad(padded);
  if (plain === undefined) throw formatError(source, 'bad padding after decryption');
  return plain;
}

/** Secrets to try: the one named by the 1.2 header first, then every other one (ansible's order). */
function orderSecrets(secrets: readonly VaultSecret[], vaultId: string | undefined): VaultSecret[] {
  if (vaultId === undefined) return [...secrets];
  const matching = secrets.filter((s) => s.id === vaultId);
  return [...matching, ...secrets.filter((s) => s.id !== vaultId)];
}

/** Decrypts to bytes and says which secret opened it. */
export function decryptVaultBytes(payload: string, secrets: readonly VaultSecret[], source?: string): DecryptedVault {
  const env = parseVaultEnvelope(payload, source);
  for (const secret of orderSecrets(secrets, env.vaultId)) {
    const plain = tryDecrypt(env, secret.password, source);
    if (plain !== undefined) return { plaintext: plain, vaultId: env.vaultId, secret };
  }
  const on = source ?? 'vault payload';
  // Ansible's wording first (people search for it), then what it means here.
  const tried = secrets.length === 0 ? ' (no vault password was given)' : `: the vault password is wrong for it (tried ${secrets.map((s) => s.source).join(', ')})`;
  throw new ObiamError('E_VAULT_PASSWORD', `Decryption failed (no vault secrets were found that could decrypt) on ${on}${tried}`, {
    remedy: PASSWORD_REMEDY,
    location: source ? { file: source, line: 1, col: 1 } : undefined,
    exitCode: EXIT.ERROR,
  });
}

/** Decrypts a vault payload (a file or a `!vault` value) to UTF-8 text. */
export function decryptVault(payload: string, secrets: VaultSecret[], source?: string): string {
  return decryptVaultBytes(payload, secrets, source).plaintext.toString('utf8');
}

const NOT_SECRET_WORDS = /^(?:true|false|yes|no|on|off|null|none|~)$/i;

/**
 * Registers a decrypted value for redaction. A vaulted file is mostly `key: value` lines, and the
 * values are what tasks print, so lines and the values after `key:` are registered too; bare YAML
 * punctuation (`---`) and booleans are skipped so ordinary output is not blanked out.
 */
export function registerVaultPlaintext(plain: string): void {
  registerSecret(plain);
  if (!plain.includes('\n')) {
    if (plain.trim() !== plain) registerSecret(plain.trim());
    return;
  }
  for (const raw of plain.split(/\r?\n/)) {
    const line = raw.trim();
    if (line.length < 3 || !/[0-9A-Za-z]/.test(line)) continue;
    registerSecret(raw);
    registerSecret(line);
    const kv = /^-?\s*[\w.-]+:\s+(.+)$/.exec(line);
    if (kv) {
      const value = kv[1]!.replace(/^(['"])(.*)\1$/, '$2').trim();
      if (value.length >= 3 && !NOT_SECRET_WORDS.test(value) && !/^[|>][-+]?$/.test(value)) registerSecret(value);
    }
  }
}

/** The decrypter the loaders use; every value it returns is registered for redaction. */
export function createVaultDecrypter(secrets: VaultSecret[]): VaultDecrypter {
  const list = [...secrets];
  return {
    hasSecrets: list.length > 0,
    decrypt(payload: string, source?: string): string {
      const plain = decryptVault(payload, list, source);
      registerVaultPlaintext(plain);
      return plain;
    },
  };
}

/** Indents a payload as a YAML `!vault |` block, like `ansible-vault encrypt_string --name`. */
export function formatVaultYaml(payload: string, name?: string, indent = 10): string {
  const head = name ? `${name}: !vault |` : '!vault |';
  const lines = payload.split('\n').filter((l) => l.length > 0);
  return [head, ...lines.map((l) => ' '.repeat(indent) + l)].join('\n');
}

/** `ansible-vault encrypt_string`: the `name: !vault |` block (no trailing newline, as ansible-vault prints it). */
export function encryptString(plaintext: string, password: string, name?: string, vaultId?: string): string {
  return formatVaultYaml(encryptVault(plaintext, password, { vaultId }), name);
}
