import type { Command } from 'commander';
import { parseDuration } from '../config/duration.ts';
import type { ProfileConfig, ProfileOverrides } from '../config/types.ts';
import type { Credentials, CredentialsProvider, MfaPrompt } from '../credentials/types.ts';
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

/**
 * Commander argument parser for `--duration`. Its error carries commander's
 * `commander.invalidArgument` code, so commander reports it as a bad option
 * value, without this module importing commander (the fast path never loads it).
 */
export function durationArg(value: string): number {
  try {
    return parseDuration(value, '--duration');
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw Object.assign(new Error(message), { code: 'commander.invalidArgument', exitCode: 1 });
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
  const [{ loadConfigFile }, { resolveProfileConfig }] = await Promise.all([
    import('../config/loadConfigFile.ts'),
    import('../config/resolveProfileConfig.ts'),
  ]);
  const file = loadConfigFile(ctx.env, ctx.homedir);
  const profile = resolveProfileConfig(file, name, {
    env: ctx.env,
    overrides: overridesFrom(flags),
  });
  ctx.debug(`profile ${name}: resolved from ${profile.file}`);
  const [vault, locks, engine] = await Promise.all([
    openVaultFor(ctx),
    lockDirFor(ctx),
    import('../credentials/index.ts'),
  ]);
  // The prompt drivers (and the child_process they need) load only when a code is asked for.
  let prompt: Promise<MfaPrompt> | undefined;
  const mfaPrompt: MfaPrompt = async (request) => {
    prompt ??= import('../prompt/mfa.ts').then(({ mfaPromptFor }) =>
      mfaPromptFor({
        driver: ctx.globals.prompt,
        io: ctx.io,
        env: ctx.env,
        debug: ctx.debug,
        mfaToken: profile.mfaToken,
        mfaProcess: profile.mfaProcess,
        // A credential server's child owns the terminal.
        avoidTerminal: options.server === true,
      }),
    );
    return (await prompt)(request);
  };
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

/**
 * The vault, opened without loading the interactive prompts when no prompt
 * can be needed (the file passphrase is in the environment, or a keychain
 * backend is chosen); otherwise through `deps.openVault`, which can ask for
 * the passphrase. Keeps the cached `exec`/`export` path light.
 */
async function openVaultFor(ctx: Context) {
  const { globals, env } = ctx;
  const noPrompt =
    env.AWS_VAULT_FILE_PASSPHRASE !== undefined ||
    (globals.backend !== undefined && globals.backend !== 'file');
  if (!noPrompt) return (await import('./deps.ts')).openVault(ctx);
  const [{ openBackend }, { CredentialStore, SessionStore, OidcTokenStore }] = await Promise.all([
    import('../keyring/openBackend.ts'),
    import('../keyring/stores.ts'),
  ]);
  const backend = await openBackend({
    backend: globals.backend,
    keychainName: globals.keychainName,
    secretServiceCollection: globals.secretServiceCollection,
    fileDir: globals.fileDir,
    filePassphrase: env.AWS_VAULT_FILE_PASSPHRASE,
    passDir: globals.passDir,
    passCmd: globals.passCmd,
    passPrefix: globals.passPrefix,
    debug: ctx.debug,
  });
  ctx.debug(`vault: using backend ${backend.name}`);
  return {
    backend,
    credentials: new CredentialStore(backend),
    sessions: new SessionStore(backend),
    oidcTokens: new OidcTokenStore(backend),
  };
}

/** `~/.awsvault/locks` (0700), as `deps.lockDir` makes it. */
async function lockDirFor(ctx: Context): Promise<string> {
  const { chmod, mkdir } = await import('node:fs/promises');
  const { join } = await import('node:path');
  const dir = join(ctx.homedir, '.awsvault', 'locks');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  return dir;
}
