// A real OpenSSH sshd on 127.0.0.1 with its own host keys, client key and config, for transport
// tests that must control host keys or kill the server (which the shared lab must not suffer).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface Sshd {
  dir: string;
  port: number;
  pid: number;
  /** `ssh-ed25519 AAAA...` of each host key type, by short type. */
  hostKeys: Record<string, { type: string; b64: string }>;
  clientKey: string;
  /** known_hosts line for this server's ed25519 key. */
  knownHostsLine(type?: string): string;
  /** Kills the listener and every sshd session process under it. */
  kill(): void;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

function waitForBanner(port: number, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const tryOnce = () => {
      const s = net.connect(port, '127.0.0.1');
      s.once('data', (d) => {
        s.destroy();
        if (d.toString().startsWith('SSH-')) resolve();
        else reject(new Error('not an ssh server'));
      });
      s.once('error', () => {
        s.destroy();
        if (Date.now() > end) reject(new Error(`sshd on ${port} did not start`));
        else setTimeout(tryOnce, 50);
      });
    };
    tryOnce();
  });
}

/** PIDs of a process and all its descendants. */
export function processTree(pid: number): number[] {
  const out = execFileSync('ps', ['-e', '-o', 'pid=', '-o', 'ppid='], { encoding: 'utf8' });
  const kids = new Map<number, number[]>();
  for (const l of out.trim().split('\n')) {
    const [p, pp] = l.trim().split(/\s+/).map(Number);
    kids.set(pp, [...(kids.get(pp) ?? []), p]);
  }
  const all: number[] = [];
  const walk = (p: number) => {
    all.push(p);
    for (const k of kids.get(p) ?? []) walk(k);
  };
  walk(pid);
  return all;
}

export interface SudoUser {
  name: string;
  password: string;
}

/**
 * A private mount namespace in which /etc/passwd, group, shadow and sudoers.d are bind-mounted
 * copies that add one sudo user with a password; the machine's own files are never changed.
 */
function sudoUserSetup(dir: string, u: SudoUser): string {
  const uid = 42000 + Math.floor(Math.random() * 1000);
  const home = path.join(dir, 'home');
  mkdirSync(home, { mode: 0o755 });
  execFileSync('chown', [`${uid}:${uid}`, home]);
  const hash = execFileSync('openssl', ['passwd', '-6', '-stdin'], { input: u.password + '\n', encoding: 'utf8' }).trim();
  const etc = path.join(dir, 'etc');
  mkdirSync(path.join(etc, 'sudoers.d'), { recursive: true });
  writeFileSync(path.join(etc, 'passwd'), readFileSync('/etc/passwd', 'utf8') + `${u.name}:x:${uid}:${uid}::${home}:/bin/sh\n`);
  writeFileSync(path.join(etc, 'group'), readFileSync('/etc/group', 'utf8') + `${u.name}:x:${uid}:\n`);
  writeFileSync(path.join(etc, 'shadow'), readFileSync('/etc/shadow', 'utf8') + `${u.name}:${hash}:19000:0:99999:7:::\n`, { mode: 0o640 });
  writeFileSync(path.join(etc, 'sudoers.d', 'obr'), `${u.name} ALL=(ALL:ALL) ALL\n`, { mode: 0o440 });
  const binds = ['passwd', 'group', 'shadow', 'sudoers.d'].map((f) => `mount --bind ${path.join(etc, f)} /etc/${f}`);
  return ['mount --make-rprivate /', ...binds].join(' && ');
}

export async function startSshd(opts: { keyTypes?: string[]; extraConfig?: string[]; clientKey?: string; sudoUser?: SudoUser } = {}): Promise<Sshd> {
  const dir = mkdtempSync(path.join(tmpdir(), 'obr-sshd-'));
  if (!existsSync('/run/sshd')) mkdirSync('/run/sshd', { mode: 0o755 }); // sshd's privilege separation dir
  const types = opts.keyTypes ?? ['ed25519', 'ecdsa'];
  const hostKeys: Sshd['hostKeys'] = {};
  for (const t of types) {
    const f = path.join(dir, `host_${t}`);
    execFileSync('ssh-keygen', ['-q', '-t', t, '-N', '', '-f', f]);
    const [type, b64] = readFileSync(`${f}.pub`, 'utf8').trim().split(/\s+/);
    hostKeys[t] = { type, b64 };
  }
  let clientKey = opts.clientKey;
  if (!clientKey) {
    clientKey = path.join(dir, 'client');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', clientKey]);
  }
  writeFileSync(path.join(dir, 'authorized_keys'), readFileSync(`${clientKey}.pub`), { mode: 0o644 });
  // sshd reads authorized_keys as the logging-in user: a non-root user must be able to reach it.
  if (opts.sudoUser) execFileSync('chmod', ['755', dir]);
  const port = await freePort();
  const cfg = path.join(dir, 'sshd_config');
  writeFileSync(
    cfg,
    [
      // sshd takes the first value of a keyword: the test's own settings come before the defaults.
      ...(opts.extraConfig ?? []),
      'ListenAddress 127.0.0.1',
      ...types.map((t) => `HostKey ${path.join(dir, `host_${t}`)}`),
      `PidFile ${path.join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`,
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'StrictModes no',
      'MaxSessions 10',
      'MaxStartups 100:30:200',
      'AllowTcpForwarding yes',
      'UseDNS no',
      'LogLevel ERROR',
      'Subsystem sftp /usr/lib/openssh/sftp-server',
      '',
    ].join('\n'),
  );
  const sshdArgs = ['-D', '-e', '-f', cfg, '-p', String(port)];
  const child: ChildProcess = opts.sudoUser
    ? spawn('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', `${sudoUserSetup(dir, opts.sudoUser)} && exec /usr/sbin/sshd "$@"`, 'obr-sshd', ...sshdArgs], {
        stdio: ['ignore', 'ignore', 'pipe'],
      })
    : spawn('/usr/sbin/sshd', sshdArgs, { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  const pid = child.pid!;
  try {
    await waitForBanner(port);
  } catch (e) {
    child.kill('SIGKILL');
    throw new Error(`${(e as Error).message}: ${log}`);
  }
  // Top down: the sshd holding the connection dies first, so a killed command's shell can never
  // send its exit status back in the moment between the two kills (seen under load).
  const kill = () => {
    for (const p of processTree(pid)) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  };
  return {
    dir,
    port,
    pid,
    hostKeys,
    clientKey,
    knownHostsLine: (t = 'ed25519') => `[127.0.0.1]:${port} ${hostKeys[t].type} ${hostKeys[t].b64}`,
    kill,
    stop: async () => {
      kill();
      await new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(undefined) : child.once('exit', r)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
