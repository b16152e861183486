// The HTTP control routes that out-of-process tests (demo, bench, e2e) use,
// and finding the fake through the standard endpoint variables.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import {
  CreateTokenCommand,
  RegisterClientCommand,
  SSOOIDCClient,
  StartDeviceAuthorizationCommand,
} from '@aws-sdk/client-sso-oidc';
import { startFakeAws, type FakeAws, type SeededUser } from '../../fakes/fakeAws.ts';

let fake: FakeAws;

beforeAll(async () => {
  fake = await startFakeAws();
});
afterAll(async () => {
  await fake.close();
});

function ctl(path: string, body?: unknown): Promise<Response> {
  return fetch(fake.url + path, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${fake.controlToken}` },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

describe('control routes', () => {
  it('refuse requests without the token', async () => {
    const res = await fetch(`${fake.url}/__fake/advance`, {
      method: 'POST',
      body: '{"seconds":5}',
    });
    expect(res.status).toBe(403);
  });

  it('seed a user, inject a failure and read the calls', async () => {
    const user = (await (
      await ctl('/__fake/users', { name: 'ctl-user', mfa: true })
    ).json()) as SeededUser;
    expect(user.mfaSerial).toBe('arn:aws:iam::123456789012:mfa/ctl-user');
    await ctl('/__fake/fail-next', { action: 'GetCallerIdentity', status: 500 });
    const sts = new STSClient({
      endpoint: fake.url,
      region: 'us-east-1',
      maxAttempts: 1,
      credentials: { accessKeyId: user.accessKeyId, secretAccessKey: user.secretAccessKey },
    });
    await expect(sts.send(new GetCallerIdentityCommand({}))).rejects.toMatchObject({
      name: 'InternalFailure',
    });
    await sts.send(new GetCallerIdentityCommand({}));
    const { calls } = (await (await ctl('/__fake/calls')).json()) as {
      calls: { status: number }[];
    };
    expect(calls.map((c) => c.status)).toEqual([500, 200]);
    await ctl('/__fake/reset', {});
    expect(fake.calls).toEqual([]);
  });

  it('approve a device authorization', async () => {
    const oidc = new SSOOIDCClient({ endpoint: fake.url, region: 'us-east-1', maxAttempts: 1 });
    const client = await oidc.send(
      new RegisterClientCommand({ clientName: 'x', clientType: 'public' }),
    );
    const auth = await oidc.send(
      new StartDeviceAuthorizationCommand({
        clientId: client.clientId,
        clientSecret: client.clientSecret,
        startUrl: 'https://x.awsapps.com/start',
      }),
    );
    const pending = (await (await ctl('/__fake/device-authorizations')).json()) as {
      pending: string[];
    };
    expect(pending.pending).toContain(auth.userCode);
    expect(await (await ctl('/__fake/approve', { userCode: auth.userCode })).json()).toEqual({
      approved: 1,
    });
    const token = await oidc.send(
      new CreateTokenCommand({
        clientId: client.clientId,
        clientSecret: client.clientSecret,
        grantType: 'urn:ietf:params:oauth:grant-type:device_code',
        deviceCode: auth.deviceCode,
      }),
    );
    expect(token.accessToken).toBeTruthy();
  });
});

describe('standard endpoint variables', () => {
  it('the SDK reaches the fake through AWS_ENDPOINT_URL_STS', async () => {
    const user = fake.createUser('env-user');
    const saved = process.env.AWS_ENDPOINT_URL_STS;
    process.env.AWS_ENDPOINT_URL_STS = fake.url;
    try {
      const sts = new STSClient({
        region: 'us-east-1',
        maxAttempts: 1,
        credentials: { accessKeyId: user.accessKeyId, secretAccessKey: user.secretAccessKey },
      });
      expect((await sts.send(new GetCallerIdentityCommand({}))).Arn).toBe(user.arn);
    } finally {
      if (saved === undefined) delete process.env.AWS_ENDPOINT_URL_STS;
      else process.env.AWS_ENDPOINT_URL_STS = saved;
    }
  });
});
