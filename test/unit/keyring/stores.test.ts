import { describe, expect, it } from 'vitest';
import { DamagedItemError } from '../../../src/keyring/backend.ts';
import { CredentialStore } from '../../../src/keyring/credentialStore.ts';
import { MemoryBackend } from '../../../src/keyring/memoryBackend.ts';
import { OidcTokenStore } from '../../../src/keyring/oidcTokenStore.ts';
import {
  formatSessionKey,
  isSessionKey,
  parseSessionKey,
  SessionStore,
} from '../../../src/keyring/sessionStore.ts';

const NOW = Date.UTC(2026, 0, 1, 12, 0, 0);
const at = (secondsFromNow: number) => new Date(NOW + secondsFromNow * 1000);
const creds = (id: string, expiresIn: number) => ({
  accessKeyId: id,
  secretAccessKey: `secret-${id}`,
  sessionToken: `token-${id}`,
  expiration: at(expiresIn),
});

describe('memory backend', () => {
  it('keeps the Backend contract', async () => {
    const b = new MemoryBackend();
    await b.set('team/dev ü', 'v');
    expect(await b.get('team/dev ü')).toBe('v');
    expect(await b.keys()).toEqual(['team/dev ü']);
    await b.remove('team/dev ü');
    await b.remove('team/dev ü');
    expect(await b.get('team/dev ü')).toBeUndefined();
  });
});

describe('session keys', () => {
  it('are formatted exactly like the Go aws-vault', () => {
    expect(
      formatSessionKey(
        {
          type: 'sts.GetSessionToken',
          profileName: 'prod',
          mfaSerial: 'arn:aws:iam::123456789012:mfa/jane',
        },
        new Date(1700000000_000),
      ),
    ).toBe('sts.GetSessionToken,cHJvZA,YXJuOmF3czppYW06OjEyMzQ1Njc4OTAxMjptZmEvamFuZQ,1700000000');
    expect(
      formatSessionKey(
        { type: 'sts.AssumeRole', profileName: 'team/dev prod' },
        new Date(1700000000_500),
      ),
    ).toBe('sts.AssumeRole,dGVhbS9kZXYgcHJvZA,,1700000000');
  });

  it('round-trip, and reject what Go would not parse', () => {
    const key = 'sso.GetRoleCredentials,w7xuaQ,,1800000000';
    expect(parseSessionKey(key)).toEqual({
      type: 'sso.GetRoleCredentials',
      profileName: 'üni',
      mfaSerial: '',
      expiration: new Date(1800000000_000),
      key,
    });
    expect(parseSessionKey('sts.GetSessionToken,,,1')).toBeUndefined();
    expect(parseSessionKey('sts.GetSessionToken,cHJvZA==,,1')).toBeUndefined();
    expect(parseSessionKey('prod')).toBeUndefined();
    expect(isSessionKey('session,cHJvZA,,1500000000')).toBe(true); // v5 format
    expect(isSessionKey('prod session (1500000000)')).toBe(true); // v4 format
    expect(isSessionKey('prod')).toBe(false);
  });
});

