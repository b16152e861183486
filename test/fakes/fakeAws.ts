// A local AWS-compatible endpoint for tests, the demo and the bench: one HTTP
// server on 127.0.0.1 that speaks the real wire protocols of STS and IAM (query
// API, XML), the SSO portal and SSO-OIDC (REST-JSON) and the console
// federation endpoint, so the real AWS SDK for JS v3 and the real AWS CLI v2
// talk to it through AWS_ENDPOINT_URL. See "The local AWS-compatible endpoint" in README.md.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { headerValue, parseAmzDate, parseAuthorization, verifySignature } from './sigv4.ts';
import { SigninService, type SigninToken } from './signin.ts';
import { SsoService } from './sso.ts';
import {
  STS_ACTIONS,
  UNSIGNED_ACTIONS,
  WebIdentityIssuer,
  assumeRole,
  assumeRoleWithWebIdentity,
  getCallerIdentity,
  getFederationToken,
  getSessionToken,
  type QueryCall,
} from './sts.ts';
import {
  IAM_ACTIONS,
  createAccessKey,
  deleteAccessKey,
  getUser,
  listAccessKeys,
  updateAccessKey,
} from './iam.ts';
import {
  AwsError,
  IAM_XMLNS,
  STS_XMLNS,
  sendJson,
  sendQueryError,
  sendQueryResult,
  sendRestJsonError,
  type XmlValue,
} from './wire.ts';
import {
  Clock,
  World,
  type Principal,
  type RoleTrust,
  type SessionCredentials,
  type UserPolicy,
} from './world.ts';

export type { RoleTrust, SessionCredentials, UserPolicy } from './world.ts';

export interface FakeAwsOptions {
  /** Port on 127.0.0.1; default: a random free port. */
  port?: number;
  /** The fake's time source in ms (default Date.now); `clock.advance` adds to it. */
  now?: () => number;
  /** The account users and roles live in; default 123456789012. */
  accountId?: string;
  /** Refuse an MFA code its device already used, as AWS does (default true). */
  rejectReusedMfaCodes?: boolean;
  /** Polling interval the SSO device flow asks for, in seconds (default 1; AWS uses 1..5). */
  ssoPollIntervalSeconds?: number;
}

export type FakeService = 'sts' | 'iam' | 'sso' | 'sso-oidc' | 'signin' | 'unknown';

/** One request the fake answered. Secret parameters (TokenCode, tokens) are redacted. */
export interface FakeCall {
  service: FakeService;
  /** `GetSessionToken`, `CreateToken`, `GetRoleCredentials`, `getSigninToken`, ... */
  action: string;
  accessKeyId?: string;
  /** Fake-clock ms. */
  time: number;
  status: number;
  errorCode?: string;
  params: Record<string, string>;
}

export interface SeededUser {
  userName: string;
  arn: string;
  accessKeyId: string;
  secretAccessKey: string;
  mfaSerial?: string;
  totpSecret?: string;
}

export interface FailureSpec {
  /** Default 400. */
  status?: number;
  /** Default: `Throttling` (query), `ThrottlingException` (REST-JSON) for 400/429, `InternalFailure` for 500, `ServiceUnavailable` for 503. */
  code?: string;
  message?: string;
  /** How many calls fail; default 1. */
  count?: number;
}

export interface FakeAws {
  /** `http://127.0.0.1:PORT`: give it as AWS_ENDPOINT_URL or `endpoint`. */
  url: string;
  port: number;
  accountId: string;
  /** Bearer token for the `/__fake/*` control routes. */
  controlToken: string;
  clock: Clock;
  world: World;
  sso: SsoService;
  /** Every request answered, oldest first. */
  calls: FakeCall[];
  createUser(name: string, opts?: { mfa?: boolean; policy?: UserPolicy }): SeededUser;
  /** Another long-term key for an existing user (IAM allows two). */
  createAccessKey(userName: string): { accessKeyId: string; secretAccessKey: string };
  createRole(nameOrArn: string, trust?: RoleTrust): { arn: string };
  /** The code the user's MFA device shows now (fake clock); `stepOffset` ±1 for a neighbouring step. */
  mfaCode(userName: string, stepOffset?: number): string;
  /** A JWT that AssumeRoleWithWebIdentity accepts, for `subject`. */
  webIdentityToken(subject: string, ttlSeconds?: number): string;
  ssoAssign(accountId: string, roleName: string, accountName?: string): void;
  approveDeviceAuthorization(userCode: string | 'all'): number;
  denyDeviceAuthorization(userCode: string | 'all'): number;
  /** The next `count` calls of `action` (or `*`) fail with this error, before any other check. */
  failNext(action: string, spec?: FailureSpec): void;
  /** How many calls of `action` were answered (optionally only successful ones). */
  count(action: string, opts?: { ok?: boolean }): number;
  /** What the fake knows about temporary credentials it issued. */
  describeCredentials(accessKeyId: string): SessionCredentials | undefined;
  describeSigninToken(token: string): SigninToken | undefined;
  /** Forgets recorded calls and pending failures. */
  reset(): void;
  close(): Promise<void>;
}

