import { shellWord, UserError } from '../errors.ts';
import { AmbiguousItemError, type Backend } from './backend.ts';
import {
  hasGoCollection,
  secretServiceStatus,
  type SecretServiceStatus,
} from './secretServiceStatus.ts';

type KeyringModule = typeof import('@napi-rs/keyring');
type EntryOptions = import('@napi-rs/keyring').EntryOptions;

/**
 * How the Secret Service answers a call on an item that was just removed:
 * gnome-keyring with UnknownMethod ("No such interface
 * org.freedesktop.Secret.Item"), others with UnknownObject or NoSuchObject.
 */
const VANISHED_ITEM =
  /org\.freedesktop\.(DBus\.Error\.Unknown(Method|Object)|Secret\.Error\.NoSuchObject)/;
const VANISHED_ITEM_RETRY_MS = 5000;
/** The keyring library's refusal to choose between items that match one entry. */
const AMBIGUOUS = /Entry is matched by \d+ credentials/;

/** The service name of every entry (the username is the item key). */
export const KEYRING_SERVICE = 'aws-vault';

export type OsBackendName = 'secret-service' | 'keychain' | 'wincred';

export interface OsKeyringBackendOptions {
  name: OsBackendName;
  /** Secret Service collection label; undefined = the default collection. */
  collection?: string;
  env: NodeJS.ProcessEnv;
  debug: (line: string) => void;
  /** secret-service: read every item in one search and answer reads from it (BackendOptions.oneShot). */
  oneShot?: boolean;
}

/**
 * The OS keychains through `@napi-rs/keyring`: one entry per key under the
 * service `aws-vault`. On Linux the entries are pinned to the Secret Service
 * (never the kernel keyring, which forgets everything at reboot).
 */
export class OsKeyringBackend implements Backend {
  readonly name: OsBackendName;
  readonly #mod: KeyringModule;
  readonly #options: OsKeyringBackendOptions;
  readonly #entryOptions: EntryOptions | undefined;
  #statusOk = false;
  /** oneShot: every aws-vault item, account -> secret, from one search. */
  #snapshot: Promise<Map<string, string>> | undefined;
  /** oneShot: the accounts the search found more than once, which get refuses to choose between. */
  readonly #duplicates = new Set<string>();

  constructor(mod: KeyringModule, options: OsKeyringBackendOptions) {
    this.#mod = mod;
    this.name = options.name;
    this.#options = options;
    this.#entryOptions =
      options.name === 'secret-service' ? { linux: { store: 'secret-service' } } : undefined;
  }

