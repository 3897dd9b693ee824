// The bulk upload path's choice and its ssh command line (src/transport/bulk-ssh.ts): the host key policy
// must be the connection's own, strict, and untouched by any ssh_config of the machine.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bulkSshArgs, bulkSshEnabled, bulkTarget, type BulkTarget } from '../../src/transport/bulk-ssh.js';

const dir = mkdtempSync(path.join(tmpdir(), 'obr-bulk-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const key = path.join(dir, 'id_ed25519');
execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
const locked = path.join(dir, 'id_locked');
execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'secret', '-f', locked]);
const base = { host: '10.0.0.5', port: 2222, user: 'deploy', identityFiles: [key], jumps: [], knownHostsFiles: [path.join(dir, 'known hosts'), '/etc/kh'], connectTimeoutMs: 7500 };

describe('bulkTarget', () => {
  it('a direct connection with one unencrypted key file gets the bulk path', () => {
    expect(bulkTarget(base)).toEqual({ host: '10.0.0.5', port: 2222, user: 'deploy', identityFile: key, knownHostsFiles: base.knownHostsFiles, connectTimeoutMs: 7500 });
  });
  it('says why not for a jump host, a password, an agent, an encrypted key, no known_hosts', () => {
    expect(bulkTarget({ ...base, jumps: [{}] })).toBe('a jump host');
    expect(bulkTarget({ ...base, password: 'pw' })).toBe('password authentication');
    expect(bulkTarget({ ...base, identityFiles: [] })).toBe('no identity file (agent or default keys)');
    expect(bulkTarget({ ...base, identityFiles: [key, locked] })).toBe('several identity files');
    expect(bulkTarget({ ...base, identityFiles: [locked] })).toBe('an encrypted or unreadable identity file');
    expect(bulkTarget({ ...base, identityFiles: [path.join(dir, 'missing')] })).toBe('an unreadable identity file');
    expect(bulkTarget({ ...base, knownHostsFiles: [] })).toBe('no known_hosts file');
  });
  it('OBIAM_BULK_SSH=0 turns it off', () => {
    expect(bulkSshEnabled({ OBIAM_BULK_SSH: '0' })).toBe(false);
  });
});

describe('bulkSshArgs', () => {
  const t = bulkTarget(base) as BulkTarget;
  const args = bulkSshArgs(t, 'exec cat > x');
  const opt = (name: string): string | undefined => args.filter((_, i) => args[i - 1] === '-o').find((o) => o.startsWith(`${name}=`))?.slice(name.length + 1);
  it('no ssh_config, strict host keys against exactly the connection\'s known_hosts files', () => {
    expect(args.slice(0, 2)).toEqual(['-F', '/dev/null']);
    expect(opt('StrictHostKeyChecking')).toBe('yes');
    expect(opt('UserKnownHostsFile')).toBe(`${path.join(dir, 'known\\ hosts')} /etc/kh`);
    expect(opt('GlobalKnownHostsFile')).toBe('/dev/null');
    expect(opt('UpdateHostKeys')).toBe('no');
    expect(opt('BatchMode')).toBe('yes');
  });
  it('the same key, user and port only; no agent, password or shared master', () => {
    expect(args[args.indexOf('-i') + 1]).toBe(key);
    expect(opt('IdentitiesOnly')).toBe('yes');
    expect(opt('IdentityAgent')).toBe('none');
    expect(opt('PasswordAuthentication')).toBe('no');
    expect(opt('ControlPath')).toBe('none');
    expect(args[args.indexOf('-p') + 1]).toBe('2222');
    expect(args[args.indexOf('-l') + 1]).toBe('deploy');
    expect(opt('ConnectTimeout')).toBe('8');
    expect(args.slice(-3)).toEqual(['--', '10.0.0.5', 'exec cat > x']);
  });
  it('ssh accepts the command line (ssh -G prints the options it would use)', () => {
    const g = execFileSync('ssh', ['-G', ...args.slice(0, -3), '10.0.0.5'], { encoding: 'utf8' });
    expect(g).toMatch(/^stricthostkeychecking true$/m);
    expect(g).toMatch(/^ciphers aes128-gcm@openssh.com,/m);
    expect(g).toMatch(/^globalknownhostsfile \/dev\/null$/m);
  });
});
