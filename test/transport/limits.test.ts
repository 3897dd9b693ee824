// System limit messages (src/transport/limits.ts): which failures are a limit, and what the message says.
// The EMFILE error is a real one, made by a child process under a low `ulimit -n`.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ObiamError, UnreachableError } from '../../src/errors.js';
import { MAX_STARTUPS_HINT, openFileLimit, systemLimitError } from '../../src/transport/limits.js';

/** The error Node gives when a process runs out of descriptors, from a child under ulimit -n 20. */
function realEmfile(): NodeJS.ErrnoException {
  const js = "const fs=require('fs');try{for(;;)fs.openSync('/dev/null','r')}catch(e){console.log(JSON.stringify({code:e.code,errno:e.errno,syscall:e.syscall,message:e.message}))}";
  const out = execFileSync('sh', ['-c', 'ulimit -n 20 && exec "$0" -e "$1"', process.execPath, js], { encoding: 'utf8' });
  const f = JSON.parse(out) as { code: string; errno: number; syscall: string; message: string };
  return Object.assign(new Error(f.message), f);
}

describe('openFileLimit', () => {
  it('reads soft and hard Max open files from /proc/self/limits text', () => {
    const text = 'Limit                     Soft Limit           Hard Limit           Units\nMax open files            1024                 524288               files\n';
    expect(openFileLimit(text)).toEqual({ soft: 1024, hard: 524288 });
    expect(openFileLimit('Max open files            unlimited            unlimited            files')).toEqual({ soft: Infinity, hard: Infinity });
    expect(openFileLimit('nothing here')).toBeUndefined();
    const own = openFileLimit();
    expect(own?.soft).toBeGreaterThan(0);
  });
});

describe('systemLimitError', () => {
  it('EMFILE (also as the cause of a connect error): E_SYS_LIMIT naming ulimit -n, its value and the remedy', () => {
    const emfile = realEmfile();
    expect(emfile.code).toBe('EMFILE');
    const wrapped = new UnreachableError('node7', 'cannot connect to root@10.0.0.7:22: EMFILE', { cause: emfile });
    for (const e of [emfile, wrapped]) {
      const l = systemLimitError('node7', 'connecting', e, { soft: 1024, hard: 1024 });
      expect(l).toBeInstanceOf(UnreachableError);
      expect(l?.code).toBe('E_SYS_LIMIT');
      expect(l?.host).toBe('node7');
      expect(l?.message).toBe('connecting: too many open files on the controller: the open-file limit (ulimit -n) (now 1024) is reached');
      expect(l?.remedy).toBe(
        'raise it before the run (ulimit -n 4096, after raising the hard limit: nofile in /etc/security/limits.conf, or LimitNOFILE= in a systemd unit), or run fewer hosts at once with --forks; each host needs about 3 descriptors',
      );
    }
    expect(systemLimitError('h', 'connecting', emfile, { soft: 2048, hard: 65536 })?.message).toMatch(/\(now 2048, hard limit 65536\)/);
    expect(systemLimitError('h', 'connecting', emfile, { soft: 2048, hard: 65536 })?.remedy).toMatch(/^raise it before the run \(ulimit -n 8192, or LimitNOFILE/);
  });

  it('ENFILE names fs.file-max', () => {
    const e = Object.assign(new Error('ENFILE: file table overflow'), { code: 'ENFILE' });
    const l = systemLimitError('h', 'starting /usr/bin/ssh', e);
    expect(l?.code).toBe('E_SYS_LIMIT');
    expect(l?.message).toMatch(/fs\.file-max/);
    expect(l?.remedy).toMatch(/sysctl -w fs\.file-max/);
  });

  it('a channel the server refuses (as ssh2 reports OpenSSH MaxSessions) names MaxSessions; other failures are no limit', () => {
    const refused = Object.assign(new Error('(SSH) Channel open failure: open failed'), { reason: 1 });
    const l = systemLimitError('db1', 'opening a channel', refused);
    expect(l).toBeInstanceOf(ObiamError);
    expect(l).not.toBeInstanceOf(UnreachableError);
    expect(l?.message).toBe("opening a channel on db1: the host refused another session channel: its sshd's MaxSessions (sessions per connection, OpenSSH default 10) is reached");
    expect(l?.remedy).toMatch(/raise MaxSessions/);
    expect(systemLimitError('h', 'connecting', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).toBeUndefined();
    expect(systemLimitError('h', 'connecting', new Error('All configured authentication methods failed'))).toBeUndefined();
    expect(systemLimitError('h', 'connecting', undefined)).toBeUndefined();
  });

  it('the MaxStartups hint names the limit and the remedy', () => {
    expect(MAX_STARTUPS_HINT).toMatch(/MaxStartups/);
    expect(MAX_STARTUPS_HINT).toMatch(/raise it in sshd_config|--forks/);
  });
});
