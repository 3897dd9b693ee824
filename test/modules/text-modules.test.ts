import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { mountModule } from '../../src/modules/mount.js';
import { pamLimitsModule } from '../../src/modules/pam-limits.js';
import { sysctlModule } from '../../src/modules/sysctl.js';
import { localContext } from '../support/module-context.js';

const tmp = (): string => mkdtempSync(path.join(tmpdir(), 'obr-mod-'));

describe('sysctl module (file only)', () => {
  it('adds, keeps, changes and removes a key; check mode writes nothing', async () => {
    const file = path.join(tmp(), 'sysctl.conf');
    writeFileSync(file, '# tuning\nnet.ipv4.tcp_fin_timeout = 60\nvm.swappiness=10\n');
    const args = { name: 'net.ipv4.tcp_fin_timeout', value: 30, sysctl_file: file, sysctl_set: false };
    const checked = await sysctlModule.run(args, await localContext({ check: true, diff: true }));
    expect(checked.changed).toBe(true);
    expect(checked.diff?.[0]?.after).toContain('net.ipv4.tcp_fin_timeout=30');
    expect(readFileSync(file, 'utf8')).toContain('= 60');
    expect((await sysctlModule.run(args, await localContext())).changed).toBe(true);
    expect(readFileSync(file, 'utf8')).toBe('# tuning\nnet.ipv4.tcp_fin_timeout=30\nvm.swappiness=10\n');
    expect((await sysctlModule.run(args, await localContext())).changed).toBe(false);
    expect((await sysctlModule.run({ name: 'net.core.somaxconn', value: '4096', sysctl_file: file, sysctl_set: false }, await localContext())).changed).toBe(true);
    expect(readFileSync(file, 'utf8')).toMatch(/net.core.somaxconn=4096\n$/);
    expect((await sysctlModule.run({ name: 'vm.swappiness', state: 'absent', sysctl_file: file }, await localContext())).changed).toBe(true);
    expect(readFileSync(file, 'utf8')).not.toContain('swappiness');
  });

  it('fails on an unknown kernel key when it would set it live', async () => {
    const file = path.join(tmp(), 'sysctl.conf');
    const r = await sysctlModule.run({ name: 'obr.no.such.key', value: 1, sysctl_file: file }, await localContext());
    expect(r).toMatchObject({ failed: true, msg: 'Failed to reload sysctl: unknown key obr.no.such.key' });
  });
});

describe('pam_limits module', () => {
  it('writes one line per domain/type/item and is idempotent', async () => {
    const dest = path.join(tmp(), 'limits.conf');
    writeFileSync(dest, '# limits\n*\tsoft\tcore\t0\n');
    const args = { domain: 'wso2carbon', limit_type: '-' as const, limit_item: 'nofile', value: 100000, dest };
    expect((await pamLimitsModule.run(args, await localContext({ check: true }))).changed).toBe(true);
    expect(readFileSync(dest, 'utf8')).toBe('# limits\n*\tsoft\tcore\t0\n');
    expect((await pamLimitsModule.run(args, await localContext())).changed).toBe(true);
    expect(readFileSync(dest, 'utf8')).toBe('# limits\n*\tsoft\tcore\t0\nwso2carbon\t-\tnofile\t100000\n');
    expect((await pamLimitsModule.run(args, await localContext())).changed).toBe(false);
    expect((await pamLimitsModule.run({ ...args, value: 65535, use_max: true }, await localContext())).changed).toBe(false);
    expect((await pamLimitsModule.run({ ...args, value: 65535 }, await localContext())).changed).toBe(true);
    expect(readFileSync(dest, 'utf8')).toContain('wso2carbon\t-\tnofile\t65535\n');
  });
});

describe('mount module (fstab only)', () => {
  it('manages the fstab entry with present/absent and shows a diff', async () => {
    const fstab = path.join(tmp(), 'fstab');
    writeFileSync(fstab, 'UUID=abc / ext4 defaults 0 1\n');
    const args = { path: '/mnt/obr-shared', src: 'storage1:/srv/export', fstype: 'nfs4', opts: 'rw,hard', state: 'present' as const, fstab };
    const checked = await mountModule.run(args, await localContext({ check: true, diff: true }));
    expect(checked.changed).toBe(true);
    expect(checked.diff?.[0]?.after).toContain('storage1:/srv/export\t/mnt/obr-shared\tnfs4\trw,hard\t0\t0');
    expect(readFileSync(fstab, 'utf8')).toBe('UUID=abc / ext4 defaults 0 1\n');
    expect((await mountModule.run(args, await localContext())).changed).toBe(true);
    expect((await mountModule.run(args, await localContext())).changed).toBe(false);
    expect((await mountModule.run({ ...args, opts: 'rw,soft' }, await localContext())).changed).toBe(true);
    expect(readFileSync(fstab, 'utf8').match(/obr-shared/g)).toHaveLength(1);
    expect((await mountModule.run({ path: '/mnt/obr-shared', state: 'absent', fstab }, await localContext())).changed).toBe(true);
    expect(readFileSync(fstab, 'utf8')).toBe('UUID=abc / ext4 defaults 0 1\n');
  });
});
