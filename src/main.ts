import { Command, CommanderError, Option } from 'commander';
import { commands } from './cli/commands.ts';
import { homeFrom, resolveGlobals, type Context, type Io } from './cli/context.ts';
import type { Host } from './cli/host.ts';
import { UsageError, UserError } from './errors.ts';

export interface MainOptions {
  env?: NodeJS.ProcessEnv;
  io?: Io;
  cwd?: string;
}

const BACKENDS = ['keychain', 'wincred', 'secret-service', 'file', 'pass', 'memory'];
const PROMPTS = ['terminal', 'ykman', 'osascript', 'zenity', 'kdialog', 'pass'];

/**
 * Runs aws-vault with `argv` (without node and script) and returns the exit
 * code. The one place errors are printed; nothing below calls process.exit.
 */
export async function main(argv: string[], options: MainOptions = {}): Promise<number> {
  const env = options.env ?? process.env;
  const io: Io = options.io ?? {
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
  };
  const home = homeFrom(env);
  let exitCode = 0;
  let current: Command | undefined;
  let debug = false;

  const program = new Command('aws-vault')
    .description(
      'A vault for securely storing and accessing AWS credentials in development environments.',
    )
    .version(__AWS_VAULT_VERSION__, '-v, --version', 'Show the version')
    .helpOption('-h, --help', 'Show help')
    .addHelpCommand(false)
    .enablePositionalOptions()
    .option('--debug', 'Show debugging output (never secrets)')
    .addOption(
      new Option('--backend <name>', 'Secret backend to use [$AWS_VAULT_BACKEND]').choices(
        BACKENDS,
      ),
    )
    .addOption(
      new Option('--prompt <name>', 'Prompt driver to use [$AWS_VAULT_PROMPT]').choices(PROMPTS),
    )
    .option('--keychain <name>', 'Name of macOS keychain to use [$AWS_VAULT_KEYCHAIN_NAME]')
    .option(
      '--secret-service-collection <name>',
      'Name of Secret Service collection to use [$AWS_VAULT_SECRET_SERVICE_COLLECTION_NAME]',
    )
    .option(
      '--pass-dir <dir>',
      'Pass password store directory [$AWS_VAULT_PASS_PASSWORD_STORE_DIR]',
    )
    .option('--pass-cmd <cmd>', 'Name of the pass executable [$AWS_VAULT_PASS_CMD]')
    .option(
      '--pass-prefix <prefix>',
      'Prefix to prepend to the item path stored in pass [$AWS_VAULT_PASS_PREFIX]',
    )
    .option('--file-dir <dir>', 'Directory for the "file" password store [$AWS_VAULT_FILE_DIR]')
    .addHelpText(
      'after',
      `
Examples:
  $ aws-vault add jonsmith                 # store an IAM user's access key
  $ aws-vault exec jonsmith -- aws s3 ls   # run a command with short-lived credentials
  $ aws-vault exec prod                    # start a shell with credentials for "prod"
  $ aws-vault login prod                   # open the AWS console
  $ aws-vault list                         # show profiles, keys and sessions`,
    );

  const host: Host = {
    async run(command, fn) {
      current = command;
      const flags = program.opts();
      const globals = resolveGlobals(flags, env, home);
      debug = globals.debug;
      const ctx: Context = {
        env,
        io,
        cwd: options.cwd ?? process.cwd(),
        homedir: home,
        globals,
        debug: globals.debug ? (line) => io.stderr.write(`[debug] ${line}\n`) : () => {},
      };
      const code = await fn(ctx);
      exitCode = code ?? 0;
    },
  };
  for (const register of commands) register(program, host);

  // Commander's own messages (unknown flag, missing argument) in our format.
  const configure = (cmd: Command, name: string) => {
    cmd.exitOverride().configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      outputError: (message) => {
        const text = message.replace(/^error: /, '').trimEnd();
        io.stderr.write(`aws-vault: error: ${name ? `${name}: ` : ''}${text}\n`);
        io.stderr.write(`usage: ${usageLine(cmd)}\n`);
      },
    });
  };
  configure(program, '');
  for (const cmd of program.commands) configure(cmd, cmd.name());

  try {
    if (argv.length === 0) {
      program.outputHelp();
      return 0;
    }
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (
        error.code === 'commander.helpDisplayed' ||
        error.code === 'commander.version' ||
        error.code === 'commander.help'
      ) {
        return 0;
      }
      return error.exitCode === 0 ? 0 : 1;
    }
    const name = current?.name();
    const prefix = `aws-vault: error: ${name ? `${name}: ` : ''}`;
    if (error instanceof UserError) {
      io.stderr.write(`${prefix}${error.message}\n`);
      if (error instanceof UsageError && current) io.stderr.write(`usage: ${usageLine(current)}\n`);
      if (debug && error.cause !== undefined) io.stderr.write(`${formatCause(error.cause)}\n`);
      return error.exitCode;
    }
    const message = error instanceof Error ? error.message : String(error);
    io.stderr.write(`${prefix}${message}\n`);
    if (debug && error instanceof Error && error.stack) io.stderr.write(`${error.stack}\n`);
    return 1;
  }
}

function usageLine(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return `${names.join(' ')} ${cmd.usage()}`;
}

function formatCause(cause: unknown): string {
  return cause instanceof Error ? (cause.stack ?? cause.message) : String(cause);
}
