import type { Credentials } from '../credentials/types.ts';
import { UNREACHABLE_CODES } from './clientConfig.ts';

/** An AWS partition's console sign-in and console hosts. */
export interface Partition {
  id: 'aws' | 'aws-cn' | 'aws-us-gov';
  /** Host of the federation endpoint (`signin.aws.amazon.com`). */
  signinHost: string;
  /** Console domain; the regional console is `REGION.<consoleDomain>`. */
  consoleDomain: string;
}

const PARTITIONS: Record<Partition['id'], Partition> = {
  aws: { id: 'aws', signinHost: 'signin.aws.amazon.com', consoleDomain: 'console.aws.amazon.com' },
  'aws-cn': {
    id: 'aws-cn',
    signinHost: 'signin.amazonaws.cn',
    consoleDomain: 'console.amazonaws.cn',
  },
  'aws-us-gov': {
    id: 'aws-us-gov',
    signinHost: 'signin.amazonaws-us-gov.com',
    consoleDomain: 'console.amazonaws-us-gov.com',
  },
};

/**
 * The partition of a region (`cn-north-1` -> aws-cn, `us-gov-west-1` ->
 * aws-us-gov) or, when no region is known, of an ARN (`arn:aws-cn:...`).
 */
export function partitionFor(region?: string, arn?: string): Partition {
  if (region !== undefined && region !== '') {
    if (region.startsWith('cn-')) return PARTITIONS['aws-cn'];
    if (region.startsWith('us-gov-')) return PARTITIONS['aws-us-gov'];
    return PARTITIONS.aws;
  }
  const fromArn = arn?.split(':')[1];
  if (fromArn === 'aws-cn' || fromArn === 'aws-us-gov') return PARTITIONS[fromArn];
  return PARTITIONS.aws;
}

/**
 * The federation endpoint of a partition, `https://signin.aws.amazon.com/federation`.
 * `override` (from `AWS_ENDPOINT_URL_SIGNIN`) replaces its scheme and host
 * (and any path prefix), so tests and private endpoints can stand in.
 */
export function federationUrl(partition: Partition, override?: string): string {
  if (override !== undefined && override !== '') {
    return `${override.replace(/\/+$/, '')}/federation`;
  }
  return `https://${partition.signinHost}/federation`;
}

/**
 * The console page to land on: the regional console home, or `path` (e.g.
 * `s3/home`, `/ec2/v2/home`) on the regional console, with `?region=`. A
 * path that already carries a query keeps it, and a fragment stays last. Without a region, the global
 * console.
 */
export function consoleDestination(partition: Partition, region?: string, path?: string): string {
  const cleanPath = (path ?? '').replace(/^\/+/, '');
  if (region === undefined || region === '') {
    return `https://${partition.consoleDomain}/${cleanPath}`;
  }
  const base = `https://${region}.${partition.consoleDomain}`;
  const page = cleanPath === '' ? 'console/home' : cleanPath;
  // The query goes before a fragment (`ec2/home#Instances`), or the console never sees it.
  const hash = page.indexOf('#');
  const [beforeHash, fragment] = hash < 0 ? [page, ''] : [page.slice(0, hash), page.slice(hash)];
  const separator = beforeHash.includes('?') ? '&' : '?';
  return `${base}/${beforeHash}${separator}region=${encodeURIComponent(region)}${fragment}`;
}

/** The final sign-in URL: `FEDERATION?Action=login&Issuer=aws-vault&Destination=...&SigninToken=...`. */
export function loginUrl(federation: string, destination: string, signinToken: string): string {
  const query = new URLSearchParams({
    Action: 'login',
    Issuer: 'aws-vault',
    Destination: destination,
    SigninToken: signinToken,
  });
  return `${federation}?${query.toString()}`;
}

/** Error from the federation endpoint; its message never contains the credentials sent. */
export class SigninTokenError extends Error {
  override name = 'SigninTokenError';
  readonly status: number | undefined;
  /** True when nothing answered at the endpoint (DNS, refused, timed out). */
  readonly unreachable: boolean;
  /** What the endpoint said, as one line of text (a JSON `message`, tags stripped), if anything. */
  readonly detail: string | undefined;
  constructor(
    message: string,
    status?: number,
    options?: { cause?: unknown; unreachable?: boolean; detail?: string },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.status = status;
    this.unreachable = options?.unreachable === true;
    this.detail = options?.detail;
  }
}

export interface SigninTokenRequest {
  federationUrl: string;
  credentials: Credentials;
  /**
   * Console session length in seconds (900..43200). Only valid for role
   * credentials; federation-token sessions last as long as the token.
   */
  sessionDuration?: number;
  /** Gives up after this many milliseconds (default 15s). */
  timeoutMs?: number;
}

/**
 * Exchanges temporary credentials for a console sign-in token at the
 * federation endpoint (`Action=getSigninToken`). The token is a bearer
 * credential: callers must not log it.
 */
