// The fake's IAM against the real SDK: the rules `aws-vault rotate` meets.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  CreateAccessKeyCommand,
  DeleteAccessKeyCommand,
  GetUserCommand,
  IAMClient,
  ListAccessKeysCommand,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import {
  AssumeRoleCommand,
  GetCallerIdentityCommand,
  GetSessionTokenCommand,
  STSClient,
} from '@aws-sdk/client-sts';
import { startFakeAws, type FakeAws } from '../../fakes/fakeAws.ts';

let fake: FakeAws;

interface Creds {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

const iam = (c: Creds) =>
  new IAMClient({ endpoint: fake.url, region: 'us-east-1', maxAttempts: 1, credentials: { ...c } });
const sts = (c: Creds) =>
  new STSClient({ endpoint: fake.url, region: 'us-east-1', maxAttempts: 1, credentials: { ...c } });

function toCreds(
  c: { AccessKeyId?: string; SecretAccessKey?: string; SessionToken?: string } | undefined,
): Creds {
  return {
    accessKeyId: c!.AccessKeyId!,
    secretAccessKey: c!.SecretAccessKey!,
    sessionToken: c!.SessionToken,
  };
}

beforeAll(async () => {
  fake = await startFakeAws();
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => fake.reset());

describe('IAM', () => {
  it('GetUser and ListAccessKeys with long-term keys', async () => {
    const u = fake.createUser('iam-amy');
    const me = await iam(u).send(new GetUserCommand({}));
    expect(me.User).toMatchObject({ UserName: 'iam-amy', Arn: u.arn, Path: '/' });
    expect(me.User?.CreateDate).toBeInstanceOf(Date);
    const keys = await iam(u).send(new ListAccessKeysCommand({}));
    expect(keys.AccessKeyMetadata?.map((k) => k.AccessKeyId)).toEqual([u.accessKeyId]);
    expect(fake.calls.map((c) => `${c.service}:${c.action}`)).toEqual([
      'iam:GetUser',
      'iam:ListAccessKeys',
    ]);
  });

  it('rotates a key: create, use the new key, delete the old one; a third key is LimitExceeded', async () => {
    const u = fake.createUser('iam-rot');
    const created = await iam(u).send(new CreateAccessKeyCommand({}));
    const fresh = {
      accessKeyId: created.AccessKey!.AccessKeyId!,
      secretAccessKey: created.AccessKey!.SecretAccessKey!,
    };
    expect(fresh.accessKeyId).toMatch(/^AKIA/);
    await expect(iam(u).send(new CreateAccessKeyCommand({}))).rejects.toMatchObject({
      name: 'LimitExceededException',
      $metadata: { httpStatusCode: 409 },
    });
    await sts(fresh).send(new GetCallerIdentityCommand({}));
    await iam(fresh).send(new DeleteAccessKeyCommand({ AccessKeyId: u.accessKeyId }));
    await expect(sts(u).send(new GetCallerIdentityCommand({}))).rejects.toMatchObject({
      name: 'InvalidClientTokenId',
    });
    await expect(
      iam(fresh).send(new DeleteAccessKeyCommand({ AccessKeyId: u.accessKeyId })),
    ).rejects.toMatchObject({
      name: 'NoSuchEntityException',
    });
  });

  it('an inactive key stops working', async () => {
    const u = fake.createUser('iam-inact');
    const second = fake.createAccessKey('iam-inact');
    await iam(second).send(
      new UpdateAccessKeyCommand({ AccessKeyId: u.accessKeyId, Status: 'Inactive' }),
    );
    await expect(sts(u).send(new GetCallerIdentityCommand({}))).rejects.toMatchObject({
      name: 'InvalidClientTokenId',
    });
  });

  it('new keys can take a while to work (eventual consistency knob)', async () => {
    const u = fake.createUser('iam-slow');
    fake.world.newKeyDelayMs = 300;
    try {
      const created = await iam(u).send(new CreateAccessKeyCommand({}));
      const fresh = toCreds({
        AccessKeyId: created.AccessKey!.AccessKeyId,
        SecretAccessKey: created.AccessKey!.SecretAccessKey,
      });
      await expect(sts(fresh).send(new GetCallerIdentityCommand({}))).rejects.toMatchObject({
        name: 'InvalidClientTokenId',
      });
      await new Promise((r) => setTimeout(r, 350));
      await sts(fresh).send(new GetCallerIdentityCommand({}));
    } finally {
      fake.world.newKeyDelayMs = 0;
    }
  });

  it('refuses session credentials without MFA with InvalidClientTokenId, accepts MFA sessions', async () => {
    const u = fake.createUser('iam-mfa', { mfa: true });
    const plain = toCreds((await sts(u).send(new GetSessionTokenCommand({}))).Credentials);
    await expect(iam(plain).send(new GetUserCommand({}))).rejects.toMatchObject({
      name: 'InvalidClientTokenId',
      $metadata: { httpStatusCode: 403 },
    });
    const mfa = toCreds(
      (
        await sts(u).send(
          new GetSessionTokenCommand({
            SerialNumber: u.mfaSerial,
            TokenCode: fake.mfaCode('iam-mfa'),
          }),
        )
      ).Credentials,
    );
    const me = await iam(mfa).send(new GetUserCommand({}));
    expect(me.User?.UserName).toBe('iam-mfa');
  });

  it('role credentials must name the user', async () => {
    const u = fake.createUser('iam-role-user');
    const { arn } = fake.createRole('iam-admin');
    const role = toCreds(
      (await sts(u).send(new AssumeRoleCommand({ RoleArn: arn, RoleSessionName: 'admin' })))
        .Credentials,
    );
    await expect(iam(role).send(new GetUserCommand({}))).rejects.toMatchObject({
      name: 'ValidationError',
    });
    const named = await iam(role).send(new GetUserCommand({ UserName: 'iam-role-user' }));
    expect(named.User?.Arn).toBe(u.arn);
  });

  it('a deny policy gives AccessDenied; injected failures come first', async () => {
    const u = fake.createUser('iam-deny', { policy: { deny: ['iam:CreateAccessKey'] } });
    await expect(iam(u).send(new CreateAccessKeyCommand({}))).rejects.toMatchObject({
      name: 'AccessDenied',
      $metadata: { httpStatusCode: 403 },
    });
    const v = fake.createUser('iam-fail');
    fake.failNext('DeleteAccessKey', { status: 500 });
    await expect(
      iam(v).send(new DeleteAccessKeyCommand({ AccessKeyId: v.accessKeyId })),
    ).rejects.toMatchObject({
      name: 'InternalFailure',
      $metadata: { httpStatusCode: 500 },
    });
    expect(fake.calls.at(-1)).toMatchObject({
      action: 'DeleteAccessKey',
      status: 500,
      errorCode: 'InternalFailure',
    });
    // The failure was used up: the key is still there and the next call works.
    await iam(v).send(new DeleteAccessKeyCommand({ AccessKeyId: v.accessKeyId }));
    expect(fake.count('DeleteAccessKey', { ok: true })).toBe(1);
  });
});
