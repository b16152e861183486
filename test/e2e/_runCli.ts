// Spawns the built binary (bin/aws-vault.js -> dist/main.js) the way a user
// runs it, with an isolated environment: a temp HOME, its own config file and
// file-store folder, and none of the developer's AWS_* variables.
import { spawn } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** The binary under test; AWS_VAULT_TEST_BIN points elsewhere (e.g. an installed build). */
export const BIN = process.env.AWS_VAULT_TEST_BIN ?? join(ROOT, 'bin', 'aws-vault.js');
/** A copy of ../shared/fixtures/go-aws-vault-file-store, written by the Go aws-vault. */
export const GO_FIXTURE = join(ROOT, 'test/fixtures/go-aws-vault-file-store');
export const GO_FIXTURE_PASSPHRASE = 'correct horse battery staple';

export interface RunResult {
  exitCode: number;
  /** The signal that ended the process, if one did (e.g. the timeout's SIGKILL). */
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** The whole environment of the child (see `TempHome.env`); nothing is inherited unless listed here. */
  env?: NodeJS.ProcessEnv;
  /** Written to stdin, then stdin is closed. Without it stdin is closed at once (no TTY). */
  input?: string;
  /** Killed after this many ms (default 20 s); a hang fails the test instead of blocking it. */
  timeout?: number;
  cwd?: string;
}

/**
 * Runs `aws-vault ARGS...` and collects its exit code and output. The child
 * gets its own session (setsid), so it has no controlling terminal: a prompt
 * must fail at once rather than wait on the developer's terminal.
 */
export function runCli(args: string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: options.env ?? baseEnv(),
      cwd: options.cwd ?? ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      stderr += `\n[runCli] killed after ${options.timeout ?? 20_000} ms\n`;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, options.timeout ?? 20_000);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ exitCode: code ?? 128, signal, stdout, stderr });
    });
    child.stdin.on('error', () => {});
    child.stdin.end(options.input ?? '');
  });
}

/** The variables every child gets: PATH, a locale, nothing AWS_* from the developer. */
export function baseEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    LANG: 'C.UTF-8',
    // The tests' Secret Service (dbus-run-session, started by scripts/test.mjs).
    ...(process.env.DBUS_SESSION_BUS_ADDRESS
      ? { DBUS_SESSION_BUS_ADDRESS: process.env.DBUS_SESSION_BUS_ADDRESS }
      : {}),
    ...(process.env.XDG_RUNTIME_DIR ? { XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR } : {}),
    ...(process.env.XDG_DATA_HOME ? { XDG_DATA_HOME: process.env.XDG_DATA_HOME } : {}),
  };
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

/** A throwaway HOME with `.aws/config` and a file-store folder. */
export interface TempHome {
  home: string;
  configFile: string;
  fileDir: string;
  /** The env for runCli: HOME, AWS_CONFIG_FILE, AWS_VAULT_FILE_DIR, plus `extra` (undefined deletes). */
  env(extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
  /** Replaces the config file's text. */
  writeConfig(text: string): void;
  /** Every regular file under HOME (and the file dir), for secret scans. */
  allFiles(): string[];
  cleanup(): void;
}

/**
 * Makes a temp HOME. Defaults to the file backend with a known passphrase;
 * pass `{ backend: 'secret-service' }` to use the real Secret Service.
 */
export function makeTempHome(
  options: { backend?: string; passphrase?: string; config?: string } = {},
): TempHome {
  const home = mkdtempSync(join(tmpdir(), 'aws-vault-e2e-'));
  const awsDir = join(home, '.aws');
  mkdirSync(awsDir, { recursive: true });
  const configFile = join(awsDir, 'config');
  writeFileSync(configFile, options.config ?? '');
  const fileDir = join(home, '.awsvault', 'keys');
  const backend = options.backend ?? 'file';
  const fixed: NodeJS.ProcessEnv = {
    HOME: home,
    USER: 'tester',
    AWS_CONFIG_FILE: configFile,
    AWS_SHARED_CREDENTIALS_FILE: join(awsDir, 'credentials'),
    AWS_VAULT_FILE_DIR: fileDir,
    AWS_VAULT_BACKEND: backend,
    ...(backend === 'file'
      ? { AWS_VAULT_FILE_PASSPHRASE: options.passphrase ?? 'test passphrase' }
      : {}),
  };
  return {
    home,
    configFile,
    fileDir,
    env: (extra = {}) => baseEnv({ ...fixed, ...extra }),
    writeConfig: (text) => writeFileSync(configFile, text),
    allFiles: () => listFiles(home),
    cleanup: () => rmSync(home, { recursive: true, force: true }),
  };
}

/** Copies the Go aws-vault's file store into `dir` (writable, 0600 files in a 0700 folder). */
export function copyGoFixture(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  cpSync(join(GO_FIXTURE, 'keys'), dir, { recursive: true });
  chmodSync(dir, 0o700);
  for (const name of readdirSync(dir)) chmodSync(join(dir, name), 0o600);
}

function listFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listFiles(path));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

/**
 * True when the tests' Secret Service runs (scripts/test.mjs sets
 * AWS_VAULT_TEST_SECRET_SERVICE=1). In CI it must: there its absence fails
 * the Secret Service tests instead of skipping them.
 */
export function hasSecretService(): boolean {
  if (process.env.AWS_VAULT_TEST_SECRET_SERVICE === '1') return true;
  return process.env.CI === 'true' && process.env.AWS_VAULT_TEST_NO_SECRET_SERVICE !== '1';
}
