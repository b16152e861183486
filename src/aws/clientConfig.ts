/**
 * Options shared by every AWS SDK client the tool creates (STS here, IAM, SSO
 * and SSO-OIDC elsewhere): region, endpoint overrides, credentials, a retry
 * strategy that retries throttling and 5xx but fails fast on a dead endpoint,
 * and short network timeouts. This file imports no SDK code (types only), so
 * callers can build the options before deciding to load a client.
 */
import type { RetryErrorInfo, RetryStrategyV2, RetryToken } from '@smithy/types';
import { resolveEndpoint } from '../config/endpoints.ts';
import type { ProfileConfig } from '../config/types.ts';
import type { CredentialsProvider } from '../credentials/types.ts';
import { UserError } from '../errors.ts';

export type AwsService = 'sts' | 'iam' | 'sso' | 'sso-oidc';

/** Attempts per call, counting the first (throttling and 5xx only). */
export const MAX_ATTEMPTS = 5;
/** How long to wait for a TCP connection before calling the endpoint unreachable. */
export const CONNECTION_TIMEOUT_MS = 3_000;
/**
 * How long a request may take once connected: an endpoint that takes the
 * connection and never answers is an error after this, not a hang.
 */
export const REQUEST_TIMEOUT_MS = 10_000;

/** STS regions that `sts_regional_endpoints = legacy` sends to the global endpoint. */
const LEGACY_GLOBAL_STS_REGIONS = new Set([
  'ap-northeast-1',
  'ap-south-1',
  'ap-southeast-1',
  'ap-southeast-2',
  'aws-global',
  'ca-central-1',
  'eu-central-1',
  'eu-north-1',
  'eu-west-1',
  'eu-west-2',
  'eu-west-3',
  'sa-east-1',
  'us-east-1',
  'us-east-2',
  'us-west-1',
  'us-west-2',
]);

export interface ClientConfigInput {
  profile: ProfileConfig;
  service: AwsService;
  env: NodeJS.ProcessEnv;
  /** Credentials to sign with; omit for unsigned calls (AssumeRoleWithWebIdentity, SSO). */
  credentials?: CredentialsProvider;
  /** Overrides the profile's region (e.g. `sso_region` for SSO clients). */
  region?: string;
  debug?: (line: string) => void;
}

/** The plain options object every SDK v3 client constructor accepts. */
export interface SdkClientConfig {
  region: string;
  /**
   * The profile the SDK reads its own shared-config settings from
   * (`use_fips_endpoint`, `use_dualstack_endpoint`, ...): the one this
   * client is for, never the shell's `AWS_PROFILE` or `[default]`.
   */
  profile: string;
  endpoint?: string;
  /**
   * Always true: the endpoint is resolveEndpoint's (the same standard, with
   * this profile's settings); the SDK's own lookup would read `AWS_PROFILE`'s.
   */
  ignoreConfiguredEndpointUrls: true;
  useGlobalEndpoint?: boolean;
  credentials?: () => Promise<{
    accessKeyId: string;
    secretAccessKey: string;
    sessionToken?: string;
    expiration?: Date;
  }>;
  maxAttempts: number;
  retryStrategy: RetryStrategyV2;
  requestHandler: {
    connectionTimeout: number;
    requestTimeout: number;
    /** Without it the SDK only logs a warning when the request timeout passes, and waits on. */
    throwOnRequestTimeout: true;
  };
}

/** The region used when neither the profile nor the environment names one. */
export const DEFAULT_REGION = 'us-east-1';

/**
 * Builds SDK client options for `service` from the profile. Endpoint
 * overrides follow the SDKs' standard (`AWS_ENDPOINT_URL_STS`,
 * `AWS_ENDPOINT_URL`, `[services]`, `endpoint_url`) through `resolveEndpoint`.
 */
