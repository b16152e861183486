// Shared set-up of the exec/export end-to-end tests: a temp HOME on the file
// backend, a local AWS endpoint, users added with `aws-vault add --env`.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import {
  BIN,
  makeTempHome,
  runCli,
  type RunOptions,
  type RunResult,
  type TempHome,
} from './_runCli.ts';
import { startFakeAws } from '../fakes/fakeAws.ts';
import type { FakeAws, SeededUser } from '../fakes/fakeAws.ts';

export type { FakeAws, SeededUser };

export interface ExecWorld {
  fake: FakeAws;
  home: TempHome;
  /** The CLI's environment: the temp HOME, the file backend, every AWS call to the fake. */
  env(extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
  run(args: string[], options?: RunOptions): Promise<RunResult>;
  /** Creates an IAM user on the fake and stores its key as `profile` with `aws-vault add --env`. */
  addUser(profile: string, options?: { mfa?: boolean }): Promise<SeededUser>;
  close(): Promise<void>;
}

/** Starts a fake AWS endpoint and a temp HOME whose config is `config`. */
export async function startExecWorld(
  config = '',
  homeOptions: { backend?: string } = {},
): Promise<ExecWorld> {
  const fake = await startFakeAws();
  const home = makeTempHome({ ...homeOptions, config });
  const env = (extra: NodeJS.ProcessEnv = {}) => home.env({ AWS_ENDPOINT_URL: fake.url, ...extra });
  let users = 0;
  const world: ExecWorld = {
    fake,
    home,
    env,
    run: (args, options = {}) => runCli(args, { env: env(), ...options }),
    async addUser(profile, options = {}) {
      const keys = fake.createUser(`user${++users}-${profile}`, { mfa: options.mfa });
      const result = await runCli(['add', '--env', '--no-add-config', profile], {
        env: env({
          AWS_ACCESS_KEY_ID: keys.accessKeyId,
          AWS_SECRET_ACCESS_KEY: keys.secretAccessKey,
        }),
      });
      expect(result.stderr).toBe('');
      expect(result.exitCode).toBe(0);
      return keys;
    },
    async close() {
      await fake.close();
      home.cleanup();
    },
  };
  return world;
}

/** `KEY=VALUE` lines (the output of `env`) as a record. */
export function parseEnvLines(text: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const at = line.indexOf('=');
    if (at > 0) vars[line.slice(0, at)] = line.slice(at + 1);
  }
  return vars;
}

/** The current TOTP code of `secret` (base32), from the real `oathtool`. */
export function totpNow(secret: string): string {
  // `-`: the secret comes on stdin, never in argv.
  return execFileSync('oathtool', ['--totp', '-b', '-'], {
    input: `${secret}\n`,
    encoding: 'utf8',
  }).trim();
}

/** Matches the RFC 3339 form aws-vault prints: 2024-01-02T03:04:05Z. */
export const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;

/**
 * Parses `export --format=json` / credential_process output and checks its
 * shape: exactly the documented keys, in order, version 1, an RFC 3339 expiry.
 */
export function credentialProcessDoc(stdout: string) {
  const doc = JSON.parse(stdout) as Record<string, unknown>;
  expect(Object.keys(doc)).toEqual([
    'Version',
    'AccessKeyId',
    'SecretAccessKey',
    'SessionToken',
    'Expiration',
  ]);
  expect(doc.Version).toBe(1);
  expect(doc.Expiration).toMatch(RFC3339);
  return doc as { AccessKeyId: string; SessionToken: string };
}

/**
 * Writes an `aws-vault` command into `dir/bin` that runs the built CLI on this
 * Node (the machine's default `node` may be too old), for tools that find
 * aws-vault on PATH (direnv, the AWS CLI's credential_process). Returns the
 * folder to put first on PATH and the command's absolute path.
 */
export function installShim(dir: string): { binDir: string; command: string } {
  const binDir = join(dir, 'bin');
  mkdirSync(binDir, { recursive: true });
  const command = join(binDir, 'aws-vault');
  writeFileSync(command, `#!/bin/sh\nexec '${process.execPath}' '${BIN}' "$@"\n`, { mode: 0o755 });
  return { binDir, command };
}

/**
 * Runs another program (direnv, the AWS CLI) asynchronously. Never use
 * spawnSync in these tests: the fake endpoint lives in the test process, and
 * a blocked event loop would leave the program's STS calls unanswered.
 */
export function runTool(
  file: string,
  args: string[],
  options: { env: NodeJS.ProcessEnv; cwd?: string; timeout?: number },
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      env: options.env,
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeout ?? 30_000);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}
