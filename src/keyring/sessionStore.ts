import { redactCredentials } from '../credentials/redact.ts';
import type { Credentials } from '../credentials/types.ts';
import { DamagedItemError, type Backend } from './backend.ts';

/** The kinds of cached session the Go aws-vault names (its key's first field). */
export type SessionType =
  | 'sts.GetSessionToken'
  | 'sts.AssumeRole'
  | 'sts.AssumeRoleWithWebIdentity'
  | 'sts.GetFederationToken'
  | 'sso.GetRoleCredentials';

/** What identifies a cached session, apart from its expiry. */
export interface SessionMeta {
  type: SessionType | string;
  profileName: string;
  /** The MFA device the session was made with; '' or undefined for none. */
  mfaSerial?: string;
  /** What else it was asked for (role ARN, tags...): a session asked for otherwise is not used. */
  request?: string;
}

/** A cached session as its key describes it. */
export interface SessionKey {
  type: string;
  profileName: string;
  mfaSerial: string;
  expiration: Date;
  /** The backend key itself. */
  key: string;
}

const SESSION_KEY = /^([^,]+),([^,]+),([^,]*),([0-9]{1,})$/;
// Formats of aws-vault v4-v6, still found in old keychains; only ever removed.
const OLD_SESSION_KEYS = [
  /^session,([^,]+),([^,]*),([0-9]{2,})$/,
  /^session:([^ ]+):([^ ]*):([^:]+)$/,
  /^(.+?) session \((\d+)\)$/,
];

/** `base64.URLEncoding.WithPadding(NoPadding)` of Go. */
function b64(value: string): string {
  return Buffer.from(value, 'utf8').toString('base64url');
}

function unb64(value: string): string | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(value)) return undefined;
  const decoded = Buffer.from(value, 'base64url');
  // Go's decoder is strict: reject what does not round-trip.
  if (decoded.toString('base64url') !== value) return undefined;
  return decoded.toString('utf8');
}

function prefixOf(meta: SessionMeta): string {
  return `${meta.type},${b64(meta.profileName)},${b64(meta.mfaSerial ?? '')},`;
}

/** The key the Go aws-vault gives a session: `TYPE,b64(profile),b64(mfa),UNIX`. */
export function formatSessionKey(meta: SessionMeta, expiration: Date): string {
  return `${prefixOf(meta)}${Math.floor(expiration.getTime() / 1000)}`;
}

/** Parses a current-format session key; undefined for anything else. */
export function parseSessionKey(key: string): SessionKey | undefined {
  const m = SESSION_KEY.exec(key);
  if (m === null) return undefined;
  const profileName = unb64(m[2] as string);
  const mfaSerial = unb64(m[3] as string);
  const seconds = Number(m[4]);
  if (profileName === undefined || mfaSerial === undefined || !Number.isSafeInteger(seconds)) {
    return undefined;
  }
  return {
    type: m[1] as string,
    profileName,
    mfaSerial,
    expiration: new Date(seconds * 1000),
    key,
  };
}

/** A session key in the current or an older aws-vault format. */
export function isSessionKey(key: string): boolean {
  return parseSessionKey(key) !== undefined || OLD_SESSION_KEYS.some((re) => re.test(key));
}

/** Go's `time.Time` JSON: RFC 3339, fractional seconds only when present. */
export function goTime(date: Date): string {
  return date.toISOString().replace('.000Z', 'Z');
}

/** A time read back from stored JSON; undefined when it is missing or not a time. */
export function parseGoTime(value: unknown): Date | undefined {
  return typeof value === 'string' && !Number.isNaN(Date.parse(value))
    ? new Date(value)
    : undefined;
}

/**
 * The JSON the Go aws-vault stores for a session (`sts/types.Credentials`),
 * plus what it was asked for, which Go's decoder ignores.
 */
interface StoredSession {
  AccessKeyId: string;
  Expiration: string;
  SecretAccessKey: string;
  SessionToken: string;
  AwsVaultRequest?: string;
}

/**
 * Cached STS / SSO sessions, stored in the vault's backend under keys the Go
 * aws-vault understands, so both tools share (and clear) each other's cache.
 */
export class SessionStore {
  readonly #backend: Backend;
  readonly #now: () => number;

  constructor(backend: Backend, options?: { now?: () => number }) {
    this.#backend = backend;
    this.#now = options?.now ?? Date.now;
  }

