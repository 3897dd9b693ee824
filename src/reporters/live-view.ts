// Whether the listr2 live view can be used, decided without loading listr2 (a run in CI or a pipe never needs it).

/**
 * Live view only when it can work: a TTY that is not CI (listr2 itself never checks CI) and has a
 * width (a pty without a window size reports 0 columns, and listr2 would truncate every line away).
 */
export function liveViewSupported(stream: { isTTY?: boolean; columns?: number } = process.stdout, env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(stream.isTTY) && !env.CI && stream.columns !== 0;
}
