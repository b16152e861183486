import type { Writable } from 'node:stream';
import { loadConfig, openVault, ssoStartUrlOf } from './deps.ts';
import type { RegisterCommand } from './host.ts';

/** `clear` arguments, bound from argv. */
export interface ClearInput {
  /** Only this profile's sessions; undefined clears every session. */
  profileName?: string;
}

/** What `clear` needs; the real vault stores satisfy it. */
export interface ClearDeps {
  /** Removes every cached session; returns how many. */
  removeAllSessions(): Promise<number>;
  /** Removes every cached SSO token; returns how many. */
  removeAllOidcTokens(): Promise<number>;
  removeSessionsFor(profile: string): Promise<number>;
  /** Removes the SSO token of the profile's start URL; returns 1 when there was one. */
  removeOidcTokenFor(profile: string): Promise<number>;
  /**
   * Throws when the profile is neither in the config file nor in the vault
   * (a typo): asked only when it had nothing to clear.
   */
  assertKnownProfile?(profile: string): Promise<void>;
  stdout: Writable;
}

/**
 * Removes cached sessions and SSO tokens (all, or one profile's) and says how
 * many. A profile name that is in neither the config file nor the vault, and
 * had nothing cached, is an error (the Go aws-vault prints `Cleared 0
 * sessions.`, which hides a typo).
 */
export async function clearCommand(input: ClearInput, deps: ClearDeps): Promise<void> {
  let n: number;
  if (input.profileName === undefined) {
    n = (await deps.removeAllSessions()) + (await deps.removeAllOidcTokens());
  } else {
    n =
      (await deps.removeSessionsFor(input.profileName)) +
      (await deps.removeOidcTokenFor(input.profileName));
    if (n === 0) await deps.assertKnownProfile?.(input.profileName);
  }
  deps.stdout.write(`Cleared ${n} sessions.\n`);
}

export const registerClear: RegisterCommand = (program, host) => {
  program
    .command('clear')
    .description('Clear temporary credentials from the secure keystore.')
    .argument('[profile]', 'Name of the profile')
    .addHelpText(
      'after',
      `
Examples:
  $ aws-vault clear         # every cached session and SSO token
  $ aws-vault clear prod    # only the sessions of "prod"`,
    )
    .action(async (profile: string | undefined, _opts: unknown, cmd) => {
      await host.run(cmd, async (ctx) => {
        const input: ClearInput = { profileName: profile === '' ? undefined : profile };
        const [vault, { knownProfileCheck }] = await Promise.all([
          openVault(ctx),
          import('./credentialsForCommand.ts'),
        ]);
        await clearCommand(input, {
          removeAllSessions: () => vault.sessions.removeAll(),
          removeAllOidcTokens: () => vault.oidcTokens.removeAll(),
          removeSessionsFor: (name) => vault.sessions.removeForProfile(name),
          removeOidcTokenFor: async (name) => {
            const url = ssoStartUrlOf(await loadConfig(ctx), name);
            if (url === undefined || !(await vault.oidcTokens.list()).includes(url)) return 0;
            await vault.oidcTokens.remove(url);
            return 1;
          },
          assertKnownProfile: async (name) =>
            knownProfileCheck(ctx, await loadConfig(ctx), vault.credentials)(name),
          stdout: ctx.io.stdout,
        });
      });
    });
};
