import { Option } from 'commander';
import type { Writable } from 'node:stream';
import { profileOperand, UserError } from '../errors.ts';
import type { Prompter } from '../prompt/interactive.ts';
import { loadConfig, openVault, profileNameArg, promptFor } from './deps.ts';
import type { RegisterCommand } from './host.ts';

/** `add` flags, bound from argv. */
export interface AddInput {
  profileName: string;
  /** Read the keys from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY instead of prompting. */
  fromEnv: boolean;
  /** Append `[profile P]` to the config file when it has no such profile. */
  addConfig: boolean;
}

/** What `add` needs; the real config file, vault and terminal satisfy it. */
export interface AddDeps {
  env: NodeJS.ProcessEnv;
  prompter: Prompter;
  /**
   * The profile's `source_profile` as the config resolves it (its own
   * section, its `include_profile` chain, then `[default]`) and the profile
   * whose section sets it; undefined when it has none.
   */
  sourceProfileOf(profile: string): { name: string; from: string } | undefined;
  hasProfile(profile: string): boolean;
  /** Throws when `[profile P]` cannot be written to the config file (a name with `]`, say). */
  checkAddable(profile: string): void;
  /** Appends `[profile P]` to the config file; returns the file's path. */
  addProfile(profile: string): Promise<string>;
  /** Called once the profile is known to take keys, before asking for them: opens the vault (which may ask for its passphrase). */
  openVault?: () => Promise<unknown>;
  storeCredentials(profile: string, accessKeyId: string, secretAccessKey: string): Promise<void>;
  /** Deletes the profile's cached sessions; returns how many. */
  removeSessions(profile: string): Promise<number>;
  stdout: Writable;
  debug: (line: string) => void;
}

/**
 * Stores a profile's long-term access key in the vault: from the prompt
 * (secret hidden) or, with `--env`, from the environment. Cached sessions
 * of the profile are deleted, as they belong to the old key.
 */
export async function addCommand(input: AddInput, deps: AddDeps): Promise<void> {
  const name = input.profileName;
  // A profile that names itself as its source holds its own keys. A
  // source_profile in [default] does not stop `add` (the Go aws-vault only
  // looks at the profile's own section): a profile's stored keys come
  // before any source_profile, so exec uses the keys added here.
  const source = deps.sourceProfileOf(name);
  if (
    source !== undefined &&
    source.name !== name &&
    !(source.from === 'default' && name !== 'default')
  ) {
    const via =
      source.from === name ? '' : ` (through include_profile, from [profile ${source.from}])`;
    throw new UserError(
      `Your profile has a source_profile of ${source.name}${via}, adding credentials to ${name} won't have any effect; ` +
        `add them to "${source.name}" instead: aws-vault add ${profileOperand(source.name)}`,
    );
  }
  // Before anything is stored: a name the config cannot hold fails here,
  // not after the keys are in the vault.
  const addConfig = input.addConfig && !deps.hasProfile(name);
  if (addConfig) {
    try {
      deps.checkAddable(name);
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      throw new UserError(
        `${error.message}; nothing was stored (--no-add-config stores the keys without adding the profile)`,
        { cause: error },
      );
    }
  }

  if (input.fromEnv) {
    const token = ['AWS_SESSION_TOKEN', 'AWS_SECURITY_TOKEN'].find((name) => deps.env[name]);
    refuseTemporary(deps.env.AWS_ACCESS_KEY_ID?.trim() ?? '', token ?? '');
  }

  await deps.openVault?.();

  let accessKeyId: string;
  let secretAccessKey: string;
  if (input.fromEnv) {
    accessKeyId = deps.env.AWS_ACCESS_KEY_ID?.trim() ?? '';
    if (accessKeyId === '') throw new UserError('Missing value for AWS_ACCESS_KEY_ID');
    secretAccessKey = deps.env.AWS_SECRET_ACCESS_KEY?.trim() ?? '';
    if (secretAccessKey === '') throw new UserError('Missing value for AWS_SECRET_ACCESS_KEY');
  } else {
    accessKeyId = await deps.prompter.text('Enter Access Key ID: ');
    if (accessKeyId === '') throw new UserError('the Access Key ID must not be empty');
    refuseTemporary(accessKeyId, '');
    secretAccessKey = await deps.prompter.secret('Enter Secret Access Key: ');
    if (secretAccessKey === '') throw new UserError('the Secret Access Key must not be empty');
  }

  await deps.storeCredentials(name, accessKeyId, secretAccessKey);
  deps.stdout.write(`Added credentials to profile ${goQuote(name)} in vault\n`);

  const removed = await deps.removeSessions(name);
  if (removed > 0) deps.stdout.write(`Deleted ${removed} existing sessions.\n`);

  if (addConfig) {
    let path: string;
    try {
      path = await deps.addProfile(name);
    } catch (error) {
      // The key is in the vault and works without a section: say so, not only the failure.
      const why = error instanceof Error ? error.message : String(error);
      throw new UserError(
        `the key is stored in the vault, but the profile could not be added to the config: ${why}; aws-vault exec ${profileOperand(name)} works without it (add the section yourself if you want one)`,
        { cause: error },
      );
    }
    deps.debug(`profile ${name}: added [profile ${name}] to ${path}`);
  }
}

