// The state behind the fake: one AWS account's users, access keys, MFA
// devices, roles and the temporary credentials STS has issued, plus a clock
// tests can move forward.
import { randomBytes } from 'node:crypto';
import { matchTotp, newTotpSecret, totpCode, totpStep } from './totp.ts';
import { AwsError } from './wire.ts';

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** `prefix` + n random characters from AWS's id alphabet (AKIA..., ASIA..., AIDA...). */
export function awsId(prefix: string, n: number): string {
  const bytes = randomBytes(n);
  let out = prefix;
  for (const b of bytes) out += ALNUM[b & 31];
  return out;
}

export function newSecretKey(): string {
  return randomBytes(30).toString('base64').replace(/\+/g, 'x').replace(/\//g, 'y');
}

function newSessionToken(): string {
  // Real tokens are opaque base64 blobs of a few hundred characters.
  return 'FwoGZXIvYXdzE' + randomBytes(180).toString('base64');
}

/** Time as the fake sees it: the supplied clock plus whatever tests advanced. */
export class Clock {
  private base: () => number;
  private offsetMs = 0;
  constructor(base: () => number) {
    this.base = base;
  }
  now(): number {
    return this.base() + this.offsetMs;
  }
  /** Makes `seconds` pass at once (credentials expire, TOTP steps move on). */
  advance(seconds: number): void {
    this.offsetMs += seconds * 1000;
  }
}

export interface UserPolicy {
  /** Deny sts:GetFederationToken unless MFA is present: what MFA-enforcing policies do in practice. */
  denyFederationWithoutMfa?: boolean;
  /** Actions (`sts:AssumeRole`, `iam:CreateAccessKey`, `iam:*`) this user may never call. */
  deny?: string[];
}

export interface MfaDevice {
  serial: string;
  secret: string;
  /** Time steps whose code was already accepted (AWS refuses a code twice). */
  usedSteps: Set<number>;
}

export interface AccessKey {
  accessKeyId: string;
  secretAccessKey: string;
  userName: string;
  status: 'Active' | 'Inactive';
  createdAt: number;
  /** Real-clock ms before which STS does not accept the key yet (IAM's eventual consistency). */
  usableAfterMs: number;
}

export interface FakeUser {
  name: string;
  arn: string;
  userId: string;
  createdAt: number;
  mfa: MfaDevice | undefined;
  policy: UserPolicy;
}

export interface RoleTrust {
  /** User names, user ARNs, role ARNs, an account id, `web-identity:SUBJECT`, or `*`; default: the account. */
  principals?: string[];
  /** The caller must have signed in with MFA (`aws:MultiFactorAuthPresent`). */
  requireMfa?: boolean;
  /** `sts:ExternalId` the caller must send. */
  externalId?: string;
  /** Seconds, 3600..43200; default 3600 as in IAM. */
  maxSessionDuration?: number;
}

export interface FakeRole {
  name: string;
  arn: string;
  roleId: string;
  trust: RoleTrust;
}

export type SessionKind = 'session-token' | 'role' | 'federation';

/** Temporary credentials STS (or the SSO portal) has issued. */
export interface SessionCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiresAt: number;
  kind: SessionKind;
  /** The IAM user at the root of the chain, when there is one. */
  userName: string | undefined;
  roleArn: string | undefined;
  roleSessionName: string | undefined;
  federatedName: string | undefined;
  accountId: string;
  mfaAuthenticated: boolean;
  /** Issued by AssumeRole to a caller that itself held role credentials. */
  chained: boolean;
  sourceIdentity: string | undefined;
  tags: Record<string, string>;
  transitiveTagKeys: string[];
  issuedBy: string;
}

export type Principal =
  | { kind: 'user'; user: FakeUser; key: AccessKey }
  | { kind: 'session'; session: SessionCredentials };

export class World {
  readonly accountId: string;
  readonly clock: Clock;
  readonly users = new Map<string, FakeUser>();
  /** By access key id. */
  readonly keys = new Map<string, AccessKey>();
  readonly roles = new Map<string, FakeRole>();
  /** By access key id. */
  readonly sessions = new Map<string, SessionCredentials>();
  /** Refuse an MFA code that the same device already used (AWS does). */
  rejectReusedMfaCodes = true;
  /** Milliseconds of real time before a key made by CreateAccessKey works with STS. */
  newKeyDelayMs = 0;

  constructor(accountId: string, clock: Clock) {
    this.accountId = accountId;
    this.clock = clock;
  }

  createUser(name: string, opts: { mfa?: boolean; policy?: UserPolicy } = {}): FakeUser {
    if (this.users.has(name)) throw new Error(`fake aws: user ${name} already exists`);
    const arn = `arn:aws:iam::${this.accountId}:user/${name}`;
    const user: FakeUser = {
      name,
      arn,
      userId: awsId('AIDA', 17),
      createdAt: this.clock.now(),
      mfa: opts.mfa
        ? {
            serial: `arn:aws:iam::${this.accountId}:mfa/${name}`,
            secret: newTotpSecret(),
            usedSteps: new Set(),
          }
        : undefined,
      policy: opts.policy ?? {},
    };
    this.users.set(name, user);
    return user;
  }

  createAccessKey(userName: string, usableAfterMs = 0): AccessKey {
    const key: AccessKey = {
      accessKeyId: awsId('AKIA', 16),
      secretAccessKey: newSecretKey(),
      userName,
      status: 'Active',
      createdAt: this.clock.now(),
      usableAfterMs,
    };
    this.keys.set(key.accessKeyId, key);
    return key;
  }

