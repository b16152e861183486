import { describe, expect, it } from 'vitest';
import { resolveEndpoint, stsRegion } from '../../../src/config/endpoints.ts';
import { resolveProfileConfig } from '../../../src/config/resolveProfileConfig.ts';
import type { ProfileConfig } from '../../../src/config/types.ts';
import { configFrom } from './helpers.ts';

const TEXT = `[profile full]
region = eu-central-1
endpoint_url = http://127.0.0.1:1000
services = local

[profile global-only]
endpoint_url = http://127.0.0.1:1000

[profile ignoring]
endpoint_url = http://127.0.0.1:1000
ignore_configured_endpoint_urls = true

[profile none]

[services local]
sts =
  endpoint_url = http://127.0.0.1:2001
iam =
  endpoint_url = http://127.0.0.1:2002
sso =
  endpoint_url = http://127.0.0.1:2003
sso_oidc =
  endpoint_url = http://127.0.0.1:2004
`;

function profile(name: string): ProfileConfig {
  return resolveProfileConfig(configFrom(TEXT).file, name, { env: {} });
}

describe('resolveEndpoint', () => {
  it('uses the [services] entry of each service before the profile endpoint_url', () => {
    const p = profile('full');
    expect(resolveEndpoint(p, 'sts', {})).toBe('http://127.0.0.1:2001');
    expect(resolveEndpoint(p, 'iam', {})).toBe('http://127.0.0.1:2002');
    expect(resolveEndpoint(p, 'sso', {})).toBe('http://127.0.0.1:2003');
    expect(resolveEndpoint(p, 'sso-oidc', {})).toBe('http://127.0.0.1:2004');
  });

  it('falls back to the profile endpoint_url, then to nothing', () => {
    expect(resolveEndpoint(profile('global-only'), 'sts', {})).toBe('http://127.0.0.1:1000');
    expect(resolveEndpoint(profile('none'), 'sts', {})).toBeUndefined();
  });

  it('lets AWS_ENDPOINT_URL beat the config file', () => {
    const env = { AWS_ENDPOINT_URL: 'http://127.0.0.1:3000' };
    expect(resolveEndpoint(profile('full'), 'sts', env)).toBe('http://127.0.0.1:3000');
    expect(resolveEndpoint(profile('none'), 'sso', env)).toBe('http://127.0.0.1:3000');
  });

  it('lets AWS_ENDPOINT_URL_<SERVICE> beat AWS_ENDPOINT_URL', () => {
    const env = {
      AWS_ENDPOINT_URL: 'http://127.0.0.1:3000',
      AWS_ENDPOINT_URL_STS: 'http://127.0.0.1:4001',
      AWS_ENDPOINT_URL_IAM: 'http://127.0.0.1:4002',
      AWS_ENDPOINT_URL_SSO: 'http://127.0.0.1:4003',
      AWS_ENDPOINT_URL_SSO_OIDC: 'http://127.0.0.1:4004',
    };
    const p = profile('full');
    expect(resolveEndpoint(p, 'sts', env)).toBe('http://127.0.0.1:4001');
    expect(resolveEndpoint(p, 'iam', env)).toBe('http://127.0.0.1:4002');
    expect(resolveEndpoint(p, 'sso', env)).toBe('http://127.0.0.1:4003');
    expect(resolveEndpoint(p, 'sso-oidc', env)).toBe('http://127.0.0.1:4004');
  });

  it('ignores empty variables', () => {
    const env = { AWS_ENDPOINT_URL_STS: '', AWS_ENDPOINT_URL: ' ' };
    expect(resolveEndpoint(profile('full'), 'sts', env)).toBe('http://127.0.0.1:2001');
  });

  it('ignores every configured endpoint with AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true', () => {
    const env = {
      AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'TRUE',
      AWS_ENDPOINT_URL_STS: 'http://127.0.0.1:4001',
    };
    expect(resolveEndpoint(profile('full'), 'sts', env)).toBeUndefined();
  });

  it('honours ignore_configured_endpoint_urls in the profile unless the variable says false', () => {
    const p = profile('ignoring');
    expect(resolveEndpoint(p, 'sts', { AWS_ENDPOINT_URL: 'http://x' })).toBeUndefined();
    expect(resolveEndpoint(p, 'sts', { AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'false' })).toBe(
      'http://127.0.0.1:1000',
    );
  });

  it('resolves signin only from AWS_ENDPOINT_URL_SIGNIN', () => {
    const p = profile('full');
    expect(resolveEndpoint(p, 'signin', { AWS_ENDPOINT_URL: 'http://127.0.0.1:3000' })).toBe(
      undefined,
    );
    expect(resolveEndpoint(p, 'signin', { AWS_ENDPOINT_URL_SIGNIN: 'http://127.0.0.1:5000' })).toBe(
      'http://127.0.0.1:5000',
    );
  });
});

describe('stsRegion', () => {
  it('is the profile region, else us-east-1', () => {
    expect(stsRegion(profile('full'))).toBe('eu-central-1');
    expect(stsRegion(profile('none'))).toBe('us-east-1');
  });
});
