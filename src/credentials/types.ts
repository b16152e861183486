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
