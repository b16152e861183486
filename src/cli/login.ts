import type { Command } from 'commander';
import type { ProfileConfig } from '../config/types.ts';
import type { EngineDeps } from '../credentials/engineDeps.ts';
import type { Credentials } from '../credentials/types.ts';
import { UsageError, UserError } from '../errors.ts';
import type { Context } from './context.ts';
import { durationArg, overridesFrom, type CredentialFlags } from './credentialsForCommand.ts';
import type { RegisterCommand } from './host.ts';

/** The console session AWS allows for role sessions (`SessionDuration` of getSigninToken). */
export const CONSOLE_SESSION_MIN = 900;
export const CONSOLE_SESSION_MAX = 43_200;
/** GetFederationToken's limits. */
export const FEDERATION_TOKEN_MAX = 129_600;

/** How long `login` waits for the browser to load the sign-in page. */
const BROWSER_WAIT_MS = 120_000;

/** What `login` needs, bound from argv. */
export interface LoginInput {
  /** Undefined: use the credentials in the environment. */
  profile?: string;
  /** Console page to land on (`--path`), e.g. `s3/home`. */
  path?: string;
  /** `--stdout`: print the URL instead of opening the browser. */
  stdout: boolean;
  flags: CredentialFlags;
}

/** Credentials for the console and where they came from (for debug lines). */
interface ConsoleCredentials {
  credentials: Credentials;
  /** True for role credentials (AssumeRole, SSO, web identity): `-d` becomes SessionDuration. */
  isRole: boolean;
  profile: ProfileConfig;
}

/**
 * Builds a sign-in URL for the AWS console (the federation endpoint's
 * getSigninToken, then `Action=login`) and opens it, or prints it with
 * `--stdout`. The URL carries a bearer token: it is never logged, and the
 * browser receives it through a one-time loopback redirect rather than in
 * its command line.
 */
export async function loginCommand(input: LoginInput, ctx: Context): Promise<number> {
  if (input.profile !== undefined) return loginWith(input, ctx);
  try {
    return await loginWith(input, ctx);
  } catch (error) {
    // The engine's messages name the pseudo-profile; say where the keys came from instead.
    const aws =
      error instanceof UserError && error.name === 'StsError'
        ? (error as { aws?: string }).aws
        : undefined;
    if (
      aws !== undefined &&
      /^(InvalidClientTokenId|SignatureDoesNotMatch|UnrecognizedClientException):/.test(aws)
    ) {
      // Not "the key stored for profile environment": nothing is stored, and
      // `aws-vault add environment` would store the wrong thing.
      throw new UserError(
        `${FROM_ENVIRONMENT}: AWS rejected the keys in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (${aws}); check them, or unset them to log in with a profile (aws-vault login PROFILE)`,
        { cause: (error as UserError).cause, exitCode: (error as UserError).exitCode },
      );
    }
    if (error instanceof UserError && error.message.startsWith(`profile ${ENVIRONMENT}: `)) {
      throw new UserError(
        `${FROM_ENVIRONMENT}: ${error.message.slice(`profile ${ENVIRONMENT}: `.length)}`,
        { cause: error.cause, exitCode: error.exitCode },
      );
    }
    throw error;
  }
}

/** The name `login` without a profile resolves under, and how messages call it. */
const ENVIRONMENT = 'environment';
const FROM_ENVIRONMENT = 'credentials from the environment';