describe('SessionStore', () => {
  const meta = { type: 'sts.GetSessionToken', profileName: 'prod', mfaSerial: 'arn:mfa' };

  it('stores Go-compatible JSON and returns the credentials', async () => {
    const backend = new MemoryBackend();
    const store = new SessionStore(backend, { now: () => NOW });
    await store.set(meta, creds('A', 3600));
    const [key] = await backend.keys();
    expect(key).toBe(formatSessionKey(meta, at(3600)));
    expect(JSON.parse((await backend.get(key as string)) as string)).toEqual({
      AccessKeyId: 'A',
      Expiration: '2026-01-01T13:00:00Z',
      SecretAccessKey: 'secret-A',
      SessionToken: 'token-A',
    });
    expect(await store.get(meta, 300)).toEqual(creds('A', 3600));
    expect(await store.get({ ...meta, mfaSerial: '' }, 0)).toBeUndefined();
    expect(await store.get({ ...meta, profileName: 'other' }, 0)).toBeUndefined();
  });

  it('reads sessions the Go aws-vault wrote', async () => {
    const backend = new MemoryBackend({
      'sts.AssumeRole,cHJvZA,,1767272400':
        '{"AccessKeyId":"ASIAGO","Expiration":"2026-01-01T13:00:00.123456789Z","SecretAccessKey":"s","SessionToken":"t"}',
    });
    const got = await new SessionStore(backend, { now: () => NOW }).get(
      { type: 'sts.AssumeRole', profileName: 'prod' },
      60,
    );
    expect(got?.accessKeyId).toBe('ASIAGO');
    expect(got?.expiration?.toISOString()).toBe('2026-01-01T13:00:00.123Z');
  });

  it('honours the minimum TTL, picks the freshest, and prunes expired sessions', async () => {
    const backend = new MemoryBackend();
    let now = NOW;
    const store = new SessionStore(backend, { now: () => now });
    await store.set(meta, creds('OLD', 600));
    expect(await store.get(meta, 300)).toMatchObject({ accessKeyId: 'OLD' });
    expect(await store.get(meta, 900)).toBeUndefined(); // less than min TTL left
    await backend.set(
      formatSessionKey(meta, at(7200)),
      JSON.stringify({
        AccessKeyId: 'NEW',
        SecretAccessKey: 's',
        SessionToken: 't',
        Expiration: at(7200).toISOString(),
      }),
    );
    expect(await store.get(meta, 300)).toMatchObject({ accessKeyId: 'NEW' });
    await backend.set('sts.AssumeRole,b3RoZXI,,1', '{}'); // long expired, another profile
    now = NOW + 700_000;
    await store.get(meta, 0);
    expect(await backend.keys()).toEqual([formatSessionKey(meta, at(7200))]);
  });

  it('replaces older sessions of the same kind, keeps other kinds', async () => {
    const backend = new MemoryBackend({ prod: '{}' });
    const store = new SessionStore(backend, { now: () => NOW });
    await store.set(meta, creds('A', 600));
    await store.set(meta, creds('B', 3600));
    await store.set({ ...meta, type: 'sts.AssumeRole' }, creds('C', 900));
    await store.set({ ...meta, mfaSerial: '' }, creds('D', 900));
    const list = await store.list();
    expect(
      list.map((s) => s.type + ':' + s.mfaSerial + ':' + s.expiration.toISOString()).sort(),
    ).toEqual([
      'sts.AssumeRole:arn:mfa:2026-01-01T12:15:00.000Z',
      'sts.GetSessionToken::2026-01-01T12:15:00.000Z',
      'sts.GetSessionToken:arn:mfa:2026-01-01T13:00:00.000Z',
    ]);
    expect(await store.get(meta, 0)).toMatchObject({ accessKeyId: 'B' });
  });

  it('drops unreadable session values instead of failing', async () => {
    const key = formatSessionKey(meta, at(3600));
    const backend = new MemoryBackend({ [key]: 'not json' });
    expect(await new SessionStore(backend, { now: () => NOW }).get(meta, 0)).toBeUndefined();
    expect(await backend.keys()).toEqual([]);
  });

  it('uses a session only for what it was asked for; a Go-written one for any', async () => {
    const role = { type: 'sts.AssumeRole', profileName: 'r', mfaSerial: '' };
    const backend = new MemoryBackend();
    const store = new SessionStore(backend, { now: () => NOW });
    await store.set({ ...role, request: '["admin"]' }, creds('A', 3600));
    const [key] = await backend.keys();
    expect(JSON.parse((await backend.get(key as string)) as string)).toMatchObject({
      AccessKeyId: 'A',
      AwsVaultRequest: '["admin"]',
    });
    expect(await store.get({ ...role, request: '["admin"]' }, 0)).toMatchObject({
      accessKeyId: 'A',
    });
    expect(await store.get({ ...role, request: '["ops"]' }, 0)).toBeUndefined();
    expect(await backend.keys()).toEqual([key]);
    // Each request keeps its own session: switching back costs no new one.
    await store.set({ ...role, request: '["ops"]' }, creds('B', 3500));
    expect(await backend.keys()).toHaveLength(2);
    expect(await store.get({ ...role, request: '["ops"]' }, 0)).toMatchObject({
      accessKeyId: 'B',
    });
    expect(await store.get({ ...role, request: '["admin"]' }, 0)).toMatchObject({
      accessKeyId: 'A',
    });
    // Another request's session that expires in the same second keeps its own key.
    await store.set({ ...role, request: '["dev"]' }, creds('D', 3500));
    expect(await backend.keys()).toHaveLength(3);
    expect(await store.get({ ...role, request: '["dev"]' }, 0)).toMatchObject({
      accessKeyId: 'D',
    });
    expect(await store.get({ ...role, request: '["ops"]' }, 0)).toMatchObject({
      accessKeyId: 'B',
    });
    await backend.remove(formatSessionKey(role, at(3499)));
    // A newer one for the same request replaces the older.
    await store.set({ ...role, request: '["admin"]' }, creds('C', 3550));
    expect(await backend.keys()).toHaveLength(2);
    expect(await store.get({ ...role, request: '["admin"]' }, 0)).toMatchObject({
      accessKeyId: 'C',
    });

    const goWritten = new MemoryBackend({
      [formatSessionKey(role, at(3600))]: JSON.stringify({
        AccessKeyId: 'G',
        SecretAccessKey: 's',
        SessionToken: 't',
        Expiration: '2026-01-01T13:00:00Z',
      }),
    });
    const go = new SessionStore(goWritten, { now: () => NOW });
    expect(await go.get({ ...role, request: '["any"]' }, 0)).toMatchObject({ accessKeyId: 'G' });
  });

  it('takes a damaged session file as a miss, and fails on any other read error', async () => {
    const key = formatSessionKey(meta, at(3600));
    const failing = (error: Error) => {
      const backend = new MemoryBackend({ [key]: '{}' });
      backend.get = () => Promise.reject(error);
      return backend;
    };
    const damaged = failing(new DamagedItemError('the file is damaged'));
    expect(await new SessionStore(damaged, { now: () => NOW }).get(meta, 0)).toBeUndefined();
    expect(await damaged.keys()).toEqual([]);
    const locked = failing(new Error('the collection is locked'));
    await expect(new SessionStore(locked, { now: () => NOW }).get(meta, 0)).rejects.toThrow(
      'the collection is locked',
    );
    expect(await locked.keys()).toEqual([key]);
  });

  it('removes one profile or all sessions, never credentials or SSO tokens', async () => {
    const backend = new MemoryBackend({
      prod: '{}',
      'oidc:https://x': '{}',
      'session,cHJvZA,,1500000000': '{}',
    });
    const store = new SessionStore(backend, { now: () => NOW });
    await store.set(meta, creds('A', 600));
    await store.set({ ...meta, profileName: 'dev' }, creds('B', 600));
    expect(await store.removeForProfile('prod')).toBe(1);
    expect((await store.list()).map((s) => s.profileName)).toEqual(['dev']);
    expect(await store.removeAll()).toBe(1);
    expect(await backend.keys()).toEqual(['oidc:https://x', 'prod']);
  });
});

