// The fake's STS against the real AWS SDK for JS v3: the checks must bite.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  AssumeRoleCommand,
  AssumeRoleWithWebIdentityCommand,
  GetCallerIdentityCommand,
  GetFederationTokenCommand,
  GetSessionTokenCommand,
  STSClient,
} from '@aws-sdk/client-sts';
import { startFakeAws, type FakeAws, type SeededUser } from '../../fakes/fakeAws.ts';

let fake: FakeAws;

interface Creds {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

function sts(creds: Creds | SeededUser): STSClient {
  return new STSClient({
    endpoint: fake.url,
    region: 'us-east-1',
    maxAttempts: 1,
    credentials: {
      accessKeyId: creds.accessKeyId,
      secretAccessKey: creds.secretAccessKey,
      sessionToken: 'sessionToken' in creds ? creds.sessionToken : undefined,
    },
  });
}

function fromResult(
  c: { AccessKeyId?: string; SecretAccessKey?: string; SessionToken?: string } | undefined,
): Creds {
  return {
    accessKeyId: c!.AccessKeyId!,
    secretAccessKey: c!.SecretAccessKey!,
    sessionToken: c!.SessionToken!,
  };
}

async function errorOf(
  p: Promise<unknown>,
): Promise<{ name: string; message: string; status?: number }> {
  try {
    await p;
  } catch (e) {
    const err = e as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: err.name, message: err.message, status: err.$metadata?.httpStatusCode };
  }
  throw new Error('expected the call to fail');
}