async function loginWith(input: LoginInput, ctx: Context): Promise<number> {
  const duration = input.flags.duration;
  const fromEnvironment = input.profile === undefined;
  const { credentials, isRole, profile } = fromEnvironment
    ? await credentialsFromEnvironment(ctx, input.flags)
    : await credentialsFromProfile(ctx, input.profile as string, input.flags);
  const who = fromEnvironment ? FROM_ENVIRONMENT : `profile ${profile.name}`;

  let sessionDuration: number | undefined;
  if (isRole && duration !== undefined) {
    if (duration < CONSOLE_SESSION_MIN || duration > CONSOLE_SESSION_MAX) {
      throw new UsageError(
        `--duration must be between 15m and 12h for a console session (AWS's limits), not ${duration}s`,
      );
    }
    sessionDuration = duration;
  }

  const signin = await import('../aws/signin.ts');
  const region = profile.region;
  const partition = signin.partitionFor(region, profile.roleArn);
  const { resolveEndpoint } = await import('../config/endpoints.ts');
  const federation = signin.federationUrl(partition, resolveEndpoint(profile, 'signin', ctx.env));
  ctx.debug(
    `${who}: requesting a sign-in token from ${federation}` +
      (credentials.expiration
        ? ` for credentials expiring ${credentials.expiration.toISOString()}`
        : ''),
  );
  let token: string;
  try {
    token = await signin.requestSigninToken({
      federationUrl: federation,
      credentials,
      ...(sessionDuration !== undefined ? { sessionDuration } : {}),
    });
  } catch (error) {
    throw signinFailure(error, { who, fromEnvironment, isRole, env: ctx.env });
  }
  const destination = signin.consoleDestination(partition, region, input.path);
  const url = signin.loginUrl(federation, destination, token);
  ctx.debug(`${who}: console destination ${destination}`);

  if (input.stdout) {
    ctx.io.stdout.write(`${url}\n`);
    return 0;
  }
  await openSecretUrl(url, ctx);
  return 0;
}

/**
 * A federation endpoint failure as a message that says what to do: an
 * unreachable endpoint in STS's words (and that `AWS_ENDPOINT_URL` does not
 * cover it), refused session credentials from the environment explained
 * (GetSessionToken sessions cannot sign in to the console).
 */
export function signinFailure(
  error: unknown,
  c: { who: string; fromEnvironment: boolean; isRole: boolean; env: NodeJS.ProcessEnv },
): UserError {
  const message = error instanceof Error ? error.message : String(error);
  const e = (typeof error === 'object' && error !== null ? error : {}) as {
    status?: number;
    unreachable?: boolean;
  };
  if (e.unreachable === true) {
    const general = c.env.AWS_ENDPOINT_URL;
    const hint =
      general && !c.env.AWS_ENDPOINT_URL_SIGNIN
        ? `; AWS_ENDPOINT_URL is set but does not apply to the console sign-in endpoint: set AWS_ENDPOINT_URL_SIGNIN too (e.g. AWS_ENDPOINT_URL_SIGNIN=${general})`
        : '';
    return new UserError(`${c.who}: ${message}${hint}`, { cause: error });
  }
  if (e.status !== undefined && e.status >= 400 && e.status < 500) {
    if (c.fromEnvironment) {
      return new UserError(
        `the AWS console refused the credentials from the environment (HTTP ${e.status}). ` +
          'The console accepts role sessions and federated sessions only; session credentials from GetSessionToken ' +
          '(what `aws-vault exec PROFILE` gives for a profile without role_arn) cannot sign in. ' +
          'Use `aws-vault login PROFILE` instead (it makes a federated session from the stored keys), ' +
          'or run `aws-vault login` inside `aws-vault exec --no-session PROFILE`',
        { cause: error },
      );
    }
    if (!c.isRole) {
      return new UserError(
        `${c.who}: ${message}; console sign-in accepts only role or federated credentials`,
        { cause: error },
      );
    }
  }
  return new UserError(`${c.who}: ${message}`, { cause: error });
}

