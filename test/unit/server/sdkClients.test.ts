// The real AWS SDK for JavaScript credential providers fetching through each server.
import {
  fromContainerMetadata,
  fromHttp,
  fromInstanceMetadata,
} from '@aws-sdk/credential-providers';
import { afterEach, describe, expect, it } from 'vitest';
import { startEc2Server, startEcsServer, type RunningServer } from '../../../src/server/index.ts';
import { countingProvider, serverOptions } from './_helpers.ts';

const VARS = [
  'AWS_CONTAINER_CREDENTIALS_FULL_URI',
  'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
  'AWS_CONTAINER_AUTHORIZATION_TOKEN',
  'AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE',
  'AWS_EC2_METADATA_SERVICE_ENDPOINT',
  'AWS_EC2_METADATA_DISABLED',
  'AWS_EC2_METADATA_V1_DISABLED',
  'AWS_CONFIG_FILE',
  'AWS_SHARED_CREDENTIALS_FILE',
];
const saved = Object.fromEntries(VARS.map((v) => [v, process.env[v]]));
const running: RunningServer[] = [];

afterEach(async () => {
  for (const v of VARS) {
    if (saved[v] === undefined) delete process.env[v];
    else process.env[v] = saved[v];
  }
  await Promise.all(running.splice(0).map((s) => s.close()));
});

function realTimeOptions() {
  const setup = serverOptions({ now: Date.now });
  const counting = countingProvider(Date.now);
  setup.opts.provider = counting.provider;
  return { ...setup, counting };
}

describe('AWS SDK for JavaScript through the servers', () => {
  it('fromContainerMetadata reads the ECS server from the environment', async () => {
    const { opts, counting } = realTimeOptions();
    const server = await startEcsServer(opts);
    running.push(server);
    for (const v of VARS) delete process.env[v];
    Object.assign(process.env, server.env);
    const creds = await fromContainerMetadata({ timeout: 2000, maxRetries: 0 })();
    expect(creds.accessKeyId).toMatch(/^ASIATEST/);
    expect(creds.sessionToken).toMatch(/^token-/);
    expect(creds.expiration?.getTime()).toBeGreaterThan(Date.now() + 3000_000);
    expect(counting.calls).toBe(1);
  });

  it('fromHttp (the default chain’s container provider) with the URI and token', async () => {
    const { opts } = realTimeOptions();
    const server = await startEcsServer(opts);
    running.push(server);
    const creds = await fromHttp({
      awsContainerCredentialsFullUri: server.env.AWS_CONTAINER_CREDENTIALS_FULL_URI,
      awsContainerAuthorizationToken: server.env.AWS_CONTAINER_AUTHORIZATION_TOKEN,
    })();
    expect(creds.accessKeyId).toMatch(/^ASIATEST/);

    await expect(
      fromHttp({
        awsContainerCredentialsFullUri: server.env.AWS_CONTAINER_CREDENTIALS_FULL_URI,
        awsContainerAuthorizationToken: 'wrong',
        maxRetries: 0,
      })(),
    ).rejects.toThrow();
  });

  it('fromContainerMetadata reaches /role-arn/ARN', async () => {
    const { opts, roles } = realTimeOptions();
    const server = await startEcsServer(opts);
    running.push(server);
    for (const v of VARS) delete process.env[v];
    const arn = 'arn:aws:iam::123456789012:role/Docker';
    process.env.AWS_CONTAINER_CREDENTIALS_FULL_URI = `${server.env.AWS_CONTAINER_CREDENTIALS_FULL_URI}/role-arn/${arn}`;
    process.env.AWS_CONTAINER_AUTHORIZATION_TOKEN = server.env.AWS_CONTAINER_AUTHORIZATION_TOKEN;
    const creds = await fromContainerMetadata({ timeout: 2000, maxRetries: 0 })();
    expect(creds.accessKeyId).toMatch(/^ASIAROLE/);
    expect(roles).toEqual([arn]);
  });

  it('fromInstanceMetadata (IMDSv2 with v1 fallback) through the EC2 server', async () => {
    const { opts, counting, debugLines } = realTimeOptions();
    const server = await startEc2Server({ ...opts, address: '127.0.0.1:0' });
    running.push(server);
    for (const v of VARS) delete process.env[v];
    Object.assign(process.env, server.env);
    const creds = await fromInstanceMetadata({ timeout: 2000, maxRetries: 0 })();
    expect(creds.accessKeyId).toMatch(/^ASIATEST/);
    expect(creds.sessionToken).toMatch(/^token-/);
    expect(counting.calls).toBe(1);
    // The SDK asked for a v2 token and used it.
    expect(debugLines.some((l) => l.includes('PUT /latest/api/token 200'))).toBe(true);
  });
});
