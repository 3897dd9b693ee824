// command: runs a program with its arguments, without a shell (every word is quoted, nothing expands).
import { EXIT, ObiamError } from '../errors.js';
import { COMMON_PROPERTIES, runCommandLike, splitWords, type CommandLikeArgs } from './command-common.js';
import { shq, type ModuleDef } from './types.js';

interface CommandArgs extends CommandLikeArgs {
  argv?: string[];
}

export const commandModule: ModuleDef<CommandArgs> = {
  name: 'command',
  aliases: ['ansible.builtin.command'],
  freeForm: true,
  supportsCheck: true,
  schema: {
    type: 'object',
    properties: { ...COMMON_PROPERTIES, argv: { type: 'array', items: { type: ['string', 'number'] }, minItems: 1 } },
    additionalProperties: false,
  },
  async run(args, ctx) {
    const given = [args._raw_params, args.cmd, args.argv].filter((x) => x !== undefined).length;
    if (given !== 1) {
      throw new ObiamError('E_COMMAND_ARGS', given === 0 ? 'command: no command given' : 'command: give only one of the free-form command, cmd or argv', {
        exitCode: EXIT.HOST_FAILED,
        remedy: 'use `command: prog arg` or `command: {argv: [prog, arg]}`',
      });
    }
    let argv: string[];
    try {
      argv = args.argv ? args.argv.map(String) : splitWords(String(args._raw_params ?? args.cmd));
    } catch (e) {
      throw new ObiamError('E_COMMAND_ARGS', `command: ${(e as Error).message}`, { exitCode: EXIT.HOST_FAILED });
    }
    if (argv.length === 0) throw new ObiamError('E_COMMAND_ARGS', 'command: no command given', { exitCode: EXIT.HOST_FAILED });
    return runCommandLike(args, ctx, argv.map(shq).join(' '), argv, argv[0]);
  },
};
