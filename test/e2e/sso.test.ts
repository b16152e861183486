import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseEnvLines, startExecWorld, type ExecWorld } from './_exec.ts';
import { runCli, type RunResult } from './_runCli.ts';

const START = 'https://corp.awsapps.com/start';
const LEGACY_START = 'https://legacy.awsapps.com/start';
const ACCOUNT = '111122223333';

describe('SSO (IAM Identity Center)', () => {
  let w: ExecWorld;
  let urls: string;
  let browser: string;

  beforeAll(async () => {
    w = await startExecWorld();
    for (const role of ['Admin', 'ReadOnly', 'Dev', 'Ops', 'Audit', 'Extra']) {
      w.fake.ssoAssign(ACCOUNT, role);
    }
    w.home.writeConfig(`[sso-session corp]
sso_start_url = ${START}
sso_region = eu-west-1
sso_registration_scopes = sso:account:access

[profile admin]
sso_session = corp
sso_account_id = ${ACCOUNT}
sso_role_name = Admin
region = eu-west-1

[profile readonly]
sso_session = corp
sso_account_id = ${ACCOUNT}
sso_role_name = ReadOnly

[profile included]
include_profile = readonly

[profile corp-audit]
sso_session = corp
sso_account_id = ${ACCOUNT}
sso_role_name = Audit

[profile legacy]
sso_start_url = ${LEGACY_START}
sso_region = us-east-1
sso_account_id = ${ACCOUNT}
sso_role_name = Dev

[profile legacy2]
sso_start_url = ${LEGACY_START}
sso_region = us-east-1
sso_account_id = ${ACCOUNT}
sso_role_name = Ops

[profile audit]
sso_start_url = https://audit.awsapps.com/start
sso_region = us-east-1
sso_account_id = ${ACCOUNT}
sso_role_name = Audit

[profile extra]
sso_start_url = https://extra.awsapps.com/start
sso_region = us-east-1
sso_account_id = ${ACCOUNT}
sso_role_name = Extra
`);
    urls = join(w.home.home, 'browser-urls');
    browser = join(w.home.home, 'browser.sh');
    writeFileSync(browser, `#!/bin/sh\nprintf '%s\\n' "$1" >> '${urls}'\n`, { mode: 0o755 });
  });
  afterAll(() => w.close());
  beforeEach(() => {
    w.fake.sso.deviceCodeTtlSeconds = 600;
  });

  const opened = () => (existsSync(urls) ? readFileSync(urls, 'utf8').trim().split('\n') : []);
  const run = (args: string[], extra: NodeJS.ProcessEnv = {}) =>
    runCli(args, { env: w.env({ BROWSER: browser, ...extra }), timeout: 30_000 });

  /** Runs the CLI and decides each device authorization the moment it shows up. */
  async function runAndDecide(
    args: string[],
    decision: 'approve' | 'deny' | 'ignore' = 'approve',
    extra: NodeJS.ProcessEnv = {},
  ): Promise<RunResult> {
    const pending = run(args, extra);
    let done = false;
    void pending.finally(() => (done = true));
    while (!done) {
      const codes = w.fake.sso.pendingUserCodes();
      for (const code of codes) {
        if (decision === 'approve') w.fake.approveDeviceAuthorization(code);
        if (decision === 'deny') w.fake.denyDeviceAuthorization(code);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    return pending;
  }

  it('signs in through the browser once, then reuses the cached credentials', async () => {
    const before = opened().length;
    const r = await runAndDecide(['export', 'admin']);
    expect(r.exitCode, r.stderr).toBe(0);
    const vars = parseEnvLines(r.stdout);
    expect(vars.AWS_ACCESS_KEY_ID).toMatch(/^ASIA/);
    expect(vars.AWS_SESSION_TOKEN).toBeTruthy();
    expect(vars.AWS_REGION).toBe('eu-west-1');
    expect(opened().slice(before)).toHaveLength(1);
    expect(opened().at(-1)).toMatch(
      /^https:\/\/device\.sso\.[a-z0-9-]+\.amazonaws\.com\/\?user_code=[A-Z]{4}-[A-Z]{4}$/,
    );
    expect(r.stderr).toMatch(/Opening the SSO authorization page/);
    // The credentials work with STS.
    expect(w.fake.describeCredentials(vars.AWS_ACCESS_KEY_ID as string)).toBeDefined();

    const calls = w.fake.count('GetRoleCredentials');
    const again = await run(['export', 'admin']);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(parseEnvLines(again.stdout).AWS_ACCESS_KEY_ID).toBe(vars.AWS_ACCESS_KEY_ID);
    expect(w.fake.count('GetRoleCredentials')).toBe(calls);
    expect(opened().slice(before)).toHaveLength(1);

    // Another role of the same sso-session uses the stored token: no browser.
    const other = await run(['export', 'readonly']);
    expect(other.exitCode, other.stderr).toBe(0);
    expect(opened().slice(before)).toHaveLength(1);
    expect(w.fake.count('GetRoleCredentials')).toBe(calls + 1);

    // list shows the sessions; clear removes them.
    const list = await run(['list', '--sessions']);
    expect(list.stdout).toMatch(/sso\.GetRoleCredentials/);
    // The token shows for a profile that gets its SSO settings through include_profile too.
    const table = await run(['list']);
    expect(table.stdout).toMatch(/^included\s+-\s+oidc:https:\/\/\S+\s*$/m);
  });

  it('logs in to the console with SSO role credentials directly', async () => {
    w.fake.reset();
    const r = await runAndDecide(['login', 'admin', '--stdout'], 'approve', {
      AWS_ENDPOINT_URL_SIGNIN: w.fake.url,
    });
    expect(r.exitCode, r.stderr).toBe(0);
    const token = new URL(r.stdout.trim()).searchParams.get('SigninToken') ?? '';
    expect(w.fake.describeSigninToken(token)?.arn).toMatch(/assumed-role\/.*Admin/);
    expect(w.fake.count('GetFederationToken')).toBe(0);
  });

  it('refreshes an expired token with its refresh token instead of the browser', async () => {
    const before = opened().length;
    w.fake.reset();
    // The access token (8h) expires at the fake; the refresh token does not.
    w.fake.clock.advance(9 * 3600);
    // A role without cached credentials needs the token: SSO rejects the
    // expired one, and the refresh token gets a new one.
    const r = await run(['export', 'corp-audit']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(parseEnvLines(r.stdout).AWS_ACCESS_KEY_ID).toMatch(/^ASIA/);
    expect(opened().length).toBe(before);
    const grants = w.fake.calls
      .filter((c) => c.action === 'CreateToken')
      .map((c) => c.params.grantType);
    expect(grants).toContain('refresh_token');
    expect(w.fake.count('StartDeviceAuthorization')).toBe(0);
  });

  it('signs in again when a token without a refresh token expires', async () => {
    const first = await runAndDecide(['--debug', 'export', 'legacy']);
    expect(first.exitCode, first.stderr).toBe(0);
    // --debug never shows a token, client secret or key.
    const secrets = [
      ...w.fake.sso.accessTokens.keys(),
      ...w.fake.sso.refreshTokens.keys(),
      ...[...w.fake.sso.clients.values()].map((c) => c.clientSecret),
      parseEnvLines(first.stdout).AWS_SECRET_ACCESS_KEY as string,
      parseEnvLines(first.stdout).AWS_SESSION_TOKEN as string,
    ];
    expect(first.stderr).toMatch(/\[debug\] profile legacy: signing in/);
    for (const secret of secrets) expect(first.stderr).not.toContain(secret);
    const before = opened().length;
    w.fake.clock.advance(9 * 3600);
    const r = await runAndDecide(['export', 'legacy2']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(opened().length).toBe(before + 1);
  });

  it('explains a denial in the browser', async () => {
    const r = await runAndDecide(['export', 'audit'], 'deny');
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/aws-vault: error: export: .*was denied in the browser/);
  });

  it('explains a code that expired before approval', async () => {
    w.fake.sso.deviceCodeTtlSeconds = 2;
    const r = await runAndDecide(['export', 'audit'], 'ignore');
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/expired before it was approved; run the command again/);
  });

  it('prints the URL and code with --stdout instead of opening the browser', async () => {
    const before = opened().length;
    const r = await runAndDecide(['exec', '--stdout', 'audit', '--', 'true']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(opened().length).toBe(before);
    expect(r.stderr).toMatch(/Open the SSO authorization page in a browser/);
    expect(r.stderr).toMatch(/enter the code: [A-Z]{4}-[A-Z]{4}/);
  });

  it('opens one browser tab for parallel processes', async () => {
    const before = opened().length;
    w.fake.reset();
    const results = await Promise.all([
      runAndDecide(['export', 'extra']),
      run(['export', 'extra']),
      run(['export', 'extra']),
    ]);
    for (const r of results) expect(r.exitCode, r.stderr).toBe(0);
    expect(opened().length).toBe(before + 1);
    expect(w.fake.count('StartDeviceAuthorization')).toBe(1);
    expect(w.fake.count('GetRoleCredentials')).toBe(1);
  });

  it('a process waiting for the sign-in in another says what it waits for', async () => {
    expect((await run(['clear', 'extra'])).exitCode).toBe(0);
    w.fake.reset();
    const first = run(['export', 'extra']);
    while (w.fake.sso.pendingUserCodes().length === 0) await new Promise((r) => setTimeout(r, 50));
    const second = run(['export', 'extra']);
    await new Promise((r) => setTimeout(r, 4000));
    for (const code of w.fake.sso.pendingUserCodes()) w.fake.approveDeviceAuthorization(code);
    const [a, b] = await Promise.all([first, second]);
    expect(a.exitCode, a.stderr).toBe(0);
    expect(b.exitCode, b.stderr).toBe(0);
    expect(b.stderr).toMatch(
      /^aws-vault: waiting for another aws-vault \(process \d+\) getting a new sso\.GetRoleCredentials session for profile extra \(it may be asking for an MFA code or an SSO sign-in\)$/m,
    );
    expect(w.fake.count('StartDeviceAuthorization')).toBe(1);
  });
});
