/**
 * The only importer of `@aws-sdk/client-sts`. Load this module with a dynamic
 * `await import()` only when an STS call is about to be made, so the cached
 * path never loads the SDK. Every failure comes out as a `UserError` whose
 * message says which profile, what AWS said, and what to do.
 */
import {
  AssumeRoleCommand,
  AssumeRoleWithWebIdentityCommand,
  GetCallerIdentityCommand,
  GetFederationTokenCommand,
  GetSessionTokenCommand,
  STSClient,
  type Credentials as StsCredentials,
} from '@aws-sdk/client-sts';
import type { ProfileConfig } from '../config/types.ts';
import { redactCredentials } from '../credentials/redact.ts';
import type { Credentials, CredentialsProvider } from '../credentials/types.ts';
import { profileOperand, UserError } from '../errors.ts';
import { clientConfigFor, endpointUrlOf, unreachableError, watchRequests } from './clientConfig.ts';

/** Who signs an STS call, for error messages (never the key itself). */
export type StsSigner =
  | { kind: 'stored-keys'; profileName: string }
  | { kind: 'session'; description: string }
  | { kind: 'none' };

/** What every STS call needs: the profile it is for and how to sign. */
export interface StsCallContext {
  profile: ProfileConfig;
  env: NodeJS.ProcessEnv;
  debug: (line: string) => void;
  credentials?: CredentialsProvider;
  signer: StsSigner;
  /** Overrides the profile's region. */
  region?: string;
  /** Stops the call (GetCallerIdentity only): rotate, when it is interrupted. */
  abortSignal?: AbortSignal;
}

export interface GetSessionTokenInput {
  durationSeconds: number;
  serialNumber?: string;
  tokenCode?: string;
}

export interface AssumeRoleInput {
  roleArn: string;
  roleSessionName: string;
  durationSeconds?: number;
  externalId?: string;
  serialNumber?: string;
  tokenCode?: string;
  tags?: Record<string, string>;
  transitiveTagKeys?: string[];
  sourceIdentity?: string;
}

export interface AssumeRoleWithWebIdentityInput {
  roleArn: string;
  roleSessionName: string;
  webIdentityToken: string;
  durationSeconds?: number;
}

export interface GetFederationTokenInput {
  name: string;
  durationSeconds: number;
  policy?: string;
}

export interface CallerIdentity {
  account: string;
  arn: string;
  userId: string;
}

/** STS GetSessionToken, optionally with MFA. */
export async function getSessionToken(
  ctx: StsCallContext,
  input: GetSessionTokenInput,
): Promise<Credentials> {
  const output = await send(ctx, 'GetSessionToken', input.tokenCode !== undefined, (client) =>
    client.send(
      new GetSessionTokenCommand({
        DurationSeconds: input.durationSeconds,
        ...(input.serialNumber !== undefined ? { SerialNumber: input.serialNumber } : {}),
        ...(input.tokenCode !== undefined ? { TokenCode: input.tokenCode } : {}),
      }),
    ),
  );
  return fromSts(output.Credentials, 'GetSessionToken', ctx);
}

/** STS AssumeRole with every option aws-vault supports. */
export async function assumeRole(
  ctx: StsCallContext,
  input: AssumeRoleInput,
): Promise<Credentials> {
  const tags = Object.entries(input.tags ?? {}).map(([Key, Value]) => ({ Key, Value }));
  const output = await send(
    ctx,
    'AssumeRole',
    input.tokenCode !== undefined,
    (client) =>
      client.send(
        new AssumeRoleCommand({
          RoleArn: input.roleArn,
          RoleSessionName: input.roleSessionName,
          ...(input.durationSeconds !== undefined
            ? { DurationSeconds: input.durationSeconds }
            : {}),
          ...(input.externalId !== undefined ? { ExternalId: input.externalId } : {}),
          ...(input.serialNumber !== undefined ? { SerialNumber: input.serialNumber } : {}),
          ...(input.tokenCode !== undefined ? { TokenCode: input.tokenCode } : {}),
          ...(tags.length > 0 ? { Tags: tags } : {}),
          ...(input.transitiveTagKeys !== undefined && input.transitiveTagKeys.length > 0
            ? { TransitiveTagKeys: input.transitiveTagKeys }
            : {}),
          ...(input.sourceIdentity !== undefined ? { SourceIdentity: input.sourceIdentity } : {}),
        }),
      ),
    input.roleArn,
  );
  return fromSts(output.Credentials, 'AssumeRole', ctx);
}

