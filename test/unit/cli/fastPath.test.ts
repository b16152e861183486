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
      globals: {},
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

  // Go (kingpin) reads these as aws-vault's flags; the full CLI does too (argv.ts).
  it('reads exec flags between the profile and `--` as aws-vault flags', () => {
    expect(
      parseFastInvocation(['exec', 'p', '--no-session', '-d', '2h', '--region', 'r', '--', 'env']),
    ).toMatchObject({
      profile: 'p',
      flags: { noSession: true, duration: 7200, region: 'r' },
      args: ['env'],
    });
    // Without `--`, options before the first word are aws-vault's, the rest the command's.
    expect(
      parseFastInvocation(['exec', 'p', '-n', 'aws', 's3', 'ls', '--recursive']),
    ).toMatchObject({ flags: { noSession: true }, args: ['aws', 's3', 'ls', '--recursive'] });
    expect(parseFastInvocation(['exec', 'p', 'sh', '-c', 'x', '--', '-n'])).toMatchObject({
      flags: {},
      args: ['sh', '-c', 'x', '--', '-n'],
    });
    expect(parseFastInvocation(['export', 'p', '--no-session', '--format=json'])).toMatchObject({
      profile: 'p',
      format: 'json',
      flags: { noSession: true },
    });
  });

  it('accepts global flags before and after the subcommand', () => {
    expect(
      parseFastInvocation([
        '--backend',
        'file',
        'exec',
        '--prompt',
        'ykman',
        'p',
        '--file-dir=/d',
        '--',
        'aws',
      ]),
    ).toMatchObject({
      profile: 'p',
      globals: { backend: 'file', prompt: 'ykman', fileDir: '/d' },
      args: ['aws'],
    });
    expect(parseFastInvocation(['export', 'p', '--backend', 'memory'])).toMatchObject({
      profile: 'p',
      globals: { backend: 'memory' },
    });
  });

  it('takes --no-debug (kingpin) as the default it is, and --debug anywhere as the full CLI', () => {
    expect(parseFastInvocation(['--no-debug', 'exec', 'p', '--no-debug', '--', 'true'])).toEqual({
      command: 'exec',
      profile: 'p',
      flags: {},
      format: 'env',
      args: ['true'],
      globals: {},
    });
    expect(parseFastInvocation(['--no-debug', 'export', '--debug', 'p'])).toBeUndefined();
    expect(parseFastInvocation(['--debug', 'export', '--no-debug', 'p'])).toBeUndefined();
    expect(parseFastInvocation(['export', '--no-debug=1', 'p'])).toBeUndefined();
  });

  it('leaves everything else to the full CLI', () => {
    for (const argv of [
      ['--debug', 'exec', 'p'],
      ['exec', '--debug', 'p'],
      ['exec', 'p', '--debug', '--', 'true'],
      ['exec', '--backend', 'nope', 'p'],
      ['exec', '--prompt', 'pass', 'p'],
      ['exec', '-nd', '2h', 'p'],
      ['exec', '--keychain', 'p'],
      ['--__proto__', 'x', 'exec', 'p'],
      ['exec', '--__proto__', 'x', 'p'],
      ['exec', '--server', 'p', '--', 'true'],
      ['exec', '-j', 'p'],
      ['exec', '--help'],
      ['exec'],
      ['exec', '-d', '1.5h', 'p'],
      ['exec', '--duration'],
      ['export', '--format=yaml', 'p'],
      ['export', 'p', 'extra'],
      ['export', 'p', '--', 'extra'],
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

  it('withholds AWS_VAULT_FILE_PASSPHRASE from the child (it would reach CI logs through env)', () => {
    const creds = { credentials: { accessKeyId: 'AKIA1', secretAccessKey: 's' } };
    const server = { server: { AWS_CONTAINER_CREDENTIALS_FULL_URI: 'http://127.0.0.1:1/' } };
    for (const from of [creds, server]) {
      const env = buildChildEnv(
        { AWS_VAULT_FILE_PASSPHRASE: 'pw', HOME: '/h' },
        'p',
        undefined,
        from,
      );
      expect(env).not.toHaveProperty('AWS_VAULT_FILE_PASSPHRASE');
      expect(env.HOME).toBe('/h');
    }
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
  it('ini aligns the keys under [PROFILE], with no blank line after it (go-ini v1.67)', () => {
    expect(formatIni(creds, 'p', 'eu-west-1')).toBe(
      '[p]\naws_access_key_id         = ASIA1\naws_secret_access_key     = secret\n' +
        'aws_session_token         = token\naws_credential_expiration = 2024-05-01T13:04:05Z\n' +
        'region                    = eu-west-1\n',
    );
  });
});