const SECRET_PARAMS = new Set([
  'TokenCode',
  'WebIdentityToken',
  'Policy',
  'Session',
  'SigninToken',
]);
const SECRET_JSON_FIELDS = new Set([
  'clientSecret',
  'deviceCode',
  'refreshToken',
  'code',
  'codeVerifier',
]);
/** AWS rejects a signature more than 15 minutes from its own (real) clock. */
const MAX_SKEW_MS = 15 * 60 * 1000;

interface Pending extends Required<Omit<FailureSpec, 'code'>> {
  code: string | undefined;
}

/** Starts the fake on 127.0.0.1; close() it when done. */
export async function startFakeAws(options: FakeAwsOptions = {}): Promise<FakeAws> {
  const accountId = options.accountId ?? '123456789012';
  const clock = new Clock(options.now ?? Date.now);
  const world = new World(accountId, clock);
  world.rejectReusedMfaCodes = options.rejectReusedMfaCodes ?? true;
  const sso = new SsoService(world);
  sso.pollIntervalSeconds = options.ssoPollIntervalSeconds ?? 1;
  const signin = new SigninService(world);
  const webIdentity = new WebIdentityIssuer();
  const calls: FakeCall[] = [];
  const failures = new Map<string, Pending[]>();
  const controlToken = randomBytes(24).toString('base64url');

  function takeFailure(action: string, restJson: boolean): AwsError | undefined {
    for (const key of [action, '*']) {
      const queue = failures.get(key);
      const f = queue?.[0];
      if (!f) continue;
      if (--f.count <= 0) queue!.shift();
      const code =
        f.code ??
        (f.status >= 500
          ? f.status === 503
            ? 'ServiceUnavailable'
            : 'InternalFailure'
          : restJson
            ? 'ThrottlingException'
            : 'Throttling');
      return new AwsError(f.status, code, f.message);
    }
    return undefined;
  }

  function record(call: Omit<FakeCall, 'time'>): void {
    calls.push({ ...call, time: clock.now() });
  }

  const queryHandlers: Record<string, (c: QueryCall) => XmlValue | undefined> = {
    GetSessionToken: getSessionToken,
    AssumeRole: assumeRole,
    AssumeRoleWithWebIdentity: (c) => assumeRoleWithWebIdentity(c, webIdentity),
    GetFederationToken: getFederationToken,
    GetCallerIdentity: getCallerIdentity,
    GetUser: getUser,
    ListAccessKeys: listAccessKeys,
    CreateAccessKey: createAccessKey,
    DeleteAccessKey: deleteAccessKey,
    UpdateAccessKey: updateAccessKey,
  };

  /** Who signed the request, after checking the signature, its age and the token. */
  function authenticate(req: IncomingMessage, body: Buffer): Principal {
    const auth = parseAuthorization(headerValue(req.headers, 'authorization'));
    if (!auth)
      throw new AwsError(
        403,
        'MissingAuthenticationToken',
        'Request is missing Authentication Token',
      );
    const secret = world.secretFor(auth.accessKeyId);
    const amzDate = headerValue(req.headers, 'x-amz-date') ?? '';
    const signedAt = parseAmzDate(amzDate);
    const realNow = Date.now();
    if (!Number.isFinite(signedAt) || Math.abs(realNow - signedAt) > MAX_SKEW_MS) {
      throw new AwsError(
        403,
        'SignatureDoesNotMatch',
        `Signature expired: ${amzDate} is now earlier than ${new Date(realNow - MAX_SKEW_MS).toISOString()}`,
      );
    }
    const ok = verifySignature(
      { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body },
      auth,
      secret,
    );
    if (!ok) {
      throw new AwsError(
        403,
        'SignatureDoesNotMatch',
        'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
      );
    }
    return world.principalFor(auth.accessKeyId, headerValue(req.headers, 'x-amz-security-token'));
  }

  function handleQuery(req: IncomingMessage, res: ServerResponse, body: Buffer, url: URL): void {
    const params = new URLSearchParams(url.search);
    for (const [k, v] of new URLSearchParams(body.toString('utf8'))) params.append(k, v);
    const action = params.get('Action') ?? '';
    const scopeService = parseAuthorization(headerValue(req.headers, 'authorization'))?.service;
    const service: FakeService =
      scopeService === 'iam' || (!scopeService && IAM_ACTIONS.has(action)) ? 'iam' : 'sts';
    const known = service === 'iam' ? IAM_ACTIONS : STS_ACTIONS;
    const shown: Record<string, string> = {};
    for (const [k, v] of params)
      if (k !== 'Action' && k !== 'Version') shown[k] = SECRET_PARAMS.has(k) ? '***' : v;
    let accessKeyId: string | undefined;
    try {
      if (!known.has(action)) {
        throw new AwsError(
          400,
          'InvalidAction',
          `Could not find operation ${action} for version ${params.get('Version') ?? ''}`,
        );
      }
      const injected = takeFailure(action, false);
      if (injected) throw injected;
      let principal: Principal | undefined;
      if (!UNSIGNED_ACTIONS.has(action) || headerValue(req.headers, 'authorization')) {
        accessKeyId = parseAuthorization(headerValue(req.headers, 'authorization'))?.accessKeyId;
        principal = authenticate(req, body);
      }
      const result = queryHandlers[action]!({ world, action, params, principal });
      sendQueryResult(res, action, service === 'iam' ? IAM_XMLNS : STS_XMLNS, result);
      record({ service, action, accessKeyId, status: 200, params: shown });
    } catch (e) {
      const err = e instanceof AwsError ? e : new AwsError(500, 'InternalFailure', String(e));
      sendQueryError(res, err);
      record({
        service,
        action,
        accessKeyId,
        status: err.status,
        errorCode: err.code,
        params: shown,
      });
    }
  }

  function handleRestJson(
    res: ServerResponse,
    service: FakeService,
    action: string,
    params: Record<string, string>,
    run: () => unknown,
  ): void {
    const shown: Record<string, string> = {};
    for (const [k, v] of Object.entries(params)) shown[k] = SECRET_JSON_FIELDS.has(k) ? '***' : v;
    try {
      const injected = takeFailure(action, true);
      if (injected) throw injected;
      const out = run();
      sendJson(res, 200, out ?? {});
      const accessKeyId = (out as { roleCredentials?: { accessKeyId?: string } } | undefined)
        ?.roleCredentials?.accessKeyId;
      record({ service, action, accessKeyId, status: 200, params: shown });
    } catch (e) {
      const err =
        e instanceof AwsError ? e : new AwsError(500, 'InternalServerException', String(e));
      if (service === 'sso-oidc' && err.oauthError === undefined) {
        err.oauthError = err.status >= 500 ? 'server_error' : 'invalid_request';
      }
      sendRestJsonError(res, err);
      record({ service, action, status: err.status, errorCode: err.code, params: shown });
    }
  }

  function parseJsonBody(body: Buffer): Record<string, unknown> {
    if (body.length === 0) return {};
    try {
      const v: unknown = JSON.parse(body.toString('utf8'));
      return v && typeof v === 'object' ? (v as Record<string, unknown>) : {};
    } catch {
      return {};
    }
  }

  function stringFields(o: Record<string, unknown>): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(o)) out[k] = typeof v === 'string' ? v : JSON.stringify(v);
    return out;
  }

  /** Region the SDK signed for or addressed; the OIDC verification URL names it. */
  function regionOf(req: IncomingMessage): string {
    return parseAuthorization(headerValue(req.headers, 'authorization'))?.region ?? 'us-east-1';
  }

  function route(req: IncomingMessage, res: ServerResponse, body: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const path = url.pathname;
    const method = req.method ?? 'GET';
    const q = url.searchParams;
    const bearer = headerValue(req.headers, 'x-amz-sso_bearer_token');

    if (path.startsWith('/__fake/')) return control(req, res, body, url);
    if (method === 'GET' && path === '/federation/credentials') {
      const accountId = q.get('account_id') ?? '';
      const roleName = q.get('role_name') ?? '';
      return handleRestJson(
        res,
        'sso',
        'GetRoleCredentials',
        { accountId, roleName },
        () => sso.getRoleCredentials(bearer, accountId, roleName).body,
      );
    }
    if (method === 'GET' && path === '/assignment/accounts') {
      return handleRestJson(res, 'sso', 'ListAccounts', {}, () => sso.listAccounts(bearer));
    }
    if (method === 'GET' && path === '/assignment/roles') {
      const accountId = q.get('account_id') ?? '';
      return handleRestJson(res, 'sso', 'ListAccountRoles', { accountId }, () =>
        sso.listAccountRoles(bearer, accountId),
      );
    }
    if (method === 'POST' && path === '/logout') {
      return handleRestJson(res, 'sso', 'Logout', {}, () => sso.logout(bearer));
    }
    if (method === 'POST' && path === '/client/register') {
      const json = parseJsonBody(body);
      return handleRestJson(res, 'sso-oidc', 'RegisterClient', stringFields(json), () =>
        sso.registerClient(json),
      );
    }
    if (method === 'POST' && path === '/device_authorization') {
      const json = parseJsonBody(body);
      return handleRestJson(res, 'sso-oidc', 'StartDeviceAuthorization', stringFields(json), () =>
        sso.startDeviceAuthorization(json, regionOf(req)),
      );
    }
    if (method === 'POST' && path === '/token') {
      const json = parseJsonBody(body);
      return handleRestJson(res, 'sso-oidc', 'CreateToken', stringFields(json), () =>
        sso.createToken(json),
      );
    }
    if (method === 'GET' && path === '/federation') {
      const action = q.get('Action') ?? '';
      const shown: Record<string, string> = {};
      for (const [k, v] of q) if (k !== 'Action') shown[k] = SECRET_PARAMS.has(k) ? '***' : v;
      try {
        const injected = takeFailure(action, true);
        if (injected) throw injected;
        let out: unknown;
        if (action === 'getSigninToken') out = signin.getSigninToken(q);
        else if (action === 'login') out = signin.login(q);
        else throw new AwsError(400, 'InvalidAction', `Unknown Action ${action}`);
        sendJson(res, 200, out);
        record({ service: 'signin', action, status: 200, params: shown });
      } catch (e) {
        const err = e instanceof AwsError ? e : new AwsError(500, 'InternalFailure', String(e));
        sendJson(res, err.status, { error: err.code, message: err.message });
        record({
          service: 'signin',
          action,
          status: err.status,
          errorCode: err.code,
          params: shown,
        });
      }
      return;
    }
    const contentType = headerValue(req.headers, 'content-type') ?? '';
    if (
      (method === 'POST' &&
        (contentType.includes('x-www-form-urlencoded') || body.includes('Action='))) ||
      q.has('Action')
    ) {
      return handleQuery(req, res, body, url);
    }
    sendJson(res, 404, { message: `fake aws: no route for ${method} ${path}` });
    record({ service: 'unknown', action: `${method} ${path}`, status: 404, params: {} });
  }

  function control(req: IncomingMessage, res: ServerResponse, body: Buffer, url: URL): void {
    const given = Buffer.from(
      (headerValue(req.headers, 'authorization') ?? '').replace(/^Bearer /, ''),
    );
    const expected = Buffer.from(controlToken);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      return sendJson(res, 403, {
        message: 'fake aws: control token required (Authorization: Bearer TOKEN)',
      });
    }
    const json = parseJsonBody(body);
    const str = (k: string) => (typeof json[k] === 'string' ? (json[k] as string) : undefined);
    try {
      switch (`${req.method} ${url.pathname}`) {
        case 'GET /__fake/calls':
          return sendJson(res, 200, { calls });
        case 'POST /__fake/reset':
          fake.reset();
          return sendJson(res, 200, {});
        case 'POST /__fake/advance':
          clock.advance(Number(json.seconds ?? 0));
          return sendJson(res, 200, { now: clock.now() });
        case 'POST /__fake/approve':
          return sendJson(res, 200, {
            approved: fake.approveDeviceAuthorization(str('userCode') ?? 'all'),
          });
        case 'POST /__fake/deny':
          return sendJson(res, 200, {
            denied: fake.denyDeviceAuthorization(str('userCode') ?? 'all'),
          });
        case 'GET /__fake/device-authorizations':
          return sendJson(res, 200, { pending: sso.pendingUserCodes() });
        case 'POST /__fake/fail-next':
          fake.failNext(str('action') ?? '*', json as FailureSpec);
          return sendJson(res, 200, {});
        case 'POST /__fake/users':
          return sendJson(
            res,
            200,
            fake.createUser(str('name') ?? 'user', {
              mfa: json.mfa === true,
              policy: json.policy as UserPolicy,
            }),
          );
        case 'POST /__fake/roles':
          return sendJson(
            res,
            200,
            fake.createRole(str('name') ?? 'role', json.trust as RoleTrust),
          );
        case 'POST /__fake/sso-assign':
          fake.ssoAssign(
            str('accountId') ?? accountId,
            str('roleName') ?? 'Admin',
            str('accountName'),
          );
          return sendJson(res, 200, {});
        case 'GET /__fake/mfa-code':
          return sendJson(res, 200, {
            code: fake.mfaCode(
              url.searchParams.get('user') ?? '',
              Number(url.searchParams.get('offset') ?? 0),
            ),
          });
        case 'POST /__fake/web-identity-token':
          return sendJson(res, 200, { token: fake.webIdentityToken(str('subject') ?? 'subject') });
        case 'POST /__fake/options':
          if (typeof json.rejectReusedMfaCodes === 'boolean')
            world.rejectReusedMfaCodes = json.rejectReusedMfaCodes;
          if (typeof json.newKeyDelayMs === 'number') world.newKeyDelayMs = json.newKeyDelayMs;
          if (typeof json.ssoPollIntervalSeconds === 'number')
            sso.pollIntervalSeconds = json.ssoPollIntervalSeconds;
          return sendJson(res, 200, {});
        default:
          return sendJson(res, 404, {
            message: `fake aws: no control route ${req.method} ${url.pathname}`,
          });
      }
    } catch (e) {
      return sendJson(res, 400, { message: String(e) });
    }
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        route(req, res, Buffer.concat(chunks));
      } catch (e) {
        if (!res.headersSent) sendJson(res, 500, { message: String(e) });
        else res.end();
      }
    });
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  const fake: FakeAws = {
    url: `http://127.0.0.1:${port}`,
    port,
    accountId,
    controlToken,
    clock,
    world,
    sso,
    calls,
    createUser(name, opts = {}) {
      const user = world.createUser(name, opts);
      const key = world.createAccessKey(name);
      return {
        userName: user.name,
        arn: user.arn,
        accessKeyId: key.accessKeyId,
        secretAccessKey: key.secretAccessKey,
        ...(user.mfa ? { mfaSerial: user.mfa.serial, totpSecret: user.mfa.secret } : {}),
      };
    },
    createAccessKey(userName) {
      if (!world.users.has(userName)) throw new Error(`fake aws: no user ${userName}`);
      const key = world.createAccessKey(userName);
      return { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey };
    },
    createRole(nameOrArn, trust) {
      return { arn: world.createRole(nameOrArn, trust).arn };
    },
    mfaCode: (userName, stepOffset) => world.mfaCode(userName, stepOffset),
    webIdentityToken: (subject, ttlSeconds) => webIdentity.issue(subject, clock.now(), ttlSeconds),
    ssoAssign: (acct, roleName, accountName) => sso.assign(acct, roleName, accountName),
    approveDeviceAuthorization: (userCode) => sso.decide(userCode, 'approved'),
    denyDeviceAuthorization: (userCode) => sso.decide(userCode, 'denied'),
    failNext(action, spec = {}) {
      const queue = failures.get(action) ?? [];
      queue.push({
        status: spec.status ?? 400,
        code: spec.code,
        message: spec.message ?? 'Rate exceeded',
        count: spec.count ?? 1,
      });
      failures.set(action, queue);
    },
    count(action, opts = {}) {
      return calls.filter((c) => c.action === action && (!opts.ok || c.status === 200)).length;
    },
    describeCredentials: (accessKeyId) => world.sessions.get(accessKeyId),
    describeSigninToken: (token) => signin.tokens.get(token),
    reset() {
      calls.length = 0;
      failures.clear();
    },
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
  return fake;
}
