import type { Command } from 'commander';
import type { RegisterCommand } from './host.ts';

/**
 * The `use_aws_vault` function for `~/.config/direnv/direnvrc`. With it an
 * `.envrc` needs only `use aws_vault PROFILE [EXPORT FLAGS...]`.
 *
 * - It runs `aws-vault export --format=export-env` and evals the result only
 *   when the export succeeded, so a failed MFA or a typo leaves the
 *   environment untouched and direnv shows the error.
 * - `AWS_VAULT=` lets it work from inside an `aws-vault exec` shell.
 * - It watches the AWS config file, so editing the profile reloads.
 * - `AWS_VAULT_BIN` picks the binary when `aws-vault` is not the one on PATH.
 */
export const DIRENVRC = `# aws-vault direnv helper (from \`aws-vault direnvrc\`).
# Usage in .envrc:  use aws_vault PROFILE [aws-vault export flags, e.g. --duration=2h]
use_aws_vault() {
  local profile="\${1:-}"
  if [[ -z "$profile" ]]; then
    log_error "use aws_vault: missing profile name (use aws_vault PROFILE)"
    return 1
  fi
  shift
  watch_file "\${AWS_CONFIG_FILE:-$HOME/.aws/config}"
  local exports
  if ! exports="$(AWS_VAULT= "\${AWS_VAULT_BIN:-aws-vault}" export --format=export-env "$profile" "$@")"; then
    log_error "use aws_vault: aws-vault export $profile failed; AWS credentials not loaded"
    return 1
  fi
  eval "$exports"
  log_status "aws-vault: loaded credentials for profile $profile"
}
`;

export const registerDirenv: RegisterCommand = (program: Command, host) => {
  const cmd = program
    .command('direnvrc')
    .description('Print the direnv helper "use_aws_vault" for ~/.config/direnv/direnvrc')
    .addHelpText(
      'after',
      `
Install once, then write "use aws_vault PROFILE" in an .envrc:
  $ aws-vault direnvrc >> ~/.config/direnv/direnvrc
or keep it current with the installed aws-vault, in ~/.config/direnv/direnvrc:
  eval "$(aws-vault direnvrc)"`,
    )
    .action(async () => {
      await host.run(cmd, async (ctx) => {
        ctx.io.stdout.write(DIRENVRC);
      });
    });
};
