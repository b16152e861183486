// The credentials engine end to end in-process: real config engine, real SDK
// over HTTP, the local AWS-compatible endpoint, a memory vault.
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { getCredentialsProvider } from '../../../src/credentials/index.ts';
import { startFakeAws, type FakeAws, type SeededUser } from '../../fakes/fakeAws.ts';
import { harness, type Harness } from './_harness.ts';

let fake: FakeAws;
let alice: SeededUser; // with an MFA device
let bob: SeededUser; // without
let h: Harness;

beforeAll(async () => {
  fake = await startFakeAws();
  alice = fake.createUser('alice', { mfa: true });
  bob = fake.createUser('bob');
  fake.createRole('admin');
  fake.createRole('reader');
  fake.createRole('deep1');
  fake.createRole('deep2');
  fake.createRole('deep3');
  fake.createRole('mfa-only', { requireMfa: true });
  fake.createRole('partner', { externalId: 'xyz-123' });
  fake.createRole('long', { maxSessionDuration: 7200 });
  fake.createRole('ci', { principals: ['web-identity:ci-runner'] });
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => {
  fake.reset();
  // AWS accepts each MFA code once: give every test a fresh TOTP step.
  fake.clock.advance(90);
});
afterEach(() => {
  h?.cleanup();
});

const arn = (role: string) => `arn:aws:iam::${fake.accountId}:role/${role}`;
/** An MFA device that is not alice's. */
const otherSerial = () => `arn:aws:iam::${fake.accountId}:mfa/someone-else`;

function config(): string {
  return `
[profile alice]
region = eu-west-1
mfa_serial = ${alice.mfaSerial}

[profile bob]
region = eu-west-1

[profile admin]
source_profile = alice
role_arn = ${arn('admin')}
mfa_serial = ${alice.mfaSerial}

[profile reader]
source_profile = alice
role_arn = ${arn('reader')}
mfa_serial = ${alice.mfaSerial}

[profile deep1]
source_profile = alice
role_arn = ${arn('deep1')}
mfa_serial = ${alice.mfaSerial}

[profile deep2]
source_profile = deep1
role_arn = ${arn('deep2')}

[profile deep3]
source_profile = deep2
role_arn = ${arn('deep3')}

[profile mfa-common]
mfa_serial = ${alice.mfaSerial}
region = eu-central-1

[profile included]
include_profile = mfa-common
source_profile = alice
role_arn = ${arn('mfa-only')}

[profile partner]
source_profile = bob
role_arn = ${arn('partner')}
external_id = xyz-123

[profile partner-no-id]
source_profile = bob
role_arn = ${arn('partner')}

[profile tagged]
source_profile = bob
role_arn = ${arn('reader')}
session_tags = team=blue, env=dev
transitive_session_tags = team
source_identity = tester-id

[profile long]
source_profile = alice
role_arn = ${arn('long')}
mfa_serial = ${alice.mfaSerial}
duration_seconds = 7200

[profile bob-role]
source_profile = bob
role_arn = ${arn('reader')}

[profile other-mfa]
source_profile = alice
role_arn = ${arn('admin')}
mfa_serial = ${otherSerial()}

[profile vault-only-source]
source_profile = carol
role_arn = ${arn('reader')}

[profile typo-source]
region = eu-west-1
source_profile = bobb
role_arn = ${arn('reader')}

[profile too-long]
source_profile = bob
role_arn = ${arn('reader')}
duration_seconds = 86400
`;
}

async function setup(extraEnv: NodeJS.ProcessEnv = {}): Promise<Harness> {
  h = harness(fake, config(), extraEnv);
  await h.credentials.set('alice', alice);
  await h.credentials.set('bob', bob);
  h.answer = () => fake.mfaCode('alice');
  return h;
}

function secondsLeft(expiration: Date | undefined): number {
  return Math.round(((expiration?.getTime() ?? 0) - fake.clock.now()) / 1000);
}

describe('GetSessionToken', () => {
  it('gets a session for stored keys without MFA and reuses it from the cache', async () => {
    await setup();
    const first = await h.credentialsFor('bob');
    expect(first.sessionToken).toBeTruthy();
    expect(first.accessKeyId).not.toBe(bob.accessKeyId);
    expect(fake.describeCredentials(first.accessKeyId)?.kind).toBe('session-token');
    expect(secondsLeft(first.expiration)).toBeGreaterThan(3590);
    expect(secondsLeft(first.expiration)).toBeLessThanOrEqual(3600);

    const second = await h.credentialsFor('bob');
    expect(second.accessKeyId).toBe(first.accessKeyId);
    expect(fake.count('GetSessionToken')).toBe(1);
    expect(h.debugLines.join('\n')).toMatch(
      /profile bob: using cached session sts.GetSessionToken \(expires in \d+h?\d*m\)/,
    );
  });

  it('a cached session is served without reading (decrypting) the stored keys', async () => {
    await setup();
    const first = await h.credentialsFor('bob');
    let keyReads = 0;
    const get = h.credentials.get.bind(h.credentials);
    h.credentials.get = async (name) => {
      keyReads++;
      return get(name);
    };
    const second = await h.credentialsFor('bob');
    expect(second.accessKeyId).toBe(first.accessKeyId);
    expect(keyReads).toBe(0);
    // Without a cached session the keys are read, once.
    await h.sessions.removeAll();
    await h.credentialsFor('bob');
    expect(keyReads).toBe(1);
    expect(fake.count('GetSessionToken')).toBe(2);
  });

  it('uses --mfa-token without prompting', async () => {
    await setup();
    const creds = await h.credentialsFor('alice', { mfaToken: fake.mfaCode('alice') });
    expect(fake.describeCredentials(creds.accessKeyId)?.mfaAuthenticated).toBe(true);
    expect(h.prompts).toEqual([]);
  });

  it('uses mfa_process without prompting', async () => {
    h = harness(
      fake,
      (dir) =>
        `[profile alice]\nmfa_serial = ${alice.mfaSerial}\nmfa_process = cat ${join(dir, 'code')}\n`,
    );
    writeFileSync(join(h.dir, 'code'), `${fake.mfaCode('alice')}\n`);
    await h.credentials.set('alice', alice);
    const creds = await h.credentialsFor('alice');
    expect(fake.describeCredentials(creds.accessKeyId)?.mfaAuthenticated).toBe(true);
    expect(h.prompts).toEqual([]);
  });

  it('asks the prompt once and caches the MFA session', async () => {
    await setup();
    const creds = await h.credentialsFor('alice');
    expect(h.prompts).toEqual([alice.mfaSerial]);
    expect(fake.describeCredentials(creds.accessKeyId)?.mfaAuthenticated).toBe(true);
    await h.credentialsFor('alice');
    expect(h.prompts).toHaveLength(1);
    const [session] = await h.sessions.list();
    expect(session?.type).toBe('sts.GetSessionToken');
    expect(session?.profileName).toBe('alice');
    expect(session?.mfaSerial).toBe(alice.mfaSerial);
  });

  it('honours --duration and AWS_SESSION_TOKEN_TTL', async () => {
    await setup({ AWS_SESSION_TOKEN_TTL: '2h' });
    const creds = await h.credentialsFor('bob');
    expect(secondsLeft(creds.expiration)).toBeGreaterThan(7190);
    h.cleanup();
    await setup();
    const short = await h.credentialsFor('bob', { duration: 1800 });
    expect(secondsLeft(short.expiration)).toBeLessThanOrEqual(1800);
  });

  it('--no-session returns the stored keys and calls nothing', async () => {
    await setup();
    const creds = await h.credentialsFor('bob', { noSession: true });
    expect(creds).toEqual({ accessKeyId: bob.accessKeyId, secretAccessKey: bob.secretAccessKey });
    expect(fake.calls).toHaveLength(0);
    expect(h.debugLines.join('\n')).toContain(
      'skipping GetSessionToken because sessions are disabled',
    );
  });
});

describe('AssumeRole', () => {
  it('assumes a role through an MFA session: one prompt, GetSessionToken for 8h', async () => {
    await setup();
    const creds = await h.credentialsFor('admin');
    const issued = fake.describeCredentials(creds.accessKeyId);
    expect(issued?.roleArn).toBe(arn('admin'));
    expect(issued?.mfaAuthenticated).toBe(true);
    expect(issued?.roleSessionName).toMatch(/^aws-vault-tester-\d+$/);
    expect(h.prompts).toHaveLength(1);
    const gst = (await h.sessions.list()).find((s) => s.type === 'sts.GetSessionToken');
    expect(gst?.profileName).toBe('alice');
    expect(secondsLeft(gst?.expiration)).toBeGreaterThan(8 * 3600 - 10);
    expect(h.debugLines.join('\n')).toContain(
      `profile admin: using AssumeRole ${arn('admin')} (chained MFA)`,
    );
  });

  it('shares one MFA session between role profiles with the same source and mfa_serial', async () => {
    await setup();
    const a = await h.credentialsFor('admin');
    const r = await h.credentialsFor('reader');
    expect(fake.describeCredentials(a.accessKeyId)?.roleArn).toBe(arn('admin'));
    expect(fake.describeCredentials(r.accessKeyId)?.roleArn).toBe(arn('reader'));
    expect(fake.count('GetSessionToken')).toBe(1);
    expect(fake.count('AssumeRole')).toBe(2);
    expect(h.prompts).toHaveLength(1);
    // And each role session is cached by its own profile.
    await h.credentialsFor('admin');
    await h.credentialsFor('reader');
    expect(fake.count('AssumeRole')).toBe(2);
  });

  it('follows a chain of three roles with one MFA prompt', async () => {
    await setup();
    const creds = await h.credentialsFor('deep3');
    const issued = fake.describeCredentials(creds.accessKeyId);
    expect(issued?.roleArn).toBe(arn('deep3'));
    expect(issued?.chained).toBe(true);
    expect(issued?.mfaAuthenticated).toBe(true);
    expect(fake.count('GetSessionToken')).toBe(1);
    expect(fake.count('AssumeRole')).toBe(3);
    expect(h.prompts).toHaveLength(1);
  });

  it('takes mfa_serial and region from include_profile', async () => {
    await setup();
    const creds = await h.credentialsFor('included');
    expect(fake.describeCredentials(creds.accessKeyId)?.roleArn).toBe(arn('mfa-only'));
    expect(h.prompts).toHaveLength(1);
  });

  it('sends external_id, and without it explains the refusal', async () => {
    await setup();
    const creds = await h.credentialsFor('partner');
    expect(fake.describeCredentials(creds.accessKeyId)?.roleArn).toBe(arn('partner'));
    await expect(h.credentialsFor('partner-no-id')).rejects.toThrow(
      /profile partner-no-id: not allowed to assume role .*partner \(AccessDenied: .*\); check the role's trust policy, external_id and mfa_serial/,
    );
  });

  it('sends session tags, transitive tags and source identity', async () => {
    await setup();
    const creds = await h.credentialsFor('tagged');
    const issued = fake.describeCredentials(creds.accessKeyId);
    expect(issued?.tags).toEqual({ team: 'blue', env: 'dev' });
    expect(issued?.transitiveTagKeys).toEqual(['team']);
    expect(issued?.sourceIdentity).toBe('tester-id');
  });

  it('skips GetSessionToken for a role asking more than 1h and sends MFA to AssumeRole', async () => {
    await setup();
    const creds = await h.credentialsFor('long');
    expect(fake.count('GetSessionToken')).toBe(0);
    expect(secondsLeft(creds.expiration)).toBeGreaterThan(7190);
    expect(fake.describeCredentials(creds.accessKeyId)?.mfaAuthenticated).toBe(true);
    expect(h.prompts).toHaveLength(1);
    expect(h.debugLines.join('\n')).toMatch(
      /skipping GetSessionToken because profile long asks for a 7200s/,
    );
  });

  it('--no-session assumes the role with the long-term keys and MFA', async () => {
    await setup();
    const creds = await h.credentialsFor('admin', { noSession: true });
    expect(fake.count('GetSessionToken')).toBe(0);
    expect(fake.describeCredentials(creds.accessKeyId)?.mfaAuthenticated).toBe(true);
  });

  it('a role whose mfa_serial differs from its source profile asks AssumeRole for it, without GetSessionToken', async () => {
    // A session made with alice's device would not carry the role's device:
    // the code for the role's own mfa_serial goes to AssumeRole (as the Go
    // aws-vault), which AWS refuses here because the device is not alice's.
    await setup();
    await expect(h.credentialsFor('other-mfa')).rejects.toThrow(
      /^profile other-mfa: MFA code rejected/,
    );
    expect(fake.count('GetSessionToken')).toBe(0);
    expect(fake.count('AssumeRole')).toBe(1);
    expect(h.prompts).toEqual([otherSerial()]);
    expect(h.debugLines.join('\n')).toContain(
      "profile alice: skipping GetSessionToken because the mfa_serial of profile other-mfa differs from profile alice's",
    );
    expect(await h.sessions.list()).toEqual([]);
  });

  it("names duration_seconds' line when it asks for a role session longer than STS allows, calling nothing", async () => {
    await setup();
    const error = await h.credentialsFor('too-long').catch((e: Error) => e);
    const line = config().split('\n').indexOf('duration_seconds = 86400') + 1;
    expect(String(error)).toBe(
      `ConfigError: ${h.env.AWS_CONFIG_FILE}:${line}: profile too-long: a 24h AssumeRole session is outside AWS's limits (15m to 12h); check duration_seconds`,
    );
    expect(fake.calls.length).toBe(0);
    // --duration (or AWS_ASSUME_ROLE_TTL) overrides it, and is what the message names then.
    const flagged = harness(fake, config(), { AWS_ASSUME_ROLE_TTL: '13h' });
    await flagged.credentials.set('bob', bob);
    expect(String(await flagged.credentialsFor('too-long').catch((e: Error) => e))).toMatch(
      /^ConfigError: profile too-long: a 13h AssumeRole session .*; check --duration, AWS_ASSUME_ROLE_TTL and duration_seconds$/,
    );
  });

  it('a source_profile with no section uses its stored keys (as the Go aws-vault)', async () => {
    await setup();
    await h.credentials.set('carol', bob);
    const creds = await h.credentialsFor('vault-only-source');
    expect(fake.describeCredentials(creds.accessKeyId)?.roleArn).toBe(arn('reader'));
    expect(fake.count('AssumeRole')).toBe(1);
  });

  it('a source_profile with neither a section nor stored keys names its line, and calls nothing', async () => {
    await setup();
    const error = await h.credentialsFor('typo-source').catch((e: unknown) => e);
    const path = join(h.dir, 'config');
    const line = config().split('\n').indexOf('source_profile = bobb') + 1;
    expect(String((error as Error).message)).toBe(
      `${path}:${line}: profile typo-source: source_profile "bobb" not found in ${path} (no [profile bobb] section), and the vault holds no access key for it (add one with \`aws-vault add bobb\`)`,
    );
    expect(fake.calls).toEqual([]);
    expect(h.prompts).toEqual([]);
  });

  it('a role from keys without MFA does not use GetSessionToken (as the Go aws-vault)', async () => {
    await setup();
    await h.credentialsFor('bob-role');
    expect(fake.count('GetSessionToken')).toBe(0);
    expect(fake.count('AssumeRole')).toBe(1);
  });
});

describe('cache lifetime', () => {
  it('refreshes a session with less than AWS_MIN_TTL left', async () => {
    await setup();
    const first = await h.credentialsFor('bob');
    fake.clock.advance(50 * 60); // 10 minutes left: still good
    expect((await h.credentialsFor('bob')).accessKeyId).toBe(first.accessKeyId);
    fake.clock.advance(6 * 60); // 4 minutes left: under the default 5m
    const refreshed = await h.credentialsFor('bob');
    expect(refreshed.accessKeyId).not.toBe(first.accessKeyId);
    expect(fake.count('GetSessionToken')).toBe(2);
  });

  it('honours a larger AWS_MIN_TTL', async () => {
    await setup({ AWS_MIN_TTL: '30m' });
    await h.credentialsFor('bob');
    fake.clock.advance(35 * 60);
    await h.credentialsFor('bob');
    expect(fake.count('GetSessionToken')).toBe(2);
  });

  it('prunes expired sessions from the vault', async () => {
    await setup();
    await h.credentialsFor('bob');
    const oldKeys = (await h.sessions.list()).map((s) => s.key);
    fake.clock.advance(2 * 3600);
    await h.credentialsFor('bob');
    const keys = await h.backend.keys();
    for (const old of oldKeys) expect(keys).not.toContain(old);
    expect(await h.sessions.list()).toHaveLength(1);
  });
});

describe('MFA errors', () => {
  it('a wrong code is a clear error and caches nothing', async () => {
    await setup();
    const good = fake.mfaCode('alice');
    h.answer = () => (good === '111111' ? '222222' : '111111');
    await expect(h.credentialsFor('admin')).rejects.toThrow(
      /^profile alice: MFA code rejected by AWS \(AccessDenied: .*\); check the code and your device's clock$/,
    );
    expect(await h.sessions.list()).toEqual([]);
  });

  it('a code that is not 6 digits is refused before any STS call, without repeating it', async () => {
    await setup();
    h.answer = () => 'hunter2';
    const error = await h.credentialsFor('alice').catch((e: Error) => e);
    expect(String(error)).toMatch(/profile alice: an MFA code is 6 digits/);
    expect(String(error)).not.toContain('hunter2');
    expect(fake.calls).toHaveLength(0);
  });

  it('says where a bad code came from: mfa_process or --mfa-token', async () => {
    h = harness(
      fake,
      (dir) =>
        `[profile alice]\nmfa_serial = ${alice.mfaSerial}\nmfa_process = cat ${join(dir, 'code')}\n`,
    );
    await h.credentials.set('alice', alice);
    writeFileSync(join(h.dir, 'code'), 'hello world junk\n');
    await expect(h.credentialsFor('alice')).rejects.toThrow(
      /^profile alice: an MFA code is 6 digits \(mfa_process printed 16 characters, not all digits\); it must print only the current 6-digit code; run it by hand to see what it prints$/,
    );
    writeFileSync(join(h.dir, 'code'), '\n');
    await expect(h.credentialsFor('alice')).rejects.toThrow(
      /^profile alice: mfa_process printed no MFA code; it must print the current 6-digit code$/,
    );
    await expect(h.credentialsFor('alice', { mfaToken: '12345' })).rejects.toThrow(
      /^profile alice: an MFA code is 6 digits \(the code given is 5 characters\); give the current code from your MFA device with --mfa-token$/,
    );
    // Spaces inside, as some apps show the code, are dropped.
    writeFileSync(join(h.dir, 'code'), `${fake.mfaCode('alice').replace(/^(...)/, '$1 ')}\n`);
    const creds = await h.credentialsFor('alice');
    expect(fake.describeCredentials(creds.accessKeyId)?.mfaAuthenticated).toBe(true);
    expect(h.prompts).toEqual([]);
  });
});

describe('other sources', () => {
  it('uses credential_process as a source and caches its expiring output', async () => {
    h = harness(
      fake,
      (dir) =>
        `[profile cp]\ncredential_process = cat ${join(dir, 'creds.json')}\n\n[profile cp-role]\nsource_profile = cp\nrole_arn = ${arn('reader')}\n`,
    );
    writeFileSync(
      join(h.dir, 'creds.json'),
      JSON.stringify({
        Version: 1,
        AccessKeyId: bob.accessKeyId,
        SecretAccessKey: bob.secretAccessKey,
      }),
    );
    const plain = await h.credentialsFor('cp');
    expect(plain).toEqual({ accessKeyId: bob.accessKeyId, secretAccessKey: bob.secretAccessKey });
    const role = await h.credentialsFor('cp-role');
    expect(fake.describeCredentials(role.accessKeyId)?.roleArn).toBe(arn('reader'));
    expect(fake.count('GetSessionToken')).toBe(0);
  });

  it('explains a credential_process that fails or prints bad JSON, never quoting its output', async () => {
    h = harness(
      fake,
      (dir) =>
        `[profile fails]\ncredential_process = sh -c 'exit 3'\n\n[profile junk]\ncredential_process = cat ${join(dir, 'junk')}\n\n[profile v2]\ncredential_process = echo '{"Version":2}'\n`,
    );
    writeFileSync(join(h.dir, 'junk'), 'SECRETJUNK');
    await expect(h.credentialsFor('fails')).rejects.toThrow(
      /credential_process .* exited with code 3/,
    );
    const junk = await h.credentialsFor('junk').catch((e: Error) => e);
    expect(String(junk)).toMatch(/did not print a JSON document/);
    expect(String(junk)).not.toContain('SECRETJUNK');
    await expect(h.credentialsFor('v2')).rejects.toThrow(/only Version 1 is supported/);
  });

  it('names the SSO setting an sso_session profile lacks, not "no credentials"', async () => {
    h = harness(
      fake,
      () =>
        '[sso-session empty]\nsso_region = us-east-1\n\n[profile e]\nsso_session = empty\nsso_account_id = 111122223333\nsso_role_name = Dev\n\n[profile bare]\nsso_account_id = 111122223333\n',
    );
    await expect(h.credentialsFor('e')).rejects.toThrow(
      /^profile e \(sso_session empty\): SSO needs sso_start_url \(in the profile or its \[sso-session empty\] section\) in /,
    );
    await expect(h.credentialsFor('bare')).rejects.toThrow(
      /^profile bare: SSO needs sso_start_url, sso_region, sso_role_name in /,
    );
  });

  it('names a failed credential_process by its program, never its arguments (they may hold a token)', async () => {
    h = harness(
      fake,
      () =>
        "[profile failing]\ncredential_process = sh -c 'exit 3' --token TOKEN-ON-THE-COMMAND-LINE\n",
    );
    const failed = await h.credentialsFor('failing').catch((e: Error) => e);
    expect(String(failed)).toMatch(
      /profile failing: credential_process "sh …" exited with code 3; its messages are above$/,
    );
    expect(String(failed)).not.toContain('TOKEN-ON-THE-COMMAND-LINE');
  });

  it('refuses expired credential_process output and stops a runaway one, caching nothing', async () => {
    h = harness(
      fake,
      (dir) =>
        `[profile past]\ncredential_process = cat ${join(dir, 'past.json')}\n\n[profile runaway]\ncredential_process = yes\n`,
    );
    writeFileSync(
      join(h.dir, 'past.json'),
      JSON.stringify({
        Version: 1,
        AccessKeyId: 'AKIAPAST',
        SecretAccessKey: 'SECRETPAST',
        SessionToken: 'TOKENPAST',
        Expiration: '2020-01-01T00:00:00Z',
      }),
    );
    const past = await h.credentialsFor('past').catch((e: Error) => e);
    expect(String(past)).toMatch(
      /credential_process "cat …" printed credentials that have already expired \(Expiration 2020-01-01T00:00:00Z\); check the command$/,
    );
    expect(String(past)).not.toContain('SECRETPAST');
    const started = Date.now();
    await expect(h.credentialsFor('runaway')).rejects.toThrow(
      /credential_process "yes" printed more than 1 MiB and was stopped/,
    );
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(await h.sessions.list()).toEqual([]);
  });

  it('uses web_identity_token_file and web_identity_token_process', async () => {
    h = harness(
      fake,
      (dir) =>
        `[profile wi]\nrole_arn = ${arn('ci')}\nweb_identity_token_file = ${join(dir, 'token')}\n\n[profile wip]\nrole_arn = ${arn('ci')}\nweb_identity_token_process = cat ${join(dir, 'token')}\n`,
    );
    writeFileSync(join(h.dir, 'token'), fake.webIdentityToken('ci-runner'));
    const a = await h.credentialsFor('wi');
    const b = await h.credentialsFor('wip');
    expect(fake.describeCredentials(a.accessKeyId)?.roleArn).toBe(arn('ci'));
    expect(fake.describeCredentials(b.accessKeyId)?.issuedBy).toBe('AssumeRoleWithWebIdentity');
    await h.credentialsFor('wi');
    expect(fake.count('AssumeRoleWithWebIdentity')).toBe(2);
  });

  it('a profile with nothing to go on says what to do', async () => {
    h = harness(fake, '[profile empty]\nregion = eu-west-1\n');
    await expect(h.credentialsFor('empty')).rejects.toThrow(
      /profile empty: no credentials: .*aws-vault add empty/,
    );
  });
});

describe('STS failures', () => {
  it('retries throttling', async () => {
    await setup();
    fake.failNext('GetSessionToken', { count: 2 });
    const creds = await h.credentialsFor('bob');
    expect(creds.sessionToken).toBeTruthy();
    expect(fake.count('GetSessionToken')).toBe(3);
  });

  it('retries 500s', async () => {
    await setup();
    fake.failNext('GetSessionToken', { status: 500, count: 2 });
    await h.credentialsFor('bob');
    expect(fake.count('GetSessionToken')).toBe(3);
  });

  it('gives up on endless throttling with a clear message', async () => {
    await setup();
    fake.failNext('GetSessionToken', { count: 10 });
    await expect(h.credentialsFor('bob')).rejects.toThrow(
      /profile bob: STS kept throttling sts.GetSessionToken after 5 attempts/,
    );
  }, 20_000);

  it('a closed endpoint is a clear error within seconds', async () => {
    const port = await closedPort();
    await setup({ AWS_ENDPOINT_URL: `http://127.0.0.1:${port}` });
    const started = Date.now();
    await expect(h.credentialsFor('bob')).rejects.toThrow(
      `profile bob: cannot reach STS at http://127.0.0.1:${port}: connection refused`,
    );
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('names the profile whose stored keys AWS rejects', async () => {
    await setup();
    await h.credentials.set('bob', {
      accessKeyId: 'AKIAUNKNOWN000000000',
      secretAccessKey: 'x'.repeat(40),
    });
    const error = await h.credentialsFor('bob-role').then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toMatch(
      /AWS rejected the access key stored for profile bob \(InvalidClientTokenId: .*aws-vault add bob/,
    );
    // rotate signs with the rejected key, so it cannot be the way out.
    expect(error?.message).not.toContain('aws-vault rotate');
  });
});

describe('secrets', () => {
  it('never logs a key, token or MFA code', async () => {
    await setup();
    const code = fake.mfaCode('alice');
    h.answer = () => code;
    const creds = await h.credentialsFor('deep3');
    const log = h.debugLines.join('\n');
    expect(log.length).toBeGreaterThan(0);
    for (const secret of [creds.secretAccessKey, creds.sessionToken, alice.secretAccessKey, code]) {
      expect(log).not.toContain(secret);
    }
  });

  it('a provider can be called many times and plans once', async () => {
    await setup();
    const provider = getCredentialsProvider(h.profile('admin'), h.deps);
    const [a, b] = await Promise.all([provider(), provider()]);
    expect(a.accessKeyId).toBeTruthy();
    expect(b.accessKeyId).toBeTruthy();
  });
});

function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
