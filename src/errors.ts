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

/**
 * No stored key for a profile that needs one (exec, export, login, rotate,
 * remove). The CLI adds where else keys may be when it knows (the Go
 * aws-vault's own keychain: Backend.elsewhere).
 */
export class NoStoredCredentialsError extends UserError {
  override name = 'NoStoredCredentialsError';
}

/** A mistake in how the command was called: the usage line is printed too. */
export class UsageError extends UserError {
  override name = 'UsageError';
}

/**
 * Thrown on the start-up fast path (src/cli/fastPath.ts) when a run needs
 * more than that path carries: new credentials from STS or SSO, a prompt, a
 * server. Nothing has been asked of the user or the network yet; the full
 * CLI then runs the command from the start.
 */
export class FullCliNeeded extends Error {
  override name = 'FullCliNeeded';
}

let fullCliWanted = false;

/** Throws FullCliNeeded and remembers it, so the fast path falls back even if a caller wraps the error. */
export function needFullCli(why: string): never {
  fullCliWanted = true;
  throw new FullCliNeeded(why);
}

/** Whether anything in this process asked for the full CLI (see needFullCli). */
export function fullCliWasNeeded(): boolean {
  return fullCliWanted;
}

/** `word` quoted for a POSIX shell when it needs it, for commands shown in messages. */
export function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;
}

/**
 * A profile name as the first operand of an aws-vault command shown in a
 * message (`aws-vault add NAME`): shell-quoted, and after `--` when it starts
 * with `-`, which would otherwise be read as an option (`add -- -dev`).
 */
export function profileOperand(name: string): string {
  return name.startsWith('-') ? `-- ${shellWord(name)}` : shellWord(name);
}

/**
 * A file-system error as `EROFS (read-only file system)`: the code and what
 * it means, without the path Node puts in its message (the caller names the
 * file or folder itself).
 */
export function errnoText(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  const what = /^[A-Z]+: ([^,]+)/.exec(e.message ?? '')?.[1];
  if (e.code === undefined) return e.message ?? String(error);
  return what === undefined ? e.code : `${e.code} (${what})`;
}
