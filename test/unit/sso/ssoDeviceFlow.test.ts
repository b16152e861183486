import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { SsoApi } from '../../../src/aws/sso.ts';
import { runDeviceFlow } from '../../../src/credentials/ssoDeviceFlow.ts';

function fakeApi(outcomes: Array<string | 'ok'>, interval = 5) {
  const calls: string[] = [];
  let now = 0;
  const api: SsoApi = {
    async registerClient({ scopes }) {
      calls.push(`register ${scopes?.join(',') ?? ''}`);
      return { clientId: 'cid', clientSecret: 'csecret', expiresAt: new Date(9e12) };
    },
    async startDeviceAuthorization({ startUrl }) {
      calls.push(`start ${startUrl}`);
      return {
        deviceCode: 'dev',
        userCode: 'ABCD-EFGH',
        verificationUri: 'https://device.example/',
        verificationUriComplete: 'https://device.example/?user_code=ABCD-EFGH',
        expiresIn: 60,
        interval,
      };
    },
    async createTokenFromDeviceCode() {
      calls.push(`poll@${now / 1000}`);
      const next = outcomes.shift() ?? 'AuthorizationPendingException';
      if (next === 'ok') {
        return { accessToken: 'at', expiresAt: new Date(now + 3600_000), refreshToken: 'rt' };
      }
      throw Object.assign(new Error(next), { name: next });
    },
    async createTokenFromRefreshToken() {
      throw new Error('unused');
    },
    async getRoleCredentials() {
      throw new Error('unused');
    },
  };
  const stderr = new PassThrough();
  let text = '';
  stderr.on('data', (d: Buffer) => (text += d.toString()));
  const options = {
    api,
    startUrl: 'https://corp.awsapps.com/start',
    stderr,
    debug: () => {},
    sleep: async (ms: number) => {
      now += ms;
    },
    now: () => now,
  };
  return { api, calls, options, stderr: () => text };
}

describe('runDeviceFlow', () => {
  it('opens the verification page and polls at the server interval', async () => {
    const f = fakeApi(['AuthorizationPendingException', 'AuthorizationPendingException', 'ok'], 2);
    const opened: string[] = [];
    const result = await runDeviceFlow({
      ...f.options,
      scopes: ['sso:account:access'],
      openBrowser: async (url) => {
        opened.push(url);
        return true;
      },
    });
    expect(result.token.accessToken).toBe('at');
    expect(result.token.refreshToken).toBe('rt');
    expect(result.client.clientId).toBe('cid');
    expect(opened).toEqual(['https://device.example/?user_code=ABCD-EFGH']);
    expect(f.calls).toEqual([
      'register sso:account:access',
      'start https://corp.awsapps.com/start',
      'poll@2',
      'poll@4',
      'poll@6',
    ]);
    expect(f.stderr()).toContain('ABCD-EFGH');
  });

  it('adds 5s to the interval on slow_down', async () => {
    const f = fakeApi(['SlowDownException', 'AuthorizationPendingException', 'ok'], 1);
    await runDeviceFlow(f.options);
    expect(f.calls.slice(2)).toEqual(['poll@1', 'poll@7', 'poll@13']);
  });

  it('prints URL and code when there is no browser', async () => {
    const f = fakeApi(['ok']);
    await runDeviceFlow(f.options);
    expect(f.stderr()).toContain('https://device.example/?user_code=ABCD-EFGH');
    expect(f.stderr()).toContain('open https://device.example/ and enter the code: ABCD-EFGH');
  });

  it('tells the user when the browser could not be opened', async () => {
    const f = fakeApi(['ok']);
    await runDeviceFlow({ ...f.options, openBrowser: async () => false });
    expect(f.stderr()).toMatch(
      /Could not open a browser: open https:\/\/device.example\/ and enter the code ABCD-EFGH/,
    );
  });

  it('explains a denial', async () => {
    const f = fakeApi(['AccessDeniedException']);
    await expect(runDeviceFlow(f.options)).rejects.toThrow(/was denied in the browser/);
  });

  it('explains an expired code from the server', async () => {
    const f = fakeApi(['ExpiredTokenException']);
    await expect(runDeviceFlow(f.options)).rejects.toThrow(
      /ABCD-EFGH .* expired before it was approved/,
    );
  });

  it('stops polling at the code expiry even if the server keeps saying pending', async () => {
    const f = fakeApi([]);
    await expect(runDeviceFlow(f.options)).rejects.toThrow(
      /expired before it was approved.*within 1 minute/,
    );
    expect(f.calls.length).toBeLessThanOrEqual(2 + 12);
  });

  it('reports other errors', async () => {
    const f = fakeApi(['InvalidClientException']);
    await expect(runDeviceFlow(f.options)).rejects.toThrow(
      /failed while waiting for approval: InvalidClientException/,
    );
  });
});

describe('runDeviceFlow on a terminal', () => {
  it('shows a spinner with the code while waiting, and clears it', async () => {
    const f = fakeApi(['AuthorizationPendingException', 'ok']);
    const tty = Object.assign(new PassThrough(), { isTTY: true });
    let text = '';
    tty.on('data', (d: Buffer) => (text += d.toString()));
    await runDeviceFlow({ ...f.options, stderr: tty });
    expect(text).toMatch(/\r. Waiting for approval in the browser \(code ABCD-EFGH\)/);
    expect(text.endsWith('\r\u001b[2K')).toBe(true);
  });
});
