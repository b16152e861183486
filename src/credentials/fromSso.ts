import type { Writable } from 'node:stream';
import type { OidcClient, SsoApi } from '../aws/sso.ts';
import type { ProfileConfig } from '../config/types.ts';
import { UserError } from '../errors.ts';
import type { OidcToken, OidcTokenStore } from '../keyring/oidcTokenStore.ts';
import type { EngineDeps } from './engineDeps.ts';
import { runDeviceFlow } from './ssoDeviceFlow.ts';
import { ssoErrorName, ssoErrorStatus } from './ssoErrors.ts';
import type { Credentials, CredentialsProvider } from './types.ts';
import {
  formatTimeLeft,
  REFRESH_WAIT_MS,
  requestOf,
  withSessionCache,
} from './withSessionCache.ts';

/** An access token with less than this left is refreshed rather than used. */
const TOKEN_MIN_TTL_MS = 5 * 60_000;

/** Test seams of {@link fromSso}; production code passes none. */
export interface SsoTestHooks {
  api?: SsoApi;
  openBrowser?: (url: string) => Promise<boolean>;
  stderr?: Writable & { isTTY?: boolean };
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** The SSO settings of a profile, checked: everything GetRoleCredentials needs. */
export interface SsoSettings {
  startUrl: string;
  region: string;
  accountId: string;
  roleName: string;
  scopes: string[] | undefined;
}

/** Reads and checks the `sso_*` settings of a profile (legacy or `sso_session`). */
export function ssoSettingsOf(profile: ProfileConfig): SsoSettings {
  const missing = [
    ['sso_start_url', profile.ssoStartUrl],
    ['sso_region', profile.ssoRegion],
    ['sso_account_id', profile.ssoAccountId],
    ['sso_role_name', profile.ssoRoleName],
  ]
    .filter(([, value]) => value === undefined || value === '')
    .map(([key]) => key as string);
  if (missing.length > 0) {
    const where = profile.ssoSession
      ? `profile ${profile.name} (sso_session ${profile.ssoSession})`
      : `profile ${profile.name}`;
    // sso_start_url and sso_region may come from the [sso-session]; the
    // account and role are the profile's own.
    const session: string[] = missing.filter((k) => k === 'sso_start_url' || k === 'sso_region');
    const own = missing.filter((k) => !session.includes(k));
    const parts = profile.ssoSession
      ? [
          ...(session.length > 0
            ? [
                `${session.join(', ')} (in the profile or its [sso-session ${profile.ssoSession}] section)`,
              ]
            : []),
          ...(own.length > 0 ? [`${own.join(', ')} (in the profile)`] : []),
        ]
      : [missing.join(', ')];
    throw new UserError(`${where}: SSO needs ${parts.join(' and ')} in ${profile.file}`);
  }
  return {
    startUrl: profile.ssoStartUrl as string,
    region: profile.ssoRegion as string,
    accountId: profile.ssoAccountId as string,
    roleName: profile.ssoRoleName as string,
    scopes: profile.ssoRegistrationScopes,
  };
}

/** A file-name-safe lock name for the SSO sign-in of one start URL. */
export function ssoLockName(startUrl: string): string {
  return `oidc,${Buffer.from(startUrl, 'utf8').toString('base64url')}`;
}

/**
 * Credentials of an IAM Identity Center (SSO) role: an SSO access token (from
 * the vault, refreshed with its refresh token, or from the device sign-in in
 * the browser) exchanged with GetRoleCredentials. The role credentials are
 * cached as `sso.GetRoleCredentials` sessions, the token under
 * `oidc:<start url>`; a cross-process lock per start URL makes parallel
 * processes share one sign-in (one browser tab).
 */
export function fromSso(
  profile: ProfileConfig,
  deps: EngineDeps,
  hooks: SsoTestHooks = {},
): CredentialsProvider {
  const fetchRoleCredentials: CredentialsProvider = async () => {
    const settings = ssoSettingsOf(profile);
    const api = hooks.api ?? (await realApi(profile, settings, deps));
    return getRoleCredentials(profile, settings, api, deps, hooks);
  };
  return withSessionCache(fetchRoleCredentials, {
    meta: {
      type: 'sso.GetRoleCredentials',
      profileName: profile.name,
      mfaSerial: profile.ssoStartUrl ?? '',
      request: requestOf([profile.ssoAccountId, profile.ssoRoleName]),
    },
    minTtl: profile.minTtl,
    deps,
  });
}

async function realApi(
  profile: ProfileConfig,
  settings: SsoSettings,
  deps: EngineDeps,
): Promise<SsoApi> {
  const [{ clientConfigFor }, { createSsoApi }] = await Promise.all([
    import('../aws/clientConfig.ts'),
    import('../aws/sso.ts'),
  ]);
  const common = { profile, env: deps.env, region: settings.region, debug: deps.debug };
  return createSsoApi({
    oidcConfig: clientConfigFor({ ...common, service: 'sso-oidc' }),
    ssoConfig: clientConfigFor({ ...common, service: 'sso' }),
  });
}

async function getRoleCredentials(
  profile: ProfileConfig,
  settings: SsoSettings,
  api: SsoApi,
  deps: EngineDeps,
  hooks: SsoTestHooks,
): Promise<Credentials> {
  const p = `profile ${profile.name}`;
  let rejected: string | undefined;
  for (let attempt = 0; attempt < 2; attempt++) {
    const token = await accessToken(profile, settings, api, deps, hooks, rejected);
    try {
      const creds = await api.getRoleCredentials({
        accessToken: token,
        accountId: settings.accountId,
        roleName: settings.roleName,
      });
      deps.debug(
        `${p}: got SSO role credentials for ${settings.roleName} in account ${settings.accountId} (expire in ${formatTimeLeft(creds.expiration)})`,
      );
      return creds;
    } catch (error) {
      const name = ssoErrorName(error);
      if ((name === 'UnauthorizedException' || ssoErrorStatus(error) === 401) && attempt === 0) {
        deps.debug(`${p}: the SSO access token was rejected; signing in again`);
        rejected = token;
        continue;
      }
      throw await ssoError(p, profile, settings, deps, error, 'sso');
    }
  }
  throw new UserError(`${p}: SSO kept rejecting fresh access tokens for ${settings.startUrl}`);
}

/** A clear error for a failed SSO call (unreachable endpoint, refused role, anything else). */
async function ssoError(
  p: string,
  profile: ProfileConfig,
  settings: SsoSettings,
  deps: EngineDeps,
  error: unknown,
  service: 'sso' | 'sso-oidc',
): Promise<UserError> {
  if (error instanceof UserError) return error;
  const { unreachableError, clientConfigFor, endpointUrlOf } =
    await import('../aws/clientConfig.ts');
  const config = clientConfigFor({ profile, service, env: deps.env, region: settings.region });
  const unreachable = unreachableError(error, service, endpointUrlOf(config, service));
  if (unreachable) return new UserError(`${p}: ${unreachable.message}`, { cause: error });
  if (service === 'sso-oidc') {
    const name = ssoErrorName(error) ?? 'Error';
    const message = error instanceof Error ? error.message : String(error);
    return new UserError(
      `${p}: the SSO sign-in to ${settings.startUrl} failed (${name}: ${message}); check sso_start_url and sso_region`,
      { cause: error },
    );
  }
  const name = ssoErrorName(error) ?? 'Error';
  const message = error instanceof Error ? error.message : String(error);
  deps.debug(`${p}: GetRoleCredentials failed with ${name}`);
  if (name === 'ForbiddenException' || name === 'UnauthorizedException') {
    return new UserError(
      `${p}: IAM Identity Center refused role ${settings.roleName} in account ${settings.accountId} (${name}: ${message}); check sso_account_id and sso_role_name, and that you are assigned to them`,
      { cause: error },
    );
  }
  return new UserError(
    `${p}: SSO GetRoleCredentials for role ${settings.roleName} in account ${settings.accountId} failed (${name}: ${message})`,
    { cause: error },
  );
}

/**
 * A usable SSO access token for the start URL: the vault's, else refreshed
 * with the stored refresh token, else from a new device sign-in. Runs under
 * the start URL's lock, re-reading the vault inside it, so processes that
 * waited on another's sign-in use its token.
 */
async function accessToken(
  profile: ProfileConfig,
  settings: SsoSettings,
  api: SsoApi,
  deps: EngineDeps,
  hooks: SsoTestHooks,
  rejected: string | undefined,
): Promise<string> {
  const store = deps.oidcTokens as OidcTokenStore;
  const now = hooks.now ?? Date.now;
  const p = `profile ${profile.name}`;
  const fresh = (t: OidcToken | undefined) =>
    t !== undefined &&
    t.accessToken !== rejected &&
    t.expiresAt.getTime() - now() > TOKEN_MIN_TTL_MS;

  const quick = await store.get(settings.startUrl);
  if (fresh(quick)) {
    deps.debug(`${p}: using cached SSO token for ${settings.startUrl}`);
    return (quick as OidcToken).accessToken;
  }
  const stderr = hooks.stderr ?? process.stderr;
  const withLock =
    deps.withLock ??
    (async <T>(dir: string, name: string, fn: () => Promise<T>) => {
      const { withLock: lock } = await import('../keyring/lock.ts');
      // Another process may be in the device sign-in, whose code lasts about
      // 10 minutes: wait that long, and say what is being waited for.
      return lock(dir, name, fn, {
        timeoutMs: REFRESH_WAIT_MS,
        noticeAfterMs: 3000,
        debug: deps.debug,
        unavailable: (why) =>
          stderr.write(
            `aws-vault: warning: ${why}; signing in to ${settings.startUrl} without the lock (parallel runs may each ask you to sign in)\n`,
          ),
        onWait: (holder) =>
          stderr.write(
            `aws-vault: waiting for the SSO sign-in to ${settings.startUrl} in another aws-vault (process ${holder.pid}); approve it in the browser or with the code that one printed\n`,
          ),
      });
    });
  return withLock(deps.lockDir, ssoLockName(settings.startUrl), async () => {
    const stored = await store.get(settings.startUrl, { includeExpired: true });
    if (fresh(stored)) {
      deps.debug(`${p}: using SSO token for ${settings.startUrl} from another process`);
      return (stored as OidcToken).accessToken;
    }
    let clientRejected = false;
    if (stored !== undefined) {
      const refreshed = await tryRefresh(p, stored, settings, api, deps, now);
      if (typeof refreshed === 'string') return refreshed;
      clientRejected = refreshed === CLIENT_REJECTED;
    }
    deps.debug(`${p}: signing in to ${settings.startUrl} (device authorization)`);
    const { openBrowser } = await import('../prompt/browser.ts');
    const client = clientRejected ? undefined : reusableClient(stored, settings, now);
    const signIn = (registered: OidcClient | undefined) =>
      runDeviceFlow({
        api,
        startUrl: settings.startUrl,
        ...(registered !== undefined ? { client: registered } : {}),
        ...(settings.scopes !== undefined ? { scopes: settings.scopes } : {}),
        ...(deps.ssoUseStdout
          ? {}
          : {
              openBrowser:
                hooks.openBrowser ??
                ((url: string) => openBrowser(url, { env: deps.env, debug: deps.debug })),
            }),
        stderr,
        debug: deps.debug,
        ...(hooks.sleep !== undefined ? { sleep: hooks.sleep } : {}),
        now,
      });
    // A client registered earlier that the service no longer knows (deleted,
    // or of another sso_region): register a new one, once.
    const flow = signIn(client).catch((error: unknown) => {
      if (client === undefined || ssoErrorName(error) !== 'InvalidClientException') throw error;
      deps.debug(`${p}: the OIDC client registered earlier was refused; registering a new one`);
      return signIn(undefined);
    });
    const result = await flow.catch(async (error: unknown) => {
      throw await ssoError(p, profile, settings, deps, error, 'sso-oidc');
    });
    await store.set(settings.startUrl, {
      accessToken: result.token.accessToken,
      expiresAt: result.token.expiresAt,
      ...(result.token.refreshToken !== undefined
        ? { refreshToken: result.token.refreshToken }
        : {}),
      clientId: result.client.clientId,
      clientSecret: result.client.clientSecret,
      registrationExpiresAt: result.client.expiresAt,
      region: settings.region,
      ...(settings.scopes !== undefined ? { scopes: settings.scopes } : {}),
    });
    return result.token.accessToken;
  });
}

/**
 * The client registration stored with an earlier token, when it is valid for
 * another day and was made with the same scopes (the AWS CLI keeps its
 * registration for its 90 days too).
 */
function reusableClient(
  stored: OidcToken | undefined,
  settings: SsoSettings,
  now: () => number,
): OidcClient | undefined {
  if (!stored?.clientId || !stored.clientSecret || !stored.registrationExpiresAt) return undefined;
  if (stored.registrationExpiresAt.getTime() - now() < 86_400_000) return undefined;
  const key = (scopes: string[] | undefined) => [...(scopes ?? [])].sort().join(' ');
  if (key(stored.scopes) !== key(settings.scopes)) return undefined;
  // A client is registered in one region (an edited sso_region needs another).
  if (stored.region !== undefined && stored.region !== settings.region) return undefined;
  return {
    clientId: stored.clientId,
    clientSecret: stored.clientSecret,
    expiresAt: stored.registrationExpiresAt,
  };
}

/** What tryRefresh says when the service refused the stored client registration. */
const CLIENT_REJECTED = Symbol('client rejected');

/**
 * Uses the stored refresh token: the new access token; undefined (after a
 * debug line) when it cannot, {@link CLIENT_REJECTED} when the service no
 * longer knows the client it was issued to.
 */
async function tryRefresh(
  p: string,
  stored: OidcToken,
  settings: SsoSettings,
  api: SsoApi,
  deps: EngineDeps,
  now: () => number,
): Promise<string | typeof CLIENT_REJECTED | undefined> {
  const store = deps.oidcTokens as OidcTokenStore;
  if (stored.refreshToken === undefined || !stored.clientId || !stored.clientSecret) {
    deps.debug(`${p}: the SSO token has expired and has no refresh token`);
    return undefined;
  }
  if (stored.registrationExpiresAt && stored.registrationExpiresAt.getTime() <= now()) {
    deps.debug(`${p}: the SSO client registration has expired; cannot refresh`);
    return undefined;
  }
  if (stored.region !== undefined && stored.region !== settings.region) {
    deps.debug(`${p}: the SSO token is of sso_region ${stored.region}; signing in again`);
    return CLIENT_REJECTED;
  }
  try {
    const token = await api.createTokenFromRefreshToken({
      client: {
        clientId: stored.clientId,
        clientSecret: stored.clientSecret,
        expiresAt: stored.registrationExpiresAt ?? new Date(now() + 86_400_000),
      },
      refreshToken: stored.refreshToken,
    });
    await store.set(settings.startUrl, {
      ...stored,
      accessToken: token.accessToken,
      expiresAt: token.expiresAt,
      // The server may rotate the refresh token; keep the old one otherwise.
      refreshToken: token.refreshToken ?? stored.refreshToken,
    });
    deps.debug(
      `${p}: refreshed the SSO token for ${settings.startUrl} (expires in ${formatTimeLeft(token.expiresAt, now())})`,
    );
    return token.accessToken;
  } catch (error) {
    deps.debug(
      `${p}: refreshing the SSO token failed (${ssoErrorName(error) ?? 'error'}); signing in again`,
    );
    return ssoErrorName(error) === 'InvalidClientException' ? CLIENT_REJECTED : undefined;
  }
}
