import type { Credentials, MfaPrompt } from './types.ts';

/** What a cached session is filed under (the Go aws-vault's session key, minus the expiry). */
export interface SessionMeta {
  /** `sts.GetSessionToken`, `sts.AssumeRole`, `sts.AssumeRoleWithWebIdentity`, `sso.GetRoleCredentials`, `credential_process`. */
  type: string;
  profileName: string;
  /** The MFA serial (or, for SSO, the start URL); empty or undefined when none. */
  mfaSerial?: string;
  /**
   * What the session was asked for beyond its key (role ARN, external id,
   * tags, source profile, command...), none of it secret: stored with the
   * session (an extra field the Go aws-vault ignores), and a cached session
   * asked for differently is not used, so an edited `role_arn` or
   * `AWS_ROLE_ARN` never gets the old role's credentials.
   */
  request?: string;
}

/** The part of the vault's `CredentialStore` the engine uses. */
export interface CredentialSource {
  get(profileName: string): Promise<{ accessKeyId: string; secretAccessKey: string } | undefined>;
  /** Whether keys are stored, without reading (decrypting) them; falls back to `get`. */
  has?(profileName: string): Promise<boolean>;
}

/** The part of the vault's `SessionStore` the engine uses. */
export interface SessionCache {
  /** A cached session with at least `minTtlSeconds` left, else undefined. */
  get(meta: SessionMeta, minTtlSeconds: number): Promise<Credentials | undefined>;
  /** Stores a session (its key carries `creds.expiration`), replacing the one for `meta`. */
  set(meta: SessionMeta, creds: Credentials): Promise<void>;
  /** Deletes sessions that have expired (the Go aws-vault prunes on every read and write). */
  removeExpired?(): Promise<unknown>;
}

/** Runs `fn` holding the cross-process lock `name` in `lockDir` (src/keyring/lock.ts). */
export type WithLock = <T>(lockDir: string, name: string, fn: () => Promise<T>) => Promise<T>;

/**
 * Everything the credentials engine touches outside itself, passed in so it
 * runs in tests against a memory vault and a local endpoint.
 */
export interface EngineDeps {
  credentials: CredentialSource;
  sessions: SessionCache;
  /** The vault's `OidcTokenStore`, for SSO (used by fromSso). */
  oidcTokens: unknown;
  /** Folder of the cross-process locks (beside the store). */
  lockDir: string;
  env: NodeJS.ProcessEnv;
  /** `--debug` lines; never given a secret. */
  debug: (line: string) => void;
  /** A line the user should see on stderr even without --debug (default: process.stderr). */
  warn?: (line: string) => void;
  mfaPrompt: MfaPrompt;
  /** `--stdout`: SSO prints its sign-in link instead of opening a browser. */
  ssoUseStdout?: boolean;
  /**
   * True while a credential server's command owns the terminal (`exec
   * --server`): a `credential_process` then runs without one, so a nested
   * prompt fails at once instead of competing with the command for input.
   */
  terminalTaken?: () => boolean;
  /** Overrides the lock (tests); defaults to `withLock` of src/keyring/lock.ts. */
  withLock?: WithLock;
  /**
   * The start-up fast path: answer only from stored keys and cached
   * sessions. Whatever would need new temporary credentials (STS, SSO, a
   * `credential_process` run, an MFA code) throws FullCliNeeded instead, before
   * doing anything, and the full CLI takes over.
   */
  cachedOnly?: boolean;
}
