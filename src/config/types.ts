import type { ConfigErrorLocation } from './errors.ts';

/**
 * A profile resolved from the config file, its `include_profile` mixins,
 * `[default]`, the environment and the command-line flags, in that order of
 * precedence (flags first). Every duration is in seconds.
 */
export interface ProfileConfig {
  /** The profile's name as the user wrote it (`prod`, `default`). */
  name: string;
  /** The config file it came from (for error messages). */
  file: string;
  /** True when the file has a section for it; false for a profile that only exists in the vault. */
  inFile?: boolean;
  /** 1-based line of the profile's section header, when it has one. */
  line?: number;
  region?: string;
  mfaSerial?: string;
  mfaProcess?: string;
  /** MFA code given on the command line (`--mfa-token`). */
  mfaToken?: string;
  roleArn?: string;
  roleSessionName?: string;
  externalId?: string;
  /** `source_profile` as written; equal to `name` when a profile sources itself. */
  sourceProfileName?: string;
  /**
   * The resolved source profile; undefined when there is none or it is the
   * profile itself. It may have no section (`inFile: false`), which is
   * allowed only when the vault holds its keys, as in the Go aws-vault:
   * the engine refuses it otherwise ({@link missingSourceProfileError}).
   */
  sourceProfile?: ProfileConfig;
  /** Where `source_profile` is set (file, line, the section that sets it), for errors. */
  sourceProfileAt?: ConfigErrorLocation;
  credentialProcess?: string;
  webIdentityTokenFile?: string;
  webIdentityTokenProcess?: string;
  ssoSession?: string;
  ssoStartUrl?: string;
  ssoRegion?: string;
  ssoAccountId?: string;
  ssoRoleName?: string;
  ssoRegistrationScopes?: string[];
  stsRegionalEndpoints?: 'legacy' | 'regional';
  /** `endpoint_url` of the profile (applies to every service). */
  endpointUrl?: string;
  /** `ignore_configured_endpoint_urls = true`: use no configured endpoint (the env variable of that name beats it). */
  ignoreConfiguredEndpointUrls?: boolean;
  /** Name of the `[services NAME]` section the profile uses (`services = NAME`). */
  services?: string;
  /** Per-service endpoints from the profile's `[services NAME]` section, keyed by service id (`sts`, `iam`, `sso`, `sso_oidc`). */
  serviceEndpoints: Record<string, string>;
  sessionTags: Record<string, string>;
  transitiveSessionTags: string[];
  sourceIdentity?: string;
  /** `--no-session`: skip GetSessionToken. */
  noSession: boolean;
  /** Duration of AssumeRole sessions: `duration_seconds`, `--duration`, `AWS_ASSUME_ROLE_TTL`, else 1h. */
  assumeRoleDuration: number;
  /** Where `duration_seconds` is written, when assumeRoleDuration is its value (for errors). */
  assumeRoleDurationAt?: { file: string; line: number | undefined };
  /** Duration of GetSessionToken when no role is assumed from it: `--duration`, `AWS_SESSION_TOKEN_TTL`, else 1h. */
  sessionTokenDuration: number;
  /** Duration of GetSessionToken when a role is assumed from it: `AWS_CHAINED_SESSION_TOKEN_TTL`, else 8h. */
  chainedSessionTokenDuration: number;
  /** Duration of GetFederationToken: `--duration`, `AWS_FEDERATION_TOKEN_TTL`, else 1h. */
  federationTokenDuration: number;
  /** A cached credential with less left than this is refreshed: `AWS_MIN_TTL`, else 5m. */
  minTtl: number;
}

/** Values from the command line that override the config (flags beat env beat file). */
export interface ProfileOverrides {
  region?: string;
  mfaToken?: string;
  /** `--duration`, in seconds. */
  duration?: number;
  noSession?: boolean;
}
