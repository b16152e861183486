import type { ProfileConfig } from '../config/types.ts';
import type { EngineDeps } from './engineDeps.ts';
import { fromAssumeRole } from './fromAssumeRole.ts';
import { ROLE_CHAINING_MAX_DURATION } from './getCredentialsProvider.ts';
import type { Credentials, CredentialsProvider } from './types.ts';

/**
 * A provider that assumes `roleArn` with the credentials of `base` (the ECS
 * server's `GET /role-arn/ARN`). The role's settings are not the profile's:
 * no external id, tags or MFA carry over; the session is at most 1h (AWS's
 * limit for a role assumed from a session). Results are kept in memory and
 * reused until less than the profile's `minTtl` is left; concurrent calls
 * share one STS call.
 */
export function assumeRoleWith(
  base: CredentialsProvider,
  input: { roleArn: string; region?: string; profile: ProfileConfig; deps: EngineDeps },
): CredentialsProvider {
  const { profile, deps } = input;
  const roleProfile: ProfileConfig = {
    name: profile.name,
    file: profile.file,
    serviceEndpoints: profile.serviceEndpoints,
    sessionTags: {},
    transitiveSessionTags: [],
    noSession: profile.noSession,
    assumeRoleDuration: Math.min(profile.assumeRoleDuration, ROLE_CHAINING_MAX_DURATION),
    sessionTokenDuration: profile.sessionTokenDuration,
    chainedSessionTokenDuration: profile.chainedSessionTokenDuration,
    federationTokenDuration: profile.federationTokenDuration,
    minTtl: profile.minTtl,
    roleArn: input.roleArn,
    ...((input.region ?? profile.region) ? { region: input.region ?? profile.region } : {}),
    ...(profile.stsRegionalEndpoints ? { stsRegionalEndpoints: profile.stsRegionalEndpoints } : {}),
    ...(profile.endpointUrl ? { endpointUrl: profile.endpointUrl } : {}),
  };
  const assume = fromAssumeRole({
    profile: roleProfile,
    source: base,
    signer: { kind: 'session', description: `the credentials of profile ${profile.name}` },
    deps,
  });
  return memoize(assume, profile.minTtl, () =>
    deps.debug(`profile ${profile.name}: assumed role ${input.roleArn} (in memory)`),
  );
}

const byBase = new WeakMap<CredentialsProvider, Map<string, CredentialsProvider>>();

/**
 * Assumes `roleArn` from `base` and returns the credentials, reusing one
 * in-memory provider per (base, role) so repeated requests hit STS once per
 * session lifetime.
 */
export function assumeRoleFrom(
  base: CredentialsProvider,
  roleArn: string,
  profile: ProfileConfig,
  deps: EngineDeps,
): Promise<Credentials> {
  let roles = byBase.get(base);
  if (!roles) byBase.set(base, (roles = new Map()));
  let provider = roles.get(roleArn);
  if (!provider) roles.set(roleArn, (provider = assumeRoleWith(base, { roleArn, profile, deps })));
  return provider();
}

/**
 * Keeps the credentials of `provider` in memory until less than `minTtl`
 * seconds are left; callers arriving during a refresh share it, and a failed
 * refresh is not remembered (the next call tries again).
 */
export function memoize(
  provider: CredentialsProvider,
  minTtl: number,
  onFresh?: (creds: Credentials) => void,
): CredentialsProvider {
  let current: Credentials | undefined;
  let inflight: Promise<Credentials> | undefined;
  return async () => {
    if (
      current !== undefined &&
      (current.expiration === undefined ||
        current.expiration.getTime() - Date.now() > minTtl * 1000)
    ) {
      return current;
    }
    inflight ??= provider()
      .then((creds) => {
        current = creds;
        onFresh?.(creds);
        return creds;
      })
      .finally(() => {
        inflight = undefined;
      });
    return inflight;
  };
}
