import { checkSessionLength } from '../config/duration.ts';
import { ConfigError } from '../config/errors.ts';
import type { ProfileConfig } from '../config/types.ts';
import type { StsSigner } from '../aws/sts.ts';
import type { EngineDeps } from './engineDeps.ts';
import type { MfaCodeSource } from './mfaCode.ts';
import { defaultRoleSessionName } from './sessionName.ts';
import type { CredentialsProvider } from './types.ts';

export interface AssumeRoleOptions {
  /** The role profile (role_arn, external_id, tags, duration, region). */
  profile: ProfileConfig;
  /** Credentials that call AssumeRole (the source profile's). */
  source: CredentialsProvider;
  /** Describes `source` for error messages. */
  signer: StsSigner;
  /** MFA device to send; undefined when no MFA is needed at this step. */
  mfaSerial?: string;
  mfaCode?: MfaCodeSource;
  /** Overrides the profile's role (the ECS server's `/role-arn/`). */
  roleArn?: string;
  region?: string;
  durationSeconds?: number;
  deps: EngineDeps;
}

/** What STS accepts as RoleSessionName. */
const ROLE_SESSION_NAME = /^[\w+=,.@-]{2,64}$/;

/** STS AssumeRole of the profile's role with every option aws-vault supports. */
export function fromAssumeRole(options: AssumeRoleOptions): CredentialsProvider {
  const { profile, deps, mfaSerial } = options;
  return async () => {
    // What STS would refuse is refused first, before an MFA prompt or a call
    // to the source profile (whose own MFA prompt comes before this role's).
    const durationSeconds = options.durationSeconds ?? profile.assumeRoleDuration;
    checkSessionLength(
      profile.name,
      'AssumeRole',
      durationSeconds,
      profile.assumeRoleDurationAt !== undefined && options.durationSeconds === undefined
        ? 'duration_seconds'
        : '--duration, AWS_ASSUME_ROLE_TTL and duration_seconds',
      options.durationSeconds === undefined ? profile.assumeRoleDurationAt : undefined,
    );
    const roleSessionName = profile.roleSessionName ?? defaultRoleSessionName(deps.env);
    if (!ROLE_SESSION_NAME.test(roleSessionName)) {
      throw new ConfigError(
        `profile ${profile.name}: role session name ${JSON.stringify(roleSessionName)} is not one AWS accepts (2 to 64 of letters, digits and +=,.@_-); check role_session_name and AWS_ROLE_SESSION_NAME`,
      );
    }
    const tokenCode =
      mfaSerial !== undefined && options.mfaCode !== undefined
        ? await options.mfaCode(profile, mfaSerial)
        : undefined;
    const roleArn = options.roleArn ?? (profile.roleArn as string);
    const sts = await import('../aws/sts.ts');
    return sts.assumeRole(
      {
        profile,
        env: deps.env,
        debug: deps.debug,
        credentials: options.source,
        signer: options.signer,
        ...(options.region !== undefined ? { region: options.region } : {}),
      },
      {
        roleArn,
        roleSessionName,
        durationSeconds,
        ...(profile.externalId !== undefined ? { externalId: profile.externalId } : {}),
        ...(mfaSerial !== undefined && tokenCode !== undefined
          ? { serialNumber: mfaSerial, tokenCode }
          : {}),
        tags: profile.sessionTags,
        transitiveTagKeys: profile.transitiveSessionTags,
        ...(profile.sourceIdentity !== undefined ? { sourceIdentity: profile.sourceIdentity } : {}),
      },
    );
  };
}
