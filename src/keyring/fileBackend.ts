import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fstatSync,
  lstatSync,
  openSync,
  readdirSync,
  readFileSync,
  statSync,
} from 'node:fs';
import * as fs from './fsAsync.ts';
import { constants } from './fsAsync.ts';
import { join } from 'node:path';
import { errnoText, profileOperand, UserError } from '../errors.ts';
import { DamagedItemError, type Backend, type SetOptions } from './backend.ts';
import {
  goKeyringValue,
  isGoKeyringItem,
  toGoKeyringItem,
  type GoKeyringItem,
} from './goKeyringItem.ts';
import { decryptJwe, encryptJwe, JweDecryptionError, opensContentKey, Pbes2Keys } from './jwe.ts';
import { decodeFileName, encodeFileName } from './percent.ts';
import { isSessionKey } from './sessionStore.ts';

/** How the file backend is opened. */
export interface FileBackendOptions {
  /** The folder holding one encrypted file per key (`~/.awsvault/keys`). */
  dir: string;
  /** `AWS_VAULT_FILE_PASSPHRASE`. */
  passphrase?: string;
  /** Hidden prompt on the TTY; undefined when there is none. */
  promptPassphrase?: (message: string) => Promise<string>;
  debug?: (line: string) => void;
}

/**
 * Temporary files start with `%tmp-`: a key's file name never does, because
 * the encoding turns every `%` of a key into `%25`. So a half-written file
 * left by a killed process is never mistaken for a key.
 */
const TMP_PREFIX = '%tmp-';

/**
 * Encrypted files, one per key, in the format of the Go aws-vault's file
 * backend: JWE compact serialisation (PBES2-HS256+A128KW, p2c 8192, A256GCM)
 * of the keyring item JSON. Writes are atomic (temp file, fsync, rename,
 * fsync folder); the passphrase is checked against an existing file before
 * anything is written or removed.
 *
 * Reads are synchronous: a cached `exec` reads a folder and two small
 * files, and the first asynchronous call would start libuv's thread pool
 * (a few ms) with every call then waiting for a turn of the event loop.
 */
export class FileBackend implements Backend {
  readonly name = 'file' as const;
  readonly dir: string;
  readonly #options: FileBackendOptions;
  #passphrase: Promise<Pbes2Keys> | undefined;
  /** The passphrase was typed at the prompt (for the wrong-passphrase advice). */
  #typed = false;
  #verified = false;
  #dirChecked = false;

  constructor(options: FileBackendOptions) {
    this.dir = options.dir;
    this.#options = options;
  }

