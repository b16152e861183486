import { UserError } from '../errors.ts';

/** The names accepted by `--backend` / `AWS_VAULT_BACKEND`. */
export type BackendName = 'keychain' | 'wincred' | 'secret-service' | 'file' | 'pass' | 'memory';

/**
 * One place that keeps secrets by key. Values are opaque strings (the typed
 * stores put JSON in them); keys are the aws-vault item keys, e.g. a profile
 * name or `sts.GetSessionToken,cHJvZA,,1700000000`.
 */
export interface Backend {
  readonly name: BackendName;
  /** The value stored under `key`, or undefined when there is none. */
  get(key: string): Promise<string | undefined>;
  /**
   * Stores `value` under `key`, replacing any earlier value, atomically.
   * `options.label` is the human-readable name some stores show (the Go
   * aws-vault's item label, e.g. `aws-vault (prod)`).
   */
  set(key: string, value: string, options?: SetOptions): Promise<void>;
  /** Removes `key`; removing a key that is not there is not an error. */
  remove(key: string): Promise<void>;
  /** Every key stored. */
  keys(): Promise<string[]>;
  /**
   * Whether `key` is stored, without reading (decrypting) its value; when
   * absent, callers look for the key in {@link keys}.
   */
  has?(key: string): Promise<boolean>;
  /**
   * Where keys this backend does not read may be, when there is such a place
   * (the Go aws-vault's own collection or keychain): a sentence for the
   * "no credentials" errors, else undefined. Asked only on that error path.
   */
  elsewhere?(): Promise<string | undefined>;
}

/** Optional details of a stored item. */
export interface SetOptions {
  label?: string;
  description?: string;
}

/** Options that choose and open a backend (global flags and env, resolved). */
export interface BackendOptions {
  /** Explicit choice (`--backend`, `AWS_VAULT_BACKEND`); undefined picks the platform default. */
  backend?: BackendName;
  /** macOS keychain name (default `aws-vault`). */
  keychainName?: string;
  /** Secret Service collection (default: the user's default collection). */
  secretServiceCollection?: string;
  /** File backend folder (default `~/.awsvault/keys`). */
  fileDir: string;
  /** File backend passphrase from `AWS_VAULT_FILE_PASSPHRASE`. */
  filePassphrase?: string;
  /** Asks for the file passphrase on the TTY; undefined when there is no TTY. */
  promptPassphrase?: (message: string) => Promise<string>;
  passDir?: string;
  passCmd?: string;
  passPrefix?: string;
  /**
   * A short-lived process that reads a few items and writes at most the
   * removal of an expired session (the start-up fast path): the
   * secret-service backend reads every aws-vault item in one D-Bus search,
   * which also serves as its reachability probe, and answers the reads
   * from it. Long-running processes must not set it:
   * they would not see what other processes write.
   */
  oneShot?: boolean;
  /** Environment to probe (D-Bus address); defaults to `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Receives debug lines (never a secret). */
  debug: (line: string) => void;
}

/**
 * One stored item cannot be read although the store itself can (a damaged
 * or foreign file): the other items are still usable, and a cached session
 * that is damaged is a cache miss.
 */
export class DamagedItemError extends UserError {
  override name = 'DamagedItemError';
}

/**
 * More than one item holds a key (two Secret Service items with the same
 * username), and the store cannot tell which is meant: the key cannot be
 * used, but the others can, and `list` still lists it.
 */
export class AmbiguousItemError extends UserError {
  override name = 'AmbiguousItemError';
}
