import { InvalidArgumentError, type Command } from 'commander';
import { parseDuration } from '../config/duration.ts';
import type { ProfileConfig, ProfileOverrides } from '../config/types.ts';
import type { Credentials, CredentialsProvider } from '../credentials/types.ts';
import { UserError } from '../errors.ts';
import type { Context } from './context.ts';

/** The credential flags `exec`, `export` (and friends) share, as commander parsed them. */
export interface CredentialFlags {
  /** `-d/--duration`, already parsed to seconds by {@link durationArg}. */
  duration?: number;
  noSession?: boolean;
  region?: string;
  mfaToken?: string;
  /** `--stdout`: print the SSO sign-in link instead of opening the browser. */
  stdout?: boolean;
}

/** A profile resolved for a command, and the lazy provider of its credentials. */
export interface CommandCredentials {
  profile: ProfileConfig;
  provider: CredentialsProvider;
  /** Assumes `roleArn` starting from the profile's credentials (used by the ECS server's `/role-arn/`). */
  assumeRole: (roleArn: string) => Promise<Credentials>;
}

/** Commander argument parser for `--duration`. */
export function durationArg(value: string): number {
  try {
    return parseDuration(value, '--duration');
  } catch (error) {
    throw new InvalidArgumentError(error instanceof Error ? error.message : String(error));
  }
}

/**
 * Adds the credential flags of the Go aws-vault's `exec`/`export` to `cmd`:
 * `-d/--duration`, `-n/--no-session`, `--region`, `-t/--mfa-token`, `--stdout`.
 */
export function addCredentialFlags(cmd: Command): Command {
  return cmd
    .option(
      '-d, --duration <duration>',
      'Duration of the temporary or assume-role session (e.g. 1h, 90m). Defaults to 1h',
      durationArg,
    )
    .option('-n, --no-session', 'Skip creating STS session with GetSessionToken')
    .option('--region <region>', 'The AWS region')
    .option('-t, --mfa-token <code>', 'The MFA token to use')
    .option(
      '--stdout',
      'Print the SSO link to the terminal without automatically opening the browser',
    );
}

/**
 * Commander turns `--no-session` into `session: false`; this maps the parsed
 * options of {@link addCredentialFlags} to {@link CredentialFlags}.
 */
export function credentialFlagsFrom(opts: Record<string, unknown>): CredentialFlags {
  return {
    duration: typeof opts.duration === 'number' && opts.duration > 0 ? opts.duration : undefined,
    noSession: opts.session === false,
    region: typeof opts.region === 'string' && opts.region !== '' ? opts.region : undefined,
    mfaToken: typeof opts.mfaToken === 'string' && opts.mfaToken !== '' ? opts.mfaToken : undefined,
    stdout: opts.stdout === true,
  };
}

/** The command-line overrides the config engine applies above env and file. */
export function overridesFrom(flags: CredentialFlags): ProfileOverrides {
  const overrides: ProfileOverrides = {};
  if (flags.region !== undefined) overrides.region = flags.region;
  if (flags.mfaToken !== undefined) overrides.mfaToken = flags.mfaToken;
  if (flags.duration !== undefined) overrides.duration = flags.duration;
  if (flags.noSession) overrides.noSession = true;
  return overrides;
}

/** The message of the Go aws-vault when a command runs inside `aws-vault exec`. */
export const NESTED_MESSAGE =
  "running in an existing aws-vault subshell; 'exit' from the subshell or unset AWS_VAULT to force";

/** Refuses to run inside an `aws-vault exec` subshell, as the Go aws-vault does. */
export function assertNotNested(env: NodeJS.ProcessEnv): void {
  if (env.AWS_VAULT !== undefined && env.AWS_VAULT !== '') throw new UserError(NESTED_MESSAGE);
}

/** True when getting credentials for `profile` may need an MFA code from a prompt. */
export function needsMfaPrompt(profile: ProfileConfig): boolean {
  for (let p: ProfileConfig | undefined = profile; p; p = p.sourceProfile) {
    if (p.mfaSerial !== undefined && p.mfaToken === undefined && p.mfaProcess === undefined) {
      return true;
    }
  }
  return false;
}

/**
 * flags -> ProfileConfig -> provider: loads the config, resolves `name` with
 * the flags on top, opens the vault and asks the credentials engine for the
 * profile's provider. Nothing here touches the network or the AWS SDK: the
 * provider does, lazily, and only when its cache cannot answer.
 */
export async function credentialsForCommand(
  ctx: Context,
  name: string,
  flags: CredentialFlags,
  options: { server?: boolean } = {},
): Promise<CommandCredentials> {
  const [{ loadConfig, openVault, lockDir }, { resolveProfileConfig }] = await Promise.all([
    import('./deps.ts'),
    import('../config/resolveProfileConfig.ts'),
  ]);
  const file = await loadConfig(ctx);
  const profile = resolveProfileConfig(file, name, {
    env: ctx.env,
    overrides: overridesFrom(flags),
  });
  ctx.debug(`profile ${name}: resolved from ${profile.file}`);
  const [vault, locks, engine, { mfaPromptFor }] = await Promise.all([
    openVault(ctx),
    lockDir(ctx),
    import('../credentials/index.ts'),
    import('../prompt/mfa.ts'),
  ]);
  const mfaPrompt = mfaPromptFor({
    driver: ctx.globals.prompt,
    io: ctx.io,
    env: ctx.env,
    debug: ctx.debug,
    mfaToken: profile.mfaToken,
    mfaProcess: profile.mfaProcess,
    // A credential server's child owns the terminal.
    avoidTerminal: options.server === true,
  });
  const deps = {
    credentials: vault.credentials,
    sessions: vault.sessions,
    oidcTokens: vault.oidcTokens,
    lockDir: locks,
    env: ctx.env,
    debug: ctx.debug,
    mfaPrompt,
    ssoUseStdout: flags.stdout === true,
  };
  const provider = engine.getCredentialsProvider(profile, deps);
  return {
    profile,
    provider,
    assumeRole: (roleArn) => engine.assumeRoleFrom(provider, roleArn, profile, deps),
  };
}
