import { NoStoredCredentialsError, profileOperand } from '../errors.ts';
import type { EngineDeps } from './engineDeps.ts';
import type { CredentialsProvider } from './types.ts';

/**
 * Whether the vault holds keys for `profileName`. Asks the store's `has`
 * when it has one: deciding which provider serves a profile must not
 * decrypt keys that a cached session makes unnecessary.
 */
export async function hasStoredKeys(profileName: string, deps: EngineDeps): Promise<boolean> {
  const { credentials } = deps;
  if (credentials.has !== undefined) return credentials.has(profileName);
  return (await credentials.get(profileName)) !== undefined;
}

/** The long-term access key stored in the vault for `profileName`. */
export function fromStoredKeys(profileName: string, deps: EngineDeps): CredentialsProvider {
  return async () => {
    const stored = await deps.credentials.get(profileName);
    if (stored === undefined) {
      throw new NoStoredCredentialsError(
        `profile ${profileName}: no credentials stored in the vault; add them with \`aws-vault add ${profileOperand(profileName)}\``,
      );
    }
    return { accessKeyId: stored.accessKeyId, secretAccessKey: stored.secretAccessKey };
  };
}
