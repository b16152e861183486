import type { Credentials, CredentialsProvider } from '../credentials/types.ts';

/** What a server hands out: the credentials plus a body rendered once for them. */
export interface CachedEntry<T> {
  credentials: Credentials;
  /** Milliseconds since the epoch when this entry was fetched. */
  fetchedAt: number;
  /** Whatever the server precomputed for these credentials (a JSON body, usually). */
  rendered: T;
}

export interface CredentialCacheOptions<T> {
  provider: CredentialsProvider;
  /** Refresh once less than this many seconds are left. */
  minTtl: number;
  /** Turns fresh credentials into the server's response, once per fetch. */
  render: (credentials: Credentials, fetchedAt: number) => T;
  now?: () => number;
}

/**
 * Long-term keys have no expiry; we re-ask the provider this often anyway so
 * a key rotated in the vault is picked up by a long-running server.
 */
const NO_EXPIRY_REFRESH_MS = 15 * 60 * 1000;
/** Never ask the provider more often than this, even if it keeps handing out short credentials. */
const MIN_REFRESH_INTERVAL_MS = 1000;

/**
 * Holds one set of credentials in memory and refreshes them before less than
 * `minTtl` is left. Concurrent callers during a refresh share one in-flight
 * fetch (one STS call); a failed fetch is not cached, so the next call retries.
 */
export class CredentialCache<T> {
  readonly #options: CredentialCacheOptions<T>;
  readonly #now: () => number;
  #entry: CachedEntry<T> | undefined;
  #refreshAt = 0;
  #inFlight: Promise<CachedEntry<T>> | undefined;

  constructor(options: CredentialCacheOptions<T>) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** The cached entry when still fresh; undefined when a fetch is needed. Synchronous, for the hot path. */
  peek(): CachedEntry<T> | undefined {
    const entry = this.#entry;
    if (entry !== undefined && this.#now() < this.#refreshAt) return entry;
    return undefined;
  }

  /** Fresh credentials: the cached ones, or the result of one shared fetch. */
  get(): Promise<CachedEntry<T>> {
    const entry = this.peek();
    if (entry !== undefined) return Promise.resolve(entry);
    if (this.#inFlight === undefined) {
      this.#inFlight = this.#fetch().finally(() => {
        this.#inFlight = undefined;
      });
    }
    return this.#inFlight;
  }

  /**
   * Hands the rendered entry to `ok`: at once when fresh (the hot path, no
   * promise), else after the shared fetch; a failed fetch goes to `fail`.
   */
  serve(ok: (rendered: T) => void, fail: (error: unknown) => void): void {
    const entry = this.peek();
    if (entry !== undefined) {
      ok(entry.rendered);
      return;
    }
    this.get().then((fresh) => ok(fresh.rendered), fail);
  }

  async #fetch(): Promise<CachedEntry<T>> {
    const credentials = await this.#options.provider();
    const fetchedAt = this.#now();
    const entry: CachedEntry<T> = {
      credentials,
      fetchedAt,
      rendered: this.#options.render(credentials, fetchedAt),
    };
    this.#entry = entry;
    this.#refreshAt = refreshTime(credentials, fetchedAt, this.#options.minTtl * 1000);
    return entry;
  }
}

/**
 * When credentials must be fetched again: `minTtl` before they expire, but
 * no sooner than a second after this fetch (a provider that can only give
 * short-lived credentials must not be called on every request) and never
 * after they expire.
 */
export function refreshTime(credentials: Credentials, fetchedAt: number, minTtlMs: number): number {
  if (credentials.expiration === undefined) return fetchedAt + NO_EXPIRY_REFRESH_MS;
  const expires = credentials.expiration.getTime();
  return Math.min(expires, Math.max(expires - minTtlMs, fetchedAt + MIN_REFRESH_INTERVAL_MS));
}
