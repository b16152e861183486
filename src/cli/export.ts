import type { Command } from 'commander';
import { rfc3339 } from '../credentials/rfc3339.ts';
import type { Credentials } from '../credentials/types.ts';
import { shellWord, UsageError } from '../errors.ts';
import type { Context } from './context.ts';
import {
  addCredentialFlags,
  assertNotNested,
  credentialFlagsFrom,
  credentialsForCommand,
  type CredentialFlags,
} from './credentialsForCommand.ts';
import type { RegisterCommand } from './host.ts';

/** The output formats of `export --format`. */
export const EXPORT_FORMATS = ['env', 'export-env', 'json', 'ini'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** What `export` needs, bound from argv. */
export interface ExportInput {
  profile: string;
  format: ExportFormat;
  flags: CredentialFlags;
}

/**
 * The `credential_process` document
 * (`{"Version":1,"AccessKeyId","SecretAccessKey","SessionToken","Expiration"}`),
 * indented like the Go aws-vault prints it, plus a newline. SessionToken and
 * Expiration are left out for long-term keys.
 */
export function formatJson(creds: Credentials): string {
  const doc: Record<string, string | number> = {
    Version: 1,
    AccessKeyId: creds.accessKeyId,
    SecretAccessKey: creds.secretAccessKey,
  };
  if (creds.sessionToken) doc.SessionToken = creds.sessionToken;
  if (creds.expiration) doc.Expiration = rfc3339(creds.expiration);
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/** The variables `export --format=env` prints, in the Go aws-vault's order. */
export function exportVariables(creds: Credentials, region?: string): [string, string][] {
  const vars: [string, string][] = [
    ['AWS_ACCESS_KEY_ID', creds.accessKeyId],
    ['AWS_SECRET_ACCESS_KEY', creds.secretAccessKey],
  ];
  if (creds.sessionToken) vars.push(['AWS_SESSION_TOKEN', creds.sessionToken]);
  if (creds.expiration) vars.push(['AWS_CREDENTIAL_EXPIRATION', rfc3339(creds.expiration)]);
  if (region) {
    vars.push(['AWS_REGION', region]);
    vars.push(['AWS_DEFAULT_REGION', region]);
  }
  return vars;
}

/**
 * `KEY=VALUE` lines, or with `prefix = 'export '` lines a shell evaluates
 * (`eval`, direnv): there a value with characters the shell would act on (a
 * region such as `x;rm -rf ~` in a shared config file) is quoted, so it stays
 * a value. Keys, tokens and real regions need no quotes and get none, as in
 * the Go aws-vault's output.
 */
export function formatEnv(creds: Credentials, region: string | undefined, prefix = ''): string {
  return exportVariables(creds, region)
    .map(([key, value]) => `${prefix}${key}=${prefix === '' ? value : shellWord(value)}\n`)
    .join('');
}

/**
 * A credentials-file section for the profile, `[P]` as a credentials file
 * names it, byte for byte what the Go aws-vault's ini writer (go-ini v1.67)
 * prints: keys aligned, and no blank line after the last (only) section.
 */
export function formatIni(creds: Credentials, profile: string, region?: string): string {
  const entries: [string, string][] = [
    ['aws_access_key_id', creds.accessKeyId],
    ['aws_secret_access_key', creds.secretAccessKey],
  ];
  if (creds.sessionToken) entries.push(['aws_session_token', creds.sessionToken]);
  if (creds.expiration) {
    entries.push(['aws_credential_expiration', rfc3339(creds.expiration)]);
  }
  if (region) entries.push(['region', region]);
  const width = Math.max(...entries.map(([key]) => key.length));
  const lines = entries.map(([key, value]) => `${key.padEnd(width)} = ${value}\n`);
  return `[${profile}]\n${lines.join('')}`;
}

/** Formats credentials as `export --format` asks. */
export function formatCredentials(
  format: ExportFormat,
  creds: Credentials,
  profile: string,
  region?: string,
): string {
  switch (format) {
    case 'json':
      return formatJson(creds);
    case 'ini':
      return formatIni(creds, profile, region);
    case 'export-env':
      return formatEnv(creds, region, 'export ');
    case 'env':
      return formatEnv(creds, region);
  }
}

/**
 * Prints the profile's credentials in `input.format` on stdout. Prompts (MFA,
 * passphrase) go to the terminal, so this works as a `credential_process`.
 */
export async function exportCommand(input: ExportInput, ctx: Context): Promise<number> {
  assertNotNested(ctx.env);
  const { profile, provider } = await credentialsForCommand(ctx, input.profile, input.flags);
  const creds = await provider();
  ctx.debug(`profile ${input.profile}: exporting credentials as ${input.format}`);
  ctx.io.stdout.write(formatCredentials(input.format, creds, input.profile, profile.region));
  return 0;
}

export const registerExport: RegisterCommand = (program: Command, host) => {
  const cmd = program
    .command('export')
    .description('Export AWS credentials')
    .argument('<profile>', 'Name of the profile');
  addCredentialFlags(cmd)
    .addOption(
      cmd
        .createOption('--format <format>', 'Format to output credentials')
        .choices(EXPORT_FORMATS)
        .default('env'),
    )
    .addOption(cmd.createOption('--debug').hideHelp())
    .addHelpText(
      'after',
      `
Examples:
  $ aws-vault export prod                          # KEY=VALUE lines
  $ eval "$(aws-vault export --format=export-env prod)"
  credential_process = aws-vault export --format=json prod   (in ~/.aws/config)
  $ aws-vault direnvrc >> ~/.config/direnv/direnvrc # then "use aws_vault prod" in .envrc`,
    )
    .action(async (profile: string, opts: Record<string, unknown>, command: Command) => {
      if (opts.debug === true) program.setOptionValue('debug', true);
      const format = opts.format as ExportFormat;
      if (!EXPORT_FORMATS.includes(format)) throw new UsageError(`unknown format ${format}`);
      await host.run(command, (ctx) =>
        exportCommand({ profile, format, flags: credentialFlagsFrom(opts) }, ctx),
      );
    });
};
