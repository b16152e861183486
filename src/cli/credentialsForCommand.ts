import type { Command } from 'commander';
import type { ConfigFile } from '../config/loadConfigFile.ts';
import { DURATION_LIMITS, parseDuration, shortDuration } from '../config/duration.ts';

export { DURATION_LIMITS, shortDuration };
import type { ProfileConfig, ProfileOverrides } from '../config/types.ts';
import type { Credentials, CredentialsProvider, MfaPrompt } from '../credentials/types.ts';
import { needFullCli, NoStoredCredentialsError, profileOperand, UserError } from '../errors.ts';
import type { Context } from './context.ts';
import { engineDeps, lockDir, openVault } from './deps.ts';
import { loadConfigFile, quoteName } from '../config/loadConfigFile.ts';
import { resolveProfileConfig } from '../config/resolveProfileConfig.ts';
import { assumeRoleFrom, getCredentialsProvider } from '../credentials/index.ts';

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

/**
 * Commander argument parser for `--duration`. Its error carries commander's
 * `commander.invalidArgument` code, so commander reports it as a bad option
 * value, without this module importing commander (the fast path never loads it).
 */
export function durationArg(value: string): number {
  try {
    return parseDuration(value, '--duration');
  } catch {
    // Commander prefixes "option '-d, --duration <duration>' argument 'soon' is invalid."
    throw Object.assign(new Error('Use a duration with a unit, e.g. 1h, 90m or 3600s.'), {
      code: 'commander.invalidArgument',
      exitCode: 1,
    });
  }
}

/**
 * Checks `--duration` against AWS's limits for what the profile asks STS
 * for, before any call: 15m to 36h for GetSessionToken (and
 * GetFederationToken), to 12h for AssumeRole, to 1h for a role assumed with
 * another role's credentials. A cached session does not hide a bad value.
 */
