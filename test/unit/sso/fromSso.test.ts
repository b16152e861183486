import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { SsoApi } from '../../../src/aws/sso.ts';
import type { ProfileConfig } from '../../../src/config/types.ts';
import type { EngineDeps } from '../../../src/credentials/engineDeps.ts';
import { fromSso, ssoSettingsOf } from '../../../src/credentials/fromSso.ts';
import { MemoryBackend } from '../../../src/keyring/memoryBackend.ts';
import { OidcTokenStore } from '../../../src/keyring/oidcTokenStore.ts';
import { SessionStore } from '../../../src/keyring/sessionStore.ts';

const START = 'https://corp.awsapps.com/start';

function profile(extra: Partial<ProfileConfig> = {}): ProfileConfig {
  return {
    name: 'dev',
    file: '/tmp/config',
    ssoStartUrl: START,
    ssoRegion: 'eu-west-1',
    ssoAccountId: '111122223333',
    ssoRoleName: 'Admin',
    serviceEndpoints: {},
    sessionTags: {},
    transitiveSessionTags: [],
    noSession: false,
    assumeRoleDuration: 3600,
    sessionTokenDuration: 3600,
    chainedSessionTokenDuration: 28800,
    federationTokenDuration: 3600,
    minTtl: 300,
    ...extra,
  };
}

/** An IAM Identity Center in memory whose clock the test moves. */
function harness(options: { refresh?: boolean } = {}) {
  let now = Date.UTC(2030, 0, 1);
  const calls: string[] = [];
  const valid = new Set<string>();
  let n = 0;
  const api: SsoApi = {
    async registerClient({ scopes }) {
      calls.push(`RegisterClient ${scopes?.join(' ') ?? ''}`.trim());
      return { clientId: 'cid', clientSecret: 'cs', expiresAt: new Date(now + 90 * 86400_000) };
    },
    async startDeviceAuthorization() {
      calls.push('StartDeviceAuthorization');
      return {
        deviceCode: 'dc',
        userCode: 'WXYZ-ABCD',
        verificationUri: 'https://device/',
        verificationUriComplete: 'https://device/?user_code=WXYZ-ABCD',
        expiresIn: 600,
        interval: 1,
      };
    },
    async createTokenFromDeviceCode() {
      calls.push('CreateToken(device)');
      n += 1;
      valid.add(`at${n}`);
      return {
        accessToken: `at${n}`,
        expiresAt: new Date(now + 8 * 3600_000),
        ...(options.refresh ? { refreshToken: `rt${n}` } : {}),
      };
    },
    async createTokenFromRefreshToken({ refreshToken }) {
      calls.push(`CreateToken(refresh ${refreshToken})`);
      n += 1;
      valid.add(`at${n}`);
      return { accessToken: `at${n}`, expiresAt: new Date(now + 8 * 3600_000) };
    },
    async getRoleCredentials({ accessToken, roleName }) {
      calls.push(`GetRoleCredentials ${accessToken} ${roleName}`);
      if (!valid.has(accessToken)) {
        throw Object.assign(new Error('Session token not found or invalid'), {
          name: 'UnauthorizedException',
          $metadata: { httpStatusCode: 401 },
        });
      }
      return {
        accessKeyId: `ASIA${n}`,
        secretAccessKey: 'secret',
        sessionToken: 'token',
        expiration: new Date(now + 3600_000),
      };
    },
  };
  const backend = new MemoryBackend();
  const clock = () => now;
  const sessions = new SessionStore(backend, { now: clock });
  const oidcTokens = new OidcTokenStore(backend, { now: clock });
  const opened: string[] = [];
  const stderr = new PassThrough();
  const locks: string[] = [];
  const deps: EngineDeps = {
    credentials: { get: async () => undefined },
    sessions,
    oidcTokens,
    lockDir: '/nonexistent',
    env: {},
    debug: () => {},
    mfaPrompt: async () => {
      throw new Error('no MFA for SSO');
    },
    withLock: async (_dir, name, fn) => {
      locks.push(name);
      return fn();
    },
  };
  const hooks = {
    api,
    stderr,
    now: clock,
    sleep: async (ms: number) => {
      now += ms;
    },
    openBrowser: async (url: string) => {
      opened.push(url);
      return true;
    },
  };
  return {
    calls,
    opened,
    locks,
    deps,
    hooks,
    backend,
    sessions,
    oidcTokens,
    advance: (s: number) => (now += s * 1000),
    revokeAll: () => valid.clear(),
  };
}

describe('ssoSettingsOf', () => {
  it('names every missing setting and the sso-session', () => {
    expect(() =>
      ssoSettingsOf(profile({ ssoRegion: undefined, ssoRoleName: '', ssoSession: 'corp' })),
    ).toThrow(
      'profile dev (sso_session corp): SSO needs sso_region (in the profile or its [sso-session corp] section) and sso_role_name (in the profile) in /tmp/config',
    );
    expect(() => ssoSettingsOf(profile({ ssoStartUrl: undefined }))).toThrow(
      'profile dev: SSO needs sso_start_url in /tmp/config',
    );
  });
});

