import { describe, expect, it } from 'vitest';
import { UnreachableError } from '../../src/errors.js';
import { ConnectionPool, connectionSpecOf } from '../../src/run/connections.js';
import { createScriptedTransport } from '../support/scripted-transport.js';

describe('connectionSpecOf', () => {
  it('maps Ansible connection variables', () => {
    const spec = connectionSpecOf('km1', {
      ansible_host: '10.0.0.5',
      ansible_port: '2222',
      ansible_user: 'wso2',
      ansible_ssh_private_key_file: '/k',
      ansible_ssh_known_hosts_file: '/kh',
      ansible_ssh_common_args: '-o ProxyJump=bastion',
    });
    expect(spec).toMatchObject({ name: 'km1', connection: 'ssh', host: '10.0.0.5', port: 2222, user: 'wso2', privateKeyFile: '/k', knownHostsFiles: ['/kh'], commonArgs: '-o ProxyJump=bastion' });
    // A localhost the inventory lists is an ordinary host (ssh) unless it sets a connection, as in 2.14.
    expect(connectionSpecOf('localhost', {}).connection).toBe('ssh');
    expect(connectionSpecOf('localhost', { ansible_connection: 'local' }).connection).toBe('local');
    expect(connectionSpecOf('web', {}, 'local').connection).toBe('local');
    expect(connectionSpecOf('web', { ansible_connection: 'ssh' }, 'local').connection).toBe('ssh');
    expect(connectionSpecOf('x', {}).port).toBe(22);
  });
});

describe('ConnectionPool', () => {
  it('connects once per host, caches a failure as unreachable, closes all', async () => {
    const t = createScriptedTransport({ connectFail: { bad: 'refused' } });
    const pool = new ConnectionPool({ scripted: t }, (h) => ({ ...connectionSpecOf(h, { ansible_connection: 'scripted' }) }));
    const [c1, c2] = await Promise.all([pool.get('good'), pool.get('good')]);
    expect(c1).toBe(c2);
    await expect(pool.get('bad')).rejects.toBeInstanceOf(UnreachableError);
    await expect(pool.get('bad')).rejects.toThrow(/refused/);
    expect(t.connects).toEqual(['good', 'bad']);
    await pool.closeAll();
    expect(t.closed).toEqual(['good']);
  });
  it('an unknown ansible_connection makes the host unreachable with a clear message', async () => {
    const pool = new ConnectionPool({}, (h) => connectionSpecOf(h, { ansible_connection: 'winrm' }));
    await expect(pool.get('w')).rejects.toThrow(/no transport for ansible_connection 'winrm'/);
  });
});
