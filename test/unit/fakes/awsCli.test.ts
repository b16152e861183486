// The fake against the real AWS CLI v2 (/usr/bin/aws; a pyenv shim may come
// first on PATH) and the real oathtool, plus the out-of-process runner.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetSessionTokenCommand, STSClient } from '@aws-sdk/client-sts';
import { startFakeAws, type FakeAws, type SeededUser } from '../../fakes/fakeAws.ts';

const AWS = '/usr/bin/aws';
let fake: FakeAws;
let home: string;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program with only the given environment; `input` goes to stdin. */
function run(
  file: string,
  args: string[],
  env: Record<string, string>,
  input?: string,
): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(file, args, { env, timeout: 20_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
    child.stdin?.end(input ?? '');
  });
}

function awsEnv(creds: {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}): Record<string, string> {
  return {
    PATH: '/usr/bin:/bin',
    HOME: home,
    AWS_CONFIG_FILE: join(home, 'config'),
    AWS_SHARED_CREDENTIALS_FILE: join(home, 'credentials'),
    AWS_ACCESS_KEY_ID: creds.accessKeyId,
    AWS_SECRET_ACCESS_KEY: creds.secretAccessKey,
    ...(creds.sessionToken ? { AWS_SESSION_TOKEN: creds.sessionToken } : {}),
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL: fake.url,
    AWS_MAX_ATTEMPTS: '1',
    AWS_PAGER: '',
  };
}

/** The AWS CLI v2 here predates AWS_ENDPOINT_URL (2.13), so pass --endpoint-url as well. */
function aws(
  args: string[],
  creds: SeededUser | { accessKeyId: string; secretAccessKey: string; sessionToken?: string },
) {
  return run(AWS, [...args, '--endpoint-url', fake.url, '--output', 'json'], awsEnv(creds));
}

/** The real oathtool, with the seed on stdin so it stays out of argv. */
async function oathtool(secret: string, at?: Date): Promise<string> {
  const args = ['--totp', '-b', '-'];
  if (at)
    args.push(
      '--now',
      at
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d+Z$/, ' UTC'),
    );
  const out = await run('/usr/bin/oathtool', args, { PATH: '/usr/bin:/bin' }, secret + '\n');
  return out.stdout.trim();
}

beforeAll(async () => {
  fake = await startFakeAws();
  home = mkdtempSync(join(tmpdir(), 'fake-aws-cli-'));
});
afterAll(async () => {
  await fake.close();
  rmSync(home, { recursive: true, force: true });
});

// The CLI takes about a second of CPU per run: keep the runs few.
describe('AWS CLI v2 against the fake', { timeout: 90_000 }, () => {
  it('get-caller-identity with long-term keys', async () => {
    const user = fake.createUser('cli-alice');
    const out = await aws(['sts', 'get-caller-identity'], user);
    expect(out.stderr).toBe('');
    expect(JSON.parse(out.stdout)).toMatchObject({ Arn: user.arn, Account: '123456789012' });
    expect(fake.calls.at(-1)).toMatchObject({
      service: 'sts',
      action: 'GetCallerIdentity',
      status: 200,
    });
  });

  it('a wrong secret is SignatureDoesNotMatch', async () => {
    const user = fake.createUser('cli-bad');
    const out = await aws(['sts', 'get-caller-identity'], {
      ...user,
      secretAccessKey: 'wrong' + user.secretAccessKey,
    });
    expect(out.code).not.toBe(0);
    expect(out.stderr).toContain('SignatureDoesNotMatch');
  });

  it('get-session-token with a code from oathtool, then IAM with the MFA session', async () => {
    const user = fake.createUser('cli-mfa', { mfa: true });
    const code = await oathtool(user.totpSecret!);
    expect(code).toBe(fake.mfaCode('cli-mfa'));
    const out = await aws(
      [
        'sts',
        'get-session-token',
        '--serial-number',
        user.mfaSerial!,
        '--token-code',
        code,
        '--duration-seconds',
        '900',
      ],
      user,
    );
    expect(out.stderr).toBe('');
    const c = JSON.parse(out.stdout).Credentials;
    expect(c.Expiration).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|\+00:00)$/);
    const session = {
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      sessionToken: c.SessionToken,
    };
    const keys = await aws(['iam', 'list-access-keys'], session);
    expect(keys.stderr).toBe('');
    expect(JSON.parse(keys.stdout).AccessKeyMetadata).toEqual([
      expect.objectContaining({
        UserName: 'cli-mfa',
        AccessKeyId: user.accessKeyId,
        Status: 'Active',
      }),
    ]);
  });
});

