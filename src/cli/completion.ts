import type { Command } from 'commander';
import type { Writable } from 'node:stream';
import { UsageError } from '../errors.ts';
import type { RegisterCommand } from './host.ts';

/** `completion` arguments, bound from argv. */
export interface CompletionInput {
  shell: string;
}

/** What the completion script is built from: the program's commands and flags. */
export interface CompletionSpec {
  globalFlags: string[];
  /** Flags that take a value, so the word after them is not a subcommand. */
  valueFlags: string[];
  backends: string[];
  prompts: string[];
  commands: { names: string[]; flags: string[]; valueFlags: string[]; takesProfile: boolean }[];
}

export const SHELLS = ['bash', 'zsh', 'fish'];

/** Subcommands whose first argument is a profile name. */
const PROFILE_COMMANDS = ['add', 'remove', 'clear', 'exec', 'export', 'login', 'rotate'];

/**
 * **(ext)** Prints a completion script for `shell` that completes
 * subcommands, their flags and profile names (read from
 * `aws-vault list --profiles`, which touches no vault, on each TAB).
 */
export function completionCommand(
  input: CompletionInput,
  spec: CompletionSpec,
  stdout: Writable,
): void {
  switch (input.shell) {
    case 'bash':
      stdout.write(bashScript(spec));
      return;
    case 'zsh':
      stdout.write(zshScript(spec));
      return;
    case 'fish':
      stdout.write(fishScript(spec));
      return;
    default:
      throw new UsageError(`unknown shell "${input.shell}"; expected one of: ${SHELLS.join(', ')}`);
  }
}

/** Reads the completion spec from the commander program, so it never drifts from the real flags. */
export function specFromProgram(program: Command): CompletionSpec {
  // The hidden kingpin negations (`--no-debug`) are accepted, not offered.
  const longFlags = (cmd: Command) =>
    cmd.options
      .filter((o) => !(o.negate && o.hidden))
      .flatMap((o) => [o.long, o.short].filter((f): f is string => !!f));
  const choices = (flag: string) => program.options.find((o) => o.long === flag)?.argChoices ?? [];
  const valueFlags = (cmd: Command) =>
    cmd.options
      .filter((o) => o.required || o.optional)
      .flatMap((o) => [o.long, o.short].filter((f): f is string => !!f));
  return {
    globalFlags: [...longFlags(program), '--help', '--version'].filter(unique),
    valueFlags: valueFlags(program),
    backends: choices('--backend'),
    prompts: choices('--prompt'),
    commands: program.commands
      .filter((c) => !(c as unknown as { _hidden?: boolean })._hidden)
      .map((c) => ({
        names: [c.name(), ...c.aliases()],
        // Global flags are accepted after the subcommand too, but complete only before it.
        flags: [...longFlags(c).filter((f) => !longFlags(program).includes(f)), '--help'].filter(
          unique,
        ),
        valueFlags: valueFlags(c),
        takesProfile: PROFILE_COMMANDS.includes(c.name()),
      })),
  };
}

/**
 * The Go aws-vault's completion protocol (kingpin's hidden
 * `--completion-bash`), which the completion scripts it shipped, still in
 * many shell rc files, call on every TAB: `aws-vault --completion-bash
 * WORDS...`, the words typed after `aws-vault`, the last one the word being
 * completed. Returns the candidates for that word, one per line, for the
 * shell to filter: flag values, flags, subcommands, or a subcommand's
 * profile name; nothing after `--` or where a file name goes.
 */
export function completionCandidates(
  words: string[],
  spec: CompletionSpec,
  profiles: () => string[],
): string[] {
  const before = words.slice(0, -1);
  const current = words.at(-1) ?? '';
  let command: CompletionSpec['commands'][number] | undefined;
  let positionals = 0;
  for (let i = 0; i < before.length; i++) {
    const word = before[i] as string;
    if (word === '--') return [];
    const valueFlags = [...spec.valueFlags, ...(command?.valueFlags ?? [])];
    if (valueFlags.includes(word)) {
      if (i === before.length - 1) {
        if (word === '--backend') return spec.backends;
        if (word === '--prompt') return spec.prompts;
        return [];
      }
      i++;
      continue;
    }
    if (word.startsWith('-')) continue;
    if (command === undefined) command = spec.commands.find((c) => c.names.includes(word));
    else positionals++;
  }
  if (current.startsWith('-')) {
    return command === undefined
      ? spec.globalFlags
      : [...command.flags, ...spec.globalFlags].filter(unique);
  }
  if (command === undefined) return spec.commands.map((c) => c.names[0] as string);
  if (command.takesProfile && positionals === 0) return profiles();
  return [];
}

function unique<T>(value: T, index: number, all: T[]): boolean {
  return all.indexOf(value) === index;
}

