/**
 * The start-up fast path for the commands run most often, and often many
 * times a minute (`exec P -- CMD`, `export P`, `credential_process`): plain
 * invocations are parsed here, without loading commander or the other
 * commands, and with the standard streams created only if something is
 * printed. Anything this parser does not fully understand (global flags,
 * `--debug`, servers, `--help`, an option it does not know) returns
 * undefined and takes the normal path through `main`, so behaviour and
 * messages stay those of the full CLI.
 */
import type { Context, Io } from './context.ts';
import { homeFrom, resolveGlobals } from './context.ts';
import { UserError } from '../errors.ts';
import type { CredentialFlags } from './credentialsForCommand.ts';
import type { ExportFormat } from './export.ts';

const FORMATS = new Set(['env', 'export-env', 'json', 'ini']);

/** What the fast path understood of argv, or undefined to use the full CLI. */
export interface FastInvocation {
  command: 'exec' | 'export';
  profile: string;
  flags: CredentialFlags;
  format: ExportFormat;
  /** exec: the command and its arguments. */
  args: string[];
}

/** Parses the simple forms of `exec` and `export`; undefined for anything else. */
export function parseFastInvocation(argv: string[]): FastInvocation | undefined {
  const [command, ...rest] = argv;
  if (command !== 'exec' && command !== 'export') return undefined;
  const flags: CredentialFlags = {};
  let format: string = 'env';
  let i = 0;
  const valueOf = (token: string, name: string): string | undefined => {
    if (token.startsWith(`${name}=`)) return token.slice(name.length + 1);
    const next = rest[i + 1];
    if (token !== name || next === undefined) return undefined;
    i += 1;
    return next;
  };
  for (; i < rest.length; i++) {
    const token = rest[i] as string;
    if (!token.startsWith('-') || token === '-') break;
    if (token === '-n' || token === '--no-session') {
      flags.noSession = true;
      continue;
    }
    const name = token.startsWith('--') ? token.split('=')[0] : token;
    const value =
      name === '-d' || name === '--duration'
        ? valueOf(token, name)
        : name === '--region' || name === '-t' || name === '--mfa-token' || name === '--format'
          ? valueOf(token, name)
          : undefined;
    if (value === undefined || value === '') return undefined;
    if (name === '-d' || name === '--duration') {
      // Odd forms (fractions, bad values) get the full CLI's parsing and messages.
      const match = /^(\d+)(h|m|s)$/.exec(value);
      if (!match) return undefined;
      flags.duration = Number(match[1]) * { h: 3600, m: 60, s: 1 }[match[2] as 'h' | 'm' | 's'];
      if (flags.duration === 0) delete flags.duration;
    } else if (name === '--region') flags.region = value;
    else if (name === '-t' || name === '--mfa-token') flags.mfaToken = value;
    else if (command === 'export' && name === '--format' && FORMATS.has(value)) format = value;
    else return undefined;
  }
  const profile = rest[i];
  if (profile === undefined || profile.trim() === '' || profile.startsWith('-')) return undefined;
  let args = rest.slice(i + 1);
  if (command === 'export' && args.length > 0) return undefined;
  if (args[0] === '--') args = args.slice(1);
  return { command, profile, flags, format: format as ExportFormat, args };
}

/** Standard streams created on first use: most fast runs never print. */
function lazyIo(): Io {
  return {
    get stdin() {
      return process.stdin;
    },
    get stdout() {
      return process.stdout;
    },
    get stderr() {
      return process.stderr;
    },
  };
}

/**
 * Runs `argv` on the fast path and returns the exit code, or undefined when
 * the full CLI must handle it. Errors are printed as `main` prints them.
 */
export async function fastMain(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<number | undefined> {
  if (process.platform === 'win32') return undefined;
  // The nested-session refusal, like every error path, is left to the full CLI.
  if (env.AWS_VAULT !== undefined && env.AWS_VAULT !== '') return undefined;
  const invocation = parseFastInvocation(argv);
  if (!invocation) return undefined;
  const home = homeFrom(env);
  const globals = resolveGlobals({}, env, home);
  const ctx: Context = {
    env,
    io: lazyIo(),
    cwd: process.cwd(),
    homedir: home,
    globals,
    debug: () => {},
  };
  try {
    if (invocation.command === 'export') {
      const { exportCommand } = await import('./export.ts');
      return await exportCommand(
        { profile: invocation.profile, format: invocation.format, flags: invocation.flags },
        ctx,
      );
    }
    const { execCommand } = await import('./exec.ts');
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
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`aws-vault: error: ${invocation.command}: ${message}\n`);
    return error instanceof UserError ? error.exitCode : 1;
  }
}