  keysOf(userName: string): AccessKey[] {
    return [...this.keys.values()].filter((k) => k.userName === userName);
  }

  createRole(nameOrArn: string, trust: RoleTrust = {}): FakeRole {
    const arn = nameOrArn.startsWith('arn:')
      ? nameOrArn
      : `arn:aws:iam::${this.accountId}:role/${nameOrArn}`;
    const name = arn.slice(arn.lastIndexOf('/') + 1);
    const role: FakeRole = { name, arn, roleId: awsId('AROA', 17), trust };
    this.roles.set(arn, role);
    return role;
  }

  issueSession(
    fields: Omit<
      SessionCredentials,
      'accessKeyId' | 'secretAccessKey' | 'sessionToken' | 'accountId'
    > & {
      accountId?: string;
    },
  ): SessionCredentials {
    const session: SessionCredentials = {
      ...fields,
      accountId: fields.accountId ?? this.accountId,
      accessKeyId: awsId('ASIA', 16),
      secretAccessKey: newSecretKey(),
      sessionToken: newSessionToken(),
    };
    this.sessions.set(session.accessKeyId, session);
    return session;
  }

  /** The secret to check a signature with, or an AwsError saying why the key is refused. */
  secretFor(accessKeyId: string): string {
    const key = this.keys.get(accessKeyId);
    if (key) return key.secretAccessKey;
    const session = this.sessions.get(accessKeyId);
    if (session) return session.secretAccessKey;
    throw invalidToken();
  }

  /**
   * Who signed: checks the key is active, the session token matches and the
   * session has not expired (by the fake clock).
   */
  principalFor(accessKeyId: string, sessionToken: string | undefined): Principal {
    const key = this.keys.get(accessKeyId);
    if (key) {
      const user = this.users.get(key.userName);
      if (!user || key.status !== 'Active' || Date.now() < key.usableAfterMs) throw invalidToken();
      if (sessionToken !== undefined) throw invalidToken();
      return { kind: 'user', user, key };
    }
    const session = this.sessions.get(accessKeyId);
    if (!session || sessionToken !== session.sessionToken) throw invalidToken();
    if (this.clock.now() >= session.expiresAt) {
      throw new AwsError(
        400,
        'ExpiredToken',
        'The security token included in the request is expired',
      );
    }
    return { kind: 'session', session };
  }

  /**
   * Checks an MFA code for `serial` against the device's TOTP secret at the
   * fake clock; `expectedUser` limits the device to that user's.
   */
  checkMfa(
    serial: string | undefined,
    code: string | undefined,
    expectedUser: string | undefined,
  ): void {
    if (serial === undefined && code === undefined) return;
    if (code === undefined || serial === undefined) {
      throw new AwsError(
        403,
        'AccessDenied',
        'MultiFactorAuthentication failed, unable to validate MFA code. Please verify your MFA serial number is valid and associated with this user.',
      );
    }
    if (!/^\d{6}$/.test(code)) {
      throw new AwsError(
        400,
        'ValidationError',
        "1 validation error detected: Value at 'tokenCode' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\d]*",
      );
    }
    const owner = [...this.users.values()].find((u) => u.mfa?.serial === serial);
    if (!owner || !owner.mfa || (expectedUser !== undefined && owner.name !== expectedUser)) {
      throw new AwsError(
        403,
        'AccessDenied',
        'MultiFactorAuthentication failed, unable to validate MFA code. Please verify your MFA serial number is valid and associated with this user.',
      );
    }
    const step = matchTotp(owner.mfa.secret, code, this.clock.now());
    if (step === undefined || (this.rejectReusedMfaCodes && owner.mfa.usedSteps.has(step))) {
      throw new AwsError(
        403,
        'AccessDenied',
        'MultiFactorAuthentication failed with invalid MFA one time pass code. ',
      );
    }
    owner.mfa.usedSteps.add(step);
  }

  /** The current code of a user's MFA device at the fake clock; `stepOffset` picks a neighbour step. */
  mfaCode(userName: string, stepOffset = 0): string {
    const device = this.users.get(userName)?.mfa;
    if (!device) throw new Error(`fake aws: user ${userName} has no MFA device`);
    return totpCode(device.secret, (totpStep(this.clock.now()) + stepOffset) * 30_000);
  }
}

export function invalidToken(): AwsError {
  return new AwsError(
    403,
    'InvalidClientTokenId',
    'The security token included in the request is invalid.',
  );
}

/** `sts:AssumeRole` matches `sts:AssumeRole`, `sts:*` and `*`. */
export function actionMatches(pattern: string, action: string): boolean {
  if (pattern === '*' || pattern === action) return true;
  return pattern.endsWith(':*') && action.startsWith(pattern.slice(0, -1));
}

/** The ARN a principal shows in GetCallerIdentity and in AccessDenied messages. */
export function principalArn(world: World, p: Principal): string {
  if (p.kind === 'user') return p.user.arn;
  const s = p.session;
  if (s.kind === 'role') {
    const roleName = s.roleArn!.slice(s.roleArn!.lastIndexOf('/') + 1);
    return `arn:aws:sts::${s.accountId}:assumed-role/${roleName}/${s.roleSessionName}`;
  }
  if (s.kind === 'federation')
    return `arn:aws:sts::${s.accountId}:federated-user/${s.federatedName}`;
  return world.users.get(s.userName!)?.arn ?? `arn:aws:iam::${s.accountId}:user/${s.userName}`;
}
