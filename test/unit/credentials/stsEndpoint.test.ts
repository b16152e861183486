// Which STS host the real SDK client talks to, from the profile's region,
// `sts_regional_endpoints` and the endpoint variables. Stopped before sending.
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { describe, expect, it } from 'vitest';
import { clientConfigFor, unreachableError } from '../../../src/aws/clientConfig.ts';
import { ConfigFile } from '../../../src/config/configFile.ts';
import { resolveProfileConfig } from '../../../src/config/resolveProfileConfig.ts';

async function stsHost(profileText: string, env: NodeJS.ProcessEnv = {}): Promise<string> {
  const file = new ConfigFile('/tmp/config', `[profile p]\n${profileText}`);
  const profile = resolveProfileConfig(file, 'p', { env });
  const client = new STSClient(
    clientConfigFor({
      profile,
      service: 'sts',
      env,
      credentials: async () => ({
        accessKeyId: 'AKIAENDPOINTTEST0001',
        secretAccessKey: 'x'.repeat(40),
      }),
    }),
  );
  client.middlewareStack.add(
    () => async (args) => {
      const request = args.request as { protocol: string; hostname: string; port?: number };
      const port = request.port ? `:${request.port}` : '';
      throw Object.assign(new Error('stopped before sending'), {
        host: `${request.protocol}//${request.hostname}${port}`,
      });
    },
    { step: 'build', name: 'captureHost' },
  );
  try {
    await client.send(new GetCallerIdentityCommand({}));
  } catch (error) {
    const host = (error as { host?: string }).host;
    if (host !== undefined) return host;
    throw error;
  }
  throw new Error('the request was sent');
}

describe('STS endpoint selection', () => {
  it('uses the regional endpoint of the profile region by default', async () => {
    expect(await stsHost('region = eu-west-1\n')).toBe('https://sts.eu-west-1.amazonaws.com');
  });

  it('defaults to us-east-1 when no region is known', async () => {
    expect(await stsHost('')).toBe('https://sts.us-east-1.amazonaws.com');
  });

  it('sts_regional_endpoints = legacy sends the legacy regions to the global endpoint', async () => {
    const legacy = 'region = eu-west-1\nsts_regional_endpoints = legacy\n';
    expect(await stsHost(legacy)).toBe('https://sts.amazonaws.com');
  });

  it('legacy mode keeps newer regions on their regional endpoint', async () => {
    const newer = 'region = ap-east-1\nsts_regional_endpoints = legacy\n';
    expect(await stsHost(newer)).toBe('https://sts.ap-east-1.amazonaws.com');
  });

  it('AWS_STS_REGIONAL_ENDPOINTS overrides the config', async () => {
    const text = 'region = us-west-2\nsts_regional_endpoints = regional\n';
    expect(await stsHost(text, { AWS_STS_REGIONAL_ENDPOINTS: 'legacy' })).toBe(
      'https://sts.amazonaws.com',
    );
  });

  it('AWS_ENDPOINT_URL_STS beats both', async () => {
    const text = 'region = eu-west-1\nsts_regional_endpoints = legacy\n';
    expect(await stsHost(text, { AWS_ENDPOINT_URL_STS: 'http://127.0.0.1:4566' })).toBe(
      'http://127.0.0.1:4566',
    );
  });
});

describe('unreachableError', () => {
  const url = 'http://127.0.0.1:1';
  const said = (error: object) => unreachableError(error, 'sts', url)?.message;
  it('names what went wrong in the words of each network failure', () => {
    const timeout = (message: string, code?: string) =>
      Object.assign(new Error(message), { name: 'TimeoutError', ...(code ? { code } : {}) });
    expect(
      said(timeout('a request has exceeded the configured 10000 ms requestTimeout.', 'ETIMEDOUT')),
    ).toMatch(/: connected, but no answer within 10s; /);
    expect(said(timeout('did not establish a connection within 3000 ms'))).toMatch(
      /: connection timed out; /,
    );
    // The SDK names resets TimeoutError too: the code says what happened.
    expect(said(timeout('socket hang up', 'ECONNRESET'))).toMatch(/: connection reset; /);
    expect(said(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).toMatch(
      /^cannot reach STS at http:\/\/127\.0\.0\.1:1: connection refused; /,
    );
    expect(said(new Error('AccessDenied'))).toBeUndefined();
  });
});
