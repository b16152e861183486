import { missingSourceProfileError } from '../config/resolveProfileConfig.ts';
import type { ProfileConfig } from '../config/types.ts';
import type { StsSigner } from '../aws/sts.ts';
import { needFullCli, NoStoredCredentialsError, profileOperand, UserError } from '../errors.ts';
import type { EngineDeps, SessionMeta } from './engineDeps.ts';
import { fromAssumeRole } from './fromAssumeRole.ts';
import { fromCredentialProcess } from './fromCredentialProcess.ts';
import { fromSessionToken } from './fromSessionToken.ts';
import { fromStoredKeys, hasStoredKeys } from './fromStoredKeys.ts';
import { fromWebIdentity } from './fromWebIdentity.ts';
import { mfaCodeSource, type MfaCodeSource } from './mfaCode.ts';
import { redactCredentials } from './redact.ts';
import type { CredentialsProvider } from './types.ts';
import { requestOf, withSessionCache } from './withSessionCache.ts';

/** AWS caps a role assumed with session credentials (role chaining) at one hour. */
export const ROLE_CHAINING_MAX_DURATION = 3600;

/** Options of one credentials request. */
export interface ProviderOptions {
  /** Skip the vault's session cache (never read nor write it), e.g. for `rotate`. */
  cache?: boolean;
}

/** A provider together with what it is, so the step above knows what it builds on. */
interface Step {
  provider: CredentialsProvider;
  /** `stored-keys`: the long-term keys of `profileName`; `temporary`: anything from STS, SSO or a process. */
  kind: 'stored-keys' | 'temporary';
  profileName: string;
}

/** Per-request state threaded up the chain. */
interface ChainState {
  deps: EngineDeps;
  mfaCode: MfaCodeSource;
  /** `--no-session` on the profile asked for. */
  noSession: boolean;
  cache: boolean;
  /** The MFA serial an MFA'd session below already carries: roles above with the same serial need no code. */
  chainedMfa?: string;
  /** Profiles visited, for a clear error on a loop the config engine let through. */
  visited: string[];
}

/**
 * The one function that decides how a profile's credentials are obtained,
 * following the Go aws-vault's `GetProviderForProfile`: stored keys (the
 * profile's own, else its `source_profile`'s, recursively) with
 * `GetSessionToken` at the root and `AssumeRole` at each `role_arn` above,
 * else SSO, web identity or `credential_process`. Each decision is logged
 * with `deps.debug`. The returned provider is lazy: nothing is read, asked
 * or called until it is invoked, and the AWS SDK loads only when a session
 * is not in the vault's cache.
 */
export function getCredentialsProvider(
  profile: ProfileConfig,
  deps: EngineDeps,
  options: ProviderOptions = {},
): CredentialsProvider {
  let plan: Promise<CredentialsProvider> | undefined;
  return async () => {
    plan ??= planFor(profile, deps, options).catch((error: unknown) => {
      plan = undefined;
      throw error;
    });
    return redactCredentials(await (await plan)());
  };
}

async function planFor(
  profile: ProfileConfig,
  deps: EngineDeps,
  options: ProviderOptions,
): Promise<CredentialsProvider> {
  const state: ChainState = {
    deps,
    mfaCode: mfaCodeSource(deps),
    noSession: profile.noSession,
    cache: options.cache ?? true,
    visited: [],
  };
  return (await stepFor(profile, undefined, state)).provider;
}

