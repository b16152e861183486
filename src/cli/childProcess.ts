import { accessSync, constants, openSync, readSync, closeSync, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { UserError } from '../errors.ts';

/**
 * Finds `command` the way a shell does: a name with a slash is a path
 * (relative to `cwd`), anything else is looked up in `PATH`. Returns the
 * absolute path, or throws a {@link UserError} with exit code 127 (not found)
 * or 126 (found, not executable: a file without the x bit, or a path that
 * names a directory), as shells do. PATH lookup skips directories, as bash does.
 */
export function resolveCommand(command: string, path: string | undefined, cwd: string): string {
  if (command === '') throw new UserError('no command given', { exitCode: 127 });
  let sawNonExecutable = false;
  const candidates = command.includes('/')
    ? [isAbsolute(command) ? command : resolve(cwd, command)]
    : (path ?? '/usr/local/bin:/usr/bin:/bin')
        .split(delimiter)
        .map((dir) => join(dir === '' ? cwd : resolve(cwd, dir), command));
  for (const candidate of candidates) {
    let stats;
    try {
      // No exception (and its stack) for each PATH folder without it.
      stats = statSync(candidate, { throwIfNoEntry: false });
    } catch {
      continue;
    }
    if (stats === undefined) continue;
    if (stats.isDirectory() && command.includes('/')) {
      throw new UserError(`${command}: is a directory`, { exitCode: 126 });
    }
    if (!stats.isFile()) continue;
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      sawNonExecutable = true;
    }
  }
  if (sawNonExecutable) throw new UserError(`${command}: permission denied`, { exitCode: 126 });
  throw new UserError(`${command}: command not found`, { exitCode: 127 });
}

/**
 * True when the kernel can execve `file` itself (an ELF binary or a `#!`
 * script). A shebang-less script only runs through a shell's fallback, and a
 * failed `process.execve` aborts Node, so such files are spawned instead.
 */
export function isDirectlyExecutable(file: string): boolean {
  const head = Buffer.alloc(4);
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const n = readSync(fd, head, 0, 4, 0);
    if (n >= 2 && head[0] === 0x23 && head[1] === 0x21) return true; // "#!"
    return n === 4 && head.equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46])); // ELF
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Replaces this process with `file` (`process.execve`), so no aws-vault
 * process stays resident. Node ignores SIGPIPE and SIGXFSZ, and an ignored
 * signal stays ignored across execve: catching them first makes execve reset
 * them to their defaults, so `aws-vault exec p -- yes | head` ends as it should.
 * Returns only where execve does not exist (the caller then spawns a child).
 */
export function replaceProcess(file: string, argv: string[], env: NodeJS.ProcessEnv): void {
  if (typeof process.execve !== 'function') return;
  const noop = () => {};
  process.on('SIGPIPE', noop);
  process.on('SIGXFSZ', noop);
  process.execve(file, argv, env as Record<string, string>);
}

/** The signals a wrapper passes on to its child. */
export const FORWARDED_SIGNALS: NodeJS.Signals[] = [
  'SIGINT',
  'SIGTERM',
  'SIGHUP',
  'SIGQUIT',
  'SIGUSR1',
  'SIGUSR2',
  'SIGWINCH',
];

/**
 * Runs `file` as a child with the terminal and `env`, passes on the signals
 * aws-vault receives, and resolves to the child's exit code (128+N when it
 * died of signal N, as shells report it).
 */
export async function runChild(
  file: string,
  argv: string[],
  env: NodeJS.ProcessEnv,
  debug: (line: string) => void,
): Promise<number> {
  // Loaded here, not at start-up: the execve path never needs it
  // (getBuiltinModule: see runShellCommand.ts).
  const { spawn } = process.getBuiltinModule('node:child_process');
  return new Promise((resolvePromise, reject) => {
    const [argv0, ...args] = argv;
    const child = spawn(file, args, { argv0, env, stdio: 'inherit' });
    const forward = (signal: NodeJS.Signals) => {
      debug(`exec: forwarding ${signal} to child ${child.pid ?? '?'}`);
      child.kill(signal);
    };
    const handlers = FORWARDED_SIGNALS.map((signal) => {
      const handler = () => forward(signal);
      process.on(signal, handler);
      return [signal, handler] as const;
    });
    const cleanup = () => {
      for (const [signal, handler] of handlers) process.off(signal, handler);
    };
    child.once('error', (error) => {
      cleanup();
      reject(new UserError(`${argv0 ?? file}: ${error.message}`, { cause: error, exitCode: 127 }));
    });
    child.once('exit', (code, signal) => {
      cleanup();
      if (signal) {
        // node:os (about 0.3 ms) loads here: a cached exec becomes its command without it.
        const number = process.getBuiltinModule('node:os').constants.signals[signal] ?? 0;
        debug(`exec: child died of ${signal}`);
        resolvePromise(128 + number);
      } else {
        resolvePromise(code ?? 0);
      }
    });
  });
}
