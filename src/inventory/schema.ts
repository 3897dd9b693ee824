// JSON Schemas (ajv) for the connection variables an inventory may set: a wrong type or a misspelt
// value (`ansible_connection: shh`, `ansible_port: twenty-two`) is caught when the inventory is read.
import type { JsonSchema } from '../modules/types.js';

const str = (d: string): JsonSchema => ({ type: 'string', minLength: 1, description: d });
const boolish: JsonSchema = {
  description: 'true or false (yes/no)',
  anyOf: [{ type: 'boolean' }, { type: 'string', pattern: '^([Yy]es|YES|[Nn]o|NO|[Tt]rue|TRUE|[Ff]alse|FALSE|[Oo]n|ON|[Oo]ff|OFF|1|0)$' }],
};
const port: JsonSchema = {
  description: 'a TCP port number (1-65535)',
  anyOf: [{ type: 'integer', minimum: 1, maximum: 65535 }, { type: 'string', pattern: '^[1-9][0-9]{0,4}$' }],
};
const seconds: JsonSchema = { description: 'a number of seconds', anyOf: [{ type: 'number', minimum: 0 }, { type: 'string', pattern: '^[0-9]+$' }] };

export const CONNECTION_VARS: Record<string, JsonSchema> = {
  ansible_host: str('a host name or IP address'),
  ansible_port: port,
  ansible_ssh_port: port,
  ansible_user: str('a user name'),
  ansible_ssh_user: str('a user name'),
  ansible_ssh_private_key_file: str('a path to a private key file'),
  ansible_private_key_file: str('a path to a private key file'),
  ansible_ssh_known_hosts_file: str('a path to a known_hosts file'),
  ansible_ssh_common_args: { type: 'string', description: 'ssh options as one string, e.g. "-o ProxyJump=bastion"' },
  ansible_ssh_extra_args: { type: 'string', description: 'ssh options as one string' },
  ansible_become: boolish,
  ansible_become_user: str('a user name'),
  ansible_become_method: { enum: ['sudo', 'su'], description: 'sudo or su' },
  ansible_become_password: { type: 'string', description: 'a string (keep it in the vault)' },
  ansible_ssh_pass: { type: 'string', description: 'a string (keep it in the vault)' },
  ansible_password: { type: 'string', description: 'a string (keep it in the vault)' },
  ansible_timeout: seconds,
  ansible_ssh_timeout: seconds,
  ansible_ssh_retries: { description: 'a whole number', anyOf: [{ type: 'integer', minimum: 0 }, { type: 'string', pattern: '^[0-9]+$' }] },
  ansible_python_interpreter: { type: 'string', description: 'a path (accepted, not used: targets need only POSIX sh)' },
};

/** `ansible_connection`: one of the transports the run has (ssh and local; tests add their own). */
export function connectionSchema(names: string[]): JsonSchema {
  const all = [...new Set([...names, ...(names.includes('ssh') ? ['smart', 'paramiko'] : [])])];
  return { enum: all, description: names.join(' or ') };
}
