import { describe, expect, it } from 'vitest';
import { parseFastInvocation } from '../../../src/cli/fastPath.ts';
import { buildChildEnv } from '../../../src/cli/exec.ts';
import { formatIni, formatJson } from '../../../src/cli/export.ts';

describe('parseFastInvocation', () => {
  it('understands the plain forms of exec and export', () => {
    expect(parseFastInvocation(['exec', 'p', '--', 'aws', 's3', 'ls', '--region', 'x'])).toEqual({
      command: 'exec',
      profile: 'p',
      flags: {},
      format: 'env',
      args: ['aws', 's3', 'ls', '--region', 'x'],
    });
    expect(
      parseFastInvocation(['exec', '-d', '2h', '-n', '--region=eu-west-1', 'p', 'env']),
    ).toMatchObject({
      flags: { duration: 7200, noSession: true, region: 'eu-west-1' },
      args: ['env'],
    });
    expect(parseFastInvocation(['export', '--format', 'json', 'p'])).toMatchObject({
      command: 'export',
      format: 'json',
      profile: 'p',
    });
    expect(parseFastInvocation(['exec', 'p'])).toMatchObject({ args: [] });
  });

  it('leaves everything else to the full CLI', () => {
    for (const argv of [
      ['--debug', 'exec', 'p'],
      ['exec', '--debug', 'p'],
      ['exec', '--server', 'p', '--', 'true'],
      ['exec', '-j', 'p'],
      ['exec', '--help'],
      ['exec'],
      ['exec', '-d', '1.5h', 'p'],
      ['exec', '--duration'],
      ['export', '--format=yaml', 'p'],
      ['export', 'p', 'extra'],
      ['exec', '--format=json', 'p'],
      ['list'],
      [],
    ]) {
      expect(parseFastInvocation(argv), argv.join(' ')).toBeUndefined();
    }
  });
});

describe('buildChildEnv', () => {
  it('replaces the credential variables and keeps the rest', () => {
    const env = buildChildEnv(
      { AWS_PROFILE: 'x', AWS_SECURITY_TOKEN: 'old', HOME: '/h' },
      'p',
      undefined,
      { credentials: { accessKeyId: 'AKIA1', secretAccessKey: 's' } },
    );
    expect(env).toEqual({
      HOME: '/h',
      AWS_VAULT: 'p',
      AWS_ACCESS_KEY_ID: 'AKIA1',
      AWS_SECRET_ACCESS_KEY: 's',
    });
  });

  it('gives server variables and no keys with a server', () => {
    const env = buildChildEnv({ AWS_ACCESS_KEY_ID: 'leak' }, 'p', 'eu-west-1', {
      server: { AWS_CONTAINER_CREDENTIALS_FULL_URI: 'http://127.0.0.1:1/' },
    });
    expect(env).toEqual({
      AWS_VAULT: 'p',
      AWS_REGION: 'eu-west-1',
      AWS_DEFAULT_REGION: 'eu-west-1',
      AWS_CONTAINER_CREDENTIALS_FULL_URI: 'http://127.0.0.1:1/',
    });
  });
});

describe('export formats', () => {
  const creds = {
    accessKeyId: 'ASIA1',
    secretAccessKey: 'secret',
    sessionToken: 'token',
    expiration: new Date('2024-05-01T13:04:05.678Z'),
  };
  it('json is the credential_process document with second precision', () => {
    expect(formatJson(creds)).toBe(
      '{\n  "Version": 1,\n  "AccessKeyId": "ASIA1",\n  "SecretAccessKey": "secret",\n' +
        '  "SessionToken": "token",\n  "Expiration": "2024-05-01T13:04:05Z"\n}\n',
    );
  });
  it('ini aligns the keys under [PROFILE]', () => {
    expect(formatIni(creds, 'p', 'eu-west-1')).toBe(
      '[p]\naws_access_key_id         = ASIA1\naws_secret_access_key     = secret\n' +
        'aws_session_token         = token\naws_credential_expiration = 2024-05-01T13:04:05Z\n' +
        'region                    = eu-west-1\n\n',
    );
  });
});