/** STS AssumeRoleWithWebIdentity (unsigned). */
export async function assumeRoleWithWebIdentity(
  ctx: StsCallContext,
  input: AssumeRoleWithWebIdentityInput,
): Promise<Credentials> {
  const output = await send(
    ctx,
    'AssumeRoleWithWebIdentity',
    false,
    (client) =>
      client.send(
        new AssumeRoleWithWebIdentityCommand({
          RoleArn: input.roleArn,
          RoleSessionName: input.roleSessionName,
          WebIdentityToken: input.webIdentityToken,
          ...(input.durationSeconds !== undefined
            ? { DurationSeconds: input.durationSeconds }
            : {}),
        }),
      ),
    input.roleArn,
  );
  return fromSts(output.Credentials, 'AssumeRoleWithWebIdentity', ctx);
}

/** STS GetFederationToken (long-term IAM user keys only). */
export async function getFederationToken(
  ctx: StsCallContext,
  input: GetFederationTokenInput,
): Promise<Credentials> {
  const output = await send(ctx, 'GetFederationToken', false, (client) =>
    client.send(
      new GetFederationTokenCommand({
        Name: input.name,
        DurationSeconds: input.durationSeconds,
        ...(input.policy !== undefined ? { Policy: input.policy } : {}),
      }),
    ),
  );
  return fromSts(output.Credentials, 'GetFederationToken', ctx);
}

/** STS GetCallerIdentity: who the credentials belong to. */
export async function getCallerIdentity(ctx: StsCallContext): Promise<CallerIdentity> {
  const output = await send(ctx, 'GetCallerIdentity', false, (client) =>
    client.send(
      new GetCallerIdentityCommand({}),
      ctx.abortSignal === undefined ? {} : { abortSignal: ctx.abortSignal },
    ),
  );
  return {
    account: output.Account ?? '',
    arn: output.Arn ?? '',
    userId: output.UserId ?? '',
  };
}

async function send<T>(
  ctx: StsCallContext,
  action: string,
  withMfa: boolean,
  call: (client: STSClient) => Promise<T>,
  roleArn?: string,
): Promise<T> {
  const config = clientConfigFor({
    profile: ctx.profile,
    service: 'sts',
    env: ctx.env,
    debug: ctx.debug,
    ...(ctx.credentials !== undefined ? { credentials: ctx.credentials } : {}),
    ...(ctx.region !== undefined ? { region: ctx.region } : {}),
  });
  // Where the request goes, as the SDK resolved it once it is built.
  let url = endpointUrlOf(config, 'sts');
  const client = watchRequests(new STSClient(config), (built) => {
    url = built;
    ctx.debug(`profile ${ctx.profile.name}: calling sts.${action} at ${url}`);
  });
  try {
    return await call(client);
  } catch (error) {
    throw stsError(error, { ctx, action, withMfa, url, ...(roleArn ? { roleArn } : {}) });
  } finally {
    client.destroy();
  }
}

function fromSts(
  creds: StsCredentials | undefined,
  action: string,
  ctx: StsCallContext,
): Credentials {
  if (
    creds?.AccessKeyId === undefined ||
    creds.SecretAccessKey === undefined ||
    creds.SessionToken === undefined
  ) {
    // A 200 that is not STS's answer: a captive portal, a proxy's login page, another service.
    throw new UserError(
      `profile ${ctx.profile.name}: sts.${action} was answered without credentials, not as STS answers; ${NOT_STS_HINT}`,
    );
  }
  return redactCredentials({
    accessKeyId: creds.AccessKeyId,
    secretAccessKey: creds.SecretAccessKey,
    sessionToken: creds.SessionToken,
    ...(creds.Expiration !== undefined ? { expiration: new Date(creds.Expiration) } : {}),
  });
}

const NOT_STS_HINT =
  'check that AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_STS or endpoint_url (if set) name an STS endpoint, and that no proxy answers in its place';

interface ErrorContext {
  ctx: StsCallContext;
  action: string;
  withMfa: boolean;
  url: string;
  roleArn?: string;
}

