// shell: runs a command line through a shell (/bin/sh unless `executable` says otherwise).
import { EXIT, ObiamError } from '../errors.js';
import { COMMON_PROPERTIES, runCommandLike, type CommandLikeArgs } from './command-common.js';
import { shq, type ModuleDef } from './types.js';

interface ShellArgs extends CommandLikeArgs {
  executable?: string;
}

export const shellModule: ModuleDef<ShellArgs> = {
  name: 'shell',
  aliases: ['ansible.builtin.shell'],
  freeForm: true,
  supportsCheck: true,
  schema: {
    type: 'object',
    properties: { ...COMMON_PROPERTIES, executable: { type: 'string' } },
    additionalProperties: false,
  },
  async run(args, ctx) {
    const line = args._raw_params ?? args.cmd;
    if (line === undefined || (args._raw_params !== undefined && args.cmd !== undefined)) {
      throw new ObiamError('E_SHELL_ARGS', line === undefined ? 'shell: no command given' : 'shell: give either the free-form command or cmd, not both', {
        exitCode: EXIT.HOST_FAILED,
        remedy: 'use `shell: some | pipeline`',
      });
    }
    // The command line goes to its own shell process so it cannot disturb the connection's wrapper script.
    const sh = args.executable ?? '/bin/sh';
    return runCommandLike(args, ctx, `${shq(sh)} -c ${shq(line)}`, line, sh);
  },
};