describe('oathtool and the fake agree on TOTP', () => {
  it('a code oathtool made for another time is refused, the current one accepted', async () => {
    const user = fake.createUser('oath-wrong', { mfa: true });
    const sts = new STSClient({
      endpoint: fake.url,
      region: 'us-east-1',
      maxAttempts: 1,
      credentials: { accessKeyId: user.accessKeyId, secretAccessKey: user.secretAccessKey },
    });
    const stale = await oathtool(user.totpSecret!, new Date(fake.clock.now() - 10 * 60_000));
    await expect(
      sts.send(new GetSessionTokenCommand({ SerialNumber: user.mfaSerial, TokenCode: stale })),
    ).rejects.toThrow('MultiFactorAuthentication failed with invalid MFA one time pass code');
    const now = await oathtool(user.totpSecret!);
    await expect(
      sts.send(new GetSessionTokenCommand({ SerialNumber: user.mfaSerial, TokenCode: now })),
    ).resolves.toHaveProperty('Credentials');
  });
});

describe('test/fakes/cli.ts in another process', { timeout: 90_000 }, () => {
  let child: ChildProcess | undefined;
  afterAll(() => {
    child?.kill('SIGTERM');
  });

  it('prints the url and seeded credentials and obeys the control routes', async () => {
    child = spawn(
      process.execPath,
      ['test/fakes/cli.ts', '--user', 'remote', '--mfa', '--role', 'admin:mfa'],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const line = await new Promise<string>((resolve) =>
      createInterface({ input: child!.stdout! }).once('line', resolve),
    );
    const info = JSON.parse(line) as {
      url: string;
      controlToken: string;
      user: SeededUser;
      roles: { arn: string }[];
    };
    expect(info.roles[0]!.arn).toBe('arn:aws:iam::123456789012:role/admin');
    const ctl = (path: string, body?: unknown, token = info.controlToken) =>
      fetch(info.url + path, {
        method: body === undefined ? 'GET' : 'POST',
        headers: { authorization: `Bearer ${token}` },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    expect((await ctl('/__fake/calls', undefined, 'wrong')).status).toBe(403);
    const out = await run(
      AWS,
      ['sts', 'get-caller-identity', '--endpoint-url', info.url, '--output', 'json'],
      { ...awsEnv(info.user), AWS_ENDPOINT_URL: info.url },
    );
    expect(JSON.parse(out.stdout).Arn).toBe(info.user.arn);
    const { code } = (await (await ctl('/__fake/mfa-code?user=remote')).json()) as { code: string };
    expect(code).toBe(await oathtool(info.user.totpSecret!));
    expect((await ctl('/__fake/advance', { seconds: 3600 })).status).toBe(200);
    const calls = (await (await ctl('/__fake/calls')).json()) as { calls: { action: string }[] };
    expect(calls.calls.map((c) => c.action)).toEqual(['GetCallerIdentity']);
    // After an hour on the fake clock, the current real-time code is stale.
    const sts = new STSClient({
      endpoint: info.url,
      region: 'us-east-1',
      maxAttempts: 1,
      credentials: {
        accessKeyId: info.user.accessKeyId,
        secretAccessKey: info.user.secretAccessKey,
      },
    });
    await expect(
      sts.send(new GetSessionTokenCommand({ SerialNumber: info.user.mfaSerial, TokenCode: code })),
    ).rejects.toThrow(/MultiFactorAuthentication failed/);
  });
});