export function checkDuration(profile: ProfileConfig, seconds: number | undefined): void {
  if (seconds === undefined || seconds === 0) return;
  // No STS call takes it: credential_process and SSO credentials come as
  // they are (the Go aws-vault ignores --duration there too).
  if (!profile.roleArn && (profile.credentialProcess || profile.ssoStartUrl)) return;
  let max: number;
  let why: string;
  if (profile.roleArn) {
    const source = profile.sourceProfile;
    const chained = Boolean(
      source &&
      (source.roleArn ||
        source.ssoStartUrl ||
        source.webIdentityTokenFile ||
        source.webIdentityTokenProcess),
    );
    max = chained ? DURATION_LIMITS.chainedRole : DURATION_LIMITS.role;
    why = chained
      ? `it assumes a role with the credentials of another role (role chaining), which AWS limits to ${shortDuration(max)}`
      : "AWS's limits for AssumeRole";
  } else {
    max = DURATION_LIMITS.session;
    why = "AWS's limits for GetSessionToken and GetFederationToken";
  }
  if (seconds < DURATION_LIMITS.min || seconds > max) {
    throw new UserError(
      `--duration must be between ${shortDuration(DURATION_LIMITS.min)} and ${shortDuration(max)} for profile ${profile.name} (${why}), not ${shortDuration(seconds)}`,
    );
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

/** How many edits (insert, delete, change, swap two neighbours) turn `a` into `b`. */
export function editDistance(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  const d: number[][] = [];
  for (let i = 0; i <= x.length; i++) {
    d.push([i]);
    for (let j = 1; j <= y.length; j++) d[0]?.push(j);
  }
  for (let i = 1; i <= x.length; i++) {
    const row = d[i] as number[];
    const prev = d[i - 1] as number[];
    for (let j = 1; j <= y.length; j++) {
      const cost = x[i - 1] === y[j - 1] ? 0 : 1;
      let best = Math.min(
        (prev[j] as number) + 1,
        (row[j - 1] as number) + 1,
        (prev[j - 1] as number) + cost,
      );
      if (i > 1 && j > 1 && x[i - 1] === y[j - 2] && x[i - 2] === y[j - 1]) {
        best = Math.min(best, ((d[i - 2] as number[])[j - 2] as number) + 1);
      }
      row[j] = best;
    }
  }
  return (d[x.length] as number[])[y.length] as number;
}

/**
 * The candidate closest to `name` when it looks like a typo of it (one edit
 * for names of up to 4 characters, else two; case ignored), else undefined.
 */
export function closestProfile(name: string, candidates: Iterable<string>): string | undefined {
  const limit = [...name].length <= 4 ? 1 : 2;
  let best: { name: string; distance: number } | undefined;
  for (const candidate of candidates) {
    if (candidate === name) continue;
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (distance <= limit && (best === undefined || distance < best.distance)) {
      best = { name: candidate, distance };
    }
  }
  return best?.name;
}

/** The config file as the user names it: `AWS_CONFIG_FILE` as given, else `~/.aws/config`. */
export function configFileForMessage(
  env: NodeJS.ProcessEnv,
  homedir: string,
  path: string,
): string {
  const given = env.AWS_CONFIG_FILE;
  if (given !== undefined && given !== '') return given;
  const home = homedir.replace(/\/+$/, '');
  return home !== '' && path.startsWith(`${home}/`) ? `~${path.slice(home.length)}` : path;
}

/**
 * The one message for a profile that is neither in the config file nor in
 * the vault (`exec`, `export`, `login`, `rotate`, `remove`, `clear`):
 * `profile "prdo" not found in ~/.aws/config and no credentials stored for it; did you mean "prod"?`
 */
export function unknownProfileError(
  name: string,
  configFile: string,
  candidates: Iterable<string>,
): NoStoredCredentialsError {
  const close = closestProfile(name, candidates);
  const quoted = JSON.stringify(name);
  const next =
    close !== undefined
      ? `did you mean ${JSON.stringify(close)}?`
      : `to use it, store its access key with \`aws-vault add ${profileOperand(name)}\` or add a [profile ${quoteName(name)}] section to ${configFile} (see: aws-vault list --profiles)`;
  return new NoStoredCredentialsError(
    `profile ${quoted} not found in ${configFile} and no credentials stored for it; ${next}`,
  );
}

/** What {@link assertKnownProfile} reads. */
export interface KnownProfileSources {
  /** Profile names in the config file. */
  configProfiles: string[];
  /** True when the config file has a section for the profile. */
  inConfig: boolean;
  /** Profile names with credentials in the vault. */
  storedProfiles(): Promise<string[]>;
  configFile: string;
}

/**
 * Throws {@link unknownProfileError} when `name` has no section in the config
 * file and no credentials in the vault. (A name with either is known; what it
 * lacks beyond that is for the command to say.)
 */
export async function assertKnownProfile(
  name: string,
  sources: KnownProfileSources,
): Promise<void> {
  if (sources.inConfig) return;
  const stored = await sources.storedProfiles();
  if (stored.includes(name)) return;
  throw unknownProfileError(name, sources.configFile, [...sources.configProfiles, ...stored]);
}

/**
 * {@link assertKnownProfile} bound to a command's config file and vault, for
 * the commands that take a profile name (`rotate`, `remove`, `clear`).
 */
export function knownProfileCheck(
  ctx: Pick<Context, 'env' | 'homedir'>,
  file: Pick<ConfigFile, 'hasProfile' | 'profileNames' | 'path'>,
  credentials: { profiles(): Promise<string[]> },
): (name: string) => Promise<void> {
  return (name) =>
    assertKnownProfile(name, {
      inConfig: file.hasProfile(name),
      configProfiles: file.profileNames(),
      storedProfiles: () => credentials.profiles(),
      configFile: configFileForMessage(ctx.env, ctx.homedir, file.path),
    });
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
  options: {
    /** A credential server's: true once its command runs and owns the terminal. */
    terminalTaken?: () => boolean;
  } = {},
): Promise<CommandCredentials> {
  const file = loadConfigFile(ctx.env, ctx.homedir);
  const profile = resolveProfileConfig(file, name, {
    env: ctx.env,
    overrides: overridesFrom(flags),
    debug: ctx.debug,
  });
  ctx.debug(`profile ${name}: resolved from ${profile.file}`);
  const vault = await openVault(ctx);
  if (!file.hasProfile(name) && !hasOtherSource(profile)) {
    // Only the vault could know it: a typo, or keys never added.
    await assertKnownProfile(name, {
      inConfig: false,
      configProfiles: file.profileNames(),
      storedProfiles: () => vault.credentials.profiles(),
      configFile: configFileForMessage(ctx.env, ctx.homedir, file.path),
    });
  }
  checkDuration(profile, flags.duration);
  // The prompt drivers (and the child_process they need) load only when a code is asked for.
  let prompt: Promise<MfaPrompt> | undefined;
  const mfaPrompt: MfaPrompt = async (request) => {
    if (ctx.cachedOnly === true) needFullCli('an MFA code');
    prompt ??= import('../prompt/mfa.ts').then(({ mfaPromptFor }) =>
      mfaPromptFor({
        driver: ctx.globals.prompt,
        io: ctx.io,
        env: ctx.env,
        debug: ctx.debug,
        mfaToken: profile.mfaToken,
        mfaProcess: profile.mfaProcess,
        // A credential server's child owns the terminal once it runs.
        ...(options.terminalTaken !== undefined ? { avoidTerminal: options.terminalTaken } : {}),
      }),
    );
    return (await prompt)(request);
  };
  const deps = {
    ...engineDeps(ctx, vault, lockDir(ctx), mfaPrompt),
    ssoUseStdout: flags.stdout === true,
    ...(options.terminalTaken !== undefined ? { terminalTaken: options.terminalTaken } : {}),
  };
  const provider = getCredentialsProvider(profile, deps);
  return {
    profile,
    provider,
    assumeRole: (roleArn) => assumeRoleFrom(provider, roleArn, profile, deps),
  };
}

/**
 * True when a profile missing from the config file still gets credentials
 * without stored keys of its own: `[default]` or the environment give it a
 * `source_profile`, SSO, web identity or `credential_process`.
 */
function hasOtherSource(profile: ProfileConfig): boolean {
  return Boolean(
    profile.sourceProfile ||
    profile.ssoStartUrl ||
    profile.webIdentityTokenFile ||
    profile.webIdentityTokenProcess ||
    profile.credentialProcess,
  );
}
