import { readText } from '../keyring/fsAsync.ts';
import type { ProfileConfig } from '../config/types.ts';
import { UserError } from '../errors.ts';
import type { EngineDeps } from './engineDeps.ts';
import { describeExit, runShellCommand, shownCommand } from './runShellCommand.ts';
import { defaultRoleSessionName } from './sessionName.ts';
import type { CredentialsProvider } from './types.ts';

/**
 * STS AssumeRoleWithWebIdentity with the OIDC token from
 * `web_identity_token_file` or the stdout of `web_identity_token_process`.
 */
export function fromWebIdentity(profile: ProfileConfig, deps: EngineDeps): CredentialsProvider {
  return async () => {
    const p = `profile ${profile.name}`;
    if (profile.roleArn === undefined) {
      throw new UserError(`${p}: web identity needs role_arn in the profile`);
    }
    const token = await webIdentityToken(profile, deps);
    if (token === '') throw new UserError(`${p}: the web identity token is empty`);
    const sts = await import('../aws/sts.ts');
    return sts.assumeRoleWithWebIdentity(
      { profile, env: deps.env, debug: deps.debug, signer: { kind: 'none' } },
      {
        roleArn: profile.roleArn,
        roleSessionName: profile.roleSessionName ?? defaultRoleSessionName(deps.env),
        webIdentityToken: token,
        durationSeconds: profile.assumeRoleDuration,
      },
    );
  };
}

async function webIdentityToken(profile: ProfileConfig, deps: EngineDeps): Promise<string> {
  const p = `profile ${profile.name}`;
  if (profile.webIdentityTokenFile !== undefined && profile.webIdentityTokenFile !== '') {
    try {
      return (await readText(profile.webIdentityTokenFile)).trim();
    } catch (error) {
      const code = (error as { code?: string }).code ?? String(error);
      throw new UserError(
        `${p}: cannot read web_identity_token_file ${profile.webIdentityTokenFile} (${code})`,
        { cause: error },
      );
    }
  }
  const command = profile.webIdentityTokenProcess as string;
  deps.debug(`${p}: running web_identity_token_process`);
  const result = await runShellCommand(command, { env: deps.env });
  if (result.code !== 0) {
    throw new UserError(
      `${p}: web_identity_token_process "${shownCommand(command)}" ${describeExit(result)}; its messages are above`,
    );
  }
  return result.stdout.trim();
}
