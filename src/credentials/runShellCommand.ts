import type { ChildProcess } from 'node:child_process';
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
    stopOnExit(child);
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

/** The commands still running, stopped if aws-vault exits before they end. */
const running = new Set<ChildProcess>();

/**
 * aws-vault can exit while a command it started still runs: `exec --server`
 * ends with its command while a fetch for it waits on an `mfa_process` (a
 * dialog the user would answer for nothing) or a `credential_process`. On
 * exit, each such command gets SIGTERM, and so does what it started (the
 * shell does not pass the signal on): on Linux every descendant, found in
 * /proc; elsewhere its process group, when it has one of its own.
 */
function stopOnExit(child: ChildProcess): void {
  if (running.size === 0 && !stopping) {
    stopping = true;
    process.once('exit', stopRunning);
  }
  running.add(child);
  child.once('close', () => running.delete(child));
}
let stopping = false;

function stopRunning(): void {
  for (const child of running) {
    const pid = child.pid;
    if (pid === undefined || child.exitCode !== null || child.signalCode !== null) continue;
    const targets = process.platform === 'linux' ? [...descendants(pid), pid] : [-pid, pid];
    for (const target of targets) {
      try {
        process.kill(target, 'SIGTERM');
      } catch {
        // Gone already, or not ours to signal.
      }
    }
  }
}

/** Every process below `root` (Linux, from /proc), deepest last. */
export function descendants(root: number): number[] {
  const { readdirSync, readFileSync } = process.getBuiltinModule('node:fs');
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue;
    }
    // pid (comm) state ppid ...: comm may hold spaces and parentheses.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    const list = children.get(ppid) ?? [];
    list.push(Number(name));
    children.set(ppid, list);
  }
  const found: number[] = [];
  for (let i = -1; i < found.length; i++) {
    found.push(...(children.get(i < 0 ? root : (found[i] as number)) ?? []));
  }
  return found;
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
