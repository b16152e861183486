// AWS IAM Identity Center: the SSO-OIDC device flow (REST-JSON,
// `/client/register`, `/device_authorization`, `/token`) and the SSO portal
// (`/federation/credentials`, `/assignment/*`, `/logout`). Shapes follow the
// @aws-sdk/client-sso-oidc and client-sso models.
import { randomBytes } from 'node:crypto';
import { AwsError } from './wire.ts';
import type { SessionCredentials, World } from './world.ts';

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

interface OidcClient {
  clientSecret: string;
  scopes: string[];
}

interface DeviceAuthorization {
  clientId: string;
  userCode: string;
  startUrl: string;
  expiresAt: number;
  state: 'pending' | 'approved' | 'denied' | 'used';
  lastPollMs: number;
}

interface SsoAccount {
  accountId: string;
  accountName: string;
  emailAddress: string;
  roles: Set<string>;
}

function token(prefix: string, bytes = 48): string {
  return prefix + randomBytes(bytes).toString('base64url');
}

function oauthError(code: string, oauth: string, message: string, status = 400): AwsError {
  return new AwsError(status, code, message, oauth);
}

export class SsoService {
  readonly world: World;
  readonly accounts = new Map<string, SsoAccount>();
  readonly clients = new Map<string, OidcClient>();
  /** By device code. */
  readonly deviceAuthorizations = new Map<string, DeviceAuthorization>();
  readonly accessTokens = new Map<string, { expiresAt: number; startUrl: string }>();
  readonly refreshTokens = new Map<string, { clientId: string; startUrl: string }>();
  /** The polling interval the device flow asks for (AWS says 1..5 s). */
  pollIntervalSeconds = 1;
  /** Answer `slow_down` when a client polls faster than the interval (real-clock). */
  enforceSlowDown = false;
  accessTokenTtlSeconds = 8 * 3600;
  deviceCodeTtlSeconds = 600;
  roleCredentialsTtlSeconds = 3600;

  constructor(world: World) {
    this.world = world;
  }

  assign(accountId: string, roleName: string, accountName = `account-${accountId}`): void {
    let account = this.accounts.get(accountId);
    if (!account) {
      account = {
        accountId,
        accountName,
        emailAddress: `${accountName}@example.com`,
        roles: new Set(),
      };
      this.accounts.set(accountId, account);
    }
    account.roles.add(roleName);
  }

  /** Marks pending device authorizations approved (or denied); returns how many. */
  decide(userCode: string, decision: 'approved' | 'denied'): number {
    let n = 0;
    for (const auth of this.deviceAuthorizations.values()) {
      if (auth.state === 'pending' && (userCode === 'all' || auth.userCode === userCode)) {
        auth.state = decision;
        n++;
      }
    }
    return n;
  }

  pendingUserCodes(): string[] {
    return [...this.deviceAuthorizations.values()]
      .filter((a) => a.state === 'pending')
      .map((a) => a.userCode);
  }

  registerClient(body: Record<string, unknown>): unknown {
    if (typeof body.clientName !== 'string' || typeof body.clientType !== 'string') {
      throw oauthError(
        'InvalidRequestException',
        'invalid_request',
        'clientName and clientType are required',
      );
    }
    if (body.clientType !== 'public') {
      throw oauthError(
        'InvalidClientMetadataException',
        'invalid_client_metadata',
        'clientType must be public',
      );
    }
    const clientId = token('client-', 16);
    const clientSecret = token('secret-', 64);
    const scopes = Array.isArray(body.scopes) ? body.scopes.map(String) : [];
    this.clients.set(clientId, { clientSecret, scopes });
    const now = Math.floor(this.world.clock.now() / 1000);
    return {
      clientId,
      clientSecret,
      clientIdIssuedAt: now,
      clientSecretExpiresAt: now + 90 * 86400,
    };
  }

  private client(body: Record<string, unknown>): OidcClient {
    const client = this.clients.get(String(body.clientId));
    if (!client || client.clientSecret !== body.clientSecret) {
      throw oauthError('InvalidClientException', 'invalid_client', 'Invalid client', 401);
    }
    return client;
  }

  startDeviceAuthorization(body: Record<string, unknown>, region: string): unknown {
    this.client(body);
    if (typeof body.startUrl !== 'string') {
      throw oauthError('InvalidRequestException', 'invalid_request', 'startUrl is required');
    }
    const deviceCode = token('device-', 32);
    const letters = 'BCDFGHJKLMNPQRSTVWXZ';
    const pick = () => Array.from(randomBytes(4), (b) => letters[b % letters.length]).join('');
    const userCode = `${pick()}-${pick()}`;
    this.deviceAuthorizations.set(deviceCode, {
      clientId: String(body.clientId),
      userCode,
      startUrl: body.startUrl,
      expiresAt: this.world.clock.now() + this.deviceCodeTtlSeconds * 1000,
      state: 'pending',
      lastPollMs: 0,
    });
    const verificationUri = `https://device.sso.${region}.amazonaws.com/`;
    return {
      deviceCode,
      userCode,
      verificationUri,
      verificationUriComplete: `${verificationUri}?user_code=${userCode}`,
      expiresIn: this.deviceCodeTtlSeconds,
      interval: this.pollIntervalSeconds,
    };
  }

