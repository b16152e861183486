import { spawn } from 'node:child_process';
import { accessSync, constants, promises as fs } from 'node:fs';
import { delimiter, isAbsolute, join, relative, sep } from 'node:path';
import { UserError } from '../errors.ts';
import type { Backend, BackendOptions, SetOptions } from './backend.ts';
import { goKeyringValue, isGoKeyringItem, toGoKeyringItem } from './goKeyringItem.ts';

/**
 * The `pass` password manager: one gpg-encrypted entry per key under
 * `PREFIX/KEY`, holding the same item JSON the Go aws-vault writes there.
 * Secrets go to `pass insert -m` on stdin, never in argv.
 */
export class PassBackend implements Backend {
  readonly name = 'pass' as const;
  readonly #dir: string;
  readonly #cmd: string;
  readonly #prefix: string;
  readonly #env: NodeJS.ProcessEnv;

  constructor(options: { dir: string; cmd: string; prefix: string; env: NodeJS.ProcessEnv }) {
    this.#dir = options.dir;
    this.#cmd = options.cmd;
    this.#prefix = options.prefix;
    this.#env = { ...options.env, PASSWORD_STORE_DIR: options.dir };
  }

  /** Resolves the pass folder and command like the Go aws-vault; fails when `pass` is missing. */
  static open(options: BackendOptions & { env: NodeJS.ProcessEnv }): PassBackend {
    const env = options.env;
    const home = env.HOME ?? '';
    const expand = (p: string): string =>
      p === '~' ? home : p.startsWith('~/') ? join(home, p.slice(2)) : p;
    const dir = expand(options.passDir ?? env.PASSWORD_STORE_DIR ?? join(home, '.password-store'));
    const cmd = options.passCmd ?? 'pass';
    if (!onPath(cmd, env)) {
      throw new UserError(
        `pass backend: the pass program ("${cmd}") is not installed or not on PATH; install pass or use --backend=file`,
      );
    }
    return new PassBackend({ dir, cmd, prefix: options.passPrefix ?? '', env });
  }

  async get(key: string): Promise<string | undefined> {
    if (!(await this.#exists(key))) return undefined;
    const out = await this.#run(['show', this.#name(key)]);
    let item: unknown;
    try {
      item = JSON.parse(out);
    } catch {
      item = undefined;
    }
    if (!isGoKeyringItem(item)) {
      throw new UserError(`pass backend: the entry ${this.#name(key)} is not an aws-vault item`);
    }
    return goKeyringValue(item);
  }

  async set(key: string, value: string, options?: SetOptions): Promise<void> {
    const item = toGoKeyringItem(key, value, options);
    await this.#run(['insert', '-m', '-f', this.#name(key)], JSON.stringify(item));
  }

  async remove(key: string): Promise<void> {
    if (!(await this.#exists(key))) return;
    await this.#run(['rm', '-f', this.#name(key)]);
  }

  async keys(): Promise<string[]> {
    const root = join(this.#dir, this.#prefix);
    const keys: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      let entries;
      try {
        entries = await fs.readdir(dir, { withFileTypes: true });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw error;
      }
      for (const e of entries) {
        const path = join(dir, e.name);
        if (e.isDirectory()) {
          if (!e.name.startsWith('.')) await walk(path);
        } else if (e.name.endsWith('.gpg')) {
          keys.push(relative(root, path).slice(0, -'.gpg'.length).split(sep).join('/'));
        }
      }
    };
    await walk(root);
    return keys.sort();
  }

  #name(key: string): string {
    return this.#prefix === '' ? key : `${this.#prefix.replace(/\/+$/, '')}/${key}`;
  }

  async #exists(key: string): Promise<boolean> {
    try {
      await fs.access(join(this.#dir, `${this.#name(key)}.gpg`));
      return true;
    } catch {
      return false;
    }
  }

  #run(args: string[], stdin?: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const child = spawn(this.#cmd, args, { env: this.#env, stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      child.on('error', (error) =>
        reject(
          new UserError(`pass backend: cannot run ${this.#cmd}: ${error.message}`, {
            cause: error,
          }),
        ),
      );
      child.on('close', (code) => {
        if (code === 0) resolve(stdout);
        else
          reject(
            new UserError(
              `pass backend: '${this.#cmd} ${args[0]}' failed (exit ${code}): ${stderr.trim().split('\n')[0] ?? ''}`,
            ),
          );
      });
      // A pass that exits without reading its input (a gpg failure; `show`
      // and `rm`, which read none) closes the pipe: EPIPE. Its exit status and
      // stderr, at 'close', decide; unhandled, the stream error would crash.
      child.stdin.on('error', () => undefined);
      child.stdin.end(stdin ?? '');
    });
  }
}

function onPath(cmd: string, env: NodeJS.ProcessEnv): boolean {
  const candidates =
    isAbsolute(cmd) || cmd.includes('/')
      ? [cmd]
      : (env.PATH ?? '').split(delimiter).map((d) => join(d, cmd));
  return candidates.some((p) => {
    try {
      accessSync(p, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}