describe('fromSso', () => {
  it('signs in once, then reuses the cached role credentials and token', async () => {
    const h = harness();
    const creds = await fromSso(profile(), h.deps, h.hooks)();
    expect(creds.accessKeyId).toBe('ASIA1');
    expect(h.opened).toEqual(['https://device/?user_code=WXYZ-ABCD']);
    expect(h.calls).toEqual([
      'RegisterClient',
      'StartDeviceAuthorization',
      'CreateToken(device)',
      'GetRoleCredentials at1 Admin',
    ]);
    // Second call: the session cache answers.
    const again = await fromSso(profile(), h.deps, h.hooks)();
    expect(again.accessKeyId).toBe('ASIA1');
    expect(h.calls).toHaveLength(4);
    const sessions = await h.sessions.list();
    expect(sessions.map((s) => [s.type, s.profileName, s.mfaSerial])).toEqual([
      ['sso.GetRoleCredentials', 'dev', START],
    ]);
    expect(await h.oidcTokens.list()).toEqual([START]);
    // Another role with the same start URL reuses the token: no browser.
    await fromSso(profile({ name: 'other', ssoRoleName: 'ReadOnly' }), h.deps, h.hooks)();
    expect(h.opened).toHaveLength(1);
    expect(h.calls.at(-1)).toBe('GetRoleCredentials at1 ReadOnly');
  });

  it('prints the link instead of opening a browser with --stdout', async () => {
    const h = harness();
    let text = '';
    h.hooks.stderr.on('data', (d: Buffer) => (text += d.toString()));
    await fromSso(profile(), { ...h.deps, ssoUseStdout: true }, h.hooks)();
    expect(h.opened).toEqual([]);
    expect(text).toContain('https://device/?user_code=WXYZ-ABCD');
  });

  it('refreshes an expired token with its refresh token instead of the browser', async () => {
    const h = harness({ refresh: true });
    const p = profile({ ssoRegistrationScopes: ['sso:account:access'] });
    await fromSso(p, h.deps, h.hooks)();
    expect(h.calls[0]).toBe('RegisterClient sso:account:access');
    h.advance(9 * 3600);
    const creds = await fromSso(p, h.deps, h.hooks)();
    expect(creds.accessKeyId).toBe('ASIA2');
    expect(h.opened).toHaveLength(1);
    expect(h.calls.slice(-2)).toEqual(['CreateToken(refresh rt1)', 'GetRoleCredentials at2 Admin']);
    const stored = await h.oidcTokens.get(START);
    expect(stored?.accessToken).toBe('at2');
    expect(stored?.refreshToken).toBe('rt1');
  });

  it('signs in again when the token expired and there is no refresh token', async () => {
    const h = harness();
    await fromSso(profile(), h.deps, h.hooks)();
    h.advance(9 * 3600);
    await fromSso(profile(), h.deps, h.hooks)();
    expect(h.opened).toHaveLength(2);
    expect(
      h.locks.every((l) => l.startsWith('oidc,') || l.startsWith('sso.GetRoleCredentials')),
    ).toBe(true);
  });

  it('signs in again when SSO rejects a cached token', async () => {
    const h = harness();
    await fromSso(profile(), h.deps, h.hooks)();
    h.revokeAll();
    await h.sessions.removeForProfile('dev');
    const creds = await fromSso(profile(), h.deps, h.hooks)();
    expect(creds.accessKeyId).toBe('ASIA2');
    expect(h.opened).toHaveLength(2);
    // The client registration (valid 90 days) is reused for the new sign-in.
    expect(h.calls.filter((c) => c.startsWith('RegisterClient'))).toHaveLength(1);
    expect(h.calls.filter((c) => c === 'StartDeviceAuthorization')).toHaveLength(2);
  });

  it('registers a new client when the stored one is refused, or was made for another sso_region', async () => {
    const invalid = () =>
      Object.assign(new Error('Invalid client'), {
        name: 'InvalidClientException',
        $metadata: { httpStatusCode: 400 },
      });
    const registrations = (h: ReturnType<typeof harness>) =>
      h.calls.filter((c) => c.startsWith('RegisterClient')).length;

    // The refresh token's client is refused: the sign-in registers anew.
    const a = harness({ refresh: true });
    await fromSso(profile(), a.deps, a.hooks)();
    a.advance(9 * 3600);
    a.hooks.api.createTokenFromRefreshToken = async () => {
      throw invalid();
    };
    expect((await fromSso(profile(), a.deps, a.hooks)()).accessKeyId).toBe('ASIA2');
    expect(registrations(a)).toBe(2);

    // The sign-in with the stored client is refused: once more with a new one.
    const b = harness();
    await fromSso(profile(), b.deps, b.hooks)();
    b.revokeAll();
    await b.sessions.removeForProfile('dev');
    const start = b.hooks.api.startDeviceAuthorization.bind(b.hooks.api);
    let refuse = true;
    b.hooks.api.startDeviceAuthorization = async (input) => {
      if (refuse) {
        refuse = false;
        throw invalid();
      }
      return start(input);
    };
    expect((await fromSso(profile(), b.deps, b.hooks)()).accessKeyId).toBe('ASIA2');
    expect(registrations(b)).toBe(2);

    // An edited sso_region: the client of the old one is not used.
    const c = harness({ refresh: true });
    await fromSso(profile(), c.deps, c.hooks)();
    c.advance(9 * 3600);
    await fromSso(profile({ ssoRegion: 'us-east-2' }), c.deps, c.hooks)();
    expect(registrations(c)).toBe(2);
    expect(c.calls.some((call) => call.startsWith('CreateToken(refresh'))).toBe(false);
  });

  it('explains a role the user is not assigned to', async () => {
    const h = harness();
    h.hooks.api.getRoleCredentials = async () => {
      throw Object.assign(new Error('No access'), { name: 'ForbiddenException' });
    };
    await expect(fromSso(profile(), h.deps, h.hooks)()).rejects.toThrow(
      /profile dev: IAM Identity Center refused role Admin in account 111122223333 .*ForbiddenException/,
    );
  });
});
