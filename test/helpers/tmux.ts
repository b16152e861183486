import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Whether tmux is installed (the terminal tests need a real one). */
export const hasTmux = spawnSync('tmux', ['-V']).status === 0;

/** A shell script in a tmux session on a private tmux server. */
export interface TmuxSession {
  /** The visible screen (capture-pane drops trailing spaces). */
  screen(): string;
  /** `tmux send-keys`: key names (`Enter`, `C-c`) or, after `-l`, literal text. */
  sendKeys(...keys: string[]): void;
  /** Stops the tmux server and everything in it. */
  kill(): void;
}

let sessions = 0;

/**
 * Starts `script` (shell lines) in a new tmux session of `width` x `height`,
 * with `env` exported by the script itself: written to a 0600 file in `dir`,
 * so no value (a passphrase, a key) is on any process's command line, as it
 * would be with `tmux new-session -e NAME=VALUE`.
 */
export function startTmux(
  dir: string,
  env: NodeJS.ProcessEnv,
  script: string,
  { width = 160, height = 40 } = {},
): TmuxSession {
  const n = ++sessions;
  const file = join(dir, `tmux-${n}.sh`);
  const exports = Object.entries(env)
    .filter(([, value]) => value !== undefined)
    .map(([name, value]) => `export ${name}='${String(value).replaceAll("'", "'\\''")}'`)
    .join('\n');
  writeFileSync(file, `${exports}\n${script}\n`, { mode: 0o600 });
  const socket = `aws-vault-test-${process.pid}-${Date.now()}-${n}`;
  const tmux = (...args: string[]) =>
    spawnSync('tmux', ['-L', socket, ...args], {
      encoding: 'utf8',
      env: { ...process.env, TMUX: '' },
    });
  const started = tmux(
    'new-session',
    '-d',
    '-s',
    'main',
    '-x',
    String(width),
    '-y',
    String(height),
    `sh ${file}`,
  );
  if (started.status !== 0) throw new Error(`tmux new-session failed: ${started.stderr}`);
  return {
    screen: () => tmux('capture-pane', '-p', '-t', 'main').stdout,
    sendKeys: (...keys) => {
      tmux('send-keys', '-t', 'main', ...keys);
    },
    kill: () => {
      tmux('kill-server');
    },
  };
}

/**
 * Polls `check` every 50 ms until it gives a value other than undefined or
 * false, and resolves to it; rejects after `timeoutMs`.
 */
export async function waitFor<T>(
  check: () => T | undefined | false,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
