import { withoutOwnSecrets } from './redact.ts';

export interface ShellCommandResult {
  stdout: string;
  /** Exit code, or undefined when a signal ended it. */
  code: number | undefined;
  signal: NodeJS.Signals | undefined;
  /** It printed more than {@link MAX_OUTPUT_BYTES} and was stopped (code is then undefined). */
  overflow?: boolean;
}

/**
 * The most a command may print: a credentials document, a token or a code
 * is a few KB. A runaway command (`yes`) is stopped at this, not read until
 * memory runs out.
 */
export const MAX_OUTPUT_BYTES = 1024 * 1024;

/**
 * Runs `command` through the shell, as the AWS CLI and the Go aws-vault run
 * `credential_process`, `mfa_process` and `web_identity_token_process`:
 * stdout is captured (it carries a secret, so it is never logged), stderr
 * passes through to ours so the command can talk to the user, and stdin is
 * ours only when `inheritStdin` says so. aws-vault's own secrets are not in
 * its environment (withoutOwnSecrets) unless `keepOwnSecrets`, for
 * `credential_process`, which is most often a nested `aws-vault export`.
 */
export async function runShellCommand(
  command: string,
  options: {
    env: NodeJS.ProcessEnv;
    inheritStdin?: boolean;
    keepOwnSecrets?: boolean;
    /** In a session of its own (setsid), so it has no controlling terminal (POSIX). */
    withoutTerminal?: boolean;
  },
): Promise<ShellCommandResult> {
  const [shell, flag] = process.platform === 'win32' ? ['cmd.exe', '/C'] : ['/bin/sh', '-c'];
  // Loaded here, not at the top: the cached path runs no command and should
  // not pay for it. getBuiltinModule, not import(): an import() in
  // dist/fast.cjs, which bin/ runs through node:vm, prints an
  // ExperimentalWarning (scripts/build.mjs refuses one).
  const { spawn } = process.getBuiltinModule('node:child_process');
  return new Promise((resolve, reject) => {
    const child = spawn(shell, [flag, command], {
      env: options.keepOwnSecrets === true ? options.env : withoutOwnSecrets(options.env),
      stdio: [options.inheritStdin ? 'inherit' : 'ignore', 'pipe', 'inherit'],
      ...(options.withoutTerminal === true && process.platform !== 'win32'
        ? { detached: true }
        : {}),
    });
    const chunks: Buffer[] = [];
    let size = 0;
    let overflow = false;
    child.stdout.on('data', (chunk: Buffer) => {
      if (overflow) return;
      size += chunk.length;
      if (size > MAX_OUTPUT_BYTES) {
        overflow = true;
        chunks.length = 0;
        // The shell, and (closing the pipe) whatever it started that writes to it.
        child.kill('SIGKILL');
        child.stdout.destroy();
        return;
      }
      chunks.push(chunk);
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (overflow) {
        resolve({ stdout: '', code: undefined, signal: signal ?? 'SIGKILL', overflow: true });
        return;
      }
      resolve({
        stdout: Buffer.concat(chunks).toString('utf8'),
        code: code ?? undefined,
        signal: signal ?? undefined,
      });
    });
  });
}

/** `exited with code 2` / `was killed by SIGTERM`, for messages. */
export function describeExit(result: ShellCommandResult): string {
  if (result.overflow === true) {
    return `printed more than ${MAX_OUTPUT_BYTES / 1024 / 1024} MiB and was stopped`;
  }
  return result.signal !== undefined
    ? `was killed by ${result.signal}`
    : `exited with code ${result.code ?? 'unknown'}`;
}

/**
 * A configured command as messages show it: its program only, with `…` for
 * the rest. The rest is the user's own config, but it may hold a token
 * (`get-creds --token ...`), and messages end up in CI logs.
 */
export function shownCommand(command: string): string {
  const text = command.trim();
  const quoted = /^(['"])(.*?)\1/.exec(text);
  const first = quoted?.[0] ?? (/^\S*/.exec(text)?.[0] as string);
  const program = quoted?.[2] ?? first;
  return text.length > first.length ? `${program} …` : program;
}
