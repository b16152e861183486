// STS actions (query protocol, version 2011-06-15) with the rules AWS applies.
// https://docs.aws.amazon.com/STS/latest/APIReference/
import { createHmac, randomBytes } from 'node:crypto';
import { AwsError, isoSeconds, type XmlValue } from './wire.ts';
import {
  actionMatches,
  principalArn,
  type FakeRole,
  type Principal,
  type SessionCredentials,
  type World,
} from './world.ts';

export interface QueryCall {
  world: World;
  action: string;
  params: URLSearchParams;
  /** Undefined only for unsigned actions (AssumeRoleWithWebIdentity). */
  principal: Principal | undefined;
}

export const STS_ACTIONS = new Set([
  'GetSessionToken',
  'AssumeRole',
  'AssumeRoleWithWebIdentity',
  'GetFederationToken',
  'GetCallerIdentity',
]);

/** Actions AWS serves without a signature. */
export const UNSIGNED_ACTIONS = new Set(['AssumeRoleWithWebIdentity', 'AssumeRoleWithSAML']);

function validation(message: string): AwsError {
  return new AwsError(400, 'ValidationError', message);
}

function accessDenied(message: string): AwsError {
  return new AwsError(403, 'AccessDenied', message);
}

function notAuthorized(
  world: World,
  p: Principal,
  action: string,
  resource: string,
  explicit = false,
): AwsError {
  return accessDenied(
    `User: ${principalArn(world, p)} is not authorized to perform: ${action} on resource: ${resource}` +
      (explicit ? ' with an explicit deny in an identity-based policy' : ''),
  );
}

/** DurationSeconds within [min, max], or `fallback` when absent. */
function duration(params: URLSearchParams, min: number, max: number, fallback: number): number {
  const raw = params.get('DurationSeconds');
  if (raw === null || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n))
    throw validation(
      `Value '${raw}' at 'durationSeconds' failed to satisfy constraint: Member must be an integer`,
    );
  if (n < min) {
    throw validation(
      `1 validation error detected: Value '${n}' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to ${min}`,
    );
  }
  if (n > max) {
    throw validation(
      `1 validation error detected: Value '${n}' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to ${max}`,
    );
  }
  return n;
}

function required(params: URLSearchParams, name: string, field: string): string {
  const v = params.get(name);
  if (v === null || v === '') {
    throw validation(
      `1 validation error detected: Value null at '${field}' failed to satisfy constraint: Member must not be null`,
    );
  }
  return v;
}

function checkName(value: string, field: string, min: number, max: number): void {
  if (value.length < min || value.length > max || !/^[\w+=,.@-]*$/.test(value)) {
    throw validation(
      `1 validation error detected: Value '${value}' at '${field}' failed to satisfy constraint: Member must have length between ${min} and ${max} and match [\\w+=,.@-]*`,
    );
  }
}

/** Whether a user's identity policy denies `action`. */
function userDenies(world: World, p: Principal, action: string): boolean {
  const userName = p.kind === 'user' ? p.user.name : p.session.userName;
  const user = userName === undefined ? undefined : world.users.get(userName);
  return !!user?.policy.deny?.some((pattern) => actionMatches(pattern, action));
}

export function credentialsXml(s: SessionCredentials): XmlValue {
  return {
    AccessKeyId: s.accessKeyId,
    SecretAccessKey: s.secretAccessKey,
    SessionToken: s.sessionToken,
    Expiration: isoSeconds(s.expiresAt),
  };
}

/** `Tags.member.N.Key` / `.Value` and `TransitiveTagKeys.member.N`. */
function sessionTags(params: URLSearchParams): {
  tags: Record<string, string>;
  transitive: string[];
} {
  const tags: Record<string, string> = {};
  for (let i = 1; params.has(`Tags.member.${i}.Key`); i++) {
    tags[params.get(`Tags.member.${i}.Key`)!] = params.get(`Tags.member.${i}.Value`) ?? '';
  }
  const transitive: string[] = [];
  for (let i = 1; params.has(`TransitiveTagKeys.member.${i}`); i++) {
    transitive.push(params.get(`TransitiveTagKeys.member.${i}`)!);
  }
  return { tags, transitive };
}

