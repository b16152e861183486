// Objects carrying secrets print them as [redacted] when logged by accident
// (console.log, util.inspect, an unhandled rejection's report, JSON.stringify),
// while the values stay usable and copies stay plain.
import { format, inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { REDACTED, redactCredentials } from '../../../src/credentials/redact.ts';
import { parseCredentialProcessOutput } from '../../../src/credentials/fromCredentialProcess.ts';
import { MemoryBackend } from '../../../src/keyring/memoryBackend.ts';
import { CredentialStore, OidcTokenStore, SessionStore } from '../../../src/keyring/stores.ts';

const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRETKEY';
const TOKEN = 'FwoGZXIvYXdzEXAMPLESESSIONTOKEN';

function everyRendering(value: unknown): string[] {
  return [
    inspect(value),
    inspect(value, { showHidden: true, depth: 10 }),
    format('%o', value),
    format('%O', value),
    format('%j', value),
    format('%s', value),
    JSON.stringify(value),
    JSON.stringify({ nested: { value } }),
    inspect(new Error('failed', { cause: { creds: value } })),
  ];
}

function expectNoSecrets(value: unknown, secrets: string[]): void {
  for (const text of everyRendering(value)) {
    for (const secret of secrets) expect(text).not.toContain(secret);
  }
}

describe('redactCredentials', () => {
  it('hides the secret fields from inspect, format and JSON, and keeps the values', () => {
    const creds = redactCredentials({
      accessKeyId: 'ASIAEXAMPLE',
      secretAccessKey: SECRET,
      sessionToken: TOKEN,
      expiration: new Date('2030-01-01T00:00:00Z'),
    });
    expectNoSecrets(creds, [SECRET, TOKEN]);
    expect(inspect(creds)).toContain('ASIAEXAMPLE');
    expect(inspect(creds)).toContain(REDACTED);
    expect(JSON.parse(JSON.stringify(creds))).toMatchObject({
      accessKeyId: 'ASIAEXAMPLE',
      secretAccessKey: REDACTED,
      sessionToken: REDACTED,
    });
    expect(creds.secretAccessKey).toBe(SECRET);
    expect(creds.sessionToken).toBe(TOKEN);
    // Copies (the engine and servers spread credentials) are plain objects with the values.
    const copy = { ...creds };
    expect(copy).toEqual({
      accessKeyId: 'ASIAEXAMPLE',
      secretAccessKey: SECRET,
      sessionToken: TOKEN,
      expiration: new Date('2030-01-01T00:00:00Z'),
    });
    expect(Object.keys(creds)).toEqual(Object.keys(copy));
  });

  it('is idempotent and leaves frozen objects alone', () => {
    const creds = { accessKeyId: 'A', secretAccessKey: SECRET };
    expect(redactCredentials(redactCredentials(creds))).toBe(creds);
    const frozen = Object.freeze({ accessKeyId: 'A', secretAccessKey: SECRET });
    expect(redactCredentials(frozen)).toBe(frozen);
  });
});

describe('credentials read from the vault and from processes are guarded', () => {
  it('SessionStore, CredentialStore, OidcTokenStore and credential_process output', async () => {
    const backend = new MemoryBackend();
    const sessions = new SessionStore(backend);
    await sessions.set(
      { type: 'sts.GetSessionToken', profileName: 'p' },
      {
        accessKeyId: 'ASIAEXAMPLE',
        secretAccessKey: SECRET,
        sessionToken: TOKEN,
        expiration: new Date(Date.now() + 3_600_000),
      },
    );
    const session = await sessions.get({ type: 'sts.GetSessionToken', profileName: 'p' }, 60);
    expect(session?.secretAccessKey).toBe(SECRET);
    expectNoSecrets(session, [SECRET, TOKEN]);

    const credentials = new CredentialStore(backend);
    await credentials.set('p', { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: SECRET });
    const stored = await credentials.get('p');
    expect(stored?.secretAccessKey).toBe(SECRET);
    expectNoSecrets(stored, [SECRET]);

    const oidc = new OidcTokenStore(backend);
    await oidc.set('https://example.awsapps.com/start', {
      accessToken: 'ACCESS-TOKEN-123456',
      refreshToken: 'REFRESH-TOKEN-123456',
      clientId: 'client-id',
      clientSecret: 'CLIENT-SECRET-123456',
      expiresAt: new Date(Date.now() + 3_600_000),
    });
    const token = await oidc.get('https://example.awsapps.com/start');
    expect(token?.accessToken).toBe('ACCESS-TOKEN-123456');
    expectNoSecrets(token, ['ACCESS-TOKEN-123456', 'REFRESH-TOKEN-123456', 'CLIENT-SECRET-123456']);

    const fromProcess = parseCredentialProcessOutput(
      JSON.stringify({
        Version: 1,
        AccessKeyId: 'ASIAEXAMPLE',
        SecretAccessKey: SECRET,
        SessionToken: TOKEN,
      }),
      'test',
    );
    expect(fromProcess.sessionToken).toBe(TOKEN);
    expectNoSecrets(fromProcess, [SECRET, TOKEN]);
  });
});
