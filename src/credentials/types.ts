/** AWS credentials as the tool passes them around. */
export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  /** Present for temporary (STS, SSO) credentials. */
  sessionToken?: string;
  /** When temporary credentials stop working; undefined for long-term keys. */
  expiration?: Date;
}

/** A lazy source of credentials: called each time credentials are needed. */
export type CredentialsProvider = () => Promise<Credentials>;

/**
 * Asks for the current code of the MFA device `mfaSerial` (a person at a
 * terminal, a YubiKey, a dialog). Returns the code as typed; the engine
 * validates it before any STS call.
 */
export type MfaPrompt = (request: { profileName: string; mfaSerial: string }) => Promise<string>;