function findRole(
  world: World,
  p: Principal | undefined,
  roleArn: string,
  action: string,
): FakeRole {
  const role = world.roles.get(roleArn);
  if (!role) {
    // AWS does not reveal whether the role exists.
    if (!p) throw accessDenied(`Not authorized to perform ${action}`);
    throw notAuthorized(world, p, action, roleArn);
  }
  return role;
}

/** Names by which a trust policy's principal list can admit the caller. */
function callerNames(world: World, p: Principal): string[] {
  const names = ['*', world.accountId, `arn:aws:iam::${world.accountId}:root`];
  if (p.kind === 'user') return [...names, p.user.name, p.user.arn];
  const s = p.session;
  if (s.kind === 'role') return [...names, s.roleArn!, principalArn(world, p)];
  if (s.kind === 'session-token') {
    const user = world.users.get(s.userName!);
    return user ? [...names, user.name, user.arn] : names;
  }
  return [];
}

export function getCallerIdentity(call: QueryCall): XmlValue {
  const p = call.principal!;
  let userId: string;
  if (p.kind === 'user') userId = p.user.userId;
  else if (p.session.kind === 'role') {
    const role = call.world.roles.get(p.session.roleArn!);
    userId = `${role?.roleId ?? 'AROA'}:${p.session.roleSessionName}`;
  } else if (p.session.kind === 'federation')
    userId = `${p.session.accountId}:${p.session.federatedName}`;
  else userId = call.world.users.get(p.session.userName!)?.userId ?? '';
  const account = p.kind === 'user' ? call.world.accountId : p.session.accountId;
  return { UserId: userId, Account: account, Arn: principalArn(call.world, p) };
}

export function getSessionToken(call: QueryCall): XmlValue {
  const { world, params } = call;
  const p = call.principal!;
  if (p.kind !== 'user') throw accessDenied('Cannot call GetSessionToken with session credentials');
  if (userDenies(world, p, 'sts:GetSessionToken')) {
    throw notAuthorized(world, p, 'sts:GetSessionToken', p.user.arn, true);
  }
  const seconds = duration(params, 900, 129600, 43200);
  const serial = params.get('SerialNumber') ?? undefined;
  const code = params.get('TokenCode') ?? undefined;
  world.checkMfa(serial, code, p.user.name);
  const session = world.issueSession({
    kind: 'session-token',
    expiresAt: world.clock.now() + seconds * 1000,
    userName: p.user.name,
    roleArn: undefined,
    roleSessionName: undefined,
    federatedName: undefined,
    mfaAuthenticated: code !== undefined,
    chained: false,
    sourceIdentity: undefined,
    tags: {},
    transitiveTagKeys: [],
    issuedBy: 'GetSessionToken',
  });
  return { Credentials: credentialsXml(session) };
}

