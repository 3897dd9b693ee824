// pause: waits for a time, or for Enter at a prompt (only with a terminal); an interrupt ends the wait.
import { createInterface } from 'node:readline';
import { EXIT, ObiamError } from '../errors.js';
import type { ModuleDef } from './types.js';
import { fail } from './lib/fail.js';

interface PauseArgs {
  seconds?: number | string;
  minutes?: number | string;
  prompt?: string;
  echo?: boolean;
}

/** Resolves after ms, or as soon as the signal aborts (returns false then). */
function wait(ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(false);
    const onAbort = (): void => {
      clearTimeout(t);
      resolve(false);
    };
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export const pauseModule: ModuleDef<PauseArgs> = {
  name: 'pause',
  aliases: ['ansible.builtin.pause'],
  controllerOnly: true,
  supportsCheck: true,
  schema: {
    type: 'object',
    properties: {
      seconds: { type: ['number', 'string'], pattern: '^\\d+(\\.\\d+)?$' },
      minutes: { type: ['number', 'string'], pattern: '^\\d+(\\.\\d+)?$' },
      prompt: { type: 'string' },
      echo: { type: 'boolean' },
    },
    additionalProperties: false,
    not: { required: ['seconds', 'minutes'] },
  },
  async run(args, ctx) {
    const start = Date.now();
    const timed = args.seconds !== undefined || args.minutes !== undefined;
    if (timed) {
      const ms = args.seconds !== undefined ? Number(args.seconds) * 1000 : Number(args.minutes) * 60_000;
      if (!Number.isFinite(ms) || ms < 0) throw new ObiamError('E_PAUSE_ARGS', 'pause: seconds/minutes must be a non-negative number', { exitCode: EXIT.HOST_FAILED });
      if (args.prompt) ctx.log(1, args.prompt);
      const done = await wait(ms, ctx.signal);
      const stop = Date.now();
      return { changed: false, start, stop, delta: Math.round((stop - start) / 1000), user_input: '', echo: args.echo ?? true, ...(done ? {} : { failed: true, msg: 'pause interrupted' }) };
    }
    if (!process.stdin.isTTY) {
      throw new ObiamError('E_PAUSE_NO_TTY', 'pause: waiting for input needs a terminal, and stdin is not one', {
        exitCode: EXIT.HOST_FAILED,
        remedy: 'give `seconds:` or `minutes:` for unattended runs',
      });
    }
    // The one interactive exception to "the engine never writes to the terminal": the operator must see the prompt.
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    try {
      const answer = await new Promise<string | undefined>((resolve) => {
        const onAbort = (): void => resolve(undefined);
        ctx.signal?.addEventListener('abort', onAbort, { once: true });
        rl.question(`${args.prompt ?? 'Press enter to continue'}: `, (a) => {
          ctx.signal?.removeEventListener('abort', onAbort);
          resolve(a);
        });
      });
      const stop = Date.now();
      if (answer === undefined) return fail('pause interrupted', { start, stop });
      return { changed: false, start, stop, delta: Math.round((stop - start) / 1000), user_input: answer, echo: args.echo ?? true };
    } finally {
      rl.close();
    }
  },
};