/** Hands the sign-in URL to the browser through a one-time loopback redirect. */
async function openSecretUrl(url: string, ctx: Context): Promise<void> {
  const { loopbackRedirect, openBrowser } = await import('../prompt/browser.ts');
  const redirect = await loopbackRedirect(url, BROWSER_WAIT_MS);
  const opened = await openBrowser(redirect.url, { env: ctx.env, debug: ctx.debug });
  if (!opened) {
    redirect.close();
    throw new UserError(
      'could not open a browser (set BROWSER, or use --stdout to print the sign-in URL and open it yourself)',
    );
  }
  ctx.io.stderr.write('Opening the AWS console in your browser...\n');
  if (!(await redirect.followed)) {
    throw new UserError(
      `the browser did not load the sign-in page within ${BROWSER_WAIT_MS / 1000}s; use --stdout to print the sign-in URL instead`,
    );
  }
  ctx.debug('login: the browser followed the sign-in redirect');
}

async function credentialsFromProfile(
  ctx: Context,
  name: string,
  flags: CredentialFlags,
): Promise<ConsoleCredentials> {
  const [{ credentialsForCommand }, federation] = await Promise.all([
    import('./credentialsForCommand.ts'),
    import('../credentials/getFederationCredentials.ts'),
  ]);
  const { profile, provider } = await credentialsForCommand(ctx, name, flags);
  if (federation.usesIamUserKeysOnly(profile)) {
    checkFederationDuration(profile.federationTokenDuration);
    ctx.debug(`profile ${name}: IAM user keys; creating a federated session for the console`);
    const deps = await engineDepsFor(ctx);
    return {
      credentials: await federation.getFederationCredentials(profile, deps),
      isRole: false,
      profile,
    };
  }
  const credentials = await provider();
  if (credentials.sessionToken === undefined || credentials.sessionToken === '') {
    // credential_process gave long-term keys: federate them like stored ones.
    ctx.debug(`profile ${name}: long-term keys from the profile; creating a federated session`);
    return {
      credentials: await federateStatic(ctx, profile, credentials),
      isRole: false,
      profile,
    };
  }
  if (!profile.roleArn && !profile.ssoStartUrl && !profile.webIdentityTokenFile) {
    // Temporary credentials of unknown kind (credential_process): the
    // console takes role and federated-user sessions, not GetSessionToken ones.
    await assertConsoleUsable(ctx, profile, credentials);
  }
  return { credentials, isRole: true, profile };
}

/** Refuses, with an explanation, temporary credentials that are an IAM user's session. */
async function assertConsoleUsable(
  ctx: Context,
  profile: ProfileConfig,
  credentials: Credentials,
): Promise<void> {
  const sts = await import('../aws/sts.ts');
  const { arn } = await sts.getCallerIdentity({
    profile,
    env: ctx.env,
    debug: ctx.debug,
    credentials: async () => credentials,
    signer: { kind: 'session', description: `the credentials of profile ${profile.name}` },
  });
  const kind = arn.split(':')[5]?.split('/')[0];
  ctx.debug(`profile ${profile.name}: the credentials belong to a ${kind ?? 'unknown'} principal`);
  if (kind === 'assumed-role' || kind === 'federated-user') return;
  throw new UserError(
    `profile ${profile.name}: its credentials are a session of ${arn}, which the AWS console does not accept; ` +
      'use a profile that assumes a role (role_arn), or one with stored IAM user keys (aws-vault add), to log in',
  );
}

async function credentialsFromEnvironment(
  ctx: Context,
  flags: CredentialFlags,
): Promise<ConsoleCredentials> {
  const { env } = ctx;
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) {
    throw new UsageError(
      'argument PROFILE not provided, nor any AWS credentials in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)',
    );
  }
  const sessionToken = env.AWS_SESSION_TOKEN || env.AWS_SECURITY_TOKEN;
  const [{ loadConfig }, { resolveProfileConfig }] = await Promise.all([
    import('./deps.ts'),
    import('../config/resolveProfileConfig.ts'),
  ]);
  // Region, endpoints and durations come from [default] and the environment.
  const base = resolveProfileConfig(await loadConfig(ctx), 'default', {
    env,
    overrides: overridesFrom(flags),
  });
  const profile: ProfileConfig = {
    ...base,
    name: ENVIRONMENT,
    roleArn: undefined,
    sourceProfile: undefined,
    sourceProfileName: undefined,
  };
  ctx.debug('login: using credentials from the environment');
  const credentials: Credentials = {
    accessKeyId,
    secretAccessKey,
    ...(sessionToken ? { sessionToken } : {}),
  };
  if (sessionToken) return { credentials, isRole: true, profile };
  return { credentials: await federateStatic(ctx, profile, credentials), isRole: false, profile };
}

