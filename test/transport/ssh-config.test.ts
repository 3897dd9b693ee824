import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ObiamError } from '../../src/errors.js';
import { loadSshConfig, parseCommonArgs, parseProxyJump, resolveTarget, splitArgs } from '../../src/transport/ssh-config.js';
import type { ConnectionSpec } from '../../src/transport/types.js';

let dir: string;
let cfgFile: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'obr-sshcfg-'));
  cfgFile = path.join(dir, 'config');
  writeFileSync(
    cfgFile,
    [
      'Host km1',
      '  HostName 10.9.0.11',
      '  Port 2201',
      '  User wso2',
      '  IdentityFile ~/.ssh/km_%h',
      '  ProxyJump bastion',
      'Host bastion',
      '  HostName 10.9.0.2',
      '  User jump',
      '  Port 2022',
      '  IdentityFile /keys/bastion',
      'Host legacy',
      '  ProxyCommand nc %h %p',
      'Host *',
      '  UserKnownHostsFile ~/.ssh/known_hosts_lab',
      '  ServerAliveInterval 5',
    ].join('\n'),
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const spec = (over: Partial<ConnectionSpec> = {}): ConnectionSpec => ({
  name: 'km1',
  connection: 'ssh',
  host: 'km1',
  port: 22,
  vars: {},
  ...over,
});

describe('ssh config', () => {
  it('fills HostName, Port, User, IdentityFile (with ~ and %h), ProxyJump and known hosts', () => {
    const t = resolveTarget(spec(), loadSshConfig(cfgFile));
    expect(t).toMatchObject({ host: '10.9.0.11', port: 2201, user: 'wso2', keepaliveIntervalMs: 5000 });
    expect(t.identityFiles).toEqual([path.join(homedir(), '.ssh', 'km_10.9.0.11')]);
    expect(t.knownHostsFiles).toEqual([path.join(homedir(), '.ssh', 'known_hosts_lab')]);
    // The hop gets its own config entry.
    expect(t.jumps).toEqual([{ host: '10.9.0.2', port: 2022, user: 'jump', identityFiles: ['/keys/bastion'] }]);
  });

  it('inventory vars win over ssh config', () => {
    const t = resolveTarget(
      spec({
        vars: { ansible_host: '192.0.2.5', ansible_port: 2300, ansible_user: 'ops', ansible_ssh_private_key_file: '/k/ops', ansible_ssh_known_hosts_file: '/k/kh' },
      }),
      loadSshConfig(cfgFile),
    );
    expect(t).toMatchObject({ host: '192.0.2.5', port: 2300, user: 'ops', identityFiles: ['/k/ops'] });
    expect(t.knownHostsFiles).toEqual(['/k/kh', path.join(homedir(), '.ssh', 'known_hosts_lab')]);
  });

  it('a missing config file means defaults', () => {
    const t = resolveTarget(spec({ host: 'h', port: 22 }), loadSshConfig(path.join(dir, 'nope')));
    expect(t).toMatchObject({ host: 'h', port: 22, user: userInfo().username, identityFiles: [], jumps: [] });
  });

  it('ProxyCommand is refused with a remedy', () => {
    expect(() => resolveTarget(spec({ name: 'legacy', host: 'legacy' }), loadSshConfig(cfgFile))).toThrowError(/ProxyCommand is not supported/);
  });
});

describe('ansible_ssh_common_args', () => {
  it('splits like a shell', () => {
    expect(splitArgs(`-o 'ProxyJump=a b' -J "x\\"y" z\\ w`)).toEqual(['-o', 'ProxyJump=a b', '-J', 'x"y', 'z w']);
  });
  it('reads -o ProxyJump=, -J, -o Key Value, -p, -l, -i', () => {
    expect(parseCommonArgs('-o ProxyJump=ops@bastion:2222').proxyJump).toBe('ops@bastion:2222');
    expect(parseCommonArgs('-J b1,b2 -o ControlMaster=auto').proxyJump).toBe('b1,b2');
    expect(parseCommonArgs('-Jb1').proxyJump).toBe('b1');
    const a = parseCommonArgs('-o "UserKnownHostsFile /tmp/kh" -oStrictHostKeyChecking=accept-new -p 2200 -l u -i /k');
    expect(a.options).toMatchObject({ userknownhostsfile: '/tmp/kh', stricthostkeychecking: 'accept-new' });
    expect(a).toMatchObject({ port: 2200, user: 'u', identityFiles: ['/k'] });
  });
  it('ProxyCommand is an error with a remedy naming ProxyJump', () => {
    let err: unknown;
    try {
      parseCommonArgs('-o ProxyCommand="ssh -W %h:%p bastion"');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ObiamError);
    expect((err as ObiamError).code).toBe('E_SSH_PROXYCOMMAND');
    expect((err as ObiamError).remedy).toMatch(/ProxyJump/);
  });
  it('common args win over ssh config; accept-new is honoured, "no" is recorded as ignored', () => {
    const t = resolveTarget(
      spec({ commonArgs: '-o ProxyJump=ops@10.1.1.1:2022,jump2 -o StrictHostKeyChecking=accept-new' }),
      loadSshConfig(cfgFile),
    );
    expect(t.jumps.map((j) => `${j.user}@${j.host}:${j.port}`)).toEqual([`ops@10.1.1.1:2022`, `${userInfo().username}@jump2:22`]);
    expect(t.hostKeyPolicy).toBe('accept-new');
    const n = resolveTarget(spec({ vars: { ansible_ssh_common_args: '-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null' } }), loadSshConfig(cfgFile));
    expect(n.hostKeyPolicy).toBeUndefined();
    expect(n.ignoredOptions).toEqual(['StrictHostKeyChecking=no', 'UserKnownHostsFile=/dev/null']);
  });
  it('parses ProxyJump hop forms', () => {
    expect(parseProxyJump('a@h1:2200,h2,[fe80::1]:22,ssh://u@h3:23')).toEqual([
      { host: 'h1', port: 2200, user: 'a' },
      { host: 'h2', port: undefined, user: undefined },
      { host: 'fe80::1', port: 22, user: undefined },
      { host: 'h3', port: 23, user: 'u' },
    ]);
    expect(parseProxyJump('none')).toEqual([]);
    expect(() => parseProxyJump('h:99999')).toThrow(/invalid ProxyJump/);
  });
});
