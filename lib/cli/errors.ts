/** An error the CLI reports as one line on stderr (no stack trace unless --verbose). */
export class CliError extends Error {
  /** Process exit code: 2 for usage errors (bad flags), 1 for everything else. */
  readonly exitCode: number;

  constructor(message: string, exitCode = 1) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

/** A bad flag or flag value. */
export function usageError(message: string): CliError {
  return new CliError(message, 2);
}