  /**
   * oneShot: reads every aws-vault item in one D-Bus search (a few ms, where
   * each single lookup connects anew and costs as much). Rejects with the
   * library's error when the service does not answer, so it doubles as the
   * probe (openBackend); reads report it through #failure.
   */
  async load(): Promise<Map<string, string>> {
    this.#snapshot ??= this.#findAll().then((found) => {
      const items = new Map<string, string>();
      for (const c of found) {
        if (items.has(c.account)) this.#duplicates.add(c.account);
        items.set(c.account, c.password);
      }
      return items;
    });
    return this.#snapshot;
  }

  /**
   * Every aws-vault entry, read by the library's search. The library reads
   * each item the search found; an item another process removed in between
   * (an expired session pruned by a parallel `exec`, `clear`) fails the whole
   * search, so it is searched again, for a few seconds while removals go on.
   */
  async #findAll(): Promise<{ account: string; password: string }[]> {
    const deadline = Date.now() + VANISHED_ITEM_RETRY_MS;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#inTarget(await this.#mod.findCredentialsAsync(KEYRING_SERVICE));
      } catch (error) {
        if (Date.now() >= deadline || !VANISHED_ITEM.test(messageOf(error))) throw error;
        this.#options.debug('secret-service: an item went away during the search; searching again');
        await new Promise((resolve) => setTimeout(resolve, Math.min(10 * attempt, 100)));
      }
    }
  }

  /**
   * With a collection named, what the library's search found (in every
   * collection) narrowed to the items stored with it, those its lookups with
   * that target find (their `target` attribute): a key stored with another
   * collection, or with none, is not listed where `get` and `remove` would
   * not find it. An account in both gets the targeted item's secret.
   */
  async #inTarget(
    found: { account: string; password: string }[],
  ): Promise<{ account: string; password: string }[]> {
    const target = this.#target();
    if (target === undefined) return found;
    const kept: { account: string; password: string }[] = [];
    for (const account of new Set(await this.#usernames(new Map([['target', target]])))) {
      const matches = found.filter((c) => c.account === account);
      if (matches.length === 1) kept.push(...matches);
      else if (matches.length > 1) {
        const password = await this.#entry(account).getPassword();
        if (password !== null) kept.push({ account, password });
      }
    }
    return kept;
  }

  /** The aws-vault items' usernames (keys) that have `attributes` too, read over the bus. */
  async #usernames(attributes: Map<string, string>): Promise<string[]> {
    return (await this.#attributes(attributes)).flatMap((a) => a.get('username') ?? []);
  }

  /** The attributes of the aws-vault items that have `attributes` too, read over the bus. */
  async #attributes(attributes: Map<string, string>): Promise<Map<string, string>[]> {
    const { secretServiceAttributes } = await import('./secretServiceReader.ts');
    const found = await secretServiceAttributes(
      this.#options.env,
      new Map([['service', KEYRING_SERVICE], ...attributes]),
    );
    if (found === undefined) throw new Error('the session bus did not answer a search');
    return found;
  }

  /**
   * The error for a key that more than one item holds, which the library's
   * lookups refuse to choose between: which collections they were stored
   * with, and how to pick one.
   */
  async #ambiguous(key: string, cause?: unknown): Promise<AmbiguousItemError> {
    const target = this.#target();
    let stored = '';
    try {
      const targets = (await this.#attributes(new Map([['username', key]]))).map((a) => {
        const its = a.get('target');
        return its === undefined
          ? 'one stored without --secret-service-collection'
          : `one stored with --secret-service-collection=${shellWord(its)}`;
      });
      stored = ` (${targets.join(', ')})`;
    } catch {
      // The count and advice stand without the details.
    }
    return new AmbiguousItemError(
      `secret-service backend: more than one item in the Secret Service holds "${key}"${stored}, and a command ${target === undefined ? 'without --secret-service-collection' : `with collection "${target}"`} cannot tell them apart; run it with the --secret-service-collection of the one to use, and remove the others (\`aws-vault remove\` with their setting, or in Passwords and Keys / seahorse)`,
      cause === undefined ? undefined : { cause },
    );
  }

  async #read(): Promise<Map<string, string>> {
    try {
      return await this.load();
    } catch (error) {
      throw await this.#failure('read', error);
    }
  }

  async get(key: string): Promise<string | undefined> {
    if (this.#options.oneShot === true) {
      const value = (await this.#read()).get(key);
      if (this.#duplicates.has(key)) throw await this.#ambiguous(key);
      if (value === undefined) await this.#assertUsable();
      return value;
    }
    let value: string | null;
    try {
      value = await this.#entry(key).getPassword();
    } catch (error) {
      throw await this.#failure('read', error, key);
    }
    // A locked collection reads as empty: make sure that is not why.
    if (value === null) await this.#assertUsable();
    return value ?? undefined;
  }

  async set(key: string, value: string): Promise<void> {
    try {
      await this.#entry(key).setPassword(value);
    } catch (error) {
      throw await this.#failure('write', error, key);
    }
    (await this.#loaded())?.set(key, value);
  }

  async remove(key: string): Promise<void> {
    try {
      await this.#entry(key).deleteCredential();
    } catch (error) {
      throw await this.#failure('remove from', error, key);
    }
    (await this.#loaded())?.delete(key);
  }

  /** The oneShot snapshot if it was read (and read without error), to keep it true after a write. */
  async #loaded(): Promise<Map<string, string> | undefined> {
    return this.#snapshot?.catch(() => undefined);
  }

  /** One lookup of `key`: cheaper than listing, which reads every entry's secret. */
  async has(key: string): Promise<boolean> {
    return (await this.get(key)) !== undefined;
  }

  async keys(): Promise<string[]> {
    let found: { account: string }[];
    if (this.#options.oneShot === true) {
      found = [...(await this.#read()).keys()].map((account) => ({ account }));
    } else {
      try {
        found = await this.#findAll();
      } catch (error) {
        throw await this.#failure('list', error);
      }
    }
    // A locked collection lists as empty; and a named collection that does not
    // exist makes the library search every collection, so its listing is
    // trusted only once the collection is known to be there.
    if (found.length === 0 || this.#target() !== undefined) await this.#assertUsable();
    return [...new Set(found.map((c) => c.account))].sort();
  }

  async elsewhere(): Promise<string | undefined> {
    const moving = 'copy them across once (README: "Moving from the Go aws-vault")';
    if (this.name === 'secret-service') {
      const places = [await this.#otherTargets()];
      if (await hasGoCollection(this.#options.env)) {
        places.push(
          `the Go aws-vault keeps its keys in the Secret Service collection "awsvault", which this aws-vault does not read: ${moving}`,
        );
      }
      const said = places.filter((p) => p !== undefined);
      return said.length === 0 ? undefined : said.join('; ');
    }
    if (this.name === 'keychain') {
      const keychain = goKeychainFile(this.#options.env.HOME);
      if (keychain === undefined) return undefined;
      return `the Go aws-vault keeps its keys in its own keychain (${keychain}), which this aws-vault does not read: ${moving}`;
    }
    return undefined;
  }

  /**
   * With a collection named, how many aws-vault items were stored with
   * another or with none, which this backend does not see, as a sentence.
   */
  async #otherTargets(): Promise<string | undefined> {
    const target = this.#target();
    if (target === undefined) return undefined;
    try {
      // One search: every aws-vault item, counted by its target attribute.
      const others = (await this.#attributes(new Map())).filter(
        (a) => a.get('target') !== target,
      ).length;
      if (others <= 0) return undefined;
      return `${others === 1 ? '1 aws-vault item' : `${others} aws-vault items`} in the Secret Service ${others === 1 ? 'was' : 'were'} stored with another --secret-service-collection or none, and ${others === 1 ? 'is' : 'are'} not read with collection "${target}" (see every item with \`aws-vault --secret-service-collection=default list\`)`;
    } catch {
      return undefined;
    }
  }

  #target(): string | undefined {
    return this.name === 'secret-service' ? this.#options.collection : undefined;
  }

  #entry(key: string): InstanceType<KeyringModule['AsyncEntry']> {
    const target = this.#target();
    return target === undefined
      ? new this.#mod.AsyncEntry(KEYRING_SERVICE, key, this.#entryOptions)
      : this.#mod.AsyncEntry.withTarget(target, KEYRING_SERVICE, key, this.#entryOptions);
  }

  /** Throws a clear error when the collection is locked or missing. */
  async #assertUsable(): Promise<void> {
    if (this.name !== 'secret-service' || this.#statusOk) return;
    const status = await secretServiceStatus(this.#options.env, this.#target());
    this.#options.debug(`secret-service: collection status ${status.state}`);
    const error = statusError(status);
    if (error !== undefined) throw error;
    this.#statusOk = status.state === 'ok';
  }

  async #failure(what: string, error: unknown, key?: string): Promise<UserError> {
    if (key !== undefined && AMBIGUOUS.test(messageOf(error))) return this.#ambiguous(key, error);
    if (this.name === 'secret-service') {
      const status = await secretServiceStatus(this.#options.env, this.#target());
      this.#options.debug(`secret-service: collection status ${status.state}`);
      const clear = statusError(status, error);
      if (clear !== undefined) return clear;
    }
    return new UserError(`${this.name} backend: cannot ${what} the keyring: ${messageOf(error)}`, {
      cause: error,
    });
  }
}

/** The Go aws-vault's own macOS keychain file (`aws-vault`) under `home`, if there is one. */
export function goKeychainFile(home: string | undefined): string | undefined {
  if (home === undefined || home === '') return undefined;
  const { existsSync } = process.getBuiltinModule('node:fs');
  const { join } = process.getBuiltinModule('node:path');
  return ['aws-vault.keychain-db', 'aws-vault.keychain']
    .map((name) => join(home, 'Library', 'Keychains', name))
    .find((path) => existsSync(path));
}

/** The user-facing error for a Secret Service state; undefined when it is fine. */
export function statusError(status: SecretServiceStatus, cause?: unknown): UserError | undefined {
  const options = cause === undefined ? undefined : { cause };
  switch (status.state) {
    case 'locked':
      return new UserError(
        `secret-service backend: the keyring collection "${status.label}" is locked; unlock it (log in to your desktop session, or open it in Passwords and Keys / seahorse) and run the command again`,
        options,
      );
    case 'no-default-collection':
      return new UserError(
        'secret-service backend: the Secret Service has no default collection (keyring); create one in your desktop session, name one with --secret-service-collection, or use --backend=file',
        options,
      );
    case 'no-collection':
      return new UserError(
        `secret-service backend: there is no keyring collection labelled (or named) "${status.name}"; create it in your desktop session or pick another with --secret-service-collection`,
        options,
      );
    case 'no-service':
      return new UserError(
        'secret-service backend: no Secret Service on the session bus (is gnome-keyring or KWallet running?); use --backend=file',
        options,
      );
    default:
      return undefined;
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
