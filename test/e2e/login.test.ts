import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEnvLines, startExecWorld, type ExecWorld } from './_exec.ts';
import { runCli } from './_runCli.ts';

describe('login', () => {
  let w: ExecWorld;
  let env: (extra?: NodeJS.ProcessEnv) => NodeJS.ProcessEnv;
  let roleArn: string;

  async function addKeys(profile: string, keys: { accessKeyId: string; secretAccessKey: string }) {
    const r = await runCli(['add', '--env', '--no-add-config', profile], {
      env: env({
        AWS_ACCESS_KEY_ID: keys.accessKeyId,
        AWS_SECRET_ACCESS_KEY: keys.secretAccessKey,
      }),
    });
    expect(r.exitCode, r.stderr).toBe(0);
  }

  beforeAll(async () => {
    w = await startExecWorld();
    env = (extra = {}) => w.env({ AWS_ENDPOINT_URL_SIGNIN: w.fake.url, ...extra });
    await addKeys('iamuser', w.fake.createUser('alice'));
    await addKeys(
      'nofed',
      w.fake.createUser('bob', { policy: { denyFederationWithoutMfa: true } }),
    );
    roleArn = w.fake.createRole('admin').arn;
    w.home.writeConfig(`[profile iamuser]
region = eu-west-1

[profile nofed]
region = eu-west-1

[profile role]
source_profile = iamuser
role_arn = ${roleArn}
region = eu-west-1

[profile cn]
source_profile = iamuser
role_arn = ${roleArn}
region = cn-north-1
`);
  });
  afterAll(() => w.close());

  const run = (args: string[], extra: NodeJS.ProcessEnv = {}) => runCli(args, { env: env(extra) });

  function parseLogin(stdout: string) {
    const url = new URL(stdout.trim());
    return {
      base: `${url.origin}${url.pathname}`,
      action: url.searchParams.get('Action'),
      issuer: url.searchParams.get('Issuer'),
      destination: url.searchParams.get('Destination'),
      token: url.searchParams.get('SigninToken') ?? '',
    };
  }

  it('prints a sign-in URL for a role profile with --stdout, using the role credentials directly', async () => {
    w.fake.reset();
    const r = await run(['login', 'role', '--stdout']);
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    const u = parseLogin(r.stdout);
    expect(u.base).toBe(`${w.fake.url}/federation`);
    expect(u.action).toBe('login');
    expect(u.issuer).toBe('aws-vault');
    expect(u.destination).toBe(
      'https://eu-west-1.console.aws.amazon.com/console/home?region=eu-west-1',
    );
    const token = w.fake.describeSigninToken(u.token);
    expect(token?.arn).toMatch(/:assumed-role\/admin\//);
    expect(w.fake.count('AssumeRole')).toBe(1);
    expect(w.fake.count('GetFederationToken')).toBe(0);
    expect(w.fake.count('getSigninToken')).toBe(1);

    // The role session is cached: a second login makes no STS call.
    const again = await run(['login', 'role', '--stdout']);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(w.fake.count('AssumeRole')).toBe(1);
    expect(w.fake.count('getSigninToken')).toBe(2);
  });

  it('uses GetFederationToken for an IAM user, with --path and --region', async () => {
    w.fake.reset();
    const r = await run(['login', 'iamuser', '-s', '--path', 's3/home', '--region', 'us-west-2']);
    expect(r.exitCode, r.stderr).toBe(0);
    const u = parseLogin(r.stdout);
    expect(u.destination).toBe('https://us-west-2.console.aws.amazon.com/s3/home?region=us-west-2');
    expect(w.fake.describeSigninToken(u.token)?.arn).toMatch(/:federated-user\//);
    expect(w.fake.count('GetFederationToken')).toBe(1);
    expect(w.fake.count('GetSessionToken')).toBe(0);
    expect(w.fake.count('AssumeRole')).toBe(0);
  });

  it('passes --duration as the console session length for roles, within AWS limits', async () => {
    const r = await run(['login', 'role', '-s', '-d', '2h']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(w.fake.describeSigninToken(parseLogin(r.stdout).token)?.sessionDurationSeconds).toBe(
      7200,
    );
    const tooLong = await run(['login', 'role', '-s', '-d', '13h']);
    expect(tooLong.exitCode).toBe(1);
    expect(tooLong.stderr).toMatch(/between 15m and 12h/);
    expect(tooLong.stdout).toBe('');
  });

  it('passes --duration to GetFederationToken for an IAM user, within AWS limits', async () => {
    const r = await run(['login', 'iamuser', '-s', '-d', '20h']);
    expect(r.exitCode, r.stderr).toBe(0);
    const signin = w.fake.describeSigninToken(parseLogin(r.stdout).token);
    expect(signin?.sessionDurationSeconds).toBeUndefined();
    const session = w.fake.describeCredentials(signin?.accessKeyId ?? '');
    const hours = ((session?.expiresAt ?? 0) - w.fake.clock.now()) / 3_600_000;
    expect(hours).toBeGreaterThan(19.9);
    expect(hours).toBeLessThanOrEqual(20);
    const tooLong = await run(['login', 'iamuser', '-s', '-d', '37h']);
    expect(tooLong.exitCode).toBe(1);
    expect(tooLong.stderr).toMatch(/between 15m and 36h/);
  });

  it('maps the China partition to its console host', async () => {
    const r = await run(['login', 'cn', '-s']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(parseLogin(r.stdout).destination).toBe(
      'https://cn-north-1.console.amazonaws.cn/console/home?region=cn-north-1',
    );
  });

  it('checks credential_process credentials: role sessions log in, user sessions are explained', async () => {
    const roleDoc = join(w.home.home, 'role.json');
    const userDoc = join(w.home.home, 'user.json');
    const role = await run(['export', '--format', 'json', 'role']);
    const user = await run(['export', '--format', 'json', 'iamuser']);
    expect(role.exitCode, role.stderr).toBe(0);
    expect(user.exitCode, user.stderr).toBe(0);
    writeFileSync(roleDoc, role.stdout, { mode: 0o600 });
    writeFileSync(userDoc, user.stdout, { mode: 0o600 });
    writeFileSync(
      w.home.configFile,
      `\n[profile proc-role]\ncredential_process = cat '${roleDoc}'\n\n[profile proc-user]\ncredential_process = cat '${userDoc}'\n`,
      { flag: 'a' },
    );
    const ok = await run(['login', 'proc-role', '-s']);
    expect(ok.exitCode, ok.stderr).toBe(0);
    expect(w.fake.describeSigninToken(parseLogin(ok.stdout).token)?.arn).toMatch(/assumed-role/);
    const refused = await run(['login', 'proc-user', '-s']);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toMatch(
      /which the AWS console does not accept; use a profile that assumes a role/,
    );
  });

  it('explains a GetFederationToken denied without MFA', async () => {
    const r = await run(['login', 'nofed', '-s']);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(
      /^aws-vault: error: login: profile nofed: GetFederationToken was denied/,
    );
    expect(r.stderr).toMatch(/role profile with mfa_serial/);
  });

  it('uses credentials from the environment without a profile', async () => {
    const exported = await run(['export', 'role']);
    expect(exported.exitCode, exported.stderr).toBe(0);
    const vars = parseEnvLines(exported.stdout);
    w.fake.reset();
    const r = await run(['login', '--stdout'], {
      AWS_ACCESS_KEY_ID: vars.AWS_ACCESS_KEY_ID,
      AWS_SECRET_ACCESS_KEY: vars.AWS_SECRET_ACCESS_KEY,
      AWS_SESSION_TOKEN: vars.AWS_SESSION_TOKEN,
      AWS_REGION: 'ap-southeast-2',
    });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(parseLogin(r.stdout).destination).toMatch(/^https:\/\/ap-southeast-2\.console/);
    expect(w.fake.calls.map((c) => c.action)).toEqual(['getSigninToken']);

    // Long-term keys in the environment that AWS rejects: named as such, not
    // as keys stored for a profile called "environment".
    const user = w.fake.createUser('envlogin');
    const rejected = await run(['login', '--stdout'], {
      AWS_ACCESS_KEY_ID: user.accessKeyId,
      AWS_SECRET_ACCESS_KEY: `${user.secretAccessKey}x`,
    });
    expect(rejected.exitCode).toBe(1);
    expect(rejected.stdout).toBe('');
    expect(rejected.stderr).toMatch(
      /^aws-vault: error: login: credentials from the environment: AWS rejected the keys in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY \(SignatureDoesNotMatch: .*\); check them, or unset them/,
    );
    expect(rejected.stderr).not.toContain('aws-vault add');
    expect(rejected.stderr).not.toContain(user.secretAccessKey);

    const none = await run(['login', '--stdout']);
    expect(none.exitCode).toBe(1);
    expect(none.stderr).toMatch(/PROFILE not provided, nor any AWS credentials in the environment/);
  });

  it('opens $BROWSER through a loopback redirect, keeping the token out of argv and output', async () => {
    const dir = w.home.home;
    const urls = join(dir, 'browser-urls');
    const headers = join(dir, 'browser-headers');
    const browser = join(dir, 'browser.sh');
    writeFileSync(
      browser,
      `#!/bin/sh\nenv > '${dir}/browser-env'\nprintf '%s\\n' "$1" >> '${urls}'\ncurl -s -D '${headers}' -o /dev/null "$1"\n`,
      { mode: 0o755 },
    );
    const r = await run(['--debug', 'login', 'role'], { BROWSER: browser });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    const given = readFileSync(urls, 'utf8').trim();
    expect(given).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/[\w-]{43}$/);
    const location = /^location: (.*)$/im.exec(readFileSync(headers, 'utf8'))?.[1]?.trim() ?? '';
    const u = parseLogin(location);
    expect(u.action).toBe('login');
    expect(w.fake.describeSigninToken(u.token)).toBeDefined();
    expect(r.stderr).not.toContain(u.token);
    expect(r.stderr).not.toContain(encodeURIComponent(u.token));
    // The browser gets no secret of aws-vault's own (the file store's passphrase).
    expect(env().AWS_VAULT_FILE_PASSPHRASE).toBeTruthy();
    expect(readFileSync(join(dir, 'browser-env'), 'utf8')).not.toMatch(/AWS_VAULT_FILE_PASSPHRASE/);
  });

  it('fails clearly when no browser can be opened', async () => {
    const r = await run(['login', 'role'], { BROWSER: '/nonexistent-browser' });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/could not open a browser .*--stdout/);
  });
});
