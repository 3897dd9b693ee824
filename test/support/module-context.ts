// A ModuleContext on the local connection, for module tests against real files on the controller.
import nunjucks from 'nunjucks';
import { createLocalTransport } from '../../src/transport/local.js';
import type { ModuleContext } from '../../src/modules/types.js';

export async function localContext(over: Partial<ModuleContext> = {}): Promise<ModuleContext> {
  const conn = await createLocalTransport().connect({ name: 'localhost', connection: 'local', host: 'localhost', port: 22, vars: {} });
  const env = new nunjucks.Environment(null, { autoescape: false, throwOnUndefined: true });
  return {
    host: 'localhost',
    conn,
    check: false,
    diff: false,
    vars: {},
    findFile: (_kind, name) => name,
    render: (t, vars) => env.renderString(t, vars ?? {}),
    log: () => undefined,
    ...over,
  };
}
