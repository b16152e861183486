// The console federation endpoint (https://signin.aws.amazon.com/federation):
// `Action=getSigninToken` trades temporary credentials for a sign-in token,
// `Action=login` is the URL the browser opens.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_providers_enable-console-custom-url.html
import { randomBytes } from 'node:crypto';
import { AwsError } from './wire.ts';
import { principalArn, type World } from './world.ts';

export interface SigninToken {
  token: string;
  accessKeyId: string;
  arn: string;
  sessionDurationSeconds: number | undefined;
  issuedAt: number;
}

/** Sign-in tokens are good for 15 minutes. */
const TOKEN_TTL_MS = 15 * 60 * 1000;

export class SigninService {
  readonly world: World;
  readonly tokens = new Map<string, SigninToken>();

  constructor(world: World) {
    this.world = world;
  }

  getSigninToken(query: URLSearchParams): { SigninToken: string } {
    let session: { sessionId?: string; sessionKey?: string; sessionToken?: string };
    try {
      session = JSON.parse(query.get('Session') ?? '') as typeof session;
    } catch {
      throw new AwsError(400, 'InvalidRequest', 'Session must be a JSON document');
    }
    const found = this.world.sessions.get(session.sessionId ?? '');
    if (
      !found ||
      found.secretAccessKey !== session.sessionKey ||
      found.sessionToken !== session.sessionToken
    ) {
      throw new AwsError(
        400,
        'InvalidRequest',
        'The credentials in Session are not valid temporary credentials',
      );
    }
    if (this.world.clock.now() >= found.expiresAt) {
      throw new AwsError(400, 'ExpiredToken', 'The credentials in Session have expired');
    }
    // The console takes role and federated-user sessions, not GetSessionToken ones.
    if (found.kind === 'session-token') {
      throw new AwsError(
        400,
        'InvalidRequest',
        'Credentials from GetSessionToken cannot sign in to the console',
      );
    }
    const rawDuration = query.get('SessionDuration');
    let sessionDurationSeconds: number | undefined;
    if (rawDuration !== null) {
      sessionDurationSeconds = Number(rawDuration);
      if (
        !Number.isInteger(sessionDurationSeconds) ||
        sessionDurationSeconds < 900 ||
        sessionDurationSeconds > 43200
      ) {
        throw new AwsError(
          400,
          'InvalidRequest',
          'SessionDuration must be between 900 and 43200 seconds',
        );
      }
    }
    const token = randomBytes(120).toString('base64url');
    this.tokens.set(token, {
      token,
      accessKeyId: found.accessKeyId,
      arn: principalArn(this.world, { kind: 'session', session: found }),
      sessionDurationSeconds,
      issuedAt: this.world.clock.now(),
    });
    return { SigninToken: token };
  }

  /** What the console would do with the login URL: who gets signed in, and where to. */
  login(query: URLSearchParams): { signedInAs: string; destination: string; issuer: string } {
    const t = this.tokens.get(query.get('SigninToken') ?? '');
    if (!t || this.world.clock.now() - t.issuedAt > TOKEN_TTL_MS) {
      throw new AwsError(400, 'InvalidSigninToken', 'The sign-in token is invalid or has expired');
    }
    const destination = query.get('Destination');
    if (!destination) throw new AwsError(400, 'InvalidRequest', 'Destination is required');
    return { signedInAs: t.arn, destination, issuer: query.get('Issuer') ?? '' };
  }
}