export function clientConfigFor(input: ClientConfigInput): SdkClientConfig {
  const region = input.region ?? input.profile.region ?? DEFAULT_REGION;
  const endpoint = resolveEndpoint(input.profile, input.service, input.env);
  const config: SdkClientConfig = {
    region,
    profile: input.profile.name,
    ignoreConfiguredEndpointUrls: true,
    maxAttempts: MAX_ATTEMPTS,
    retryStrategy: retryStrategy(MAX_ATTEMPTS, input.debug),
    requestHandler: {
      connectionTimeout: CONNECTION_TIMEOUT_MS,
      requestTimeout: REQUEST_TIMEOUT_MS,
      throwOnRequestTimeout: true,
    },
  };
  if (endpoint !== undefined) config.endpoint = endpoint;
  if (input.service === 'sts' && endpoint === undefined) {
    config.useGlobalEndpoint =
      input.profile.stsRegionalEndpoints === 'legacy' && LEGACY_GLOBAL_STS_REGIONS.has(region);
  }
  if (input.credentials !== undefined) {
    const provider = input.credentials;
    config.credentials = async () => {
      const creds = await provider();
      return {
        accessKeyId: creds.accessKeyId,
        secretAccessKey: creds.secretAccessKey,
        ...(creds.sessionToken !== undefined ? { sessionToken: creds.sessionToken } : {}),
        ...(creds.expiration !== undefined ? { expiration: creds.expiration } : {}),
      };
    };
  }
  return config;
}

/**
 * The URL a client built from `config` talks to in the standard partition,
 * for messages when no request was built (see {@link watchRequests}, which
 * tells where requests really went).
 */
export function endpointUrlOf(config: SdkClientConfig, service: AwsService): string {
  if (config.endpoint !== undefined) return config.endpoint;
  if (service === 'sts') {
    return config.useGlobalEndpoint
      ? 'https://sts.amazonaws.com'
      : `https://sts.${config.region}.amazonaws.com`;
  }
  if (service === 'iam') return 'https://iam.amazonaws.com';
  if (service === 'sso') return `https://portal.sso.${config.region}.amazonaws.com`;
  return `https://oidc.${config.region}.amazonaws.com`;
}

/** Where a failed call's request went, on the error it failed with (see watchRequests). */
const REQUEST_URL = Symbol('aws-vault request URL');

/** What watchRequests needs of an SDK client (no SDK code is imported here). */
interface WithMiddlewareStack {
  middlewareStack: { add(middleware: never, options: never): void };
}

/** A build-step middleware, as the SDK's stack takes it. */
type BuildMiddleware = (
  next: (args: { request: unknown }) => Promise<unknown>,
) => (args: { request: unknown }) => Promise<unknown>;

/**
 * Adds to `client` a step that sees each request as the SDK built it, after
 * it resolved the endpoint (a region of another partition, FIPS, dual-stack):
 * `onRequest` gets the URL it goes to, and an error that call ends with
 * carries it for {@link requestUrlOf}. The URL is the scheme, host, port and
 * path prefix; a query string never (the SDK puts none in these calls).
 */
export function watchRequests<C extends WithMiddlewareStack>(
  client: C,
  onRequest?: (url: string) => void,
): C {
  const stack = client.middlewareStack as unknown as {
    add(middleware: BuildMiddleware, options: { step: 'build'; name: string }): void;
  };
  stack.add(
    (next) => async (args) => {
      const request = args.request as {
        protocol?: string;
        hostname?: string;
        port?: number;
        path?: string;
      };
      if (typeof request?.hostname !== 'string') return next(args);
      const path = (request.path ?? '').replace(/\/+$/, '');
      const url = `${request.protocol ?? 'https:'}//${request.hostname}${request.port ? `:${request.port}` : ''}${path}`;
      onRequest?.(url);
      try {
        return await next(args);
      } catch (error) {
        if (typeof error === 'object' && error !== null && !Object.isFrozen(error)) {
          Object.defineProperty(error, REQUEST_URL, { value: url, configurable: true });
        }
        throw error;
      }
    },
    { step: 'build', name: 'awsVaultWatchRequests' },
  );
  return client;
}

