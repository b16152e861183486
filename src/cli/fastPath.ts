/**
 * The start-up fast path for the commands run most often, and often many
 * times a minute (`exec P -- CMD`, `export P`, `credential_process`): plain
 * invocations are parsed here, without loading commander or the other
 * commands, and with the standard streams created only if something is
 * printed; `--version` is answered here too. Anything this parser does not
 * fully understand (`--debug`, servers, `--help`, an option it does not
 * know, a value it would have to reject) returns undefined and takes the
 * normal path through `main`, so behaviour and messages stay those of the
 * full CLI. So does a run the cache cannot answer: this path answers from
 * stored keys and cached sessions only.
 *
 * It is built on its own (scripts/build.mjs) into one CommonJS file,
 * dist/fast.cjs, without the AWS SDK, the prompts or the servers: one file
 * to load, and Node built-ins through require(), which, unlike an ES import,
 * does not load every lazy part of node:fs or node:crypto.
 */
import { writeSync } from 'node:fs';
// Imported, not loaded on demand: in the one-file fast bundle a static import
// lets esbuild drop what the fast path never calls (the commander wiring).
import { execCommand } from './exec.ts';
import { exportCommand } from './export.ts';
import type { Context, Io } from './context.ts';
import { homeFrom, resolveGlobals } from './context.ts';
import { fullCliWasNeeded, NoStoredCredentialsError, UserError } from '../errors.ts';
import {
  BACKEND_CHOICES,
  EXEC_VALUE_OPTIONS,
  findSubcommand,
  GLOBAL_VALUE_OPTIONS,
  HIDDEN_BACKENDS,
  isOptionToken,
  isPromptName,
  optionWidth,
  PROMPT_CHOICES,
  splitExecArgs,
} from './argv.ts';
import type { CredentialFlags } from './credentialsForCommand.ts';
import type { ExportFormat } from './export.ts';

const FORMATS = new Set(['env', 'export-env', 'json', 'ini']);

/** Global value flags and the key `resolveGlobals` reads each under. */
const GLOBAL_KEYS: Record<string, string> = {
  '--backend': 'backend',
  '--prompt': 'prompt',
  '--keychain': 'keychain',
  '--secret-service-collection': 'secretServiceCollection',
  '--pass-dir': 'passDir',
  '--pass-cmd': 'passCmd',
  '--pass-prefix': 'passPrefix',
  '--file-dir': 'fileDir',
};

function globalKey(flag: string): string | undefined {
  return Object.hasOwn(GLOBAL_KEYS, flag) ? GLOBAL_KEYS[flag] : undefined;
}

/** What the fast path understood of argv, or undefined to use the full CLI. */
export interface FastInvocation {
  command: 'exec' | 'export';
  profile: string;
  flags: CredentialFlags;
  format: ExportFormat;
  /** exec: the command and its arguments. */
  args: string[];
  /** Global flags given on the command line, keyed as `resolveGlobals` reads them. */
  globals: Record<string, string>;
}

/**
 * Parses the simple forms of `exec` and `export`, with global flags before
 * or after the subcommand and exec's flags before or after the profile
 * (the same split as the full CLI, from `argv.ts`); undefined for anything
 * else.
 */
export function parseFastInvocation(argv: string[]): FastInvocation | undefined {
  const at = findSubcommand(argv);
  const command = argv[at];
  if (command !== 'exec' && command !== 'export') return undefined;
  const rest = argv.slice(at + 1);
  const tokens = argv.slice(0, at);
  let profile: string | undefined;
  let args: string[] = [];
  if (command === 'exec') {
    const split = splitExecArgs(rest);
    if (split.missingValue !== undefined) return undefined; // the full CLI says what is missing
    tokens.push(...split.options);
    profile = split.profile;
    args = split.command;
  } else {
    // export reads options anywhere, as commander does, and one operand.
    const valueOptions = [...GLOBAL_VALUE_OPTIONS, ...EXEC_VALUE_OPTIONS, '--format'];
    const operands: string[] = [];
    for (let i = 0; i < rest.length; i++) {
      const token = rest[i] as string;
      if (token === '--') {
        operands.push(...rest.slice(i + 1));
        break;
      }
      if (!isOptionToken(token)) {
        operands.push(token);
        continue;
      }
      const width = optionWidth(rest, i, valueOptions);
      tokens.push(...rest.slice(i, i + width));
      i += width - 1;
    }
    if (operands.length !== 1) return undefined;
    profile = operands[0];
  }
  if (profile === undefined || profile.trim() === '' || profile.startsWith('-')) return undefined;

  const flags: CredentialFlags = {};
  const globals: Record<string, string> = {};
  let format = 'env';
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] as string;
    const eq = token.startsWith('--') ? token.indexOf('=') : -1;
    const name = eq > 0 ? token.slice(0, eq) : token;
    if (name === '-n' || name === '--no-session') {
      if (eq > 0) return undefined;
      flags.noSession = true;
      continue;
    }
    // kingpin's negation of --debug (which itself goes to the full CLI).
    if (token === '--no-debug') continue;
    // Everything else understood here takes a value; clusters (`-nd`),
    // attached short values (`-d2h`) and unknown flags go to the full CLI.
    const value = eq > 0 ? token.slice(eq + 1) : tokens[++i];
    // A flag where the value should be (`--region --format=json`): the full CLI refuses it.
    if (value === undefined || value === '' || isOptionToken(value)) return undefined;
    if (name === '-d' || name === '--duration') {
      // Odd forms (fractions, bad values) get the full CLI's parsing and messages.
      const match = /^(\d+)(h|m|s)$/.exec(value);
      if (!match) return undefined;
      flags.duration = Number(match[1]) * { h: 3600, m: 60, s: 1 }[match[2] as 'h' | 'm' | 's'];
      if (flags.duration === 0) delete flags.duration;
    } else if (name === '--region') flags.region = value;
    else if (name === '-t' || name === '--mfa-token') flags.mfaToken = value;
    else if (command === 'export' && name === '--format' && FORMATS.has(value)) format = value;
    else if (name === '--backend' && [...BACKEND_CHOICES, ...HIDDEN_BACKENDS].includes(value)) {
      globals.backend = value;
    } else if (name === '--prompt' && PROMPT_CHOICES.includes(value)) globals.prompt = value;
    else {
      const key = name === '--backend' || name === '--prompt' ? undefined : globalKey(name);
      if (key === undefined) return undefined;
      globals[key] = value;
    }
  }
  return { command, profile, flags, format: format as ExportFormat, args, globals };
}