/**
 * Refuses temporary credentials (an `ASIA` key id, or a session token beside
 * the keys): they stop working within hours, and without their token not even
 * now. `add` stores an IAM user's long-term key (`AKIA`); sessions are
 * aws-vault's to make. `token` names the variable holding one, if any.
 */
function refuseTemporary(accessKeyId: string, token: string): void {
  const why = accessKeyId.startsWith('ASIA')
    ? `${accessKeyId.slice(0, 4)}... is a temporary access key id`
    : token !== ''
      ? `${token} is set: these are temporary credentials`
      : '';
  if (why === '') return;
  throw new UserError(
    `${why} (from STS, or from inside aws-vault exec), which expire; add stores an IAM user's long-term access key (AKIA...): nothing was stored`,
  );
}

/** A string quoted like Go's `%q` for the printable text profile names are. */
export function goQuote(s: string): string {
  return JSON.stringify(s);
}

export const registerAdd: RegisterCommand = (program, host) => {
  program
    .command('add')
    .description('Add credentials to the secure keystore.')
    .argument('<profile>', 'Name of the profile', profileNameArg)
    .option(
      '--env',
      'Read the credentials from the environment (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)',
    )
    .addOption(
      new Option('--add-config', "Add a profile to ~/.aws/config if one doesn't exist (default)"),
    )
    .option('--no-add-config', 'Do not add a profile to ~/.aws/config')
    .addHelpText(
      'after',
      `
Examples:
  $ aws-vault add jonsmith                  # prompts for the access key (secret hidden)
  $ AWS_ACCESS_KEY_ID=AKIA... AWS_SECRET_ACCESS_KEY=... aws-vault add --env jonsmith`,
    )
    .action(async (profile: string, opts: Record<string, boolean | undefined>, cmd) => {
      await host.run(cmd, async (ctx) => {
        const input: AddInput = {
          profileName: profile,
          fromEnv: opts.env === true,
          addConfig: opts.addConfig !== false,
        };
        const config = await loadConfig(ctx);
        const { sourceProfileSetting } = await import('../config/resolveProfileConfig.ts');
        // The vault is opened (perhaps asking for a passphrase) only once the
        // profile is known to take keys.
        const vault = () => openVault(ctx);
        await addCommand(input, {
          env: ctx.env,
          prompter: promptFor(
            ctx,
            'use --env to read the keys from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY',
          ),
          sourceProfileOf: (name) => sourceProfileSetting(config, name),
          openVault: vault,
          hasProfile: (name) => config.hasProfile(name),
          checkAddable: (name) => config.checkAddable(name),
          addProfile: async (name) => {
            config.addProfile(name);
            return config.path;
          },
          storeCredentials: async (name, accessKeyId, secretAccessKey) =>
            (await vault()).credentials.set(name, { accessKeyId, secretAccessKey }),
          removeSessions: async (name) => (await vault()).sessions.removeForProfile(name),
          stdout: ctx.io.stdout,
          debug: ctx.debug,
        });
      });
    });
};
