import type { Writable } from 'node:stream';
import { NoStoredCredentialsError } from '../errors.ts';
import type { Prompter } from '../prompt/interactive.ts';
import { goQuote } from './add.ts';
import { loadConfig, openVault, profileNameArg, promptFor } from './deps.ts';
import type { RegisterCommand } from './host.ts';

/** `remove` flags, bound from argv. */
export interface RemoveInput {
  profileName: string;
  force: boolean;
  sessionsOnly: boolean;
}

/** What `remove` needs; the real vault and terminal satisfy it. */
export interface RemoveDeps {
  prompter: Prompter;
  hasCredentials(profile: string): Promise<boolean>;
  removeCredentials(profile: string): Promise<void>;
  /** Deletes the profile's cached sessions; returns how many. */
  removeSessions(profile: string): Promise<number>;
  /** Throws when the profile is neither in the config file nor in the vault (a typo). */
  assertKnownProfile?(profile: string): Promise<void>;
  stdout: Writable;
}

/**
 * Removes a profile's stored credentials and its cached sessions, after a
 * `(y|N)` confirmation unless `--force`; `--sessions-only` keeps the keys.
 * Returns the exit code: 0, also when the user answers no.
 */
export async function removeCommand(input: RemoveInput, deps: RemoveDeps): Promise<void> {
  const name = input.profileName;
  if (input.sessionsOnly) {
    const n = await deps.removeSessions(name);
    if (n === 0) await deps.assertKnownProfile?.(name);
    deps.stdout.write(`Deleted ${n} sessions.\n`);
    return;
  }
  if (!(await deps.hasCredentials(name))) {
    await deps.assertKnownProfile?.(name);
    throw new NoStoredCredentialsError(
      `profile ${name}: no credentials stored in the vault (see: aws-vault list --credentials)`,
    );
  }
  if (!input.force) {
    const yes = await deps.prompter.confirm(
      `Delete credentials for profile ${goQuote(name)}? (y|N) `,
    );
    if (!yes) return;
  }
  await deps.removeCredentials(name);
  deps.stdout.write('Deleted credentials.\n');
  const n = await deps.removeSessions(name);
  if (n > 0) deps.stdout.write(`Deleted ${n} sessions.\n`);
}

export const registerRemove: RegisterCommand = (program, host) => {
  program
    .command('remove')
    .alias('rm')
    .description('Remove credentials from the secure keystore.')
    .argument('<profile>', 'Name of the profile', profileNameArg)
    .option('-f, --force', 'Force-remove the profile without a prompt')
    .option('-s, --sessions-only', 'Only remove sessions, leave credentials intact')
    .addHelpText(
      'after',
      `
Examples:
  $ aws-vault remove jonsmith          # asks: Delete credentials for profile "jonsmith"? (y|N)
  $ aws-vault rm -f jonsmith           # no question asked
  $ aws-vault rm --sessions-only prod  # keep the keys, drop cached sessions`,
    )
    .action(async (profile: string, opts: Record<string, boolean | undefined>, cmd) => {
      await host.run(cmd, async (ctx) => {
        const input: RemoveInput = {
          profileName: profile,
          force: opts.force === true,
          sessionsOnly: opts.sessionsOnly === true,
        };
        const [vault, { knownProfileCheck }] = await Promise.all([
          openVault(ctx),
          import('./credentialsForCommand.ts'),
        ]);
        await removeCommand(input, {
          prompter: promptFor(ctx, 'use --force to remove without asking'),
          hasCredentials: (name) => vault.credentials.has(name),
          removeCredentials: (name) => vault.credentials.remove(name),
          removeSessions: (name) => vault.sessions.removeForProfile(name),
          assertKnownProfile: async (name) =>
            knownProfileCheck(ctx, await loadConfig(ctx), vault.credentials)(name),
          stdout: ctx.io.stdout,
        });
      });
    });
};
