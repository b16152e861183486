import { redactCredentials } from '../credentials/redact.ts';
import type { Backend } from './backend.ts';
import { goTime, parseGoTime } from './sessionStore.ts';

const PREFIX = 'oidc:';

/** An SSO-OIDC `CreateToken` result plus what is needed to refresh it. */
export interface OidcToken {
  accessToken: string;
  expiresAt: Date;
  refreshToken?: string;
  idToken?: string;
  tokenType?: string;
  /** The client registration (`RegisterClient`) the refresh token belongs to. */
  clientId?: string;
  clientSecret?: string;
  registrationExpiresAt?: Date;
  /** The `sso_region` the token was made in. */
  region?: string;
  scopes?: string[];
}

/**
 * The Go aws-vault's `OIDCTokenData` ({Token: CreateTokenOutput, Expiration});
 * the client registration lives in extra top-level fields, which Go ignores.
 */
interface StoredJson {
  Token: {
    AccessToken: string | null;
    ExpiresIn: number;
    IdToken: string | null;
    RefreshToken: string | null;
    TokenType: string | null;
  };
  Expiration: string;
  ClientId?: string;
  ClientSecret?: string;
  RegistrationExpiresAt?: string;
  Region?: string;
  Scopes?: string[];
}

/** A key of the SSO token store (`oidc:<start url>`)? */
export function isOidcTokenKey(key: string): boolean {
  return key.startsWith(PREFIX);
}

/** SSO access tokens by start URL, under `oidc:<start url>` like the Go aws-vault. */
export class OidcTokenStore {
  readonly #backend: Backend;
  readonly #now: () => number;

  constructor(backend: Backend, options?: { now?: () => number }) {
    this.#backend = backend;
    this.#now = options?.now ?? Date.now;
  }

  /**
   * The token for `startUrl`. An expired token is returned only with
   * `includeExpired` (its refresh token may still work); an expired token
   * that cannot be refreshed is removed.
   */
  async get(
    startUrl: string,
    options?: { includeExpired?: boolean },
  ): Promise<OidcToken | undefined> {
    const value = await this.#backend.get(PREFIX + startUrl);
    if (value === undefined) return undefined;
    const token = parseToken(value);
    if (token === undefined) {
      await this.#backend.remove(PREFIX + startUrl);
      return undefined;
    }
    if (token.expiresAt.getTime() > this.#now()) return token;
    if (token.refreshToken === undefined) {
      await this.#backend.remove(PREFIX + startUrl);
      return undefined;
    }
    return options?.includeExpired === true ? token : undefined;
  }

  async set(startUrl: string, token: OidcToken): Promise<void> {
    const value: StoredJson = {
      Token: {
        AccessToken: token.accessToken,
        ExpiresIn: Math.max(0, Math.floor((token.expiresAt.getTime() - this.#now()) / 1000)),
        IdToken: token.idToken ?? null,
        RefreshToken: token.refreshToken ?? null,
        TokenType: token.tokenType ?? null,
      },
      Expiration: goTime(token.expiresAt),
      ...(token.clientId !== undefined ? { ClientId: token.clientId } : {}),
      ...(token.clientSecret !== undefined ? { ClientSecret: token.clientSecret } : {}),
      ...(token.registrationExpiresAt !== undefined
        ? { RegistrationExpiresAt: goTime(token.registrationExpiresAt) }
        : {}),
      ...(token.region !== undefined ? { Region: token.region } : {}),
      ...(token.scopes !== undefined ? { Scopes: token.scopes } : {}),
    };
    await this.#backend.set(PREFIX + startUrl, JSON.stringify(value), {
      label: `aws-vault oidc token for ${startUrl} (expires ${goTime(token.expiresAt)})`,
      description: 'aws-vault oidc token',
    });
  }

  async remove(startUrl: string): Promise<void> {
    await this.#backend.remove(PREFIX + startUrl);
  }

  /** The start URLs with a stored token. */
  async list(): Promise<string[]> {
    return (await this.#backend.keys())
      .filter(isOidcTokenKey)
      .map((k) => k.slice(PREFIX.length))
      .sort();
  }

  /** Removes every stored SSO token; returns how many. */
  async removeAll(): Promise<number> {
    const urls = await this.list();
    for (const url of urls) await this.remove(url);
    return urls.length;
  }
}

function parseToken(value: string): OidcToken | undefined {
  let parsed: Partial<StoredJson>;
  try {
    parsed = JSON.parse(value) as Partial<StoredJson>;
  } catch {
    return undefined;
  }
  const accessToken = parsed.Token?.AccessToken;
  const expiresAt = parseGoTime(parsed.Expiration);
  if (typeof accessToken !== 'string' || expiresAt === undefined) return undefined;
  const registrationExpiresAt = parseGoTime(parsed.RegistrationExpiresAt);
  const t = parsed.Token;
  return redactCredentials({
    accessToken,
    expiresAt,
    ...(typeof t?.RefreshToken === 'string' ? { refreshToken: t.RefreshToken } : {}),
    ...(typeof t?.IdToken === 'string' ? { idToken: t.IdToken } : {}),
    ...(typeof t?.TokenType === 'string' ? { tokenType: t.TokenType } : {}),
    ...(parsed.ClientId !== undefined ? { clientId: parsed.ClientId } : {}),
    ...(parsed.ClientSecret !== undefined ? { clientSecret: parsed.ClientSecret } : {}),
    ...(registrationExpiresAt !== undefined ? { registrationExpiresAt } : {}),
    ...(parsed.Region !== undefined ? { region: parsed.Region } : {}),
    ...(parsed.Scopes !== undefined ? { scopes: parsed.Scopes } : {}),
  });
}