export async function requestSigninToken(request: SigninTokenRequest): Promise<string> {
  const { credentials } = request;
  if (credentials.sessionToken === undefined || credentials.sessionToken === '') {
    throw new SigninTokenError(
      'the console sign-in needs temporary credentials (a session token); long-term keys must go through GetFederationToken first',
    );
  }
  const params = new URLSearchParams({ Action: 'getSigninToken' });
  if (request.sessionDuration !== undefined) {
    params.set('SessionDuration', String(request.sessionDuration));
  }
  params.set(
    'Session',
    JSON.stringify({
      sessionId: credentials.accessKeyId,
      sessionKey: credentials.secretAccessKey,
      sessionToken: credentials.sessionToken,
    }),
  );
  const endpoint = request.federationUrl;
  if (!URL.canParse(endpoint)) {
    throw new SigninTokenError(
      `the AWS sign-in federation endpoint "${endpoint}" is not a URL; check AWS_ENDPOINT_URL_SIGNIN`,
    );
  }
  let response: Response;
  try {
    response = await fetch(`${endpoint}?${params.toString()}`, {
      method: 'GET',
      redirect: 'error',
      signal: AbortSignal.timeout(request.timeoutMs ?? 15_000),
      headers: { accept: 'application/json' },
    });
  } catch (error) {
    throw new SigninTokenError(
      `cannot reach the AWS sign-in federation endpoint at ${endpoint}: ${describeFetchFailure(error)}; check your network, proxy and endpoint settings (AWS_ENDPOINT_URL_SIGNIN)`,
      undefined,
      { cause: error, unreachable: true },
    );
  }
  const body = await response.text();
  if (!response.ok) {
    // The body never echoes the session; only a short human message is kept.
    const detail = errorDetail(body);
    throw new SigninTokenError(
      `the AWS sign-in federation endpoint at ${endpoint} refused the sign-in token request (HTTP ${response.status}${detail ? `: ${detail}` : ''})`,
      response.status,
      detail !== undefined ? { detail } : {},
    );
  }
  let token: unknown;
  try {
    token = (JSON.parse(body) as { SigninToken?: unknown }).SigninToken;
  } catch {
    token = undefined;
  }
  if (typeof token !== 'string' || token === '') {
    throw new SigninTokenError(
      `the federation endpoint ${endpoint} answered without a SigninToken`,
      response.status,
    );
  }
  return token;
}

/** Node and fetch network error codes, in the words the STS errors use. */
const NETWORK_ERRORS: Record<string, string> = {
  ...UNREACHABLE_CODES,
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  UND_ERR_SOCKET: 'connection closed',
  CERT_HAS_EXPIRED: 'its TLS certificate has expired',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'its TLS certificate is self-signed',
  SELF_SIGNED_CERT_IN_CHAIN: 'its TLS certificate is not trusted',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'its TLS certificate is not trusted',
};

/** Why fetch failed, in plain words (`host not found`), from the error or its causes. */
export function describeFetchFailure(error: unknown): string {
  let code: string | undefined;
  let message: string | undefined;
  for (let e: unknown = error, depth = 0; e !== undefined && e !== null && depth < 5; depth++) {
    if (typeof e !== 'object') break;
    const record = e as {
      name?: unknown;
      code?: unknown;
      message?: unknown;
      cause?: unknown;
      errors?: unknown;
    };
    if (record.name === 'TimeoutError' || record.name === 'AbortError') return 'timed out';
    if (typeof record.code === 'string') {
      const known = NETWORK_ERRORS[record.code];
      if (known !== undefined) return known;
      code ??= record.code;
    }
    // fetch's own "fetch failed" says less than its cause ("bad port", "getaddrinfo ...").
    if (typeof record.message === 'string' && record.message !== '') message = record.message;
    e = Array.isArray(record.errors) && record.errors.length > 0 ? record.errors[0] : record.cause;
  }
  // A message may quote the request URL, whose query holds the session: cut it at '?'.
  return (code ?? message ?? String(error)).replace(/\?\S*/g, '');
}

/**
 * One line of what an error body says: the `message` of a JSON body
 * (`{"error":"InvalidRequest","message":"..."}`), or text with HTML tags
 * removed; undefined when nothing readable is left.
 */
export function errorDetail(body: string): string | undefined {
  let text: string;
  try {
    const json = JSON.parse(body) as { message?: unknown; Message?: unknown; error?: unknown };
    const message = json.message ?? json.Message ?? json.error;
    text = typeof message === 'string' ? message : '';
  } catch {
    text = body.replace(/<(script|style)[^>]*>[\s\S]*?<\/\1>/gi, ' ').replace(/<[^>]*>/g, ' ');
  }
  const line = text.replace(/\s+/g, ' ').trim().slice(0, 200);
  return line === '' ? undefined : line;
}
