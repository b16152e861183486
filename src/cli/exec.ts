import type { Command } from 'commander';
import { WITHHELD_VARIABLES } from '../credentials/redact.ts';
import { rfc3339 } from '../credentials/rfc3339.ts';
import type { Credentials } from '../credentials/types.ts';
import { UserError } from '../errors.ts';
import {
  replaceProcess,
  resolveCommand,
  runChild,
  whyNotDirectlyExecutable,
} from './childProcess.ts';
import type { Context } from './context.ts';
import {
  addCredentialFlags,
  assertNotNested,
  credentialFlagsFrom,
  credentialsForCommand,
  needsMfaPrompt,
  type CredentialFlags,
} from './credentialsForCommand.ts';
import { formatJson } from './export.ts';
import type { RegisterCommand } from './host.ts';

/** What `exec` needs, bound from argv. */
export interface ExecInput {
  profile: string;
  /** The command and its arguments; empty starts `$SHELL` (or `/bin/sh`). */
  command: string[];
  flags: CredentialFlags;
  ecsServer: boolean;
  ec2Server: boolean;
  /** `--ec2-server-address HOST:PORT` (ext): implies `--ec2-server`. */
  ec2ServerAddress?: string;
  lazy: boolean;
  /** `-j/--json`: print the credential_process document instead of running a command. */
  json: boolean;
}

/** Variables removed from the child's environment before aws-vault sets its own. */
export const UNSET_VARIABLES = [
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_SECURITY_TOKEN',
  // An earlier session's expiry, next to a key that has none (--no-session),
  // would make an SDK take the key as expired.
  'AWS_CREDENTIAL_EXPIRATION',
  'AWS_SESSION_EXPIRATION',
  'AWS_CREDENTIAL_FILE',
  'AWS_DEFAULT_PROFILE',
  'AWS_PROFILE',
  'AWS_SDK_LOAD_CONFIG',
];

/**
 * Removed too when a credential server runs: credential sources the SDKs
 * try before the server (the ECS variables an ECS task, CodeBuild or EKS
 * pod inherits, web identity), which would hand the command the
 * container's credentials instead of the profile's.
 */
export const SERVER_UNSET_VARIABLES = [
  'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
  'AWS_CONTAINER_CREDENTIALS_FULL_URI',
  'AWS_CONTAINER_AUTHORIZATION_TOKEN',
  'AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE',
  'AWS_WEB_IDENTITY_TOKEN_FILE',
];

/**
 * The child's environment: `base` without the variables that would point an
 * SDK elsewhere or that hold aws-vault's own secrets, plus `AWS_VAULT`, the region when known, and either the
 * credentials or the credential server's variables.
 */
export function buildChildEnv(
  base: NodeJS.ProcessEnv,
  profile: string,
  region: string | undefined,
  from: { credentials: Credentials } | { server: Record<string, string> },
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base };
  for (const name of [...UNSET_VARIABLES, ...WITHHELD_VARIABLES]) delete env[name];
  env.AWS_VAULT = profile;
  if (region) {
    env.AWS_REGION = region;
    env.AWS_DEFAULT_REGION = region;
  }
  if ('server' in from) {
    for (const name of SERVER_UNSET_VARIABLES) delete env[name];
    Object.assign(env, from.server);
    return env;
  }
  const creds = from.credentials;
  env.AWS_ACCESS_KEY_ID = creds.accessKeyId;
  env.AWS_SECRET_ACCESS_KEY = creds.secretAccessKey;
  if (creds.sessionToken) {
    env.AWS_SESSION_TOKEN = creds.sessionToken;
    env.AWS_SECURITY_TOKEN = creds.sessionToken;
  }
  if (creds.expiration) {
    const expiry = rfc3339(creds.expiration);
    env.AWS_CREDENTIAL_EXPIRATION = expiry;
    env.AWS_SESSION_EXPIRATION = expiry;
  }
  return env;
}

/** Refuses flag combinations the Go aws-vault refuses. */
export function validateExecInput(input: ExecInput): void {
  const server = input.ec2Server ? '--ec2-server' : input.ecsServer ? '--ecs-server' : undefined;
  if (input.ec2Server && input.ecsServer) {
    throw new UserError("Can't use --ec2-server with --ecs-server");
  }
  if (server && input.json) throw new UserError(`Can't use ${server} with --json`);
  if (server && input.flags.noSession) throw new UserError(`Can't use ${server} with --no-session`);
}

