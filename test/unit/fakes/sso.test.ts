// The fake's IAM Identity Center routes against the real SDK clients, and
// the console federation endpoint.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  CreateTokenCommand,
  RegisterClientCommand,
  SSOOIDCClient,
  StartDeviceAuthorizationCommand,
} from '@aws-sdk/client-sso-oidc';
import {
  GetRoleCredentialsCommand,
  ListAccountRolesCommand,
  ListAccountsCommand,
  SSOClient,
} from '@aws-sdk/client-sso';
import {
  GetCallerIdentityCommand,
  GetFederationTokenCommand,
  GetSessionTokenCommand,
  STSClient,
} from '@aws-sdk/client-sts';
import { startFakeAws, type FakeAws } from '../../fakes/fakeAws.ts';

let fake: FakeAws;
let oidc: SSOOIDCClient;
let portal: SSOClient;
const START_URL = 'https://example.awsapps.com/start';

beforeAll(async () => {
  fake = await startFakeAws();
  oidc = new SSOOIDCClient({ endpoint: fake.url, region: 'eu-west-1', maxAttempts: 1 });
  portal = new SSOClient({ endpoint: fake.url, region: 'eu-west-1', maxAttempts: 1 });
  fake.ssoAssign('111122223333', 'Admin', 'prod');
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => fake.reset());

async function startFlow(scopes?: string[]) {
  const client = await oidc.send(
    new RegisterClientCommand({ clientName: 'aws-vault', clientType: 'public', scopes }),
  );
  const auth = await oidc.send(
    new StartDeviceAuthorizationCommand({
      clientId: client.clientId,
      clientSecret: client.clientSecret,
      startUrl: START_URL,
    }),
  );
  const poll = (deviceCode = auth.deviceCode) =>
    oidc.send(
      new CreateTokenCommand({
        clientId: client.clientId,
        clientSecret: client.clientSecret,
        grantType: 'urn:ietf:params:oauth:grant-type:device_code',
        deviceCode,
      }),
    );
  return { client, auth, poll };
}

describe('SSO-OIDC device flow', () => {
  it('pending until approved, then a token; the device code works once', async () => {
    const { auth, poll } = await startFlow();
    expect(auth.userCode).toMatch(/^[A-Z]{4}-[A-Z]{4}$/);
    // SSO-OIDC calls are unsigned, so the fake cannot tell the region: it names us-east-1.
    expect(auth.verificationUriComplete).toBe(
      `https://device.sso.us-east-1.amazonaws.com/?user_code=${auth.userCode}`,
    );
    expect(auth.interval).toBe(1);
    await expect(poll()).rejects.toMatchObject({
      name: 'AuthorizationPendingException',
      error: 'authorization_pending',
      $metadata: { httpStatusCode: 400 },
    });
    expect(fake.approveDeviceAuthorization(auth.userCode!)).toBe(1);
    const token = await poll();
    expect(token.tokenType).toBe('Bearer');
    expect(token.expiresIn).toBe(28800);
    expect(token.refreshToken).toBeUndefined();
    await expect(poll()).rejects.toMatchObject({
      name: 'InvalidGrantException',
      error: 'invalid_grant',
    });
    expect(fake.count('CreateToken', { ok: true })).toBe(1);
    // Secrets of the flow stay out of the record.
    expect(JSON.stringify(fake.calls)).not.toContain(auth.deviceCode!);
  });

  it('denied and expired authorizations', async () => {
    const denied = await startFlow();
    fake.denyDeviceAuthorization('all');
    await expect(denied.poll()).rejects.toMatchObject({
      name: 'AccessDeniedException',
      error: 'access_denied',
    });
    const late = await startFlow();
    fake.clock.advance(601);
    await expect(late.poll()).rejects.toMatchObject({
      name: 'ExpiredTokenException',
      error: 'expired_token',
    });
  });

  it('slow_down can be injected', async () => {
    const { poll } = await startFlow();
    fake.failNext('CreateToken', { code: 'SlowDownException' });
    await expect(poll()).rejects.toMatchObject({ name: 'SlowDownException' });
  });

  it('clients registered with scopes get refresh tokens that rotate', async () => {
    const { client, auth, poll } = await startFlow(['sso:account:access']);
    fake.approveDeviceAuthorization(auth.userCode!);
    const first = await poll();
    expect(first.refreshToken).toBeTruthy();
    const refresh = (refreshToken: string | undefined) =>
      oidc.send(
        new CreateTokenCommand({
          clientId: client.clientId,
          clientSecret: client.clientSecret,
          grantType: 'refresh_token',
          refreshToken,
        }),
      );
    const second = await refresh(first.refreshToken);
    expect(second.accessToken).not.toBe(first.accessToken);
    await expect(refresh(first.refreshToken)).rejects.toMatchObject({
      name: 'InvalidGrantException',
    });
  });
});

describe('SSO portal', () => {
  async function accessToken(): Promise<string> {
    const { auth, poll } = await startFlow();
    fake.approveDeviceAuthorization(auth.userCode!);
    return (await poll()).accessToken!;
  }

  it('lists assignments and issues role credentials that STS accepts', async () => {
    const token = await accessToken();
    const accounts = await portal.send(new ListAccountsCommand({ accessToken: token }));
    expect(accounts.accountList).toEqual([
      { accountId: '111122223333', accountName: 'prod', emailAddress: 'prod@example.com' },
    ]);
    const roles = await portal.send(
      new ListAccountRolesCommand({ accessToken: token, accountId: '111122223333' }),
    );
    expect(roles.roleList).toEqual([{ roleName: 'Admin', accountId: '111122223333' }]);
    const out = await portal.send(
      new GetRoleCredentialsCommand({
        accessToken: token,
        accountId: '111122223333',
        roleName: 'Admin',
      }),
    );
    const rc = out.roleCredentials!;
    expect(rc.expiration! - fake.clock.now()).toBeGreaterThan(3500_000);
    const who = await new STSClient({
      endpoint: fake.url,
      region: 'eu-west-1',
      credentials: {
        accessKeyId: rc.accessKeyId!,
        secretAccessKey: rc.secretAccessKey!,
        sessionToken: rc.sessionToken,
      },
    }).send(new GetCallerIdentityCommand({}));
    expect(who.Arn).toMatch(
      /^arn:aws:sts::111122223333:assumed-role\/AWSReservedSSO_Admin_[0-9a-f]+\/sso-user$/,
    );
    expect(fake.calls.find((c) => c.action === 'GetRoleCredentials')).toMatchObject({
      service: 'sso',
      status: 200,
    });
  });

  it('refuses unknown or expired tokens and unassigned roles', async () => {
    await expect(
      portal.send(
        new GetRoleCredentialsCommand({
          accessToken: 'nope',
          accountId: '111122223333',
          roleName: 'Admin',
        }),
      ),
    ).rejects.toMatchObject({ name: 'UnauthorizedException', $metadata: { httpStatusCode: 401 } });
    const token = await accessToken();
    await expect(
      portal.send(
        new GetRoleCredentialsCommand({
          accessToken: token,
          accountId: '111122223333',
          roleName: 'Other',
        }),
      ),
    ).rejects.toMatchObject({ $metadata: { httpStatusCode: 403 } });
    fake.clock.advance(8 * 3600);
    await expect(
      portal.send(
        new GetRoleCredentialsCommand({
          accessToken: token,
          accountId: '111122223333',
          roleName: 'Admin',
        }),
      ),
    ).rejects.toMatchObject({ name: 'UnauthorizedException' });
  });
});

describe('console federation', () => {
  it('getSigninToken for federation credentials, then a login URL', async () => {
    const u = fake.createUser('fed-user');
    const fed = await new STSClient({
      endpoint: fake.url,
      region: 'us-east-1',
      credentials: { accessKeyId: u.accessKeyId, secretAccessKey: u.secretAccessKey },
    }).send(new GetFederationTokenCommand({ Name: 'fed-user', DurationSeconds: 3600 }));
    const c = fed.Credentials!;
    const session = JSON.stringify({
      sessionId: c.AccessKeyId,
      sessionKey: c.SecretAccessKey,
      sessionToken: c.SessionToken,
    });
    const res = await fetch(
      `${fake.url}/federation?Action=getSigninToken&SessionDuration=3600&Session=${encodeURIComponent(session)}`,
    );
    expect(res.status).toBe(200);
    const { SigninToken } = (await res.json()) as { SigninToken: string };
    expect(fake.describeSigninToken(SigninToken)).toMatchObject({
      arn: 'arn:aws:sts::123456789012:federated-user/fed-user',
      sessionDurationSeconds: 3600,
    });
    const destination = 'https://us-east-1.console.aws.amazon.com/console/home?region=us-east-1';
    const login = await fetch(
      `${fake.url}/federation?Action=login&Issuer=aws-vault&Destination=${encodeURIComponent(destination)}&SigninToken=${SigninToken}`,
    );
    expect(await login.json()).toEqual({
      signedInAs: 'arn:aws:sts::123456789012:federated-user/fed-user',
      destination,
      issuer: 'aws-vault',
    });
    const bad = await fetch(`${fake.url}/federation?Action=login&Destination=x&SigninToken=forged`);
    expect(bad.status).toBe(400);
    expect(fake.calls.map((call) => `${call.service}:${call.action}:${call.status}`)).toEqual([
      'sts:GetFederationToken:200',
      'signin:getSigninToken:200',
      'signin:login:200',
      'signin:login:400',
    ]);
    expect(JSON.stringify(fake.calls)).not.toContain(c.SessionToken!);
  });

  it('refuses GetSessionToken credentials and forged sessions', async () => {
    const u = fake.createUser('fed-gst');
    const gst = await new STSClient({
      endpoint: fake.url,
      region: 'us-east-1',
      credentials: { accessKeyId: u.accessKeyId, secretAccessKey: u.secretAccessKey },
    }).send(new GetSessionTokenCommand({}));
    const c = gst.Credentials!;
    const session = JSON.stringify({
      sessionId: c.AccessKeyId,
      sessionKey: c.SecretAccessKey,
      sessionToken: c.SessionToken,
    });
    const res = await fetch(
      `${fake.url}/federation?Action=getSigninToken&Session=${encodeURIComponent(session)}`,
    );
    expect(res.status).toBe(400);
    const forged = JSON.stringify({
      sessionId: c.AccessKeyId,
      sessionKey: 'x',
      sessionToken: c.SessionToken,
    });
    const res2 = await fetch(
      `${fake.url}/federation?Action=getSigninToken&Session=${encodeURIComponent(forged)}`,
    );
    expect(res2.status).toBe(400);
  });
});
