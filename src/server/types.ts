import type { Credentials, CredentialsProvider } from '../credentials/types.ts';

/** What both credential servers need from the caller (`exec`). */
export interface ServerOptions {
  /** The profile's credentials; called again whenever they need refreshing. */
  provider: CredentialsProvider;
  /** Assumes `roleArn` from the profile's credentials (the ECS server's `/role-arn/ARN` route). */
  assumeRole: (roleArn: string) => Promise<Credentials>;
  /** The profile's region, served by the EC2 server's placement paths. */
  region?: string;
  /** Seconds: credentials with less than this left are refreshed before being served. */
  minTtl: number;
  /** Defer the first fetch to the first request (`--lazy`); otherwise fetch at start and fail fast. */
  lazy: boolean;
  /** One line per request (method, path, status) and per refresh; never a secret. */
  debug: (line: string) => void;
  /** Clock in milliseconds since the epoch; tests pass a fake one. Default `Date.now`. */
  now?: () => number;
}

/** A server that is listening: the variables to give the child, and how to stop it. */
export interface RunningServer {
  /** Variables the child process needs to find the server (added to its environment). */
  env: Record<string, string>;
  /** Stops listening, drops connections, and (EC2 without an address) stops the privileged proxy. */
  close(): Promise<void>;
}

/** Options of the EC2 server. */
export interface Ec2ServerOptions extends ServerOptions {
  /**
   * `HOST:PORT` on loopback to listen on without privileges (`--ec2-server-address`).
   * Without it the server is reached on 169.254.169.254:80 through the privileged `proxy`.
   */
  address?: string;
  /**
   * The command that runs this CLI (`[node, script]`), used to start
   * `aws-vault proxy` as root. Default: this process's node and script.
   */
  selfCommand?: string[];
}