/** The URL the request of a failed call went to, when watchRequests saw it. */
export function requestUrlOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const url = (error as { [REQUEST_URL]?: unknown })[REQUEST_URL];
  return typeof url === 'string' ? url : undefined;
}

/**
 * Node network error codes that mean "nothing answers there" (retrying will
 * not help), in the plain words error messages use.
 */
export const UNREACHABLE_CODES: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ECONNRESET: 'connection reset',
  ETIMEDOUT: 'connection timed out',
  ERESPONSETIMEOUT: `connected, but no answer within ${REQUEST_TIMEOUT_MS / 1000}s`,
};

function networkCode(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e !== undefined && depth < 5; depth++) {
    if (typeof e !== 'object' || e === null) return undefined;
    const record = e as { code?: unknown; name?: unknown; cause?: unknown; errors?: unknown };
    // The SDK's request timeout (connected, no answer); it also names resets
    // TimeoutError, so the code comes before the name.
    if (record.name === 'TimeoutError' && /requestTimeout/.test(String((e as Error).message))) {
      return 'ERESPONSETIMEOUT';
    }
    if (typeof record.code === 'string' && record.code in UNREACHABLE_CODES) return record.code;
    if (record.name === 'TimeoutError') return 'ETIMEDOUT';
    if (Array.isArray(record.errors) && record.errors.length > 0) {
      e = record.errors[0];
      continue;
    }
    e = record.cause;
  }
  return undefined;
}

/**
 * A clear error when `error` says the endpoint could not be reached
 * (`cannot reach STS at URL: connection refused`), else undefined. URL is
 * where the request went (requestUrlOf), else `url`.
 */
export function unreachableError(
  error: unknown,
  service: AwsService,
  url: string,
): UserError | undefined {
  const code = networkCode(error);
  if (code === undefined) return undefined;
  url = requestUrlOf(error) ?? url;
  const what = service === 'sso-oidc' ? 'SSO OIDC' : service.toUpperCase();
  return new UserError(
    `cannot reach ${what} at ${url}: ${UNREACHABLE_CODES[code] ?? code}; check your network, proxy and endpoint settings (AWS_ENDPOINT_URL*, endpoint_url)`,
    { cause: error },
  );
}

/**
 * Retries throttling, 5xx and transient errors with exponential backoff and
 * jitter, up to `maxAttempts`; a connection that is refused or cannot be made
 * is not retried, so a dead endpoint is reported within seconds.
 */
export function retryStrategy(
  maxAttempts: number,
  debug?: (line: string) => void,
): RetryStrategyV2 {
  const token = (count: number, delay: number): RetryToken => ({
    getRetryCount: () => count,
    getRetryDelay: () => delay,
  });
  return {
    acquireInitialRetryToken: async () => token(0, 0),
    refreshRetryTokenForRetry: async (previous: RetryToken, info: RetryErrorInfo) => {
      const attempt = previous.getRetryCount() + 1;
      const retryable =
        info.errorType === 'THROTTLING' ||
        info.errorType === 'SERVER_ERROR' ||
        (info.errorType === 'TRANSIENT' && networkCode(info.error) === undefined);
      if (!retryable || attempt >= maxAttempts) throw info.error ?? new Error(info.errorType);
      const base = info.errorType === 'THROTTLING' ? 250 : 100;
      let delay = Math.min(20_000, Math.random() * base * 2 ** attempt);
      if (info.retryAfterHint !== undefined) {
        delay = Math.max(delay, Math.min(20_000, info.retryAfterHint.getTime() - Date.now()));
      }
      debug?.(
        `retrying after ${info.errorType.toLowerCase()} error (attempt ${attempt + 1} of ${maxAttempts}, in ${Math.round(delay)}ms)`,
      );
      return token(attempt, delay);
    },
    recordSuccess: () => {},
  };
}
