// uri: an HTTP(S) request made FROM THE TARGET (like Ansible) with curl, in one exec. Health
// checks and load-balancer checks go through it; delegate_to: localhost makes it controller-side.
import { shq, type ModuleDef, type ModuleResult } from './types.js';
import { fail } from './lib/fail.js';

interface UriArgs {
  url: string;
  method?: string;
  body?: unknown;
  body_format?: 'raw' | 'json' | 'form-urlencoded';
  headers?: Record<string, string>;
  status_code?: number | number[];
  return_content?: boolean;
  validate_certs?: boolean;
  timeout?: number;
  follow_redirects?: 'all' | 'none' | 'safe' | 'yes' | 'no' | boolean;
  url_username?: string;
  url_password?: string;
  force_basic_auth?: boolean;
  ca_path?: string;
  unix_socket?: string;
}

export function uriScript(a: UriArgs): { script: string; stdin?: string } {
  const args: string[] = ['-sS', '-o', '"$b"', '-D', '"$h"', '-w', shq('%{http_code} %{num_redirects} %{url_effective}')];
  args.push('-X', shq((a.method ?? 'GET').toUpperCase()));
  args.push('--max-time', String(a.timeout ?? 30));
  if (a.validate_certs === false) args.push('-k');
  if (a.ca_path) args.push('--cacert', shq(a.ca_path));
  const follow = a.follow_redirects ?? 'safe';
  if (follow !== 'none' && follow !== 'no' && follow !== false) args.push('-L');
  if (a.url_username !== undefined) args.push('-u', shq(`${a.url_username}:${a.url_password ?? ''}`));
  if (a.unix_socket) args.push('--unix-socket', shq(a.unix_socket));
  const headers = { ...(a.headers ?? {}) };
  let stdin: string | undefined;
  if (a.body !== undefined) {
    const fmt = a.body_format ?? 'raw';
    if (fmt === 'json') {
      stdin = typeof a.body === 'string' ? a.body : JSON.stringify(a.body);
      if (!Object.keys(headers).some((k) => k.toLowerCase() === 'content-type')) headers['Content-Type'] = 'application/json';
    } else if (fmt === 'form-urlencoded') {
      stdin = typeof a.body === 'string' ? a.body : new URLSearchParams(a.body as Record<string, string>).toString();
      if (!Object.keys(headers).some((k) => k.toLowerCase() === 'content-type')) headers['Content-Type'] = 'application/x-www-form-urlencoded';
    } else stdin = String(a.body);
    args.push('--data-binary', '@-');
  }
  for (const [k, v] of Object.entries(headers)) args.push('-H', shq(`${k}: ${v}`));
  args.push('--', shq(a.url));
  const script = `command -v curl >/dev/null 2>&1 || { echo "uri needs curl on the target" >&2; exit 127; }
t=$(mktemp -d) || exit 1; b="$t/body"; h="$t/headers"
m=$(curl ${args.join(' ')}${stdin === undefined ? ' </dev/null' : ''}); rc=$?
echo "@@meta $rc $m"; echo @@headers; cat "$h" 2>/dev/null; echo @@body; cat "$b" 2>/dev/null; rm -rf "$t"`;
  return { script, stdin };
}

