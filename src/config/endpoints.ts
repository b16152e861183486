import type { ProfileConfig } from './types.ts';

/** Services whose endpoint the tool may configure; `signin` is our extension. */
export type EndpointService = 'sts' | 'iam' | 'sso' | 'sso-oidc' | 'signin';

/** Service id as written in `[services]` sub-sections, and its env suffix. */
const IDS: Record<Exclude<EndpointService, 'signin'>, { key: string; env: string }> = {
  sts: { key: 'sts', env: 'AWS_ENDPOINT_URL_STS' },
  iam: { key: 'iam', env: 'AWS_ENDPOINT_URL_IAM' },
  sso: { key: 'sso', env: 'AWS_ENDPOINT_URL_SSO' },
  'sso-oidc': { key: 'sso_oidc', env: 'AWS_ENDPOINT_URL_SSO_OIDC' },
};

/**
 * The endpoint configured for `service`, following the AWS SDKs'
 * "service-specific endpoints" standard, first match wins:
 * 1. `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true` (or, when that variable is
 *    unset, `ignore_configured_endpoint_urls = true` in the profile): none;
 * 2. `AWS_ENDPOINT_URL_<SERVICE>` (`STS`, `IAM`, `SSO`, `SSO_OIDC`);
 * 3. `AWS_ENDPOINT_URL`;
 * 4. the service's `endpoint_url` in the profile's `[services NAME]` section;
 * 5. the profile's `endpoint_url`.
 * `signin` (the console federation endpoint, our extension) only reads
 * `AWS_ENDPOINT_URL_SIGNIN`. Undefined means "the service's default".
 */
export function resolveEndpoint(
  profile: ProfileConfig,
  service: EndpointService,
  env: NodeJS.ProcessEnv,
): string | undefined {
  const fromEnv = (key: string): string | undefined => {
    const value = env[key]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };
  if (service === 'signin') return fromEnv('AWS_ENDPOINT_URL_SIGNIN');
  const ignoreEnv = fromEnv('AWS_IGNORE_CONFIGURED_ENDPOINT_URLS');
  const ignore =
    ignoreEnv !== undefined
      ? ignoreEnv.toLowerCase() === 'true'
      : profile.ignoreConfiguredEndpointUrls === true;
  if (ignore) return undefined;
  const id = IDS[service];
  return (
    fromEnv(id.env) ??
    fromEnv('AWS_ENDPOINT_URL') ??
    nonEmpty(profile.serviceEndpoints[id.key]) ??
    nonEmpty(profile.endpointUrl)
  );
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

/**
 * The region STS calls for `profile` go to: its region, else `us-east-1`
 * (where the global endpoint lives), so a profile without a region still
 * works as it does with the Go aws-vault.
 */
export function stsRegion(profile: ProfileConfig): string {
  return profile.region ?? 'us-east-1';
}