/** GetFederationToken with keys that are not in the vault (environment, credential_process). */
async function federateStatic(
  ctx: Context,
  profile: ProfileConfig,
  keys: Credentials,
): Promise<Credentials> {
  checkFederationDuration(profile.federationTokenDuration);
  const [deps, federation] = await Promise.all([
    engineDepsFor(ctx),
    import('../credentials/getFederationCredentials.ts'),
  ]);
  // The engine's federation helper, with a credential source holding just these keys.
  return federation.getFederationCredentials(profile, {
    ...deps,
    credentials: { get: async (p: string) => (p === profile.name ? keys : undefined) },
  });
}

function checkFederationDuration(seconds: number): void {
  if (seconds < CONSOLE_SESSION_MIN || seconds > FEDERATION_TOKEN_MAX) {
    throw new UsageError(
      `--duration must be between 15m and 36h for a federated console session (AWS's limits), not ${seconds}s`,
    );
  }
}

/** The engine's dependencies for the federation helper (no MFA needed there). */
async function engineDepsFor(ctx: Context): Promise<EngineDeps> {
  const { engineDeps, openVault, lockDir } = await import('./deps.ts');
  const vault = await openVault(ctx);
  return engineDeps(ctx, vault, lockDir(ctx), async () => {
    throw new UserError('GetFederationToken cannot use MFA');
  });
}

export const registerLogin: RegisterCommand = (program: Command, host) => {
  program
    .command('login')
    .description('Generate a login link for the AWS Console')
    .argument(
      '[profile]',
      'Name of the profile. If none given, credentials will be sourced from env vars',
    )
    .option(
      '-d, --duration <duration>',
      'Duration of the assume-role or federated session (e.g. 1h, 12h). Defaults to 1h',
      durationArg,
    )
    .option('-n, --no-session', 'Skip creating STS session with GetSessionToken')
    .option('-t, --mfa-token <code>', 'The MFA token to use')
    .option('--path <path>', 'The AWS service you would like access (e.g. s3/home)')
    .option('--region <region>', 'The AWS region')
    .option('-s, --stdout', 'Print login URL to stdout instead of opening in default browser')
    .addHelpText(
      'after',
      `
Examples:
  $ aws-vault login prod                      # open the console for "prod"
  $ aws-vault login prod --path s3/home       # land on S3
  $ aws-vault login prod -d 8h --stdout       # print an 8-hour sign-in URL
  $ aws-vault exec prod -- aws-vault login    # from credentials in the environment`,
    )
    .action(
      async (profile: string | undefined, opts: Record<string, unknown>, command: Command) => {
        const flags: CredentialFlags = {
          duration:
            typeof opts.duration === 'number' && opts.duration > 0 ? opts.duration : undefined,
          noSession: opts.session === false,
          region: typeof opts.region === 'string' && opts.region !== '' ? opts.region : undefined,
          mfaToken:
            typeof opts.mfaToken === 'string' && opts.mfaToken !== '' ? opts.mfaToken : undefined,
          stdout: opts.stdout === true,
        };
        await host.run(command, (ctx) =>
          loginCommand(
            {
              ...(profile !== undefined && profile !== '' ? { profile } : {}),
              ...(typeof opts.path === 'string' && opts.path !== '' ? { path: opts.path } : {}),
              stdout: opts.stdout === true,
              flags,
            },
            ctx,
          ),
        );
      },
    );
};
