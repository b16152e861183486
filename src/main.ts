import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import {
  BACKEND_CHOICES,
  findSubcommand,
  HIDDEN_BACKENDS,
  HIDDEN_PROMPTS,
  isOptionToken,
  isPromptName,
  normalizeArgv,
  PROMPT_CHOICES,
} from './cli/argv.ts';
import { restoreStdio } from './cli/childProcess.ts';
import { commands } from './cli/commands.ts';
import { homeFrom, resolveGlobals, type Context, type Io } from './cli/context.ts';
import type { Host } from './cli/host.ts';
import { NoStoredCredentialsError, UsageError, UserError } from './errors.ts';

export interface MainOptions {
  env?: NodeJS.ProcessEnv;
  io?: Io;
  cwd?: string;
}

/**
 * `--backend`/`--prompt` list their public values in help and completion
 * (`argChoices`) and also accept the hidden ones (`memory`, the removed `pass`).
 */
function choicesOption(
  flags: string,
  description: string,
  shown: readonly string[],
  hidden: readonly string[],
) {
  const option = new Option(flags, description).choices(shown);
  return option.argParser((value: string) => {
    if (shown.includes(value) || hidden.includes(value)) return value;
    throw Object.assign(
      // Commander puts "option '--x <name>' argument 'y' is invalid." in front.
      new Error(`Allowed choices are ${shown.join(', ')}.`),
      { code: 'commander.invalidArgument', exitCode: 1 },
    );
  });
}

/** kingpin's hidden flags: candidates for a word, or a completion script. */
const LEGACY_COMPLETION_FLAGS = [
  '--completion-bash',
  '--completion-script-bash',
  '--completion-script-zsh',
];

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
    .helpCommand('help [command]', 'Show help for a command')
    .configureHelp({ showGlobalOptions: true })
    .enablePositionalOptions()
    .option('--debug', 'Show debugging output (never secrets)')
    .addOption(
      choicesOption(
        '--backend <name>',
        'Secret backend to use [$AWS_VAULT_BACKEND]',
        BACKEND_CHOICES,
        HIDDEN_BACKENDS,
      ),
    )
    .addOption(
      choicesOption(
        '--prompt <name>',
        'Prompt driver to use [$AWS_VAULT_PROMPT]',
        PROMPT_CHOICES,
        HIDDEN_PROMPTS,
      ),
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
      // A global flag given after the subcommand wins over one before it.
      const flags: Record<string, unknown> = { ...program.opts() };
      for (const option of program.options) {
        const key = option.attributeName();
        const value = command.getOptionValue(key);
        if (value !== undefined && command.options.some((o) => o.long === option.long)) {
          flags[key] = value;
        }
      }
      const globals = resolveGlobals(flags, env, home);
      // The flag's value was checked by commander; the variable's is checked
      // here, for every command, as the Go aws-vault checks it at start-up,
      // not hours later when a session first needs an MFA code.
      if (globals.prompt !== undefined && !isPromptName(globals.prompt)) {
        throw new UserError(
          `AWS_VAULT_PROMPT="${globals.prompt}" is not a prompt driver; use one of: ${PROMPT_CHOICES.join(', ')}`,
        );
      }
      debug = globals.debug;
      const ctx: Context = {
        env,
        io,
        cwd: options.cwd ?? process.cwd(),
        homedir: home,
        globals,
        debug: globals.debug ? (line) => io.stderr.write(`[debug] ${line}\n`) : () => {},
        // The process's own streams, created above, are in non-blocking mode.
        ...(options.io === undefined
          ? { beforeReplace: () => restoreStdio([io.stdin, io.stdout, io.stderr]) }
          : {}),
      };
      const code = await fn(ctx);
      exitCode = code ?? 0;
    },
  };
  for (const register of commands) register(program, host);
  addGlobalOptionsToSubcommands(program);
  addNegations(program);
  refuseFlagsAsValues(program);

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
    // kingpin's long help (`aws-vault --help-long`, in the Go aws-vault's USAGE.md).
    if (argv[0] === '--help-long' || argv[0] === '--help-man') argv = ['--help', ...argv.slice(1)];
    // The Go aws-vault's (kingpin's) hidden completion flags, which the
    // completion scripts it shipped, still in many shell rc files, call.
    const legacy = argv.find((a) => LEGACY_COMPLETION_FLAGS.includes(a));
    if (legacy !== undefined) {
      const { completionCandidates, completionCommand, specFromProgram } =
        await import('./cli/completion.ts');
      const spec = specFromProgram(program);
      if (legacy !== '--completion-bash') {
        completionCommand({ shell: legacy.slice('--completion-script-'.length) }, spec, io.stdout);
        return 0;
      }
      const { loadConfigFile } = await import('./config/loadConfigFile.ts');
      const profiles = () => {
        try {
          return loadConfigFile(env, home).profileNames();
        } catch {
          return [];
        }
      };
      const words = argv.filter((a) => a !== legacy);
      for (const word of completionCandidates(words, spec, profiles)) io.stdout.write(`${word}\n`);
      return 0;
    }
    assertHelpTopic(program, argv);
    const normalized = normalizeArgv(argv);
    // kingpin's --version works anywhere among aws-vault's own words
    // (`aws-vault list --version`), never in the command after `--`.
    const end = normalized.indexOf('--');
    if ((end < 0 ? normalized : normalized.slice(0, end)).includes('--version')) {
      io.stdout.write(`${__AWS_VAULT_VERSION__}\n`);
      return 0;
    }
    await program.parseAsync(normalized, { from: 'user' });
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
      let message = error.message;
      if (error instanceof NoStoredCredentialsError) {
        const elsewhere = await (await import('./cli/deps.ts')).keysElsewhere();
        if (elsewhere !== undefined) message += `; ${elsewhere}`;
      }
      io.stderr.write(`${prefix}${message}\n`);
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

