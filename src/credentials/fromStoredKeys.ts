import { UserError } from '../errors.ts';
import type { EngineDeps } from './engineDeps.ts';
import type { CredentialsProvider } from './types.ts';

/** The long-term access key stored in the vault for `profileName`. */
export function fromStoredKeys(profileName: string, deps: EngineDeps): CredentialsProvider {
  return async () => {
    const stored = await deps.credentials.get(profileName);
    if (stored === undefined) {
      throw new UserError(
        `profile ${profileName}: no credentials stored in the vault; add them with \`aws-vault add ${profileName}\``,
      );
    }
    return { accessKeyId: stored.accessKeyId, secretAccessKey: stored.secretAccessKey };
  };
}