/**
 * Writes all of `text` to standard output with write(2): creating
 * process.stdout for a pipe (as `credential_process` and direnv read us)
 * loads Node's net and stream modules, the slowest part of a cached
 * `export`. A reader that went away (EPIPE) is ignored, as bin/ does for
 * the stream; a non-blocking descriptor that is full gets the stream.
 */
function writeStdout(text: string): void {
  const data = Buffer.from(text, 'utf8');
  let offset = 0;
  try {
    while (offset < data.length) offset += writeSync(1, data, offset);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EPIPE') return;
    if (code !== 'EAGAIN') throw error;
    process.stdout.write(data.subarray(offset));
  }
}

/** Standard streams created on first use; stdout written directly (writeStdout). */
function lazyIo(): Io {
  const stdout = {
    write(chunk: string): boolean {
      writeStdout(chunk);
      return true;
    },
    // Asked only before an interactive subshell, for its hints.
    get isTTY() {
      return process.stdout.isTTY;
    },
  } as unknown as Io['stdout'];
  return {
    get stdin() {
      return process.stdin;
    },
    stdout,
    get stderr() {
      return process.stderr;
    },
  };
}

/**
 * Runs `argv` on the fast path and returns the exit code, or undefined when
 * the full CLI must handle it: an invocation this parser leaves to it, or a
 * run that needs new credentials or a prompt (the engine runs `cachedOnly`
 * here and throws FullCliNeeded before asking anything). Errors are printed
 * as `main` prints them. `hooks.answered` runs once a cached `exec` or
 * `export` has its answer (just before exec replaces this process, or after
 * export printed): the launcher then saves its code cache, which thus holds
 * what such a run compiles, not what `--version` or an error did.
 */
export async function fastMain(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
  hooks: { answered?: () => void } = {},
): Promise<number | undefined> {
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-v')) {
    process.stdout.write(`${__AWS_VAULT_VERSION__}\n`);
    return 0;
  }
  if (process.platform === 'win32') return undefined;
  // The nested-session refusal, like every error path, is left to the full CLI.
  if (env.AWS_VAULT !== undefined && env.AWS_VAULT !== '') return undefined;
  const invocation = parseFastInvocation(argv);
  if (!invocation) return undefined;
  const home = homeFrom(env);
  const globals = resolveGlobals(invocation.globals, env, home);
  // A bad AWS_VAULT_PROMPT: the full CLI says so.
  if (globals.prompt !== undefined && !isPromptName(globals.prompt)) return undefined;
  const ctx: Context = {
    env,
    io: lazyIo(),
    cwd: process.cwd(),
    homedir: home,
    globals,
    debug: () => {},
    cachedOnly: true,
    ...(hooks.answered !== undefined ? { beforeReplace: hooks.answered } : {}),
  };
  try {
    if (invocation.command === 'export') {
      const code = await exportCommand(
        { profile: invocation.profile, format: invocation.format, flags: invocation.flags },
        ctx,
      );
      if (code === 0) hooks.answered?.();
      return code;
    }
    return await execCommand(
      {
        profile: invocation.profile,
        command: invocation.args,
        flags: invocation.flags,
        ecsServer: false,
        ec2Server: false,
        lazy: false,
        json: false,
      },
      ctx,
    );
  } catch (error) {
    // New credentials, a prompt: nothing was asked or printed yet; the full CLI runs it.
    // So does a missing key, whose error the full CLI completes (Backend.elsewhere).
    if (fullCliWasNeeded() || error instanceof NoStoredCredentialsError) return undefined;
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`aws-vault: error: ${invocation.command}: ${message}\n`);
    return error instanceof UserError ? error.exitCode : 1;
  }
}