/**
 * Go's kingpin accepts global flags after the subcommand (`aws-vault list
 * --debug`, `exec --prompt ykman P -- CMD`): each subcommand gets a hidden
 * copy of every global option it does not define itself; `host.run` merges
 * them. Help shows them once, under "Global Options".
 */
function addGlobalOptionsToSubcommands(program: Command): void {
  const globals = program.options.filter((o) => o.long !== '--version' && o.long !== '--help');
  for (const cmd of program.commands) {
    for (const global of globals) {
      if (cmd.options.some((o) => o.long === global.long)) continue;
      const copy = new Option(global.flags, global.description).hideHelp();
      if (global.argChoices) copy.choices(global.argChoices);
      if (global.parseArg) copy.argParser(global.parseArg);
      cmd.addOption(copy);
    }
  }
}

/**
 * kingpin accepts `--no-FLAG` for every boolean flag (`aws-vault --no-debug
 * list`, `exec --no-lazy`, `login --no-stdout`), as scripts written for the
 * Go aws-vault may pass to turn off what a wrapper turned on: each boolean
 * option of each command gets a hidden negation, unless it has one
 * (`--no-add-config`) or is one (`--no-session`, which has no `--session`,
 * as in Go). The last of the two on a line wins.
 */
function addNegations(program: Command): void {
  for (const cmd of [program, ...program.commands]) {
    for (const option of [...cmd.options]) {
      if (option.required || option.optional || option.negate || option.long === undefined)
        continue;
      if (option.long === '--version') continue;
      const negation = `--no-${option.long.slice(2)}`;
      if (cmd.options.some((o) => o.long === negation)) continue;
      cmd.addOption(new Option(negation).hideHelp());
    }
  }
}

/**
 * A value flag followed by another flag (`--region --format=json`, an empty
 * `$REGION` in a script) is an error, as in the Go aws-vault (kingpin:
 * "expected argument for flag"); commander would take the flag for the value.
 */
function refuseFlagsAsValues(program: Command): void {
  for (const cmd of [program, ...program.commands]) {
    for (const option of cmd.options) {
      if (!option.required) continue;
      const parse = option.parseArg;
      option.argParser((value: string, previous: unknown) => {
        if (isOptionToken(value)) {
          throw new InvalidArgumentError(`a value was expected, not a flag`);
        }
        return parse === undefined ? value : parse.call(option, value, previous);
      });
    }
  }
}

/** `aws-vault help NOPE` is an error, as in Go, not the program's help. */
function assertHelpTopic(program: Command, argv: string[]): void {
  const at = findSubcommand(argv);
  const topic = argv[at + 1];
  if (at < 0 || argv[at] !== 'help' || topic === undefined || topic === 'help') return;
  if (program.commands.some((c) => c.name() === topic || c.aliases().includes(topic))) return;
  throw new UsageError(`help: unknown command '${topic}'`);
}

function usageLine(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return `${names.join(' ')} ${cmd.usage()}`;
}

function formatCause(cause: unknown): string {
  return cause instanceof Error ? (cause.stack ?? cause.message) : String(cause);
}
