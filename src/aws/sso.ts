// The only importer of @aws-sdk/client-sso and @aws-sdk/client-sso-oidc.
// Import this module with a dynamic `await import()` only when an SSO call is
// about to be made, so cached paths never load the SDK.
import { GetRoleCredentialsCommand, SSOClient } from '@aws-sdk/client-sso';
import {
  CreateTokenCommand,
  RegisterClientCommand,
  SSOOIDCClient,
  StartDeviceAuthorizationCommand,
} from '@aws-sdk/client-sso-oidc';
import type { Credentials } from '../credentials/types.ts';
import { watchRequests } from './clientConfig.ts';

/** A registered public OIDC client (valid ~90 days). */
export interface OidcClient {
  clientId: string;
  clientSecret: string;
  expiresAt: Date;
}

/** A started device authorization: what the user must approve. */
export interface DeviceAuthorization {
  deviceCode: string;
  userCode: string;
  verificationUri: string;
  verificationUriComplete: string;
  /** Seconds the device code stays valid. */
  expiresIn: number;
  /** Seconds between polls (the server's choice; 5 when absent). */
  interval: number;
}

/** An SSO access token from CreateToken. */
export interface OidcTokenResult {
  accessToken: string;
  expiresAt: Date;
  refreshToken?: string;
}

/** The SSO and SSO-OIDC calls aws-vault makes; injectable for tests. */
export interface SsoApi {
  registerClient(input: { clientName: string; scopes?: string[] }): Promise<OidcClient>;
  startDeviceAuthorization(input: {
    client: OidcClient;
    startUrl: string;
  }): Promise<DeviceAuthorization>;
  /** Polls for the device code's token (throws `AuthorizationPendingException` while pending). */
  createTokenFromDeviceCode(input: {
    client: OidcClient;
    deviceCode: string;
  }): Promise<OidcTokenResult>;
  createTokenFromRefreshToken(input: {
    client: OidcClient;
    refreshToken: string;
  }): Promise<OidcTokenResult>;
  getRoleCredentials(input: {
    accessToken: string;
    accountId: string;
    roleName: string;
  }): Promise<Credentials & { expiration: Date }>;
}

export interface SsoApiOptions {
  /** SDK client options for SSO-OIDC (`clientConfigFor(..., 'sso-oidc')`: region, endpoint, retries). */
  oidcConfig: SsoClientConfig;
  /** SDK client options for the SSO portal (`clientConfigFor(..., 'sso')`). */
  ssoConfig: SsoClientConfig;
  /** Clock used to turn `expiresIn` into dates (tests move time). */
  now?: () => number;
}

/** The client options this module passes through to the SDK constructors. */
export interface SsoClientConfig {
  region: string;
  endpoint?: string;
  credentials?: unknown;
}

/** The real SsoApi over the AWS SDK v3 clients. */
export function createSsoApi(options: SsoApiOptions): SsoApi {
  const now = options.now ?? Date.now;
  // Every call here is unsigned (the SDK models them as noAuth): no credentials.
  const withoutCredentials = (config: SsoClientConfig) => {
    const { credentials: _unused, ...rest } = config;
    return rest;
  };
  let oidcClient: SSOOIDCClient | undefined;
  const oidc = () =>
    (oidcClient ??= watchRequests(new SSOOIDCClient(withoutCredentials(options.oidcConfig))));
  let portalClient: SSOClient | undefined;
  const portal = () =>
    (portalClient ??= watchRequests(new SSOClient(withoutCredentials(options.ssoConfig))));
  const toToken = (out: {
    accessToken?: string;
    expiresIn?: number;
    refreshToken?: string;
  }): OidcTokenResult => {
    if (!out.accessToken) throw new Error('SSO-OIDC CreateToken returned no access token');
    return {
      accessToken: out.accessToken,
      expiresAt: new Date(now() + (out.expiresIn ?? 3600) * 1000),
      refreshToken: out.refreshToken || undefined,
    };
  };

  return {
    async registerClient({ clientName, scopes }) {
      const client = oidc();
      const out = await client.send(
        new RegisterClientCommand({
          clientName,
          clientType: 'public',
          // As the AWS CLI registers device-flow clients: scopes (which bring
          // refresh tokens) and no grant types.
          scopes: scopes && scopes.length > 0 ? scopes : undefined,
        }),
      );
      if (!out.clientId || !out.clientSecret) {
        throw new Error('SSO-OIDC RegisterClient returned no client id or secret');
      }
      return {
        clientId: out.clientId,
        clientSecret: out.clientSecret,
        expiresAt: new Date((out.clientSecretExpiresAt ?? now() / 1000 + 86400) * 1000),
      };
    },

    async startDeviceAuthorization({ client, startUrl }) {
      const c = oidc();
      const out = await c.send(
        new StartDeviceAuthorizationCommand({
          clientId: client.clientId,
          clientSecret: client.clientSecret,
          startUrl,
        }),
      );
      if (!out.deviceCode || !out.verificationUri) {
        throw new Error('SSO-OIDC StartDeviceAuthorization returned no device code');
      }
      return {
        deviceCode: out.deviceCode,
        userCode: out.userCode ?? '',
        verificationUri: out.verificationUri,
        verificationUriComplete: out.verificationUriComplete ?? out.verificationUri,
        expiresIn: out.expiresIn ?? 600,
        interval: out.interval && out.interval > 0 ? out.interval : 5,
      };
    },

    async createTokenFromDeviceCode({ client, deviceCode }) {
      const c = oidc();
      const out = await c.send(
        new CreateTokenCommand({
          clientId: client.clientId,
          clientSecret: client.clientSecret,
          grantType: 'urn:ietf:params:oauth:grant-type:device_code',
          deviceCode,
        }),
      );
      return toToken(out);
    },

    async createTokenFromRefreshToken({ client, refreshToken }) {
      const c = oidc();
      const out = await c.send(
        new CreateTokenCommand({
          clientId: client.clientId,
          clientSecret: client.clientSecret,
          grantType: 'refresh_token',
          refreshToken,
        }),
      );
      return toToken(out);
    },

    async getRoleCredentials({ accessToken, accountId, roleName }) {
      const c = portal();
      const out = await c.send(new GetRoleCredentialsCommand({ accessToken, accountId, roleName }));
      const rc = out.roleCredentials;
      if (!rc?.accessKeyId || !rc.secretAccessKey || !rc.sessionToken) {
        throw new Error('SSO GetRoleCredentials returned no credentials');
      }
      return {
        accessKeyId: rc.accessKeyId,
        secretAccessKey: rc.secretAccessKey,
        sessionToken: rc.sessionToken,
        // Milliseconds since the epoch, as the portal API sends it.
        expiration: new Date(rc.expiration ?? now() + 3600_000),
      };
    },
  };
}
