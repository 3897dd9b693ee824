// Secrets at rest: the state dir is 0700, the lock and the journal 0600, and the journal holds no
// registered secret (a failure message that quoted a vault value is stored masked).
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { clearSecrets } from '../../src/redact.js';
import { createJournalReporter, journalFile } from '../../src/state/journal.js';
import { acquireLock } from '../../src/state/lock.js';
import { registerVaultPlaintext } from '../../src/vault/vault.js';

const root = mkdtempSync(path.join(tmpdir(), 'obr-state-'));
afterAll(() => {
  clearSecrets();
  rmSync(root, { recursive: true, force: true });
});

describe('state files at rest', () => {
  it('are owner-only and hold no decrypted vault value', () => {
    const dir = path.join(root, 'prod-12345678');
    const lock = acquireLock(dir, 'obiam-run site.yml', 'prod');
    registerVaultPlaintext('Vaulted-Secret-42');
    const rep = createJournalReporter(dir, { command: 'obiam-run site.yml --limit Vaulted-Secret-42', playbooks: ['site.yml'], inventories: ['prod.yml'], extraVars: '' });
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(path.join(dir, 'lock')).mode & 0o777).toBe(0o600);
    expect(statSync(journalFile(dir)).mode & 0o777).toBe(0o600);
    const text = readFileSync(journalFile(dir), 'utf8');
    expect(text).not.toContain('Vaulted-Secret-42');
    expect(text).toContain('obiam-run site.yml --limit ********');
    void rep;
    lock.release();
  });
});