describe('CredentialStore', () => {
  it('stores the Go JSON plus AddedAt, and lists only profiles', async () => {
    const backend = new MemoryBackend({
      'sts.GetSessionToken,cHJvZA,,1800000000': '{}',
      'oidc:https://x.awsapps.com/start': '{}',
    });
    const store = new CredentialStore(backend);
    const addedAt = new Date('2026-03-04T05:06:07Z');
    await store.set('team/dev prod', { accessKeyId: 'AKIA1', secretAccessKey: 's1', addedAt });
    expect(JSON.parse((await backend.get('team/dev prod')) as string)).toEqual({
      AccessKeyID: 'AKIA1',
      SecretAccessKey: 's1',
      SessionToken: '',
      Source: '',
      CanExpire: false,
      Expires: '0001-01-01T00:00:00Z',
      AddedAt: '2026-03-04T05:06:07Z',
    });
    expect(await store.get('team/dev prod')).toEqual({
      accessKeyId: 'AKIA1',
      secretAccessKey: 's1',
      addedAt,
    });
    expect(await store.profiles()).toEqual(['team/dev prod']);
    expect(await store.has('team/dev prod')).toBe(true);
    expect(await store.get('nope')).toBeUndefined();
    await store.remove('team/dev prod');
    expect(await store.has('team/dev prod')).toBe(false);
  });

  it('reads Go-written credentials without AddedAt, and rejects garbage clearly', async () => {
    const backend = new MemoryBackend({
      go: '{"AccessKeyID":"AKIAGO","SecretAccessKey":"s","SessionToken":"","Source":"","CanExpire":false,"Expires":"0001-01-01T00:00:00Z"}',
      bad: 'nope',
      nosecret: '{"AccessKeyID":"AKIANOSECRET"}',
      empty: '{}',
    });
    const store = new CredentialStore(backend);
    expect(await store.get('go')).toEqual({ accessKeyId: 'AKIAGO', secretAccessKey: 's' });
    await expect(store.get('bad')).rejects.toThrow(/profile bad: .*aws-vault remove bad/);
    await expect(store.get('bad')).rejects.not.toThrow(/nope/);
    // The message names the field that is missing.
    await expect(store.get('nosecret')).rejects.toThrow(
      "profile nosecret: the stored credentials have no secret access key; remove them with 'aws-vault remove nosecret'",
    );
    await expect(store.get('empty')).rejects.toThrow(
      'have no access key ID and no secret access key;',
    );
  });
});

