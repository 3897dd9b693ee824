import { describe, expect, it } from 'vitest';
import { createLocalTransport } from '../../src/transport/local.js';
import { buildFacts, parseJavaVersion, setupModule } from '../../src/modules/setup.js';
import type { ModuleContext } from '../../src/modules/types.js';

async function ctx(): Promise<ModuleContext> {
  const conn = await createLocalTransport().connect({ name: 'localhost', connection: 'local', host: 'localhost', port: 22, vars: {} });
  return {
    host: 'localhost', conn, check: false, diff: false, vars: {},
    findFile: (_k, n) => n, render: (t) => t, log: () => undefined,
  };
}

describe('setup module', () => {
  it('gathers the controller facts in one exec', async () => {
    const r = await setupModule.run({}, await ctx());
    const f = r.ansible_facts as Record<string, any>;
    expect(r.changed).toBe(false);
    expect(f.ansible_os_family).toBe('Debian');
    expect(f.ansible_distribution).toBe('Debian');
    expect(f.ansible_distribution_major_version).toBe('12');
    expect(f.ansible_memtotal_mb).toBeGreaterThan(100);
    expect(f.ansible_processor_vcpus).toBeGreaterThanOrEqual(1);
    expect(f.ansible_mounts.find((m: any) => m.mount === '/')).toMatchObject({ mount: '/' });
    expect(f.ansible_mounts.find((m: any) => m.mount === '/').size_total).toBeGreaterThan(0);
    expect(f.ansible_hostname).not.toBe('');
    expect(f.ansible_kernel).toMatch(/^\d+\./);
    expect(f.ansible_user_id).toBe('root');
  });

  it('filters facts by glob', async () => {
    const r = await setupModule.run({ filter: 'ansible_mem*' }, await ctx());
    expect(Object.keys(r.ansible_facts as object).sort()).toEqual(['ansible_memavailable_mb', 'ansible_memfree_mb', 'ansible_memtotal_mb']);
  });

  it('parses java versions of both numbering schemes', () => {
    expect(parseJavaVersion(['openjdk version "1.8.0_151"', 'OpenJDK Runtime Environment'])).toEqual({ version: '1.8.0_151', major: 8, vendor: 'OpenJDK' });
    expect(parseJavaVersion(['openjdk version "17.0.15" 2025-04-15'])?.major).toBe(17);
    expect(parseJavaVersion(['bash: java: not found'])).toBeUndefined();
  });

  it('builds facts from a probe of another system', () => {
    const text = [
      '@@hostname', 'node1', '@@fqdn', 'node1.bank.local', '@@osrelease', 'ID=rocky', 'ID_LIKE="rhel centos fedora"', 'VERSION_ID="9.3"',
      '@@init', 'systemd', '@@meminfo', 'MemTotal:        4042240 kB', 'MemFree:         1024000 kB',
      '@@route', '1.1.1.1 via 10.0.0.1 dev ens3 src 10.0.0.5 uid 0', '@@addrs', '2: ens3    inet 10.0.0.5/24 brd 10.0.0.255 scope global ens3',
      '@@java', 'path=/opt/java/jdk8/bin/java', 'java version "1.8.0_402"', 'Java(TM) SE Runtime Environment', '@@end',
    ].join('\n');
    const f = buildFacts(text);
    expect(f).toMatchObject({
      ansible_hostname: 'node1', ansible_fqdn: 'node1.bank.local', ansible_os_family: 'RedHat', ansible_distribution: 'Rocky',
      ansible_distribution_major_version: '9', ansible_service_mgr: 'systemd', ansible_memtotal_mb: 3947,
      ansible_default_ipv4: { address: '10.0.0.5', interface: 'ens3', gateway: '10.0.0.1' },
      ansible_java: { present: true, version: '1.8.0_402', major: 8, path: '/opt/java/jdk8/bin/java' },
    });
  });
});
