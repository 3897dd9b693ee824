// Errors with stable codes, a source location and a remedy; the CLI is the one boundary that prints them.

export interface SourceLocation {
  file: string;
  line: number; // 1-based
  col: number; // 1-based
}

/** Exit codes, as ansible-playbook uses them. */
export const EXIT = {
  OK: 0,
  ERROR: 1,
  HOST_FAILED: 2,
  HOST_UNREACHABLE: 3,
  PARSE: 4,
  BAD_OPTIONS: 5,
  INTERRUPTED: 99,
  INTERNAL: 250,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export interface ErrorOptions {
  location?: SourceLocation;
  remedy?: string;
  exitCode?: ExitCode;
  host?: string;
  cause?: unknown;
}

/** A user-facing error: bad input, a refused host, a failed precondition. Never printed with a stack. */
export class ObiamError extends Error {
  readonly code: string;
  readonly location?: SourceLocation;
  readonly remedy?: string;
  readonly exitCode: ExitCode;
  readonly host?: string;

  constructor(code: string, message: string, opts: ErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'ObiamError';
    this.code = code;
    this.location = opts.location;
    this.remedy = opts.remedy;
    this.exitCode = opts.exitCode ?? EXIT.ERROR;
    this.host = opts.host;
  }
}

/** Several user errors found in one pass (validation reports all of them at once). */
export class ObiamErrors extends Error {
  readonly errors: ObiamError[];
  readonly exitCode: ExitCode;
  constructor(errors: ObiamError[], exitCode: ExitCode = errors[0]?.exitCode ?? EXIT.PARSE) {
    super(errors.map((e) => e.message).join('\n'));
    this.name = 'ObiamErrors';
    this.errors = errors;
    this.exitCode = exitCode;
  }
}

/** A host could not be reached or its connection died; the runner marks it unreachable. */
export class UnreachableError extends ObiamError {
  /** opts.code refines the reason (e.g. E_HOST_KEY_UNKNOWN); the default is E_UNREACHABLE. */
  constructor(host: string, message: string, opts: Omit<ErrorOptions, 'host' | 'exitCode'> & { code?: string } = {}) {
    const { code, ...rest } = opts;
    super(code ?? 'E_UNREACHABLE', message, { ...rest, host, exitCode: EXIT.HOST_UNREACHABLE });
    this.name = 'UnreachableError';
  }
}

export function formatLocation(loc: SourceLocation | undefined): string {
  return loc ? `${loc.file}:${loc.line}:${loc.col}` : '';
}

/** One line per error: `file:line:col: CODE message` then the remedy indented. */
export function formatError(err: ObiamError): string {
  const where = err.location ? `${formatLocation(err.location)}: ` : err.host ? `${err.host}: ` : '';
  const head = `${where}error ${err.code}: ${err.message}`;
  return err.remedy ? `${head}\n  hint: ${err.remedy}` : head;
}

export function isObiamError(e: unknown): e is ObiamError {
  return e instanceof ObiamError;
}
