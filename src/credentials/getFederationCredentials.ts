import type { ProfileConfig } from '../config/types.ts';
import { sourceChain } from '../config/resolveProfileConfig.ts';
import { NoStoredCredentialsError, profileOperand } from '../errors.ts';
import type { EngineDeps } from './engineDeps.ts';
import { fromStoredKeys, hasStoredKeys } from './fromStoredKeys.ts';
import type { Credentials } from './types.ts';

/** The policy the Go aws-vault passes: the federated session gets the user's own permissions. */
const ALLOW_ALL_POLICY =
  '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}';

/**
 * The profile whose stored keys serve `profile`: its own, else its
 * `source_profile`'s, recursively; undefined when no profile in the chain
 * has keys in the vault.
 */
export async function findStoredKeysProfile(
  profile: ProfileConfig,
  deps: EngineDeps,
): Promise<string | undefined> {
  for (const p of sourceChain(profile)) {
    if (await hasStoredKeys(p.name, deps)) return p.name;
  }
  return undefined;
}

/**
 * True when `profile` gets its credentials from stored IAM user keys alone
 * (no role, SSO, web identity or credential_process anywhere in its chain):
 * `login` then needs GetFederationToken, as console sign-in rejects
 * long-term keys and GetSessionToken sessions.
 */
export function usesIamUserKeysOnly(profile: ProfileConfig): boolean {
  for (let p: ProfileConfig | undefined = profile; p; p = p.sourceProfile) {
    if (p.roleArn || p.ssoStartUrl || p.webIdentityTokenFile || p.webIdentityTokenProcess) {
      return false;
    }
    if (p.credentialProcess) return false;
  }
  return true;
}

/**
 * Console credentials for an IAM user (`login` of a profile without a role):
 * STS GetFederationToken with the user's stored long-term keys, named after
 * the user (at most 32 characters, as STS requires), for the profile's
 * `federationTokenDuration`, with a policy that keeps the user's permissions.
 */
export async function getFederationCredentials(
  profile: ProfileConfig,
  deps: EngineDeps,
): Promise<Credentials> {
  const owner = await findStoredKeysProfile(profile, deps);
  if (owner === undefined) {
    throw new NoStoredCredentialsError(
      `profile ${profile.name}: no credentials stored in the vault for it or its source profiles; add them with \`aws-vault add ${profileOperand(profile.name)}\``,
    );
  }
  const sts = await import('../aws/sts.ts');
  const ctx = {
    profile,
    env: deps.env,
    debug: deps.debug,
    credentials: fromStoredKeys(owner, deps),
    signer: { kind: 'stored-keys' as const, profileName: owner },
  };
  const identity = await sts.getCallerIdentity(ctx);
  const name = federationName(identity.arn);
  deps.debug(`profile ${profile.name}: using GetFederationToken as ${name}`);
  return sts.getFederationToken(ctx, {
    name,
    durationSeconds: profile.federationTokenDuration,
    policy: ALLOW_ALL_POLICY,
  });
}

/** `arn:aws:iam::123:user/path/alice` -> `alice`, cut to STS's 32 characters and allowed characters. */
export function federationName(arn: string): string {
  const last = arn.split('/').pop() ?? '';
  const name = last.includes(':') ? 'aws-vault' : last;
  const safe = name.replace(/[^\w+=,.@-]/g, '_');
  return (safe.length >= 2 ? safe : 'aws-vault').slice(0, 32);
}