/** An STS failure: the message says what to do; `aws` is AWS's own words (code: message). */
export class StsError extends UserError {
  override name = 'StsError';
  readonly aws: string;
  constructor(message: string, aws: string, options: { cause: unknown }) {
    super(message, options);
    this.aws = aws;
  }
}

/**
 * Turns an SDK error into a `UserError` saying what happened and what to do;
 * an `StsError`, which keeps AWS's own words, when AWS answered with an error.
 * AWS error messages carry no secrets; the request (with the MFA code) is
 * never part of the message.
 */
export function stsError(error: unknown, e: ErrorContext): UserError {
  if (error instanceof UserError) return error;
  const p = `profile ${e.ctx.profile.name}`;
  const unreachable = unreachableError(error, 'sts', e.url);
  if (unreachable) return new UserError(`${p}: ${unreachable.message}`, { cause: error });

  const record = (typeof error === 'object' && error !== null ? error : {}) as {
    name?: string;
    Code?: string;
    message?: string;
    $metadata?: { httpStatusCode?: number; attempts?: number };
  };
  const code = record.Code ?? record.name ?? 'Error';
  const message = (record.message ?? String(error)).trim();
  const status = record.$metadata?.httpStatusCode;
  const signer = e.ctx.signer;
  // The SDK's words for a body that is not an AWS error or answer.
  if (/Deserialization error|XML parse error/i.test(message)) {
    return new UserError(
      `${p}: STS at ${e.url} answered sts.${e.action} with something that is not STS's XML${status === undefined ? '' : ` (HTTP ${status})`}; ${NOT_STS_HINT}`,
      { cause: error },
    );
  }
  const aws =
    code === 'Unknown' && (message === 'Unknown' || message === '')
      ? `HTTP ${status ?? '?'} with no AWS error in the body`
      : `${code}: ${message}`;
  // AWS answered with an error of its own: its words go with the message (rotate quotes them).
  const own = record.$metadata !== undefined && code !== 'Unknown' ? aws : undefined;
  const fail = (text: string): UserError =>
    own === undefined
      ? new UserError(text, { cause: error })
      : new StsError(text, own, { cause: error });

  if (e.withMfa && code === 'AccessDenied' && /multifactor|mfa|one time pass/i.test(message)) {
    return fail(`${p}: MFA code rejected by AWS (${aws}); check the code and your device's clock`);
  }
  if (
    code === 'InvalidClientTokenId' ||
    code === 'SignatureDoesNotMatch' ||
    code === 'UnrecognizedClientException'
  ) {
    if (signer.kind === 'stored-keys') {
      return fail(
        `${p}: AWS rejected the access key stored for profile ${signer.profileName} (${aws}); if the key was deleted or rotated elsewhere, store the current one with \`aws-vault add ${profileOperand(signer.profileName)}\``,
      );
    }
    return fail(
      `${p}: AWS rejected the credentials used for sts.${e.action} (${aws}); run \`aws-vault clear ${e.ctx.profile.name}\` and try again`,
    );
  }
  if (code === 'ExpiredToken' || code === 'ExpiredTokenException') {
    return fail(
      `${p}: the session used for sts.${e.action} has expired (${aws}); run \`aws-vault clear\` and try again`,
    );
  }
  if (code === 'AccessDenied' && e.roleArn !== undefined) {
    return fail(
      `${p}: not allowed to assume role ${e.roleArn} (${aws}); check the role's trust policy, external_id and mfa_serial`,
    );
  }
  if (code === 'AccessDenied' && e.action === 'GetFederationToken') {
    return fail(
      `${p}: GetFederationToken was denied (${aws}); IAM users whose policy requires MFA cannot use it: use a role profile with mfa_serial (role_arn, source_profile) to log in`,
    );
  }
  if (/throttl/i.test(code) || status === 429) {
    return fail(
      `${p}: STS kept throttling sts.${e.action} after ${record.$metadata?.attempts ?? 1} attempts (${aws}); try again in a moment`,
    );
  }
  if (status !== undefined && status >= 500) {
    return fail(
      `${p}: STS at ${e.url} failed sts.${e.action} after ${record.$metadata?.attempts ?? 1} attempts (${aws}); try again later`,
    );
  }
  return fail(`${p}: sts.${e.action} failed (${aws})`);
}
