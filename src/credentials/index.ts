/**
 * The credentials engine: how a profile's credentials are obtained (stored
 * keys, GetSessionToken, AssumeRole chains, SSO, web identity,
 * credential_process), cached in the vault and shared across processes.
 * Commands use this module; nothing here imports the AWS SDK statically.
 */
export type { Credentials, CredentialsProvider, MfaPrompt } from './types.ts';
export type {
  CredentialSource,
  EngineDeps,
  SessionCache,
  SessionMeta,
  WithLock,
} from './engineDeps.ts';
export {
  getCredentialsProvider,
  ROLE_CHAINING_MAX_DURATION,
  type ProviderOptions,
} from './getCredentialsProvider.ts';
export { assumeRoleFrom, assumeRoleWith, memoize } from './assumeRoleWith.ts';
export {
  federationName,
  findStoredKeysProfile,
  getFederationCredentials,
  usesIamUserKeysOnly,
} from './getFederationCredentials.ts';
export { parseCredentialProcessOutput } from './fromCredentialProcess.ts';
export { validateMfaCode } from './mfaCode.ts';
export { defaultRoleSessionName } from './sessionName.ts';
export { formatTimeLeft, withSessionCache } from './withSessionCache.ts';
