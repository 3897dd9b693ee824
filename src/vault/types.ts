// What the loaders need from the vault: decrypting a `$ANSIBLE_VAULT` payload (file or `!vault` value).

export interface VaultDecrypter {
  /** Decrypts a whole vault payload; throws ObiamError E_VAULT_* (wrong password, bad format). */
  decrypt(payload: string, source?: string): string;
  /** True when at least one password is known. */
  readonly hasSecrets: boolean;
}

export function isVaultPayload(text: string): boolean {
  return text.trimStart().startsWith('$ANSIBLE_VAULT;');
}
