// Whether the live view can be used, decided without loading it (a run in CI or a pipe never needs it).

/**
 * Live view only when it can work: a TTY that is not CI and has a width (a pty without a window
 * size reports 0 columns, and the view could not fit its lines to it).
 */
export function liveViewSupported(stream: { isTTY?: boolean; columns?: number } = process.stdout, env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(stream.isTTY) && !env.CI && stream.columns !== 0;
}