  /**
   * The freshest cached session for `meta` with at least `minTtlSeconds` left;
   * undefined when there is none. Expired sessions it sees are removed.
   */
  async get(meta: SessionMeta, minTtlSeconds: number): Promise<Credentials | undefined> {
    const now = this.#now();
    const prefix = prefixOf(meta);
    const candidates = (await this.#pruneExpired(now))
      .filter((k) => k.key.startsWith(prefix))
      .filter((k) => k.expiration.getTime() - now >= minTtlSeconds * 1000)
      .sort((a, b) => b.expiration.getTime() - a.expiration.getTime());
    for (const candidate of candidates) {
      let value: string | undefined;
      try {
        value = await this.#backend.get(candidate.key);
      } catch (error) {
        // A damaged session file is a cache miss, not a failed command.
        if (!(error instanceof DamagedItemError)) throw error;
      }
      const session = value === undefined ? undefined : parseSession(value, candidate.expiration);
      if (session !== undefined) {
        // Asked for otherwise (an edited role_arn, AWS_ROLE_ARN): not this
        // request's; the refresh stores one of its own beside it. One without
        // a request (the Go aws-vault's, or older) is shared, as Go shares it.
        if (meta.request !== undefined && session.request !== undefined) {
          if (session.request !== meta.request) continue;
        }
        return session.creds;
      }
      // Unreadable, damaged or vanished: it can never serve anyone.
      await this.#backend.remove(candidate.key);
    }
    return undefined;
  }

  /** Caches `creds` (which must expire) and drops older sessions of the same kind. */
  async set(meta: SessionMeta, creds: Credentials): Promise<void> {
    if (creds.expiration === undefined) {
      throw new Error('SessionStore.set: a session must have an expiration');
    }
    const existing = await this.#pruneExpired(this.#now());
    // A session asked for otherwise may have the same key (the same profile
    // and expiry second): this one's key then says a second or so less, so
    // neither overwrites the other (the key only ever errs early).
    let key = formatSessionKey(meta, creds.expiration);
    for (let earlier = 1; earlier <= 10 && meta.request !== undefined; earlier++) {
      if (!existing.some((k) => k.key === key)) break;
      const other = await this.#requestOf(key);
      if (other === undefined || other === meta.request) break;
      key = formatSessionKey(meta, new Date(creds.expiration.getTime() - earlier * 1000));
    }
    const value: StoredSession = {
      AccessKeyId: creds.accessKeyId,
      Expiration: goTime(creds.expiration),
      SecretAccessKey: creds.secretAccessKey,
      SessionToken: creds.sessionToken ?? '',
      ...(meta.request !== undefined ? { AwsVaultRequest: meta.request } : {}),
    };
    // Write first, then remove the older ones: there is never a moment
    // without a usable session.
    await this.#backend.set(key, JSON.stringify(value), {
      label: `aws-vault session for ${meta.profileName} (expires ${goTime(creds.expiration)})`,
      description: 'aws-vault session',
    });
    // Sessions asked for otherwise (another role_arn under the same profile
    // name: two projects' configs, AWS_ROLE_ARN in one shell) are kept: each
    // serves its own request, so switching between them costs no STS call.
    const prefix = prefixOf(meta);
    for (const old of existing) {
      if (old.key === key || !old.key.startsWith(prefix)) continue;
      if (meta.request !== undefined) {
        const other = await this.#requestOf(old.key);
        if (other !== undefined && other !== meta.request) continue;
      }
      await this.#backend.remove(old.key);
    }
  }

  /** The request a stored session records; undefined for none (or unreadable). */
  async #requestOf(key: string): Promise<string | undefined> {
    try {
      const value = await this.#backend.get(key);
      return value === undefined ? undefined : parseSession(value, new Date(0))?.request;
    } catch {
      return undefined;
    }
  }

  /** Every cached session (current key format), expired or not. */
  async list(): Promise<SessionKey[]> {
    const keys = await this.#backend.keys();
    return keys.map(parseSessionKey).filter((k): k is SessionKey => k !== undefined);
  }

  /** Removes one profile's sessions; returns how many. */
  async removeForProfile(profileName: string): Promise<number> {
    let n = 0;
    for (const session of await this.list()) {
      if (session.profileName !== profileName) continue;
      await this.#backend.remove(session.key);
      n++;
    }
    return n;
  }

  /** Removes every cached session (also old-format ones); returns how many. */
  async removeAll(): Promise<number> {
    let n = 0;
    for (const key of await this.#backend.keys()) {
      if (!isSessionKey(key)) continue;
      await this.#backend.remove(key);
      n++;
    }
    return n;
  }

  /** A session key (current or old format)? */
  isSessionKey(key: string): boolean {
    return isSessionKey(key);
  }

  /** Lists the sessions and removes those that have expired (and old formats). */
  async #pruneExpired(now: number): Promise<SessionKey[]> {
    const live: SessionKey[] = [];
    for (const key of await this.#backend.keys()) {
      const parsed = parseSessionKey(key);
      if (parsed === undefined) {
        if (OLD_SESSION_KEYS.some((re) => re.test(key))) await this.#backend.remove(key);
        continue;
      }
      if (parsed.expiration.getTime() <= now) {
        await this.#backend.remove(key);
        continue;
      }
      live.push(parsed);
    }
    return live;
  }
}

function parseSession(
  value: string,
  keyExpiration: Date,
): { creds: Credentials; request: string | undefined } | undefined {
  let parsed: Partial<StoredSession>;
  try {
    parsed = JSON.parse(value) as Partial<StoredSession>;
  } catch {
    return undefined;
  }
  if (typeof parsed.AccessKeyId !== 'string' || typeof parsed.SecretAccessKey !== 'string') {
    return undefined;
  }
  const expiration = parseGoTime(parsed.Expiration) ?? keyExpiration;
  const creds = redactCredentials({
    accessKeyId: parsed.AccessKeyId,
    secretAccessKey: parsed.SecretAccessKey,
    ...(parsed.SessionToken ? { sessionToken: parsed.SessionToken } : {}),
    expiration,
  });
  const request = typeof parsed.AwsVaultRequest === 'string' ? parsed.AwsVaultRequest : undefined;
  return { creds, request };
}