export function parseUriOutput(out: string): { rc: number; status: number; redirects: number; url: string; headers: Record<string, string>; setCookies: string[]; body: string } {
  const meta = /^@@meta (\d+) (\d+) (\d+) (.*)$/m.exec(out);
  const hStart = out.indexOf('\n@@headers\n');
  const bStart = out.indexOf('\n@@body\n');
  const rawHeaders = hStart >= 0 && bStart > hStart ? out.slice(hStart + 11, bStart) : '';
  // With redirects curl writes every response's headers; the last block is the final response.
  const blocks = rawHeaders.split(/\r?\n\r?\n/).filter((b) => /^HTTP\//.test(b.trim()));
  const last = blocks.length > 0 ? blocks[blocks.length - 1]!.trim() : '';
  const headers: Record<string, string> = {};
  const setCookies: string[] = [];
  for (const line of last.split(/\r?\n/).slice(1)) {
    const i = line.indexOf(':');
    if (i <= 0) continue;
    const k = line.slice(0, i).trim().toLowerCase();
    const v = line.slice(i + 1).trim();
    if (k === 'set-cookie') setCookies.push(v);
    headers[k.replace(/-/g, '_')] = headers[k.replace(/-/g, '_')] !== undefined ? `${headers[k.replace(/-/g, '_')]}, ${v}` : v;
  }
  return {
    rc: meta ? Number(meta[1]) : -1,
    status: meta ? Number(meta[2]) : -1,
    redirects: meta ? Number(meta[3]) : 0,
    url: meta ? meta[4]! : '',
    headers,
    setCookies,
    body: bStart >= 0 ? out.slice(bStart + 8) : '',
  };
}

export const uriModule: ModuleDef<UriArgs> = {
  name: 'uri',
  aliases: ['ansible.builtin.uri'],
  supportsCheck: true,
  schema: {
    type: 'object',
    properties: {
      url: { type: 'string' },
      method: { type: 'string' },
      body: {},
      body_format: { enum: ['raw', 'json', 'form-urlencoded'] },
      headers: { type: 'object', additionalProperties: { type: ['string', 'number', 'boolean'] } },
      status_code: { anyOf: [{ type: 'integer' }, { type: 'array', items: { type: 'integer' } }] },
      return_content: { type: 'boolean' },
      validate_certs: { type: 'boolean' },
      timeout: { type: 'integer', minimum: 1 },
      follow_redirects: { enum: ['all', 'none', 'safe', 'yes', 'no', true, false] },
      url_username: { type: 'string' },
      url_password: { type: 'string' },
      force_basic_auth: { type: 'boolean' },
      ca_path: { type: 'string' },
      unix_socket: { type: 'string' },
    },
    required: ['url'],
    additionalProperties: false,
  },
  async run(args, ctx) {
    const method = (args.method ?? 'GET').toUpperCase();
    // A request that changes something is not sent in check mode; reads are (they change nothing).
    if (ctx.check && !['GET', 'HEAD', 'OPTIONS'].includes(method)) {
      return { changed: false, skipped: true, msg: `check mode: ${method} ${args.url} not sent` };
    }
    const { script, stdin } = uriScript(args);
    const r = await ctx.conn.exec(script, { stdin, timeoutMs: ((args.timeout ?? 30) + 10) * 1000, become: ctx.become, env: ctx.environment });
    if (r.exitCode === 127) return fail(r.stderr.trim() || 'uri needs curl on the target');
    const p = parseUriOutput(r.stdout);
    const expected = args.status_code === undefined ? [200] : Array.isArray(args.status_code) ? args.status_code : [args.status_code];
    const result: ModuleResult = {
      changed: false,
      status: p.status,
      url: p.url || args.url,
      redirected: p.redirects > 0,
      ...p.headers,
      cookies_string: p.setCookies.map((c) => c.split(';')[0]).join('; '),
      set_cookie: p.setCookies,
    };
    if (args.return_content) {
      result.content = p.body;
      if (/json/.test(p.headers.content_type ?? '')) {
        try {
          result.json = JSON.parse(p.body) as unknown;
        } catch {
          // Not JSON after all: content is still returned.
        }
      }
    }
    if (p.rc !== 0 && p.status <= 0) {
      return fail(`Status code was -1 and not ${JSON.stringify(expected)}: Request failed: curl exit ${p.rc} ${r.stderr.trim().split('\n').pop() ?? ''}`.trim(), { ...result, status: -1 });
    }
    if (!expected.includes(p.status)) {
      return fail(`Status code was ${p.status} and not ${JSON.stringify(expected)}: ${p.body.slice(0, 200)}`, result);
    }
    return result;
  },
};
