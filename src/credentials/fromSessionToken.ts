import { checkSessionLength } from '../config/duration.ts';
import type { ProfileConfig } from '../config/types.ts';
import type { EngineDeps } from './engineDeps.ts';
import type { MfaCodeSource } from './mfaCode.ts';
import type { CredentialsProvider } from './types.ts';

export interface SessionTokenOptions {
  /** The profile whose stored keys sign the call (the root of the chain). */
  profile: ProfileConfig;
  /** Long-term keys. */
  source: CredentialsProvider;
  durationSeconds: number;
  /** The settings `durationSeconds` comes from, for the error when AWS would refuse it. */
  durationFrom?: string;
  /** MFA device to use; undefined for a session without MFA. */
  mfaSerial?: string;
  mfaCode: MfaCodeSource;
  deps: EngineDeps;
}

/** STS GetSessionToken with the stored keys, with MFA when `mfaSerial` is set. */
export function fromSessionToken(options: SessionTokenOptions): CredentialsProvider {
  const { profile, deps, mfaSerial } = options;
  return async () => {
    checkSessionLength(
      profile.name,
      'GetSessionToken',
      options.durationSeconds,
      options.durationFrom ?? '--duration and AWS_SESSION_TOKEN_TTL',
    );
    // The code is asked for before the SDK loads: a person waits on it.
    const tokenCode =
      mfaSerial !== undefined ? await options.mfaCode(profile, mfaSerial) : undefined;
    const sts = await import('../aws/sts.ts');
    return sts.getSessionToken(
      {
        profile,
        env: deps.env,
        debug: deps.debug,
        credentials: options.source,
        signer: { kind: 'stored-keys', profileName: profile.name },
      },
      {
        durationSeconds: options.durationSeconds,
        ...(mfaSerial !== undefined ? { serialNumber: mfaSerial } : {}),
        ...(tokenCode !== undefined ? { tokenCode } : {}),
      },
    );
  };
}
