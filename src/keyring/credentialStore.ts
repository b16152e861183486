import { redactCredentials } from '../credentials/redact.ts';
import { UserError } from '../errors.ts';
import type { Backend } from './backend.ts';
import { isOidcTokenKey } from './oidcTokenStore.ts';
import { goTime, isSessionKey, parseGoTime } from './sessionStore.ts';

/** Long-term IAM user keys as stored in the vault. */
export interface StoredCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  /** When they were added (our extension; absent for keys the Go aws-vault stored). */
  addedAt?: Date;
}

/**
 * The JSON the Go aws-vault stores (`aws.Credentials`), plus `AddedAt`:
 * Go's JSON decoder ignores fields it does not know, so it still reads ours.
 */
interface StoredJson {
  AccessKeyID: string;
  SecretAccessKey: string;
  SessionToken: string;
  Source: string;
  CanExpire: boolean;
  Expires: string;
  AddedAt?: string;
}

const ZERO_TIME = '0001-01-01T00:00:00Z';

/** Long-term keys by profile name: every backend key that is not a session or SSO token. */
export class CredentialStore {
  readonly #backend: Backend;

  constructor(backend: Backend) {
    this.#backend = backend;
  }

  async get(profile: string): Promise<StoredCredentials | undefined> {
    const value = await this.#backend.get(profile);
    if (value === undefined) return undefined;
    let parsed: Partial<StoredJson>;
    try {
      parsed = JSON.parse(value) as Partial<StoredJson>;
    } catch {
      throw new UserError(
        `profile ${profile}: the vault holds something that is not aws-vault credentials; remove it with 'aws-vault remove ${profile}' and add the keys again`,
      );
    }
    const { AccessKeyID: accessKeyId, SecretAccessKey: secretAccessKey } = parsed;
    if (typeof accessKeyId !== 'string' || typeof secretAccessKey !== 'string') {
      const missing = [
        typeof accessKeyId !== 'string' ? 'access key ID' : undefined,
        typeof secretAccessKey !== 'string' ? 'secret access key' : undefined,
      ].filter((what) => what !== undefined);
      throw new UserError(
        `profile ${profile}: the stored credentials have no ${missing.join(' and no ')}; remove them with 'aws-vault remove ${profile}' and add the keys again`,
      );
    }
    const addedAt = parseGoTime(parsed.AddedAt);
    return redactCredentials({
      accessKeyId,
      secretAccessKey,
      ...(addedAt ? { addedAt } : {}),
    });
  }

  /** Stores the keys; `addedAt` defaults to now (pass the old one to keep a key's age). */
  async set(
    profile: string,
    creds: { accessKeyId: string; secretAccessKey: string; addedAt?: Date },
  ): Promise<void> {
    if (isSessionKey(profile) || isOidcTokenKey(profile)) {
      throw new UserError(`profile ${profile}: this name is reserved for cached sessions`);
    }
    const value: StoredJson = {
      AccessKeyID: creds.accessKeyId,
      SecretAccessKey: creds.secretAccessKey,
      SessionToken: '',
      Source: '',
      CanExpire: false,
      Expires: ZERO_TIME,
      AddedAt: goTime(creds.addedAt ?? new Date()),
    };
    await this.#backend.set(profile, JSON.stringify(value), { label: `aws-vault (${profile})` });
  }

  async remove(profile: string): Promise<void> {
    await this.#backend.remove(profile);
  }

  /** See Backend.elsewhere. */
  async elsewhere(): Promise<string | undefined> {
    return this.#backend.elsewhere?.();
  }

  /** Whether keys are stored for `profile`, without decrypting them. */
  async has(profile: string): Promise<boolean> {
    if (this.#backend.has !== undefined) return this.#backend.has(profile);
    return (await this.#backend.keys()).includes(profile);
  }

  /** Profile names with stored keys, sorted. */
  async profiles(): Promise<string[]> {
    return (await this.#backend.keys())
      .filter((key) => !isSessionKey(key) && !isOidcTokenKey(key))
      .sort();
  }
}
