export interface ShellCommandResult {
  stdout: string;
  /** Exit code, or undefined when a signal ended it. */
  code: number | undefined;
  signal: NodeJS.Signals | undefined;
}

/**
 * Runs `command` through the shell, as the AWS CLI and the Go aws-vault run
 * `credential_process`, `mfa_process` and `web_identity_token_process`:
 * stdout is captured (it carries a secret, so it is never logged), stderr
 * passes through to ours so the command can talk to the user, and stdin is
 * ours only when `inheritStdin` says so.
 */
export async function runShellCommand(
  command: string,
  options: { env: NodeJS.ProcessEnv; inheritStdin?: boolean },
): Promise<ShellCommandResult> {
  const [shell, flag] = process.platform === 'win32' ? ['cmd.exe', '/C'] : ['/bin/sh', '-c'];
  // Loaded here, not at the top: the cached path runs no command and should
  // not pay for it. getBuiltinModule, not import(): an import() in
  // dist/fast.cjs, which bin/ runs through node:vm, prints an
  // ExperimentalWarning (scripts/build.mjs refuses one).
  const { spawn } = process.getBuiltinModule('node:child_process');
  return new Promise((resolve, reject) => {
    const child = spawn(shell, [flag, command], {
      env: options.env,
      stdio: [options.inheritStdin ? 'inherit' : 'ignore', 'pipe', 'inherit'],
    });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => {
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
  return result.signal !== undefined
    ? `was killed by ${result.signal}`
    : `exited with code ${result.code ?? 'unknown'}`;
}
