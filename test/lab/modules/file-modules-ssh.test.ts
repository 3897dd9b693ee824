// The file-content modules over the real SSH transport against a loopback sshd this suite starts:
// a 24 MiB copy (streamed putFile/SFTP, then skipped by the remote sha1), and template + lineinfile
// as a non-root login user with sudo (become) into a root-only directory.
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import nunjucks from 'nunjucks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyModule } from '../../../src/modules/copy.js';
import { lineinfileModule } from '../../../src/modules/lineinfile.js';
import { statModule } from '../../../src/modules/stat.js';
import { templateModule } from '../../../src/modules/template.js';
import type { ModuleContext } from '../../../src/modules/types.js';
import { createSshTransport } from '../../../src/transport/ssh.js';
import type { Connection } from '../../../src/transport/types.js';
import type { BecomeOptions } from '../../../src/types.js';
import { startSshd, type Sshd } from '../transport/sshd-fixture.js';

const PW = 'obr-pw-4711';
let work: string;
let sshd: Sshd;
let conn: Connection;

function ctx(over: Partial<ModuleContext> = {}): ModuleContext {
  const env = new nunjucks.Environment(null, { autoescape: false, throwOnUndefined: true });
  return {
    host: 'loop',
    conn,
    check: false,
    diff: false,
    vars: {},
    findFile: (kind, name) => path.join(work, kind, name),
    render: (t, vars) => env.renderString(t, vars ?? {}),
    log: () => undefined,
    ...over,
  };
}

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'obr-modlab-'));
  sshd = await startSshd({ sudoUser: { name: 'obrfiles', password: PW } });
  const kh = path.join(work, 'known_hosts');
  writeFileSync(kh, `${sshd.knownHostsLine()}\n`);
  const t = createSshTransport({ knownHostsFiles: [kh], sshConfigFile: path.join(work, 'no-config'), connectRetries: 0 });
  conn = await t.connect({ name: 'loop', connection: 'ssh', host: '127.0.0.1', port: sshd.port, user: 'obrfiles', privateKeyFile: sshd.clientKey, vars: {} });
});
afterAll(async () => {
  await conn?.close();
  await sshd?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('file modules over SSH', () => {
  it('copies a 24 MiB file (streamed), skips it by remote checksum on the second run', async () => {
    mkdirSync(path.join(work, 'files'), { recursive: true });
    const big = randomBytes(24 * 1024 * 1024);
    writeFileSync(path.join(work, 'files', 'big.bin'), big);
    const dir = (await conn.exec('d=$(mktemp -d /tmp/obr-modlab-XXXXXX) && echo "$d"')).stdout.trim();
    const dest = `${dir}/big.bin`;
    const t0 = performance.now();
    const r1 = await copyModule.run({ src: 'big.bin', dest: `${dir}/`, mode: '0640' }, ctx());
    const t1 = performance.now();
    const r2 = await copyModule.run({ src: 'big.bin', dest: `${dir}/`, mode: '0640' }, ctx());
    const t2 = performance.now();
    console.log(`[copy over ssh] 24 MiB first run ${(t1 - t0).toFixed(0)} ms, unchanged re-run ${(t2 - t1).toFixed(0)} ms`);
    const sum = createHash('sha1').update(big).digest('hex');
    expect(r1).toMatchObject({ changed: true, dest, checksum: sum, size: big.length, mode: '0640', owner: 'obrfiles' });
    expect(r2).toMatchObject({ changed: false, checksum: sum });
    // The sshd shares this machine's file system: the bytes are checkable here.
    expect(createHash('sha1').update(readFileSync(dest)).digest('hex')).toBe(sum);
    expect((await conn.exec(`ls -A ${dir}`)).stdout).toBe('big.bin\n');
    await conn.exec(`rm -rf ${dir}`);
  });

  it('template and lineinfile with become (sudo with a password) into a root-only directory', async () => {
    const become: BecomeOptions = { method: 'sudo', user: 'root', password: PW };
    const dir = (await conn.exec('d=$(mktemp -d /tmp/obr-modlab-root-XXXXXX) && chmod 700 "$d" && echo "$d"', { become })).stdout.trim();
    mkdirSync(path.join(work, 'templates'), { recursive: true });
    writeFileSync(path.join(work, 'templates', 'km.conf.j2'), 'node={{ node }}\nport=9443\n');
    const dest = `${dir}/km.conf`;
    const c = (o: Partial<ModuleContext> = {}) => ctx({ become, vars: { node: 'km1' }, ...o });
    // Without become the login user cannot even look.
    await expect(copyModule.run({ content: 'x', dest }, ctx())).rejects.toThrow();

    const t1 = await templateModule.run({ src: 'km.conf.j2', dest, mode: '0600', owner: 'root' }, c());
    expect(t1).toMatchObject({ changed: true, owner: 'root', mode: '0600' });
    expect((await templateModule.run({ src: 'km.conf.j2', dest, mode: '0600', owner: 'root' }, c())).changed).toBe(false);

    const li = { path: dest, regexp: '^port=', line: 'port=9444' };
    const chk = await lineinfileModule.run(li, c({ check: true, diff: true }));
    expect(chk.diff?.[0]).toMatchObject({ before: 'node=km1\nport=9443\n', after: 'node=km1\nport=9444\n' });
    expect(readFileSync(dest, 'utf8')).toBe('node=km1\nport=9443\n');
    expect((await lineinfileModule.run(li, c())).changed).toBe(true);
    expect((await lineinfileModule.run(li, c())).changed).toBe(false);
    expect(readFileSync(dest, 'utf8')).toBe('node=km1\nport=9444\n');
    expect(statSync(dest).uid).toBe(0);
    expect((statSync(dest).mode & 0o777).toString(8)).toBe('600');
    const st = await statModule.run({ path: dest }, c());
    expect(st.stat).toMatchObject({ exists: true, owner: 'root', mode: '0600', checksum: createHash('sha1').update('node=km1\nport=9444\n').digest('hex') });
    await conn.exec(`rm -rf ${dir}`, { become });
  });
});