/**
 * Runs a command with the profile's credentials. Without a server, on POSIX,
 * this process becomes the command (execve) and the function never returns;
 * otherwise it resolves to the child's exit code.
 */
export async function execCommand(input: ExecInput, ctx: Context): Promise<number> {
  assertNotNested(ctx.env);
  validateExecInput(input);
  const server = input.ec2Server ? 'ec2' : input.ecsServer ? 'ecs' : undefined;
  const [commandName, ...args] = startsShell(input)
    ? [ctx.env.SHELL || '/bin/sh', ...input.command.slice(1)]
    : input.command;
  const hint = helpMessages(input, ctx);

  // Resolved before any credentials are fetched: a typo costs no MFA code.
  let file = '';
  try {
    if (!input.json) file = resolveCommand(commandName as string, ctx.env.PATH, ctx.cwd);
  } catch (error) {
    // The shell's name came from $SHELL, not from the command line: say so.
    if (!(error instanceof UserError) || !startsShell(input) || !ctx.env.SHELL) throw error;
    throw new UserError(
      `${error.message} (the shell named by $SHELL; set SHELL or give a command after --)`,
      {
        cause: error,
        exitCode: error.exitCode,
      },
    );
  }
  let childRunning = false;

  const { profile, provider, assumeRole } = await credentialsForCommand(
    ctx,
    input.profile,
    input.flags,
    server !== undefined ? { terminalTaken: () => childRunning } : {},
  );

  if (input.json) {
    ctx.io.stdout.write(formatJson(await provider()));
    return 0;
  }

  if (server) {
    if (ctx.globals.prompt === 'terminal' && needsMfaPrompt(profile)) {
      throw new UserError(
        `Can't use --prompt=terminal with --${server}-server: the command owns the terminal. ` +
          'Specify a different prompt driver (--prompt=ykman|zenity|kdialog|osascript) or set mfa_process',
      );
    }
    hint(
      server === 'ecs'
        ? "Starting a local ECS credential server; your app's AWS sdk must support AWS_CONTAINER_CREDENTIALS_FULL_URI."
        : `Warning: Starting a local EC2 credential server on ${input.ec2ServerAddress ?? '169.254.169.254:80'}; AWS credentials will be accessible to any process while it is running`,
    );
    const servers = await import('../server/index.ts');
    const options = {
      provider,
      assumeRole,
      region: profile.region,
      minTtl: profile.minTtl,
      lazy: input.lazy,
      debug: ctx.debug,
    };
    const running =
      server === 'ecs'
        ? await servers.startEcsServer(options)
        : await servers.startEc2Server({ ...options, address: input.ec2ServerAddress });
    ctx.debug(`exec: ${server} server started; child gets ${Object.keys(running.env).join(', ')}`);
    const env = buildChildEnv(ctx.env, input.profile, profile.region, { server: running.env });
    hint(subshellMessage(input, commandName as string));
    try {
      ctx.debug(`exec: starting child ${file}`);
      childRunning = true;
      return await runChild(file, [commandName as string, ...args], env, ctx.debug);
    } finally {
      await running.close();
    }
  }

  const credentials = await provider();
  const env = buildChildEnv(ctx.env, input.profile, profile.region, { credentials });
  ctx.debug(
    `exec: child env sets AWS_VAULT${profile.region ? ', AWS_REGION, AWS_DEFAULT_REGION' : ''}, ` +
      `AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY${credentials.sessionToken ? ', AWS_SESSION_TOKEN, AWS_SECURITY_TOKEN' : ''}` +
      `${credentials.expiration ? ', AWS_CREDENTIAL_EXPIRATION, AWS_SESSION_EXPIRATION' : ''}`,
  );
  hint(subshellMessage(input, commandName as string));
  const why = process.platform === 'win32' ? 'Windows' : whyNotDirectlyExecutable(file);
  if (why === undefined) {
    ctx.debug(`exec: replacing aws-vault with ${file}`);
    ctx.beforeReplace?.();
    replaceProcess(file, [commandName as string, ...args], env);
  }
  ctx.debug(`exec: starting child ${file}${why === undefined ? '' : ` (not exec'd: ${why})`}`);
  return runChild(file, [commandName as string, ...args], env, ctx.debug);
}

/**
 * Whether exec starts the default shell: no command, or an empty first word,
 * which the Go aws-vault reads as no command (`exec P -- "$CMD" ARGS` with
 * CMD empty runs `$SHELL ARGS`).
 */
function startsShell(input: ExecInput): boolean {
  return input.command.length === 0 || input.command[0] === '';
}

/** Go's line when `exec PROFILE` starts a shell; empty when a command was given. */
function subshellMessage(input: ExecInput, shell: string): string {
  return startsShell(input) ? `Starting subshell ${shell}, use \`exit\` to exit the subshell` : '';
}

/**
 * The hints the Go aws-vault prints when `exec PROFILE` starts an
 * interactive shell (stdout a terminal, no `--debug`, and
 * `AWS_VAULT_DISABLE_HELP_MESSAGE` unset or `0`); otherwise they are
 * `--debug` lines. They go to stderr, never into the shell's output.
 */
function helpMessages(input: ExecInput, ctx: Context): (message: string) => void {
  const disabled = ctx.env.AWS_VAULT_DISABLE_HELP_MESSAGE;
  const show =
    startsShell(input) &&
    !ctx.globals.debug &&
    (disabled === undefined || disabled === '' || disabled === '0') &&
    ctx.io.stdout.isTTY === true;
  return (message) => {
    if (message === '') return;
    if (show) ctx.io.stderr.write(`${message}\n`);
    else ctx.debug(`exec: ${message}`);
  };
}

export const registerExec: RegisterCommand = (program: Command, host) => {
  const cmd = program
    .command('exec')
    .description('Execute a command with AWS credentials')
    .argument('<profile>', 'Name of the profile')
    .argument('[cmd...]', 'Command to execute, defaults to $SHELL')
    .passThroughOptions();
  addCredentialFlags(cmd)
    .addOption(
      cmd
        .createOption(
          '-j, --json',
          'Output credentials in JSON that can be used by credential_process',
        )
        .hideHelp(),
    )
    .option('-s, --server', 'Alias for --ecs-server')
    .option(
      '--ecs-server',
      'Run an ECS credential server in the background for credentials (the SDK or app must support AWS_CONTAINER_CREDENTIALS_FULL_URI)',
    )
    .option('--ec2-server', 'Run an EC2 metadata server in the background for credentials')
    .option(
      '--ec2-server-address <host:port>',
      'Run the EC2 metadata server on this loopback address instead of 169.254.169.254:80 (implies --ec2-server)',
    )
    .option('--lazy', 'When using --ecs-server, lazily fetch credentials');
  // --server and --ecs-server set one flag, as in Go: of the two and their
  // --no- forms, the last on the line wins (`--server --no-ecs-server` is off).
  let ecsServer = false;
  for (const name of ['server', 'ecs-server', 'no-server', 'no-ecs-server']) {
    cmd.on(`option:${name}`, () => (ecsServer = !name.startsWith('no-')));
  }
  cmd
    .addHelpText(
      'after',
      `
Examples:
  $ aws-vault exec prod -- aws s3 ls          # run a command with temporary credentials
  $ aws-vault exec prod                       # start $SHELL with them
  $ aws-vault exec --server prod -- ./job     # serve refreshed credentials for a long job`,
    )
    .action(async (profile: string, command: string[], opts: Record<string, unknown>) => {
      const address = typeof opts.ec2ServerAddress === 'string' ? opts.ec2ServerAddress : undefined;
      const input: ExecInput = {
        profile,
        // main's normalizeArgv puts `--` after the profile; passThroughOptions keeps it.
        command: command[0] === '--' ? command.slice(1) : command,
        flags: credentialFlagsFrom(opts),
        ecsServer,
        ec2Server: opts.ec2Server === true || address !== undefined,
        ec2ServerAddress: address,
        lazy: opts.lazy === true,
        json: opts.json === true,
      };
      await host.run(cmd, (ctx) => execCommand(input, ctx));
    });
};
