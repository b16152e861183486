// The typed stores on top of a backend, in one import for callers.
export { CredentialStore, type StoredCredentials } from './credentialStore.ts';
export {
  SessionStore,
  formatSessionKey,
  isSessionKey,
  parseSessionKey,
  type SessionKey,
  type SessionMeta,
  type SessionType,
} from './sessionStore.ts';
export { OidcTokenStore, isOidcTokenKey, type OidcToken } from './oidcTokenStore.ts';