async function stepFor(
  profile: ProfileConfig,
  chainedFrom: ProfileConfig | undefined,
  state: ChainState,
): Promise<Step> {
  const { deps } = state;
  const p = `profile ${profile.name}`;
  if (state.visited.includes(profile.name)) {
    throw new UserError(
      `${p}: source_profile loop: ${[...state.visited, profile.name].join(' -> ')}`,
    );
  }
  state.visited.push(profile.name);

  const storedKeys = await hasStoredKeys(profile.name, deps);
  if (chainedFrom !== undefined && profile.inFile === false && !storedKeys) {
    throw missingSourceProfileError(chainedFrom);
  }
  if (storedKeys || profile.sourceProfile !== undefined) {
    let source: Step;
    if (storedKeys) {
      deps.debug(`${p}: using stored credentials`);
      source = {
        provider: fromStoredKeys(profile.name, deps),
        kind: 'stored-keys',
        profileName: profile.name,
      };
    } else {
      const sourceProfile = profile.sourceProfile as ProfileConfig;
      deps.debug(`${p}: sourcing credentials from profile ${sourceProfile.name}`);
      source = await stepFor(sourceProfile, profile, state);
    }

    if (profile.roleArn !== undefined && profile.roleArn !== '') {
      return assumeRoleStep(profile, source, state);
    }
    if (source.kind === 'stored-keys') {
      const reason = whyNoSessionToken(profile, chainedFrom, state);
      if (reason === undefined) return sessionTokenStep(profile, chainedFrom, source, state);
      deps.debug(`${p}: skipping GetSessionToken because ${reason}`);
    }
    return source;
  }

  // Any SSO setting makes it an SSO profile, so a missing one is named
  // (sso_start_url in an [sso-session], say), not "no credentials".
  const sso = [profile.ssoStartUrl, profile.ssoSession, profile.ssoAccountId, profile.ssoRoleName];
  if (sso.some((value) => value !== undefined && value !== '')) {
    deps.debug(`${p}: using SSO role credentials`);
    const { fromSso } = await import('./fromSso.ts');
    return { provider: fromSso(profile, deps), kind: 'temporary', profileName: profile.name };
  }

  if (profile.webIdentityTokenFile || profile.webIdentityTokenProcess) {
    deps.debug(`${p}: using web identity`);
    return temporaryStep(
      fromWebIdentity(profile, deps),
      {
        type: 'sts.AssumeRoleWithWebIdentity',
        profileName: profile.name,
        request: requestOf([
          profile.roleArn,
          profile.webIdentityTokenFile,
          profile.webIdentityTokenProcess,
          profile.roleSessionName,
        ]),
      },
      profile,
      state,
    );
  }

  if (profile.credentialProcess !== undefined && profile.credentialProcess !== '') {
    deps.debug(`${p}: using credential_process`);
    return temporaryStep(
      fromCredentialProcess(profile, deps),
      {
        type: 'credential_process',
        profileName: profile.name,
        request: requestOf([profile.credentialProcess]),
      },
      profile,
      state,
    );
  }

  throw new NoStoredCredentialsError(
    `${p}: no credentials: none are stored in the vault for it (add them with \`aws-vault add ${profileOperand(profile.name)}\`) and it has no source_profile, sso_start_url, web_identity_token_file or credential_process`,
  );
}

/**
 * Why GetSessionToken must not run at the root `profile` (undefined: it may).
 * The rules of the Go aws-vault: not with `--no-session`; under a role only
 * when both name the same `mfa_serial` (the session then carries the MFA for
 * the role) and the role asks for at most 1h (AWS's limit for chained roles).
 */
function whyNoSessionToken(
  profile: ProfileConfig,
  chainedFrom: ProfileConfig | undefined,
  state: ChainState,
): string | undefined {
  if (state.noSession) return 'sessions are disabled (--no-session)';
  if (chainedFrom === undefined) return undefined;
  if (!profile.mfaSerial) return `profile ${profile.name} has no mfa_serial`;
  if (!chainedFrom.mfaSerial) return `profile ${chainedFrom.name} has no mfa_serial`;
  if (chainedFrom.mfaSerial !== profile.mfaSerial) {
    return `the mfa_serial of profile ${chainedFrom.name} differs from profile ${profile.name}'s`;
  }
  if (chainedFrom.roleArn && chainedFrom.assumeRoleDuration > ROLE_CHAINING_MAX_DURATION) {
    return `profile ${chainedFrom.name} asks for a ${chainedFrom.assumeRoleDuration}s role session, more than the ${ROLE_CHAINING_MAX_DURATION}s AWS allows for a role assumed from a session`;
  }
  return undefined;
}

