// Which STS host the real SDK client talks to, from the profile's region,
// `sts_regional_endpoints` and the endpoint variables. Stopped before sending.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterEach, describe, expect, it } from 'vitest';
import {
  clientConfigFor,
  requestUrlOf,
  unreachableError,
  watchRequests,
} from '../../../src/aws/clientConfig.ts';
import { getCallerIdentity } from '../../../src/aws/sts.ts';
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

describe("the SDK's own reading of the shared config", () => {
  // The SDK reads process.env and the config file itself: both are set for real here.
  const saved = { ...process.env };
  let dir: string | undefined;
  afterEach(() => {
    for (const key of ['AWS_PROFILE', 'AWS_CONFIG_FILE', 'AWS_SHARED_CREDENTIALS_FILE']) {
      if (saved[key] === undefined) delete process.env[key];
      else process.env[key] = saved[key];
    }
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });
  function sharedConfig(text: string): void {
    dir = mkdtempSync(join(tmpdir(), 'aws-vault-sdk-config-'));
    writeFileSync(join(dir, 'config'), text);
    writeFileSync(join(dir, 'credentials'), '');
    process.env.AWS_CONFIG_FILE = join(dir, 'config');
    process.env.AWS_SHARED_CREDENTIALS_FILE = join(dir, 'credentials');
  }

  it("takes nothing from the shell's AWS_PROFILE or [default]: only the profile being run", async () => {
    sharedConfig(
      [
        '[default]',
        'use_fips_endpoint = true',
        'endpoint_url = http://127.0.0.1:9',
        '[profile localstack]',
        'endpoint_url = http://127.0.0.1:9',
        'use_dualstack_endpoint = true',
        '[profile p]',
        'region = eu-west-1',
        '',
      ].join('\n'),
    );
    process.env.AWS_PROFILE = 'localstack';
    expect(await stsHost('region = eu-west-1\n')).toBe('https://sts.eu-west-1.amazonaws.com');
    delete process.env.AWS_PROFILE;
    expect(await stsHost('region = eu-west-1\n')).toBe('https://sts.eu-west-1.amazonaws.com');
  });

  it("ignore_configured_endpoint_urls in the profile is not undone by [default]'s endpoint_url", async () => {
    sharedConfig('[default]\nendpoint_url = http://127.0.0.1:9\n');
    const text = 'region = us-west-2\nignore_configured_endpoint_urls = true\n';
    expect(await stsHost(text)).toBe('https://sts.us-west-2.amazonaws.com');
  });

  it("the profile's own use_fips_endpoint is the SDK's to apply, as the AWS CLI does", async () => {
    sharedConfig('[profile p]\nregion = us-east-2\nuse_fips_endpoint = true\n');
    expect(await stsHost('region = us-east-2\n')).toBe('https://sts-fips.us-east-2.amazonaws.com');
  });
});

describe('where a failed STS call went, in its error', () => {
  it('names the host the SDK resolved (another partition), and --debug says it before the call', async () => {
    const file = new ConfigFile('/tmp/config', '[profile p]\nregion = cn-north-1\n');
    const profile = resolveProfileConfig(file, 'p', { env: {} });
    const lines: string[] = [];
    const error = await getCallerIdentity({
      profile,
      env: {},
      debug: (line) => lines.push(line),
      credentials: async () => ({
        accessKeyId: 'AKIAENDPOINTTEST0001',
        secretAccessKey: 'x'.repeat(40),
      }),
      signer: { kind: 'stored-keys', profileName: 'p' },
    } as Parameters<typeof getCallerIdentity>[0]).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    // No network here: the name lookup fails, and the message says which name.
    expect(error?.message).toMatch(
      /^profile p: cannot reach STS at https:\/\/sts\.cn-north-1\.amazonaws\.com\.cn: (host not found|host name lookup failed); /,
    );
    expect(lines).toContain(
      'profile p: calling sts.GetCallerIdentity at https://sts.cn-north-1.amazonaws.com.cn',
    );
  });

  it('watchRequests hands each URL on and marks the error of the call', async () => {
    const seen: string[] = [];
    const client = watchRequests(
      new STSClient({
        region: 'us-east-1',
        endpoint: 'http://127.0.0.1:1/prefix/',
        credentials: { accessKeyId: 'AKIAENDPOINTTEST0001', secretAccessKey: 'x'.repeat(40) },
        maxAttempts: 1,
      }),
      (url) => seen.push(url),
    );
    const error = await client.send(new GetCallerIdentityCommand({})).catch((e: unknown) => e);
    expect(seen).toEqual(['http://127.0.0.1:1/prefix']);
    expect(requestUrlOf(error)).toBe('http://127.0.0.1:1/prefix');
    expect(requestUrlOf(new Error('other'))).toBeUndefined();
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