  async get(key: string): Promise<string | undefined> {
    await this.#checkDir(false);
    let token: string;
    try {
      token = readKeyFile(this.#path(key));
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return undefined;
      if (error instanceof UserError) throw error;
      throw new UserError(`file backend: cannot read ${this.#path(key)}: ${errnoText(error)}`, {
        cause: error,
      });
    }
    let item: GoKeyringItem;
    try {
      item = await this.#decrypt(token, key);
    } catch (error) {
      if (!(error instanceof WrongPassphraseError)) throw error;
      // A damaged wrapped key or salt reads as a wrong passphrase: if the
      // passphrase opens the other files, it is this file that is damaged.
      await this.#verifyPassphrase();
      throw this.#damaged(key, 'is damaged: the passphrase that opens the other files does not');
    }
    this.#verified = true;
    return goKeyringValue(item);
  }

  async set(key: string, value: string, options?: SetOptions): Promise<void> {
    // The passphrase first: without one (no variable, no terminal) nothing,
    // not even the folder, is created.
    await this.#passphraseKeys();
    await this.#checkDir(true);
    await this.#verifyPassphrase();
    const token = await this.#encrypt(JSON.stringify(toGoKeyringItem(key, value, options)));
    await this.#writeAtomically(this.#path(key), token);
    this.#verified = true;
  }

  async remove(key: string): Promise<void> {
    await this.#checkDir(false);
    const path = this.#path(key);
    try {
      await fs.access(path);
    } catch {
      return;
    }
    await this.#verifyPassphrase();
    try {
      await fs.unlink(path);
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return;
      throw new UserError(
        `file backend: cannot remove a file in ${this.dir}: ${errnoText(error)}`,
        {
          cause: error,
        },
      );
    }
    await fsyncDir(this.dir);
  }

  /** A file for `key` exists (nothing is decrypted, so no passphrase is needed). */
  async has(key: string): Promise<boolean> {
    await this.#checkDir(false);
    try {
      // The entries `keys` lists: files and symlinks.
      const stat = lstatSync(this.#path(key));
      return stat.isFile() || stat.isSymbolicLink();
    } catch (error) {
      if (isErrno(error, 'ENOENT') || isErrno(error, 'ENOTDIR')) return false;
      throw new UserError(`file backend: cannot read ${this.#path(key)}: ${errnoText(error)}`, {
        cause: error,
      });
    }
  }

  async keys(): Promise<string[]> {
    await this.#checkDir(false);
    return (await this.#fileNames()).map(decodeFileName);
  }

  async #fileNames(): Promise<string[]> {
    let entries;
    try {
      entries = readdirSync(this.dir, { withFileTypes: true });
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return [];
      throw new UserError(`file backend: cannot list ${this.dir}: ${errnoText(error)}`, {
        cause: error,
      });
    }
    return entries
      .filter((e) => (e.isFile() || e.isSymbolicLink()) && !e.name.startsWith(TMP_PREFIX))
      .map((e) => e.name)
      .sort();
  }

  #path(key: string): string {
    if (key === '') throw new UserError('file backend: an empty key cannot be stored');
    const name = encodeFileName(key);
    if (name === '.' || name === '..') {
      throw new UserError(`file backend: "${key}" cannot be used as a key`);
    }
    return join(this.dir, name);
  }

  /** Creates the folder 0700 (when writing) and tightens a looser mode. */
  async #checkDir(create: boolean): Promise<void> {
    if (this.#dirChecked) return;
    let stat;
    try {
      stat = statSync(this.dir);
    } catch (error) {
      if (!isErrno(error, 'ENOENT')) {
        throw new UserError(`file backend: cannot use ${this.dir}: ${errnoText(error)}`, {
          cause: error,
        });
      }
      if (!create) return;
      await fs.mkdir(this.dir, 0o700);
      await fs.chmod(this.dir, 0o700);
      this.#debug(`file backend: created ${this.dir} (0700)`);
      this.#dirChecked = true;
      return;
    }
    if (!stat.isDirectory()) {
      throw new UserError(`file backend: ${this.dir} is not a folder; set --file-dir to a folder`);
    }
    const uid = process.getuid?.();
    if (uid !== undefined && stat.uid !== uid) {
      throw new UserError(
        `file backend: ${this.dir} belongs to another user (uid ${stat.uid}); use a folder of your own with --file-dir`,
      );
    }
    if ((stat.mode & 0o077) !== 0) {
      await fs.chmod(this.dir, 0o700);
      this.#debug(
        `file backend: ${this.dir} was mode ${(stat.mode & 0o777).toString(8)}, changed to 0700`,
      );
      // Copied in with a loose umask (cp -r, an unpacked backup): its files too.
      await this.#tidy({ staleTemps: false });
    }
    this.#dirChecked = true;
  }