function sessionTokenStep(
  profile: ProfileConfig,
  chainedFrom: ProfileConfig | undefined,
  source: Step,
  state: ChainState,
): Step {
  const mfaSerial = profile.mfaSerial ? profile.mfaSerial : undefined;
  const durationSeconds =
    chainedFrom !== undefined ? profile.chainedSessionTokenDuration : profile.sessionTokenDuration;
  state.deps.debug(
    `profile ${profile.name}: using GetSessionToken${mfaSerial ? ' (with MFA)' : ''} for ${durationSeconds}s`,
  );
  if (mfaSerial !== undefined) state.chainedMfa = mfaSerial;
  const provider = fromSessionToken({
    profile,
    source: source.provider,
    durationSeconds,
    durationFrom:
      chainedFrom !== undefined
        ? 'AWS_CHAINED_SESSION_TOKEN_TTL (the length of a session a role is assumed from)'
        : '--duration and AWS_SESSION_TOKEN_TTL',
    ...(mfaSerial !== undefined ? { mfaSerial } : {}),
    mfaCode: state.mfaCode,
    deps: state.deps,
  });
  return temporaryStep(
    provider,
    { type: 'sts.GetSessionToken', profileName: profile.name, mfaSerial: mfaSerial ?? '' },
    profile,
    state,
  );
}

function assumeRoleStep(profile: ProfileConfig, source: Step, state: ChainState): Step {
  const chained = !!profile.mfaSerial && profile.mfaSerial === state.chainedMfa;
  const mfaSerial = profile.mfaSerial && !chained ? profile.mfaSerial : undefined;
  state.deps.debug(
    `profile ${profile.name}: using AssumeRole ${profile.roleArn}${chained ? ' (chained MFA)' : mfaSerial ? ' (with MFA)' : ''}`,
  );
  // An MFA'd role session carries the MFA context to roles assumed from it.
  if (mfaSerial !== undefined) state.chainedMfa = mfaSerial;
  const signer: StsSigner =
    source.kind === 'stored-keys'
      ? { kind: 'stored-keys', profileName: source.profileName }
      : { kind: 'session', description: `the session of profile ${source.profileName}` };
  const provider = fromAssumeRole({
    profile,
    source: source.provider,
    signer,
    ...(mfaSerial !== undefined ? { mfaSerial } : {}),
    mfaCode: state.mfaCode,
    deps: state.deps,
  });
  return temporaryStep(
    provider,
    {
      type: 'sts.AssumeRole',
      profileName: profile.name,
      mfaSerial: profile.mfaSerial ?? '',
      request: requestOf([
        profile.roleArn,
        source.profileName,
        profile.externalId,
        profile.roleSessionName,
        Object.entries(profile.sessionTags).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        [...profile.transitiveSessionTags].sort(),
        profile.sourceIdentity,
      ]),
    },
    profile,
    state,
  );
}

/**
 * A step of temporary credentials from `provider`, kept in the vault's
 * session cache under `meta` unless this request skips the cache.
 */
function temporaryStep(
  provider: CredentialsProvider,
  meta: SessionMeta,
  profile: ProfileConfig,
  state: ChainState,
): Step {
  const { deps } = state;
  const uncached: CredentialsProvider =
    deps.cachedOnly === true
      ? () => needFullCli(`profile ${profile.name}: ${meta.type} without the session cache`)
      : provider;
  return {
    provider: state.cache
      ? withSessionCache(provider, { meta, minTtl: profile.minTtl, deps })
      : uncached,
    kind: 'temporary',
    profileName: profile.name,
  };
}
