import {
  accessSync,
  closeSync,
  constants,
  openSync,
  readFileSync,
  readSync,
  statSync,
} from 'node:fs';
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
 * Why the kernel might not run `file` itself; undefined when it will: an ELF
 * binary for this machine whose program interpreter exists, or a `#!` script
 * whose interpreter exists and runs (up to the kernel's 4 levels). Anything
 * else is spawned instead of exec'd, because a failed `process.execve` aborts
 * Node (a stack trace and exit 134), where a failed spawn is an error with a
 * message: a shebang-less script (it only runs through a shell's fallback), a
 * `#!/bin/sh\r` line from Windows, an interpreter that is not installed, a
 * binary for another machine or C library.
 */
export function whyNotDirectlyExecutable(file: string, depth = 0): string | undefined {
  const head = readHead(file);
  if (head === undefined) return 'it cannot be read';
  if (head.length >= 2 && head[0] === 0x23 && head[1] === 0x21) {
    if (depth >= 4) return 'its #! interpreters go more than 4 deep';
    const end = head.indexOf(0x0a);
    // The kernel reads at most 256 bytes of the line.
    if (end < 0 && head.length >= 256) return 'its #! line is too long';
    const line = head.subarray(2, end < 0 ? head.length : Math.min(end, 256)).toString('latin1');
    const interpreter = /^[ \t]*([^ \t]*)/.exec(line)?.[1] ?? '';
    if (interpreter === '') return 'its #! line names no interpreter';
    if (interpreter.includes('\r'))
      return 'its #! line ends in a carriage return (Windows line ends)';
    const path = resolve(interpreter);
    const stats = statSync(path, { throwIfNoEntry: false });
    if (stats === undefined || !stats.isFile())
      return `its interpreter ${interpreter} does not exist`;
    try {
      accessSync(path, constants.X_OK);
    } catch {
      return `its interpreter ${interpreter} is not executable`;
    }
    // Elsewhere the interpreter's own format is the system's (Mach-O on macOS).
    if (process.platform !== 'linux') return undefined;
    const why = whyNotDirectlyExecutable(path, depth + 1);
    return why === undefined ? undefined : `its interpreter ${interpreter}: ${why}`;
  }
  if (head.length >= 4 && head.readUInt32BE(0) === 0x7f454c46) return whyNotRunnableElf(file, head);
  // Mach-O (thin 32/64-bit, either byte order, or universal): macOS's programs.
  if (process.platform === 'darwin' && head.length >= 4) {
    const magic = head.readUInt32BE(0);
    if ([0xfeedface, 0xfeedfacf, 0xcefaedfe, 0xcffaedfe, 0xcafebabe].includes(magic)) {
      return undefined;
    }
  }
  return 'it is neither an ELF binary nor a #! script';
}

/** The first 4 KB of `file` (the #! line, or the ELF and program headers), or undefined. */
function readHead(file: string): Buffer | undefined {
  return readRange(file, 0, 4096);
}

/** Up to `length` bytes of `file` from `position` (fewer at its end); undefined when unreadable. */
function readRange(file: string, position: number, length: number): Buffer | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const bytes = Buffer.alloc(length);
    return bytes.subarray(0, readSync(fd, bytes, 0, length, position));
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** ELF class (1: 32-bit, 2: 64-bit) and machine of each architecture Node runs on. */
const ELF_MACHINES: Partial<Record<string, [number, number]>> = {
  x64: [2, 62],
  arm64: [2, 183],
  riscv64: [2, 243],
  ppc64: [2, 21],
  s390x: [2, 22],
  loong64: [2, 258],
  ia32: [1, 3],
  arm: [1, 40],
};

function whyNotRunnableElf(file: string, head: Buffer): string | undefined {
  const wide = head[4] === 2;
  if (head.length < (wide ? 64 : 52)) return 'it is a truncated ELF file';
  const little = head[5] === 1;
  const u16 = (b: Buffer, at: number) => (little ? b.readUInt16LE(at) : b.readUInt16BE(at));
  const u32 = (b: Buffer, at: number) => (little ? b.readUInt32LE(at) : b.readUInt32BE(at));
  const word = (b: Buffer, at: number) =>
    wide ? Number(little ? b.readBigUInt64LE(at) : b.readBigUInt64BE(at)) : u32(b, at);
  // Only architectures whose ELF machine is known here are compared; the
  // others are left to the kernel, as before any check.
  const expected = ELF_MACHINES[process.arch];
  if (expected !== undefined && (head[4] !== expected[0] || u16(head, 18) !== expected[1])) {
    return `it is a binary for another kind of machine than this ${process.arch}`;
  }
  const type = u16(head, 16);
  if (type !== 2 && type !== 3) return 'it is an ELF file but not a program';
  // The program interpreter (the dynamic loader: /lib64/ld-linux-x86-64.so.2,
  // or musl's on Alpine builds) must exist, or execve fails with ENOENT. It
  // is usually in the first 4 KB; patchelf'd binaries (Nix, bundled
  // Pythons) keep it at the end of the file.
  const phoff = word(head, wide ? 32 : 28);
  const phentsize = u16(head, wide ? 54 : 42);
  const phnum = u16(head, wide ? 56 : 44);
  const table = readAt(file, head, phoff, phnum * phentsize);
  if (table === undefined) return 'its program headers cannot be read';
  for (let i = 0; i < phnum; i++) {
    const at = i * phentsize;
    if (u32(table, at) !== 3) continue; // PT_INTERP
    const size = word(table, at + (wide ? 32 : 16));
    const name = readAt(file, head, word(table, at + (wide ? 8 : 4)), size);
    if (name === undefined || size < 2) return 'its program interpreter cannot be read';
    const loader = name.subarray(0, size - 1).toString('latin1');
    const stats = statSync(loader, { throwIfNoEntry: false });
    if (stats === undefined || !stats.isFile()) {
      return `its program interpreter ${loader} does not exist`;
    }
  }
  return undefined;
}

/** `length` bytes of `file` at `position` (from `head` when they are in it); undefined when short. */
function readAt(file: string, head: Buffer, position: number, length: number): Buffer | undefined {
  if (position + length <= head.length) return head.subarray(position, position + length);
  if (length > 65_536 || !Number.isSafeInteger(position)) return undefined;
  const bytes = readRange(file, position, length);
  return bytes?.length === length ? bytes : undefined;
}

/**
 * The message for a command the system would not start (spawn's error), in
 * the words shells use, with their exit codes (127: not found, 126: cannot run).
 */
export function spawnFailure(name: string, file: string, error: NodeJS.ErrnoException): UserError {
  const why = whyNotDirectlyExecutable(file);
  const detail = why === undefined ? '' : `: ${why}`;
  if (error.code === 'ENOENT') {
    return new UserError(`${name}: cannot execute: required file not found${detail}`, {
      cause: error,
      exitCode: 127,
    });
  }
  if (error.code === 'EACCES') {
    return new UserError(`${name}: permission denied${detail}`, { cause: error, exitCode: 126 });
  }
  if (error.code === 'ENOEXEC') {
    return new UserError(`${name}: cannot execute: exec format error${detail}`, {
      cause: error,
      exitCode: 126,
    });
  }
  return new UserError(`${name}: ${error.message}`, { cause: error, exitCode: 126 });
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

/**
 * Puts the standard streams this process created back as they came before it
 * becomes another program. Node opens a pipe or a terminal it reads or writes
 * in non-blocking mode, and the mode belongs to the open file, which execve
 * passes on: the command would then get EAGAIN ("Resource temporarily
 * unavailable") from `read` on its terminal or from a full pipe, and a shell's
 * `read` would give the terminal back to the user's shell at once. Node puts
 * the modes back when it exits, but execve is no exit. A terminal left raw by
 * a prompt is made cooked again.
 */
export function restoreStdio(streams: readonly unknown[]): void {
  for (const stream of streams) {
    const s = stream as {
      isRaw?: boolean;
      setRawMode?: (raw: boolean) => void;
      _handle?: { setBlocking?: (blocking: boolean) => number };
    };
    if (s.isRaw === true) s.setRawMode?.(false);
    s._handle?.setBlocking?.(true);
  }
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

/** A shell's exit code for a process ended by `signal`: 128 + its number (130 for SIGINT). */
export function signalExitCode(signal: NodeJS.Signals): number {
  // node:os (about 0.3 ms) loads here: a cached exec becomes its command without it.
  return 128 + (process.getBuiltinModule('node:os').constants.signals[signal] ?? 0);
}

/** The signals a terminal sends to its whole foreground process group. */
const TERMINAL_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGQUIT', 'SIGWINCH'];

/**
 * True when this process is in its terminal's foreground process group
 * (Linux: /proc/self/stat's pgrp and tpgid), where a terminal signal also
 * reached the child; false when that cannot be told, so signals are passed on.
 */
function inTerminalForeground(): boolean {
  try {
    const stat = readFileSync('/proc/self/stat', 'latin1');
    // pid (comm) state ppid pgrp session tty_nr tpgid ...; comm may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const [pgrp, ttyNr, tpgid] = [fields[2], fields[4], fields[5]].map(Number);
    return ttyNr !== 0 && tpgid !== undefined && tpgid > 0 && tpgid === pgrp;
  } catch {
    return false;
  }
}

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
      // Ctrl-C, Ctrl-\ and a resized window reach the whole foreground
      // process group, the child included: sending them again would make
      // one Ctrl-C two (terraform takes a second interrupt as "exit now").
      if (TERMINAL_SIGNALS.includes(signal) && inTerminalForeground()) {
        debug(
          `exec: ${signal} came from the terminal, which sent it to child ${child.pid ?? '?'} too`,
        );
        return;
      }
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
      reject(spawnFailure(argv0 ?? file, file, error));
    });
    child.once('exit', (code, signal) => {
      cleanup();
      if (signal) {
        debug(`exec: child died of ${signal}`);
        resolvePromise(signalExitCode(signal));
      } else {
        resolvePromise(code ?? 0);
      }
    });
  });
}