  /** The passphrase's key derivations (asked for once, each key derived once). */
  #passphraseKeys(): Promise<Pbes2Keys> {
    this.#passphrase ??= (async () => {
      let passphrase = this.#options.passphrase;
      if (passphrase === '') {
        // Set but empty: the Go aws-vault accepts that too, so such stores exist.
        this.#debug('file backend: AWS_VAULT_FILE_PASSPHRASE is set but empty');
      }
      if (passphrase === undefined) {
        const prompt = this.#options.promptPassphrase;
        if (prompt === undefined) {
          throw new UserError(
            `file backend: a passphrase is needed to unlock ${this.dir}: set AWS_VAULT_FILE_PASSPHRASE or run in a terminal`,
          );
        }
        passphrase = await prompt(`Enter passphrase to unlock "${this.dir}": `);
        this.#typed = true;
        if (passphrase === '') {
          throw new UserError(`file backend: the passphrase for ${this.dir} cannot be empty`);
        }
      }
      return new Pbes2Keys(passphrase);
    })();
    // A failed prompt is not cached: the next call asks again.
    this.#passphrase.catch(() => {
      this.#passphrase = undefined;
    });
    return this.#passphrase;
  }

  /** Refuses a passphrase that does not open the files already there. */
  async #verifyPassphrase(): Promise<void> {
    await this.#passphraseKeys();
    if (this.#verified) return;
    // The passphrase is wrong only if it opens none of the files: one that
    // does not (a damaged wrapped key or salt) is that file's problem.
    let refused = false;
    for (const name of await this.#fileNames()) {
      let token: string;
      try {
        token = readKeyFile(join(this.dir, name));
      } catch (error) {
        // A FIFO, another user's file, one gone meanwhile: it proves nothing either way.
        const why = error instanceof UserError ? 'not a key file' : errnoText(error);
        this.#debug(`file backend: skipping ${name} while checking the passphrase: ${why}`);
        continue;
      }
      let opens: boolean | undefined;
      try {
        await this.#decrypt(token, decodeFileName(name));
        opens = true;
      } catch (error) {
        // A damaged file (one cut short) may still hold its header and
        // encrypted key intact, which tell whether the passphrase is right.
        opens =
          error instanceof WrongPassphraseError
            ? false
            : await opensContentKey(token, await this.#passphraseKeys());
      }
      if (opens === true) {
        this.#verified = true;
        return;
      }
      if (opens === false) refused = true;
      // A file that is not ours (or damaged past its key) proves nothing: try the next one.
      else
        this.#debug(`file backend: skipping unreadable file ${name} while checking the passphrase`);
    }
    if (refused) throw new WrongPassphraseError(this.dir, this.#typed);
    // An empty store, or one whose files all fail before their key: this
    // passphrase becomes its passphrase.
    this.#verified = true;
  }

  async #decrypt(token: string, key: string): Promise<GoKeyringItem> {
    const keys = await this.#passphraseKeys();
    let plaintext: Buffer;
    try {
      plaintext = await decryptJwe(token, keys);
    } catch (error) {
      if (error instanceof JweDecryptionError)
        throw new WrongPassphraseError(this.dir, this.#typed);
      throw this.#damaged(key, 'is damaged or not an aws-vault file', error);
    }
    let item: unknown;
    try {
      item = JSON.parse(plaintext.toString('utf8'));
    } catch (error) {
      throw this.#damaged(key, 'holds no keyring item', error);
    } finally {
      plaintext.fill(0);
    }
    if (!isGoKeyringItem(item)) throw this.#damaged(key, 'holds no keyring item');
    return item;
  }

  /** One file that cannot be read, with what to do about it. */
  #damaged(key: string, what: string, cause?: unknown): DamagedItemError {
    const fix = isSessionKey(key)
      ? 'it is a cached session: aws-vault clear removes it'
      : `remove it with aws-vault remove --force ${profileOperand(key)} and add the key again`;
    return new DamagedItemError(
      `file backend: the file for "${key}" in ${this.dir} ${what}; ${fix}`,
      cause === undefined ? undefined : { cause },
    );
  }

  async #encrypt(payload: string): Promise<string> {
    // jose2go's `created` header: Go's time.Time.String() of the moment.
    return encryptJwe(Buffer.from(payload, 'utf8'), await this.#passphraseKeys(), {
      created: goTimeString(new Date()),
    });
  }

  async #writeAtomically(path: string, contents: string): Promise<void> {
    const tmp = join(this.dir, `${TMP_PREFIX}${process.pid}-${randomBytes(6).toString('hex')}`);
    let fd: number;
    try {
      fd = await fs.open(
        tmp,
        constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0),
        0o600,
      );
    } catch (error) {
      throw new UserError(`file backend: cannot write to ${this.dir}: ${errnoText(error)}`, {
        cause: error,
      });
    }
    try {
      try {
        await fs.writeAll(fd, contents);
        await fs.fsync(fd);
      } finally {
        await fs.close(fd);
      }
      await fs.rename(tmp, path);
    } catch (error) {
      await fs.unlink(tmp).catch(() => undefined);
      throw new UserError(`file backend: cannot write to ${this.dir}: ${errnoText(error)}`, {
        cause: error,
      });
    }
    await fsyncDir(this.dir);
    await this.#tidy({ staleTemps: true });
  }

  /**
   * One pass over the folder: key files readable or writable by others
   * become 0600, and, after a write (`staleTemps`), temp files of writers
   * that died (SIGKILL, power loss) are removed.
   */
  async #tidy(options: { staleTemps: boolean }): Promise<void> {
    let entries;
    try {
      entries = readdirSync(this.dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const path = join(this.dir, entry.name);
      if (entry.name.startsWith(TMP_PREFIX)) {
        if (!options.staleTemps) continue;
        const pid = Number(entry.name.slice(TMP_PREFIX.length).split('-')[0]);
        if (!Number.isInteger(pid) || pid === process.pid || isAlive(pid)) continue;
        await fs.unlink(path).catch(() => undefined);
        continue;
      }
      if (!entry.isFile()) continue;
      try {
        const mode = lstatSync(path).mode & 0o777;
        if ((mode & 0o077) === 0) continue;
        await fs.chmod(path, 0o600);
        this.#debug(`file backend: ${entry.name} was mode ${mode.toString(8)}, changed to 0600`);
      } catch {
        // Gone meanwhile, or not ours to change: reading it still works.
      }
    }
  }

  #debug(line: string): void {
    this.#options.debug?.(line);
  }
}

