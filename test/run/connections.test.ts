import { describe, expect, it } from 'vitest';
import { UnreachableError } from '../../src/errors.js';
import { ConnectionPool, connectionSpecOf } from '../../src/run/connections.js';
import type { ConnectionSpec, Transport } from '../../src/transport/types.js';
import { inventory, play, playbook, runTest, task } from '../support/build.js';
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

describe('the connection of a run', () => {
  // A transport that records the spec of each connection and hands it to the scripted one.
  function spying(): { specs: ConnectionSpec[]; transport: Transport; scripted: ReturnType<typeof createScriptedTransport> } {
    const scripted = createScriptedTransport({});
    const specs: ConnectionSpec[] = [];
    return { specs, scripted, transport: { name: 'spy', connect: (s, signal, log) => (specs.push(s), scripted.connect(s, signal, log)) } };
  }
  const pb = playbook([play({ hosts: 'all', tasks: [task('command', { argv: ['true'] }, { name: 'run' })] })]);

  it('-e wins over the inventory for connection variables (ansible_ssh_known_hosts_file, ansible_connection)', async () => {
    const s = spying();
    const inv = inventory({ h1: { ansible_connection: 'ssh', ansible_ssh_known_hosts_file: '/inventory/known_hosts', ansible_user: 'inv' } });
    const r = await runTest(pb, inv, s.scripted, { extraVars: { ansible_connection: 'spy', ansible_ssh_known_hosts_file: '/cli/known_hosts' } }, { spy: s.transport });
    expect(r.exitCode).toBe(0);
    expect(s.specs.map((x) => [x.connection, x.knownHostsFiles, x.user])).toEqual([['spy', ['/cli/known_hosts'], 'inv']]);
  });

  it('-c is the connection of hosts that set none; a host var wins over it', async () => {
    const s = spying();
    const inv = inventory({ bare: {}, own: { ansible_connection: 'scripted' } });
    delete inv.hosts.get('bare')!.vars.ansible_connection; // the helper gives every host the scripted connection
    const r = await runTest(pb, inv, s.scripted, { connection: 'spy' }, { spy: s.transport });
    expect(r.exitCode).toBe(0);
    expect(s.specs.map((x) => x.name)).toEqual(['bare']);
    expect(s.scripted.connects.sort()).toEqual(['bare', 'own']);
  });
});