export function assumeRole(call: QueryCall): XmlValue {
  const { world, params } = call;
  const p = call.principal!;
  const roleArn = required(params, 'RoleArn', 'roleArn');
  const sessionName = required(params, 'RoleSessionName', 'roleSessionName');
  checkName(sessionName, 'roleSessionName', 2, 64);
  const role = findRole(world, p, roleArn, 'sts:AssumeRole');
  if (userDenies(world, p, 'sts:AssumeRole'))
    throw notAuthorized(world, p, 'sts:AssumeRole', roleArn, true);

  const chained = p.kind === 'session' && p.session.kind === 'role';
  const seconds = duration(params, 900, 43200, 3600);
  if (chained && seconds > 3600) {
    throw validation(
      'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.',
    );
  }
  if (seconds > (role.trust.maxSessionDuration ?? 3600)) {
    throw validation(
      'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.',
    );
  }

  const serial = params.get('SerialNumber') ?? undefined;
  const code = params.get('TokenCode') ?? undefined;
  const rootUser = p.kind === 'user' ? p.user.name : p.session.userName;
  world.checkMfa(serial, code, rootUser);
  const mfa = code !== undefined || (p.kind === 'session' && p.session.mfaAuthenticated);

  const trust = role.trust;
  const admitted =
    trust.principals === undefined
      ? p.kind === 'user' || p.session.kind !== 'federation'
      : callerNames(world, p).some((n) => trust.principals!.includes(n));
  const externalIdOk =
    trust.externalId === undefined || params.get('ExternalId') === trust.externalId;
  if (!admitted || (trust.requireMfa && !mfa) || !externalIdOk) {
    throw notAuthorized(world, p, 'sts:AssumeRole', roleArn);
  }

  const { tags, transitive } = sessionTags(params);
  const inherited: Record<string, string> = {};
  const inheritedKeys = p.kind === 'session' ? p.session.transitiveTagKeys : [];
  for (const k of inheritedKeys) {
    if (k in tags) {
      throw accessDenied(`Session tag ${k} is transitive and cannot be changed by role chaining`);
    }
    inherited[k] = (p as { session: SessionCredentials }).session.tags[k]!;
  }
  const priorSource = p.kind === 'session' ? p.session.sourceIdentity : undefined;
  const requestedSource = params.get('SourceIdentity') ?? undefined;
  if (
    priorSource !== undefined &&
    requestedSource !== undefined &&
    requestedSource !== priorSource
  ) {
    throw accessDenied('SourceIdentity cannot be changed once set');
  }
  const sourceIdentity = requestedSource ?? priorSource;

  const session = world.issueSession({
    kind: 'role',
    expiresAt: world.clock.now() + seconds * 1000,
    userName: rootUser,
    roleArn,
    roleSessionName: sessionName,
    federatedName: undefined,
    accountId: roleArn.split(':')[4] || world.accountId,
    mfaAuthenticated: mfa,
    chained,
    sourceIdentity,
    tags: { ...inherited, ...tags },
    transitiveTagKeys: [...new Set([...inheritedKeys, ...transitive])],
    issuedBy: 'AssumeRole',
  });
  const tagged = Object.keys(tags).length > 0 || params.has('Policy');
  return {
    Credentials: credentialsXml(session),
    AssumedRoleUser: {
      AssumedRoleId: `${role.roleId}:${sessionName}`,
      Arn: principalArn(world, { kind: 'session', session }),
    },
    PackedPolicySize: tagged ? 6 : undefined,
    SourceIdentity: sourceIdentity,
  };
}

/** Web identity tokens the fake issues: HS256 JWTs signed with a key only it knows. */
export class WebIdentityIssuer {
  private key = randomBytes(32);
  readonly issuer = 'https://oidc.fake-aws.local';

  issue(subject: string, nowMs: number, ttlSeconds = 3600): string {
    const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const head = enc({ alg: 'HS256', typ: 'JWT' });
    const iat = Math.floor(nowMs / 1000);
    const body = enc({
      iss: this.issuer,
      sub: subject,
      aud: 'sts.amazonaws.com',
      iat,
      exp: iat + ttlSeconds,
    });
    const sig = createHmac('sha256', this.key).update(`${head}.${body}`).digest('base64url');
    return `${head}.${body}.${sig}`;
  }

  /** The token's claims, or an AwsError as STS gives for a token it cannot trust. */
  verify(token: string, nowMs: number): { sub: string; aud: string; exp: number } {
    const [head, body, sig] = token.split('.');
    const good =
      head !== undefined &&
      body !== undefined &&
      sig === createHmac('sha256', this.key).update(`${head}.${body}`).digest('base64url');
    if (!good) {
      throw new AwsError(
        400,
        'InvalidIdentityToken',
        "Couldn't retrieve verification key from your identity provider, please reference AssumeRoleWithWebIdentity documentation for requirements",
      );
    }
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString()) as {
      sub: string;
      aud: string;
      exp: number;
    };
    if (claims.exp * 1000 <= nowMs) {
      throw new AwsError(
        400,
        'ExpiredTokenException',
        'Token expired: current date/time must be before the expiration date/time',
      );
    }
    return claims;
  }
}