/**
 * The text of a key file, which must be a regular file (a symlink to one
 * too) of this user's. It is opened non-blocking, so a FIFO or a device put
 * in a key's place (in a folder that was writable by others) cannot hang
 * the read, and it is refused, as is a file another user owns.
 */
function readKeyFile(path: string): string {
  const fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  try {
    const stat = fstatSync(fd);
    const uid = process.getuid?.();
    const why = !stat.isFile()
      ? 'is not a regular file'
      : uid !== undefined && stat.uid !== uid
        ? `belongs to another user (uid ${stat.uid})`
        : undefined;
    if (why !== undefined) {
      throw new UserError(
        `file backend: ${path} ${why}, so it is not a key aws-vault wrote; move it out of the folder (it was writable by others, or was put there by hand)`,
      );
    }
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}

/** The passphrase does not decrypt the store's files. */
export class WrongPassphraseError extends UserError {
  override name = 'WrongPassphraseError';
  /** `typed`: the passphrase came from the prompt, not AWS_VAULT_FILE_PASSPHRASE. */
  constructor(dir: string, typed = false) {
    super(
      `wrong passphrase for the file backend in ${dir} (nothing was changed); ${typed ? 'run the command again and type the passphrase this folder was made with' : 'check AWS_VAULT_FILE_PASSPHRASE'}`,
    );
  }
}

async function fsyncDir(dir: string): Promise<void> {
  let fd: number | undefined;
  try {
    fd = await fs.open(dir, constants.O_RDONLY);
    await fs.fsync(fd);
  } catch {
    // Some platforms (Windows) cannot fsync a folder; the rename is still atomic.
  } finally {
    if (fd !== undefined) await fs.close(fd).catch(() => undefined);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return isErrno(error, 'EPERM');
  }
}

function isErrno(error: unknown, code: string): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === code;
}

/** Like Go's time.Time.String() in UTC, the `created` header jose2go writes. */
function goTimeString(date: Date): string {
  const iso = date.toISOString(); // 2026-11-22T13:21:00.812Z
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)}000000 +0000 UTC`;
}