describe('OidcTokenStore', () => {
  const url = 'https://my-sso.awsapps.com/start';

  it('stores the Go OIDCTokenData shape plus the client registration', async () => {
    const backend = new MemoryBackend();
    const store = new OidcTokenStore(backend, { now: () => NOW });
    const token = {
      accessToken: 'at',
      expiresAt: at(3600),
      refreshToken: 'rt',
      clientId: 'cid',
      clientSecret: 'cs',
      registrationExpiresAt: at(86400),
      region: 'eu-west-1',
      scopes: ['sso:account:access'],
    };
    await store.set(url, token);
    const raw = JSON.parse((await backend.get(`oidc:${url}`)) as string);
    expect(raw.Token).toEqual({
      AccessToken: 'at',
      ExpiresIn: 3600,
      IdToken: null,
      RefreshToken: 'rt',
      TokenType: null,
    });
    expect(raw.Expiration).toBe('2026-01-01T13:00:00Z');
    expect(await store.get(url)).toEqual(token);
    expect(await store.list()).toEqual([url]);
  });

  it('hides expired tokens unless asked, and drops those that cannot be refreshed', async () => {
    const backend = new MemoryBackend();
    let now = NOW;
    const store = new OidcTokenStore(backend, { now: () => now });
    await store.set(url, { accessToken: 'a', expiresAt: at(60), refreshToken: 'r' });
    await store.set('https://other', { accessToken: 'b', expiresAt: at(60) });
    now = NOW + 120_000;
    expect(await store.get(url)).toBeUndefined();
    expect(await store.get(url, { includeExpired: true })).toMatchObject({ refreshToken: 'r' });
    expect(await store.get('https://other', { includeExpired: true })).toBeUndefined();
    expect(await store.list()).toEqual([url]);
    expect(await store.removeAll()).toBe(1);
    expect(await backend.keys()).toEqual([]);
  });
});
