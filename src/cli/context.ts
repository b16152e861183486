import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import type { BackendName } from '../keyring/backend.ts';

/** The streams a command reads and writes; tests pass their own. */
export interface Io {
  stdin: Readable & { isTTY?: boolean };
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable & { isTTY?: boolean };
}

/** Global flags (and their env equivalents), resolved: flags beat env. */
export interface GlobalOptions {
  debug: boolean;
  backend?: BackendName;
  prompt?: string;
  keychainName?: string;
  secretServiceCollection?: string;
  fileDir: string;
  passDir?: string;
  passCmd?: string;
  passPrefix?: string;
}

/**
 * What every command gets: environment, streams and global options. Heavy
 * things (config file, keyring) are opened by the command that needs them,
 * through the lazy helpers in `src/cli/deps.ts`.
 */
export interface Context {
  env: NodeJS.ProcessEnv;
  io: Io;
  cwd: string;
  homedir: string;
  globals: GlobalOptions;
  /** Writes a `--debug` line to stderr; a no-op without `--debug`. Never pass a secret. */
  debug: (line: string) => void;
  /** The start-up fast path: credentials only from stored keys and cached sessions (EngineDeps.cachedOnly). */
  cachedOnly?: boolean;
  /**
   * Called just before this process becomes the command (`exec` without a
   * server, execve): the last moment to write anything, such as the
   * launcher's code cache (bin/aws-vault.js).
   */
  beforeReplace?: () => void;
}

/** Reads the global options from the parsed flags and the environment. */
export function resolveGlobals(
  flags: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
  home: string,
): GlobalOptions {
  const str = (flag: string, envName: string): string | undefined => {
    const value = flags[flag];
    if (typeof value === 'string' && value !== '') return value;
    const fromEnv = env[envName];
    return fromEnv === undefined || fromEnv === '' ? undefined : fromEnv;
  };
  return {
    debug: flags.debug === true,
    backend: str('backend', 'AWS_VAULT_BACKEND') as BackendName | undefined,
    prompt: str('prompt', 'AWS_VAULT_PROMPT'),
    keychainName: str('keychain', 'AWS_VAULT_KEYCHAIN_NAME'),
    secretServiceCollection: str(
      'secretServiceCollection',
      'AWS_VAULT_SECRET_SERVICE_COLLECTION_NAME',
    ),
    fileDir: expandHome(str('fileDir', 'AWS_VAULT_FILE_DIR') ?? '~/.awsvault/keys', home),
    passDir: str('passDir', 'AWS_VAULT_PASS_PASSWORD_STORE_DIR'),
    passCmd: str('passCmd', 'AWS_VAULT_PASS_CMD'),
    passPrefix: str('passPrefix', 'AWS_VAULT_PASS_PREFIX'),
  };
}

/** `~/x` -> `$HOME/x`, as a shell would. */
export function expandHome(path: string, home: string): string {
  if (path === '~') return home;
  if (path.startsWith('~/')) return join(home, path.slice(2));
  return path;
}

/**
 * The user's home folder: `HOME` when set (tests set it), else the OS's idea
 * of it (node:os, about 0.3 ms, loads only then).
 */
export function homeFrom(env: NodeJS.ProcessEnv): string {
  return env.HOME !== undefined && env.HOME !== ''
    ? env.HOME
    : process.getBuiltinModule('node:os').homedir();
}