  createToken(body: Record<string, unknown>): unknown {
    const client = this.client(body);
    const clientId = String(body.clientId);
    let startUrl: string;
    if (body.grantType === DEVICE_GRANT) {
      const auth = this.deviceAuthorizations.get(String(body.deviceCode));
      if (!auth || auth.clientId !== clientId || auth.state === 'used') {
        throw oauthError('InvalidGrantException', 'invalid_grant', 'Invalid grant provided');
      }
      if (this.world.clock.now() >= auth.expiresAt) {
        throw oauthError('ExpiredTokenException', 'expired_token', 'Device code has expired');
      }
      if (auth.state === 'denied') {
        throw oauthError('AccessDeniedException', 'access_denied', 'Access denied by the user');
      }
      if (auth.state === 'pending') {
        const real = Date.now();
        const tooSoon = real - auth.lastPollMs < this.pollIntervalSeconds * 1000;
        auth.lastPollMs = real;
        if (this.enforceSlowDown && tooSoon) {
          throw oauthError('SlowDownException', 'slow_down', 'Client is polling too quickly');
        }
        throw oauthError(
          'AuthorizationPendingException',
          'authorization_pending',
          'Authorization is still pending',
        );
      }
      auth.state = 'used';
      startUrl = auth.startUrl;
    } else if (body.grantType === 'refresh_token') {
      const refresh = this.refreshTokens.get(String(body.refreshToken));
      if (!refresh || refresh.clientId !== clientId) {
        throw oauthError(
          'InvalidGrantException',
          'invalid_grant',
          'Invalid refresh token provided',
        );
      }
      this.refreshTokens.delete(String(body.refreshToken));
      startUrl = refresh.startUrl;
    } else {
      throw oauthError(
        'UnsupportedGrantTypeException',
        'unsupported_grant_type',
        `Unsupported grant type: ${String(body.grantType)}`,
      );
    }
    const accessToken = token('aoa', 96);
    this.accessTokens.set(accessToken, {
      expiresAt: this.world.clock.now() + this.accessTokenTtlSeconds * 1000,
      startUrl,
    });
    // Identity Center hands out refresh tokens only to clients registered with scopes.
    let refreshToken: string | undefined;
    if (client.scopes.length > 0) {
      refreshToken = token('aor', 96);
      this.refreshTokens.set(refreshToken, { clientId, startUrl });
    }
    return {
      accessToken,
      tokenType: 'Bearer',
      expiresIn: this.accessTokenTtlSeconds,
      refreshToken,
    };
  }

  private bearer(accessToken: string | undefined): void {
    const t = accessToken === undefined ? undefined : this.accessTokens.get(accessToken);
    if (!t || this.world.clock.now() >= t.expiresAt) {
      throw new AwsError(401, 'UnauthorizedException', 'Session token not found or invalid');
    }
  }

  getRoleCredentials(
    accessToken: string | undefined,
    accountId: string,
    roleName: string,
  ): {
    session: SessionCredentials;
    body: unknown;
  } {
    this.bearer(accessToken);
    if (!accountId || !roleName) {
      throw new AwsError(400, 'InvalidRequestException', 'role_name and account_id are required');
    }
    if (!this.accounts.get(accountId)?.roles.has(roleName)) {
      throw new AwsError(403, 'ForbiddenException', 'No access');
    }
    const session = this.world.issueSession({
      kind: 'role',
      expiresAt: this.world.clock.now() + this.roleCredentialsTtlSeconds * 1000,
      userName: undefined,
      roleArn: `arn:aws:iam::${accountId}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_${roleName}_0123456789abcdef`,
      roleSessionName: 'sso-user',
      federatedName: undefined,
      accountId,
      mfaAuthenticated: true,
      chained: false,
      sourceIdentity: undefined,
      tags: {},
      transitiveTagKeys: [],
      issuedBy: 'GetRoleCredentials',
    });
    return {
      session,
      body: {
        roleCredentials: {
          accessKeyId: session.accessKeyId,
          secretAccessKey: session.secretAccessKey,
          sessionToken: session.sessionToken,
          expiration: session.expiresAt,
        },
      },
    };
  }

  listAccounts(accessToken: string | undefined): unknown {
    this.bearer(accessToken);
    return {
      accountList: [...this.accounts.values()].map((a) => ({
        accountId: a.accountId,
        accountName: a.accountName,
        emailAddress: a.emailAddress,
      })),
    };
  }

  listAccountRoles(accessToken: string | undefined, accountId: string): unknown {
    this.bearer(accessToken);
    const roles = this.accounts.get(accountId)?.roles ?? new Set<string>();
    return { roleList: [...roles].map((roleName) => ({ roleName, accountId })) };
  }

  logout(accessToken: string | undefined): void {
    this.bearer(accessToken);
    this.accessTokens.delete(accessToken!);
  }
}
