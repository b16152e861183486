// The real AWS CLI v2 as the client of each server, against the local
// AWS-compatible endpoint: the credentials it gets from the server must be
// ones STS issued and has not expired.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { GetSessionTokenCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Credentials } from '../../src/credentials/types.ts';
import { startEc2Server, startEcsServer, type ServerOptions } from '../../src/server/index.ts';
import { startFakeAws, type FakeAws, type SeededUser } from '../fakes/fakeAws.ts';

const AWS = '/usr/bin/aws';
const run = promisify(execFile);
let fake: FakeAws;
let user: SeededUser;
let home: string;

beforeAll(async () => {
  fake = await startFakeAws();
  user = fake.createUser('alice');
  home = mkdtempSync(join(tmpdir(), 'awsvault-server-cli-'));
});
afterAll(async () => {
  await fake?.close();
  if (home) rmSync(home, { recursive: true, force: true });
});

/** GetSessionToken with the user's long-term keys, as the engine's provider would. */
async function getSessionToken(): Promise<Credentials> {
  const sts = new STSClient({
    region: 'us-east-1',
    endpoint: fake.url,
    credentials: { accessKeyId: user.accessKeyId, secretAccessKey: user.secretAccessKey },
    maxAttempts: 1,
  });
  const out = await sts.send(new GetSessionTokenCommand({ DurationSeconds: 900 }));
  sts.destroy();
  const c = out.Credentials;
  if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !c.Expiration) {
    throw new Error('GetSessionToken returned no credentials');
  }
  return {
    accessKeyId: c.AccessKeyId,
    secretAccessKey: c.SecretAccessKey,
    sessionToken: c.SessionToken,
    expiration: c.Expiration,
  };
}

function options(): ServerOptions {
  return {
    provider: getSessionToken,
    assumeRole: () => Promise.reject(new Error('not used')),
    region: 'us-east-1',
    minTtl: 300,
    lazy: true,
    debug: () => {},
    // The fake's clock decides when its credentials expire.
    now: () => fake.clock.now(),
  };
}

/** `aws sts get-caller-identity` with only the server's variables to find credentials. */
async function callerIdentity(serverEnv: Record<string, string>): Promise<{ Arn: string }> {
  const { stdout } = await run(
    AWS,
    ['sts', 'get-caller-identity', '--endpoint-url', fake.url, '--output', 'json'],
    {
      env: {
        PATH: '/usr/bin:/bin',
        HOME: home,
        AWS_CONFIG_FILE: join(home, 'none'),
        AWS_SHARED_CREDENTIALS_FILE: join(home, 'none'),
        AWS_REGION: 'us-east-1',
        AWS_PAGER: '',
        // No probing of the real metadata address when the server under test refuses.
        AWS_EC2_METADATA_DISABLED: 'true',
        ...serverEnv,
      },
      timeout: 20_000,
    },
  );
  return JSON.parse(stdout);
}

// Each AWS CLI run starts Python (about 1 s, several on a loaded machine).
describe('the AWS CLI v2 through the credential servers', { timeout: 90_000 }, () => {
  it('ECS server: keeps getting unexpired credentials over several expiry periods, one STS call each', async () => {
    const server = await startEcsServer(options());
    try {
      const before = fake.count('GetSessionToken');
      for (let period = 1; period <= 3; period++) {
        const id = await callerIdentity(server.env);
        expect(id.Arn).toBe(user.arn);
        expect(fake.count('GetSessionToken') - before).toBe(period);
        // Less than minTtl (300 s) left of the 900 s session: the next request must refresh.
        fake.clock.advance(900 - 250);
      }
      expect(fake.count('GetCallerIdentity', { ok: false })).toBe(
        fake.count('GetCallerIdentity', { ok: true }),
      );
    } finally {
      await server.close();
    }
  });

  it('EC2 server at --ec2-server-address: IMDS credentials the CLI can use', async () => {
    const server = await startEc2Server({ ...options(), address: '127.0.0.1:0' });
    try {
      const id = await callerIdentity({ ...server.env, AWS_EC2_METADATA_DISABLED: 'false' });
      expect(id.Arn).toBe(user.arn);
    } finally {
      await server.close();
    }
  });

  it('a wrong token gets the CLI no credentials', async () => {
    const server = await startEcsServer(options());
    try {
      await expect(
        callerIdentity({
          ...server.env,
          AWS_CONTAINER_AUTHORIZATION_TOKEN: 'wrong',
          AWS_METADATA_SERVICE_NUM_ATTEMPTS: '1',
        }),
      ).rejects.toThrow(/credentials/i);
    } finally {
      await server.close();
    }
  });
});
