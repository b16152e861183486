/**
 * An error the user can fix: printed as `aws-vault: error: CMD: MESSAGE`
 * with no stack trace. Anything else thrown is a bug or an unexpected
 * failure and is wrapped with `{ cause }` by whoever knows the context.
 */
export class UserError extends Error {
  override name = 'UserError';
  /** Exit code the process ends with (1 unless said otherwise, 127 for a command not found). */
  readonly exitCode: number;
  constructor(message: string, options?: { cause?: unknown; exitCode?: number }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.exitCode = options?.exitCode ?? 1;
  }
}

/** A mistake in how the command was called: the usage line is printed too. */
export class UsageError extends UserError {
  override name = 'UsageError';
}