beforeAll(async () => {
  fake = await startFakeAws();
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => fake.reset());

describe('GetCallerIdentity', () => {
  it('answers for long-term keys and records the call', async () => {
    const alice = fake.createUser('gci-alice');
    const out = await sts(alice).send(new GetCallerIdentityCommand({}));
    expect(out.Arn).toBe(`arn:aws:iam::123456789012:user/gci-alice`);
    expect(out.Account).toBe('123456789012');
    expect(out.UserId).toMatch(/^AIDA/);
    expect(fake.count('GetCallerIdentity')).toBe(1);
    expect(fake.calls[0]).toMatchObject({
      service: 'sts',
      accessKeyId: alice.accessKeyId,
      status: 200,
    });
  });

  it('rejects an unknown access key with InvalidClientTokenId', async () => {
    const err = await errorOf(
      sts({ accessKeyId: 'AKIAUNKNOWNUNKNOWN00', secretAccessKey: 'x' }).send(
        new GetCallerIdentityCommand({}),
      ),
    );
    expect(err).toMatchObject({ name: 'InvalidClientTokenId', status: 403 });
  });

  it('rejects a wrong secret with SignatureDoesNotMatch', async () => {
    const bob = fake.createUser('gci-bob');
    const err = await errorOf(
      sts({ ...bob, secretAccessKey: bob.secretAccessKey.slice(1) + 'A' }).send(
        new GetCallerIdentityCommand({}),
      ),
    );
    expect(err).toMatchObject({ name: 'SignatureDoesNotMatch', status: 403 });
    expect(fake.calls.at(-1)).toMatchObject({ status: 403, errorCode: 'SignatureDoesNotMatch' });
  });

  it('rejects a signature that does not cover the body that arrived', async () => {
    const carol = fake.createUser('gci-carol');
    const client = sts(carol);
    // Change the body after signing, as a tampering proxy would.
    client.middlewareStack.add(
      (next) => async (args) => {
        const request = args.request as { body: string; headers: Record<string, string> };
        request.body = request.body.replace('GetCallerIdentity', 'GetCallerIdentity&Extra=1');
        request.headers['content-length'] = String(Buffer.byteLength(request.body));
        return next(args);
      },
      { step: 'finalizeRequest', priority: 'low', name: 'tamper' },
    );
    const err = await errorOf(client.send(new GetCallerIdentityCommand({})));
    expect(err.name).toBe('SignatureDoesNotMatch');
  });

  it('requires the session token that belongs to session credentials', async () => {
    const dave = fake.createUser('gci-dave');
    const s = fromResult((await sts(dave).send(new GetSessionTokenCommand({}))).Credentials);
    await expect(sts(s).send(new GetCallerIdentityCommand({}))).resolves.toMatchObject({
      Arn: expect.stringContaining('user/gci-dave'),
    });
    const noToken = await errorOf(
      sts({ ...s, sessionToken: undefined }).send(new GetCallerIdentityCommand({})),
    );
    expect(noToken.name).toBe('InvalidClientTokenId');
    const wrongToken = await errorOf(
      sts({ ...s, sessionToken: s.sessionToken + 'x' }).send(new GetCallerIdentityCommand({})),
    );
    expect(wrongToken.name).toBe('InvalidClientTokenId');
  });
});

describe('GetSessionToken', () => {
  it('issues credentials that expire by the fake clock', async () => {
    const erin = fake.createUser('gst-erin');
    const out = await sts(erin).send(new GetSessionTokenCommand({ DurationSeconds: 900 }));
    const exp = out.Credentials!.Expiration!.getTime();
    expect(Math.abs(exp - (fake.clock.now() + 900_000))).toBeLessThan(2000);
    const s = fromResult(out.Credentials);
    expect(s.accessKeyId).toMatch(/^ASIA/);
    await sts(s).send(new GetCallerIdentityCommand({}));
    fake.clock.advance(901);
    const err = await errorOf(sts(s).send(new GetCallerIdentityCommand({})));
    expect(err).toMatchObject({ name: 'ExpiredToken', status: 400 });
  });

  it('checks the duration range', async () => {
    const frank = fake.createUser('gst-frank');
    const err = await errorOf(
      sts(frank).send(new GetSessionTokenCommand({ DurationSeconds: 899 })),
    );
    expect(err).toMatchObject({ name: 'ValidationError', status: 400 });
    await expect(
      sts(frank).send(new GetSessionTokenCommand({ DurationSeconds: 129601 })),
    ).rejects.toThrow(/129600/);
  });

  it('checks TOTP codes and refuses a code used twice', async () => {
    const gina = fake.createUser('gst-gina', { mfa: true });
    const bad = String((Number(fake.mfaCode('gst-gina')) + 1) % 1_000_000).padStart(6, '0');
    const wrong = await errorOf(
      sts(gina).send(new GetSessionTokenCommand({ SerialNumber: gina.mfaSerial, TokenCode: bad })),
    );
    expect(wrong).toMatchObject({ name: 'AccessDenied', status: 403 });
    expect(wrong.message).toContain(
      'MultiFactorAuthentication failed with invalid MFA one time pass code',
    );
    const code = fake.mfaCode('gst-gina');
    const out = await sts(gina).send(
      new GetSessionTokenCommand({ SerialNumber: gina.mfaSerial, TokenCode: code }),
    );
    expect(fake.describeCredentials(out.Credentials!.AccessKeyId!)?.mfaAuthenticated).toBe(true);
    const reused = await errorOf(
      sts(gina).send(new GetSessionTokenCommand({ SerialNumber: gina.mfaSerial, TokenCode: code })),
    );
    expect(reused.name).toBe('AccessDenied');
    // A neighbouring step is still accepted (clock drift).
    await sts(gina).send(
      new GetSessionTokenCommand({
        SerialNumber: gina.mfaSerial,
        TokenCode: fake.mfaCode('gst-gina', 1),
      }),
    );
    // The TokenCode never lands in the call record.
    expect(JSON.stringify(fake.calls)).not.toContain(code);
  });

  it('refuses session credentials', async () => {
    const hank = fake.createUser('gst-hank');
    const s = fromResult((await sts(hank).send(new GetSessionTokenCommand({}))).Credentials);
    const err = await errorOf(sts(s).send(new GetSessionTokenCommand({})));
    expect(err).toMatchObject({
      name: 'AccessDenied',
      message: 'Cannot call GetSessionToken with session credentials',
    });
  });
});

describe('AssumeRole', () => {
  it('assumes a role and reports the assumed-role ARN', async () => {
    const ivy = fake.createUser('ar-ivy');
    const { arn } = fake.createRole('ar-dev');
    const out = await sts(ivy).send(
      new AssumeRoleCommand({
        RoleArn: arn,
        RoleSessionName: 'ivy-session',
        Tags: [{ Key: 'team', Value: 'blue' }],
        TransitiveTagKeys: ['team'],
        SourceIdentity: 'ivy',
      }),
    );
    expect(out.AssumedRoleUser?.Arn).toBe(
      'arn:aws:sts::123456789012:assumed-role/ar-dev/ivy-session',
    );
    expect(out.SourceIdentity).toBe('ivy');
    expect(out.PackedPolicySize).toBeGreaterThan(0);
    const s = fromResult(out.Credentials);
    const who = await sts(s).send(new GetCallerIdentityCommand({}));
    expect(who.Arn).toBe(out.AssumedRoleUser?.Arn);
    expect(who.UserId).toMatch(/^AROA.*:ivy-session$/);
    expect(fake.describeCredentials(s.accessKeyId)).toMatchObject({
      tags: { team: 'blue' },
      transitiveTagKeys: ['team'],
    });
    expect(fake.calls.find((c) => c.action === 'AssumeRole')?.params).toMatchObject({
      RoleArn: arn,
      'Tags.member.1.Key': 'team',
    });
  });

  it('enforces the trust policy: principals, external id, MFA', async () => {
    const jack = fake.createUser('ar-jack', { mfa: true });
    const other = fake.createUser('ar-other');
    const { arn } = fake.createRole('ar-guarded', {
      principals: ['ar-jack'],
      externalId: 'ext-123',
      requireMfa: true,
    });
    const stranger = await errorOf(
      sts(other).send(
        new AssumeRoleCommand({ RoleArn: arn, RoleSessionName: 's1', ExternalId: 'ext-123' }),
      ),
    );
    expect(stranger).toMatchObject({ name: 'AccessDenied', status: 403 });
    expect(stranger.message).toContain('is not authorized to perform: sts:AssumeRole');
    const noMfa = await errorOf(
      sts(jack).send(
        new AssumeRoleCommand({ RoleArn: arn, RoleSessionName: 's1', ExternalId: 'ext-123' }),
      ),
    );
    expect(noMfa.name).toBe('AccessDenied');
    const wrongExt = await errorOf(
      sts(jack).send(
        new AssumeRoleCommand({
          RoleArn: arn,
          RoleSessionName: 's1',
          ExternalId: 'nope',
          SerialNumber: jack.mfaSerial,
          TokenCode: fake.mfaCode('ar-jack'),
        }),
      ),
    );
    expect(wrongExt.name).toBe('AccessDenied');
    // MFA from an earlier GetSessionToken counts, as aws:MultiFactorAuthPresent does.
    const mfaSession = fromResult(
      (
        await sts(jack).send(
          new GetSessionTokenCommand({
            SerialNumber: jack.mfaSerial,
            TokenCode: fake.mfaCode('ar-jack', 1),
          }),
        )
      ).Credentials,
    );
    const ok = await sts(mfaSession).send(
      new AssumeRoleCommand({ RoleArn: arn, RoleSessionName: 's1', ExternalId: 'ext-123' }),
    );
    expect(ok.Credentials?.AccessKeyId).toMatch(/^ASIA/);
  });

  it('caps chained roles at one hour and honours MaxSessionDuration', async () => {
    const kim = fake.createUser('ar-kim');
    const first = fake.createRole('ar-first', { maxSessionDuration: 43200 });
    const second = fake.createRole('ar-second', { maxSessionDuration: 43200 });
    const long = await sts(kim).send(
      new AssumeRoleCommand({ RoleArn: first.arn, RoleSessionName: 'k1', DurationSeconds: 7200 }),
    );
    const s = fromResult(long.Credentials);
    const chained = await errorOf(
      sts(s).send(
        new AssumeRoleCommand({
          RoleArn: second.arn,
          RoleSessionName: 'k2',
          DurationSeconds: 7200,
        }),
      ),
    );
    expect(chained).toMatchObject({ name: 'ValidationError', status: 400 });
    expect(chained.message).toContain('1 hour session limit for roles assumed by role chaining');
    const third = await sts(s).send(
      new AssumeRoleCommand({ RoleArn: second.arn, RoleSessionName: 'k3', DurationSeconds: 3600 }),
    );
    expect(fake.describeCredentials(third.Credentials!.AccessKeyId!)?.chained).toBe(true);
    const short = fake.createRole('ar-short');
    const tooLong = await errorOf(
      sts(kim).send(
        new AssumeRoleCommand({ RoleArn: short.arn, RoleSessionName: 'k1', DurationSeconds: 7200 }),
      ),
    );
    expect(tooLong.message).toContain('MaxSessionDuration');
  });

  it('refuses a role that does not exist', async () => {
    const lee = fake.createUser('ar-lee');
    const err = await errorOf(
      sts(lee).send(
        new AssumeRoleCommand({
          RoleArn: 'arn:aws:iam::123456789012:role/missing',
          RoleSessionName: 'x1',
        }),
      ),
    );
    expect(err.name).toBe('AccessDenied');
  });
});

describe('AssumeRoleWithWebIdentity and GetFederationToken', () => {
  it('accepts tokens the fake issued, unsigned, and refuses others', async () => {
    const { arn } = fake.createRole('wi-role', { principals: ['web-identity:ci-job'] });
    const anonymous = new STSClient({
      endpoint: fake.url,
      region: 'us-east-1',
      maxAttempts: 1,
      credentials: { accessKeyId: 'unused', secretAccessKey: 'unused' },
    });
    const out = await anonymous.send(
      new AssumeRoleWithWebIdentityCommand({
        RoleArn: arn,
        RoleSessionName: 'ci',
        WebIdentityToken: fake.webIdentityToken('ci-job'),
      }),
    );
    expect(out.SubjectFromWebIdentityToken).toBe('ci-job');
    expect(out.AssumedRoleUser?.Arn).toBe('arn:aws:sts::123456789012:assumed-role/wi-role/ci');
    const forged = await errorOf(
      anonymous.send(
        new AssumeRoleWithWebIdentityCommand({
          RoleArn: arn,
          RoleSessionName: 'ci',
          WebIdentityToken: 'a.b.c',
        }),
      ),
    );
    // The wire code is InvalidIdentityToken; the SDK names the modelled error so.
    expect(forged.name).toBe('InvalidIdentityTokenException');
    const wrongSubject = await errorOf(
      anonymous.send(
        new AssumeRoleWithWebIdentityCommand({
          RoleArn: arn,
          RoleSessionName: 'ci',
          WebIdentityToken: fake.webIdentityToken('other'),
        }),
      ),
    );
    expect(wrongSubject.name).toBe('AccessDenied');
  });

  it('issues federation tokens to IAM users unless their policy denies it without MFA', async () => {
    const mo = fake.createUser('fed-mo');
    const out = await sts(mo).send(
      new GetFederationTokenCommand({ Name: 'mo', DurationSeconds: 3600 }),
    );
    expect(out.FederatedUser?.Arn).toBe('arn:aws:sts::123456789012:federated-user/mo');
    const strict = fake.createUser('fed-strict', { policy: { denyFederationWithoutMfa: true } });
    const err = await errorOf(sts(strict).send(new GetFederationTokenCommand({ Name: 'strict' })));
    expect(err).toMatchObject({ name: 'AccessDenied', status: 403 });
    expect(err.message).toContain('explicit deny');
    const s = fromResult(out.Credentials);
    const again = await errorOf(sts(s).send(new GetFederationTokenCommand({ Name: 'again' })));
    expect(again.name).toBe('AccessDenied');
  });
});

describe('failNext', () => {
  it('injects throttling that the SDK retries', async () => {
    const nia = fake.createUser('fail-nia');
    fake.failNext('GetCallerIdentity', { count: 2 });
    const client = new STSClient({
      endpoint: fake.url,
      region: 'us-east-1',
      maxAttempts: 3,
      credentials: { accessKeyId: nia.accessKeyId, secretAccessKey: nia.secretAccessKey },
    });
    await client.send(new GetCallerIdentityCommand({}));
    expect(fake.calls.map((c) => c.errorCode ?? c.status)).toEqual([
      'Throttling',
      'Throttling',
      200,
    ]);
    fake.failNext('GetCallerIdentity', { status: 503 });
    const err = await errorOf(sts(nia).send(new GetCallerIdentityCommand({})));
    expect(err).toMatchObject({ name: 'ServiceUnavailable', status: 503 });
  });
});