export function assumeRoleWithWebIdentity(call: QueryCall, issuer: WebIdentityIssuer): XmlValue {
  const { world, params } = call;
  const roleArn = required(params, 'RoleArn', 'roleArn');
  const sessionName = required(params, 'RoleSessionName', 'roleSessionName');
  checkName(sessionName, 'roleSessionName', 2, 64);
  const token = required(params, 'WebIdentityToken', 'webIdentityToken');
  const claims = issuer.verify(token, world.clock.now());
  const role = findRole(world, undefined, roleArn, 'sts:AssumeRoleWithWebIdentity');
  const seconds = duration(params, 900, 43200, 3600);
  if (seconds > (role.trust.maxSessionDuration ?? 3600)) {
    throw validation(
      'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.',
    );
  }
  const allowed =
    role.trust.principals === undefined ||
    role.trust.principals.some(
      (n) => n === '*' || n === 'web-identity:*' || n === `web-identity:${claims.sub}`,
    );
  if (!allowed || role.trust.requireMfa) {
    throw accessDenied('Not authorized to perform sts:AssumeRoleWithWebIdentity');
  }
  const session = world.issueSession({
    kind: 'role',
    expiresAt: world.clock.now() + seconds * 1000,
    userName: undefined,
    roleArn,
    roleSessionName: sessionName,
    federatedName: undefined,
    accountId: roleArn.split(':')[4] || world.accountId,
    mfaAuthenticated: false,
    chained: false,
    sourceIdentity: undefined,
    tags: {},
    transitiveTagKeys: [],
    issuedBy: 'AssumeRoleWithWebIdentity',
  });
  return {
    Credentials: credentialsXml(session),
    SubjectFromWebIdentityToken: claims.sub,
    AssumedRoleUser: {
      AssumedRoleId: `${role.roleId}:${sessionName}`,
      Arn: principalArn(world, { kind: 'session', session }),
    },
    Provider: issuer.issuer,
    Audience: claims.aud,
  };
}

export function getFederationToken(call: QueryCall): XmlValue {
  const { world, params } = call;
  const p = call.principal!;
  if (p.kind !== 'user')
    throw accessDenied('Cannot call GetFederationToken with session credentials');
  const name = required(params, 'Name', 'name');
  checkName(name, 'name', 2, 32);
  const seconds = duration(params, 900, 129600, 43200);
  const federatedArn = `arn:aws:sts::${world.accountId}:federated-user/${name}`;
  // Long-term keys never carry MFA, so a policy that denies this without MFA always bites.
  if (p.user.policy.denyFederationWithoutMfa || userDenies(world, p, 'sts:GetFederationToken')) {
    throw notAuthorized(world, p, 'sts:GetFederationToken', federatedArn, true);
  }
  const session = world.issueSession({
    kind: 'federation',
    expiresAt: world.clock.now() + seconds * 1000,
    userName: p.user.name,
    roleArn: undefined,
    roleSessionName: undefined,
    federatedName: name,
    mfaAuthenticated: false,
    chained: false,
    sourceIdentity: undefined,
    tags: {},
    transitiveTagKeys: [],
    issuedBy: 'GetFederationToken',
  });
  const withPolicy = params.has('Policy') || params.has('PolicyArns.member.1.arn');
  return {
    Credentials: credentialsXml(session),
    FederatedUser: { FederatedUserId: `${world.accountId}:${name}`, Arn: federatedArn },
    PackedPolicySize: withPolicy ? 6 : undefined,
  };
}
