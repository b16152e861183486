/**
 * Where aws-vault's own flags end and a command's begin, shared by the full
 * CLI (`main`) and the start-up fast path so both read argv alike. It loads
 * nothing: the fast path runs without commander.
 *
 * The Go aws-vault (kingpin) accepts global flags anywhere before `--` and a
 * subcommand's flags between its arguments, as in its USAGE.md:
 * `aws-vault exec --prompt ykman P -- aws s3 ls`,
 * `aws-vault exec P --no-session -- env`. For `exec` this module decides
 * which tokens after the profile are aws-vault's: options up to `--` or up
 * to the first word that is not an option, which starts the command; from
 * there on every token is the command's, verbatim (so
 * `aws-vault exec P aws s3 ls --recursive` passes `--recursive` to aws).
 */

/** Global options that take a value (`--backend file`, `--backend=file`). */
export const GLOBAL_VALUE_OPTIONS: readonly string[] = [
  '--backend',
  '--prompt',
  '--keychain',
  '--secret-service-collection',
  '--pass-dir',
  '--pass-cmd',
  '--pass-prefix',
  '--file-dir',
];

/** Global options without a value. */
export const GLOBAL_BOOLEAN_OPTIONS: readonly string[] = ['--debug'];

/** `exec` options that take a value. A unit test checks these against commander's definitions. */
export const EXEC_VALUE_OPTIONS: readonly string[] = [
  '-d',
  '--duration',
  '--region',
  '-t',
  '--mfa-token',
  '--ec2-server-address',
];

/** True for a token that commander would read as an option (not `-`, not `--`). */
export function isOptionToken(token: string): boolean {
  return token.length > 1 && token.startsWith('-') && token !== '--';
}

/**
 * How many tokens, starting at `args[i]` (an option), belong to that option:
 * 2 when it takes a value given as the next token, else 1. `valueOptions`
 * lists the flags that take a value; `--flag=value` and `-dVALUE` carry theirs.
 */
export function optionWidth(args: readonly string[], i: number, valueOptions: readonly string[]) {
  return needsNextToken(args[i] as string, valueOptions) && hasValueAfter(args, i) ? 2 : 1;
}

/** Whether option `token` takes its value from the next token. */
function needsNextToken(token: string, valueOptions: readonly string[]): boolean {
  if (token.startsWith('--')) return !token.includes('=') && valueOptions.includes(token);
  // A cluster of short flags (`-nd 2h`): the first one that takes a value
  // takes the rest of the cluster, or the next token when it is last.
  for (let c = 1; c < token.length; c++) {
    if (valueOptions.includes(`-${token[c]}`)) return c === token.length - 1;
  }
  return false;
}

/** A value follows `args[i]`: there is a next token, and it is not `--` (the end of flags). */
function hasValueAfter(args: readonly string[], i: number): boolean {
  return i + 1 < args.length && args[i + 1] !== '--';
}

/** Index of the subcommand in `argv` (after any global options), or -1. */
export function findSubcommand(argv: readonly string[]): number {
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i] as string;
    if (token === '--') return -1;
    if (!isOptionToken(token)) return i;
    i += optionWidth(argv, i, GLOBAL_VALUE_OPTIONS) - 1;
  }
  return -1;
}

/** `exec`'s arguments, split into aws-vault's options, the profile and the command. */
export interface ExecArgs {
  /** aws-vault's option tokens (with their values), before and after the profile, in order. */
  options: string[];
  profile: string | undefined;
  /** The command and its arguments, verbatim; empty for the default shell. */
  command: string[];
  /** An option given last before the command (or the end) without its value (`exec p -d`). */
  missingValue?: string;
}

/** Splits the tokens after `exec` (see the module comment for the rules). */
export function splitExecArgs(args: readonly string[]): ExecArgs {
  const valueOptions = [...GLOBAL_VALUE_OPTIONS, ...EXEC_VALUE_OPTIONS];
  const options: string[] = [];
  let profile: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const token = args[i] as string;
    if (token === '--') {
      if (profile === undefined) {
        // `exec -- PROFILE -- CMD`: the second `--` ends the profile's options, as the first.
        profile = args[i + 1];
        const rest = args.slice(i + 2);
        return { options, profile, command: rest[0] === '--' ? rest.slice(1) : rest };
      }
      return { options, profile, command: args.slice(i + 1) };
    }
    if (isOptionToken(token)) {
      if (needsNextToken(token, valueOptions)) {
        if (!hasValueAfter(args, i)) return { options, profile, command: [], missingValue: token };
        options.push(token, args[i + 1] as string);
        i += 1;
      } else {
        options.push(token);
      }
      continue;
    }
    if (profile === undefined) {
      profile = token;
      continue;
    }
    return { options, profile, command: args.slice(i) };
  }
  return { options, profile, command: [] };
}

/**
 * Rewrites `exec` lines into the one form commander parses unambiguously,
 * `exec [OPTIONS] PROFILE -- [CMD ARGS...]`; anything else comes back as is.
 */
export function normalizeArgv(argv: readonly string[]): string[] {
  const at = findSubcommand(argv);
  if (at < 0 || argv[at] !== 'exec') return [...argv];
  const { options, profile, command, missingValue } = splitExecArgs(argv.slice(at + 1));
  // The option last (before the profile, which would be taken for its value),
  // so commander says that its value is missing.
  if (missingValue !== undefined) return [...argv.slice(0, at + 1), ...options, missingValue];
  if (profile === undefined) return [...argv];
  // A profile that looks like an option (`exec -- -dev -- cmd`) comes after an
  // end of options of its own, or commander would read it as flags.
  const operand = profile.startsWith('-') ? ['--', profile] : [profile];
  return [...argv.slice(0, at + 1), ...options, ...operand, '--', ...command];
}

/** `--backend` values shown in help and completion. */
export const BACKEND_CHOICES: readonly string[] = [
  'keychain',
  'wincred',
  'secret-service',
  'file',
  'pass',
];

/**
 * Accepted but not advertised: `memory` is for tests (its keys vanish on
 * exit); `kwallet` and `keyctl`, which the Go aws-vault offers, fail with
 * what to use instead (src/keyring/openBackend.ts).
 */
export const HIDDEN_BACKENDS: readonly string[] = ['memory', 'kwallet', 'keyctl'];

/** `--prompt` values shown in help and completion (the Go aws-vault v7's drivers). */
export const PROMPT_CHOICES: readonly string[] = [
  'terminal',
  'ykman',
  'osascript',
  'zenity',
  'kdialog',
];

/**
 * Accepted but not advertised: `pass` was removed from the Go aws-vault v7,
 * and the prompt module explains what to use instead when it is asked for.
 */
export const HIDDEN_PROMPTS: readonly string[] = ['pass', 'wincredui'];

/** A name `--prompt` / `AWS_VAULT_PROMPT` accepts. */
export function isPromptName(name: string): boolean {
  return PROMPT_CHOICES.includes(name) || HIDDEN_PROMPTS.includes(name);
}