function bashScript(spec: CompletionSpec): string {
  const cases = spec.commands
    .map(
      (c) =>
        `    ${c.names.join('|')}) flags="${c.flags.join(' ')}"; profiles=${c.takesProfile ? 1 : 0} ;;`,
    )
    .join('\n');
  const names = spec.commands.flatMap((c) => c.names).join(' ');
  return `# aws-vault bash completion. Load it with:
#   eval "$(aws-vault completion bash)"     (e.g. in ~/.bashrc)
_aws_vault() {
  local cur prev cmd="" i w flags="" profiles=0
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  local value_flags=" ${spec.valueFlags.join(' ')} "
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    if [[ "$w" == "--" ]]; then
      # The command after --: its own completion (bash-completion), else
      # command names for its first word and file names after it.
      if declare -F _command_offset >/dev/null; then
        _command_offset $((i + 1))
      elif ((COMP_CWORD == i + 1)); then
        COMPREPLY=($(compgen -c -- "$cur"))
      else
        COMPREPLY=($(compgen -f -- "$cur"))
      fi
      return 0
    fi
    if [[ -z "$cmd" ]]; then
      if [[ "$value_flags" == *" $w "* ]]; then
        ((i++))
      elif [[ "$w" != -* ]]; then
        cmd="$w"
      fi
    fi
  done
  case "$prev" in
    --backend) COMPREPLY=($(compgen -W "${spec.backends.join(' ')}" -- "$cur")); return 0 ;;
    --prompt) COMPREPLY=($(compgen -W "${spec.prompts.join(' ')}" -- "$cur")); return 0 ;;
  esac
  if [[ -z "$cmd" ]]; then
    if [[ "$cur" == -* ]]; then
      COMPREPLY=($(compgen -W "${spec.globalFlags.join(' ')}" -- "$cur"))
    else
      COMPREPLY=($(compgen -W "${names}" -- "$cur"))
    fi
    return 0
  fi
  case "$cmd" in
${cases}
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$flags" -- "$cur"))
  elif [[ "$profiles" == 1 ]]; then
    local IFS=$'\\n' p
    COMPREPLY=()
    for p in $("\${COMP_WORDS[0]}" list --profiles 2>/dev/null); do
      [[ "$p" == "$cur"* ]] && COMPREPLY+=("$(printf '%q' "$p")")
    done
  fi
  return 0
}
complete -o default -F _aws_vault aws-vault
`;
}

function zshScript(spec: CompletionSpec): string {
  const cases = spec.commands
    .map(
      (c) =>
        `    ${c.names.join('|')}) flags=(${c.flags.join(' ')}); profiles=${c.takesProfile ? 1 : 0} ;;`,
    )
    .join('\n');
  return `#compdef aws-vault
# aws-vault zsh completion. Load it with:
#   eval "$(aws-vault completion zsh)"     (e.g. in ~/.zshrc, after compinit)
_aws_vault() {
  local cmd="" i w profiles=0
  local -a flags value_flags
  value_flags=(${spec.valueFlags.join(' ')})
  for ((i = 2; i < CURRENT; i++)); do
    w="\${words[i]}"
    if [[ "$w" == "--" ]]; then
      # The command after --, completed as zsh completes it on its own.
      shift $i words
      ((CURRENT -= i))
      _normal
      return
    fi
    if [[ -z "$cmd" ]]; then
      if (( \${value_flags[(Ie)$w]} )); then
        ((i++))
      elif [[ "$w" != -* ]]; then
        cmd="$w"
      fi
    fi
  done
  case "\${words[CURRENT-1]}" in
    --backend) compadd -- ${spec.backends.join(' ')}; return ;;
    --prompt) compadd -- ${spec.prompts.join(' ')}; return ;;
  esac
  if [[ -z "$cmd" ]]; then
    if [[ "\${words[CURRENT]}" == -* ]]; then
      compadd -- ${spec.globalFlags.join(' ')}
    else
      compadd -- ${spec.commands.flatMap((c) => c.names).join(' ')}
    fi
    return
  fi
  case "$cmd" in
${cases}
  esac
  if [[ "\${words[CURRENT]}" == -* ]]; then
    compadd -- $flags
  elif [[ "$profiles" == 1 ]]; then
    local -a names
    names=("\${(@f)$(\${words[1]} list --profiles 2>/dev/null)}")
    compadd -- $names
  fi
}
if [[ "$funcstack[1]" == "_aws_vault" ]]; then
  _aws_vault "$@"
else
  compdef _aws_vault aws-vault
fi
`;
}

function fishScript(spec: CompletionSpec): string {
  const lines = [
    '# aws-vault fish completion. Load it with:',
    '#   aws-vault completion fish > ~/.config/fish/completions/aws-vault.fish',
    'complete -c aws-vault -f',
  ];
  const all = spec.commands.flatMap((c) => c.names);
  for (const flag of spec.globalFlags) lines.push(`complete -c aws-vault ${fishFlag(flag)}`);
  lines.push(
    `complete -c aws-vault -l backend -x -a '${spec.backends.join(' ')}'`,
    `complete -c aws-vault -l prompt -x -a '${spec.prompts.join(' ')}'`,
    `complete -c aws-vault -n "not __fish_seen_subcommand_from ${all.join(' ')}" -a '${all.join(' ')}'`,
  );
  for (const c of spec.commands) {
    const cond = `-n "__fish_seen_subcommand_from ${c.names.join(' ')}"`;
    for (const flag of c.flags) lines.push(`complete -c aws-vault ${cond} ${fishFlag(flag)}`);
    if (c.takesProfile) {
      lines.push(`complete -c aws-vault ${cond} -a '(aws-vault list --profiles 2>/dev/null)'`);
    }
  }
  return `${lines.join('\n')}\n`;
}

function fishFlag(flag: string): string {
  return flag.startsWith('--') ? `-l ${flag.slice(2)}` : `-s ${flag.slice(1)}`;
}

export const registerCompletion: RegisterCommand = (program, host) => {
  program
    .command('completion')
    .description('Print a shell completion script (bash, zsh or fish).')
    .argument('<shell>', `Shell: ${SHELLS.join(', ')}`)
    .addHelpText(
      'after',
      `
Examples:
  $ eval "$(aws-vault completion bash)"     # in ~/.bashrc
  $ eval "$(aws-vault completion zsh)"      # in ~/.zshrc, after compinit
  $ aws-vault completion fish > ~/.config/fish/completions/aws-vault.fish`,
    )
    .action(async (shell: string, _opts: unknown, cmd) => {
      await host.run(cmd, async (ctx) => {
        completionCommand({ shell }, specFromProgram(program), ctx.io.stdout);
      });
    });
};
