import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEnvLines, startExecWorld, type ExecWorld } from './_exec.ts';

describe('exec with roles', () => {
  let w: ExecWorld;
  let mfaSerial: string;
  let mfaUser: string;
  const arn = (name: string) => `arn:aws:iam::${w.fake.accountId}:role/${name}`;

  beforeAll(async () => {
    w = await startExecWorld();
    await w.addUser('base');
    const withMfa = await w.addUser('mfabase', { mfa: true });
    mfaSerial = withMfa.mfaSerial as string;
    mfaUser = withMfa.userName;
    for (const name of ['r1', 'r2', 'r3', 'shared-a', 'shared-b', 'tagged', 'included']) {
      w.fake.createRole(name);
    }
    w.fake.createRole('external', { externalId: 'the-external-id' });
    w.home.writeConfig(`[profile base]
region = eu-west-1

[profile r1]
source_profile = base
role_arn = ${arn('r1')}

[profile r2]
source_profile = r1
role_arn = ${arn('r2')}

[profile r3]
source_profile = r2
role_arn = ${arn('r3')}
role_session_name = third

[profile mixin]
region = ap-southeast-2
role_arn = ${arn('included')}

[profile inc]
include_profile = mixin
source_profile = base

[profile ext]
source_profile = base
role_arn = ${arn('external')}
external_id = the-external-id

[profile ext-wrong]
source_profile = base
role_arn = ${arn('external')}
external_id = not-it

[profile tagged]
source_profile = base
role_arn = ${arn('tagged')}
session_tags = Team=dev,Env=test
transitive_session_tags = Team
source_identity = alice

[profile mfabase]
mfa_serial = ${mfaSerial}

[profile shared-a]
source_profile = mfabase
role_arn = ${arn('shared-a')}
mfa_serial = ${mfaSerial}

[profile shared-b]
source_profile = mfabase
role_arn = ${arn('shared-b')}
mfa_serial = ${mfaSerial}

[profile loop-a]
source_profile = loop-b
role_arn = ${arn('r1')}

[profile loop-b]
source_profile = loop-a
role_arn = ${arn('r2')}

[profile orphan]
source_profile = nowhere
role_arn = ${arn('r1')}

[profile from-vault-only]
source_profile = keys-only
role_arn = ${arn('r1')}
`);
    await w.addUser('keys-only');
  });
  afterAll(async () => {
    await w?.close();
  });

  async function childEnv(profile: string, extraArgs: string[] = []) {
    const result = await w.run(['exec', ...extraArgs, profile, '--', 'env']);
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    return parseEnvLines(result.stdout);
  }

  it('assumes a chain of three roles', async () => {
    const before = w.fake.count('AssumeRole', { ok: true });
    const env = await childEnv('r3');
    const creds = w.fake.describeCredentials(env.AWS_ACCESS_KEY_ID as string);
    expect(creds?.roleArn).toBe(arn('r3'));
    expect(creds?.roleSessionName).toBe('third');
    expect(creds?.chained).toBe(true);
    expect(w.fake.count('AssumeRole', { ok: true }) - before).toBe(3);
    // As in the AWS CLI, region is not inherited from source_profile.
    expect(env.AWS_REGION).toBeUndefined();
  });

  it('merges include_profile', async () => {
    const env = await childEnv('inc');
    expect(w.fake.describeCredentials(env.AWS_ACCESS_KEY_ID as string)?.roleArn).toBe(
      arn('included'),
    );
    expect(env.AWS_REGION).toBe('ap-southeast-2');
  });

  it('sends external_id, and a wrong one is refused by the role', async () => {
    const env = await childEnv('ext');
    expect(w.fake.describeCredentials(env.AWS_ACCESS_KEY_ID as string)?.roleArn).toBe(
      arn('external'),
    );
    const wrong = await w.run(['exec', 'ext-wrong', '--', 'true']);
    expect(wrong.exitCode).toBe(1);
    expect(wrong.stderr).toMatch(
      /^aws-vault: error: exec: .*AccessDenied|access denied|not authorized/i,
    );
  });

  it('sends session tags, transitive tags and the source identity', async () => {
    const env = await childEnv('tagged');
    const creds = w.fake.describeCredentials(env.AWS_ACCESS_KEY_ID as string);
    expect(creds?.tags).toEqual({ Team: 'dev', Env: 'test' });
    expect(creds?.transitiveTagKeys).toEqual(['Team']);
    expect(creds?.sourceIdentity).toBe('alice');
  });

  it('shares one MFA session between roles with the same source and mfa_serial', async () => {
    const sessionsBefore = w.fake.count('GetSessionToken');
    const code = w.fake.mfaCode(mfaUser);
    const a = await childEnv('shared-a', ['--mfa-token', code]);
    // No code for the second role: the cached MFA session is reused.
    const b = await childEnv('shared-b');
    expect(w.fake.count('GetSessionToken') - sessionsBefore).toBe(1);
    expect(w.fake.describeCredentials(a.AWS_ACCESS_KEY_ID as string)?.roleArn).toBe(
      arn('shared-a'),
    );
    const bCreds = w.fake.describeCredentials(b.AWS_ACCESS_KEY_ID as string);
    expect(bCreds?.roleArn).toBe(arn('shared-b'));
    expect(bCreds?.mfaAuthenticated).toBe(true);
  });

  it('refuses a session length or role session name STS would refuse, naming the setting, before any prompt or call', async () => {
    const cases: [string, NodeJS.ProcessEnv, RegExp][] = [
      [
        'base',
        { AWS_SESSION_TOKEN_TTL: '10m' },
        /profile base: a 10m GetSessionToken session is outside AWS's limits \(15m to 36h\); check --duration and AWS_SESSION_TOKEN_TTL\n/,
      ],
      [
        // The MFA code for mfabase's session would be asked first: it is not.
        'shared-a',
        { AWS_CHAINED_SESSION_TOKEN_TTL: '48h' },
        /profile mfabase: a 48h GetSessionToken session is outside AWS's limits \(15m to 36h\); check AWS_CHAINED_SESSION_TOKEN_TTL/,
      ],
      [
        'r1',
        { AWS_ASSUME_ROLE_TTL: '13h' },
        /profile r1: a 13h AssumeRole session is outside AWS's limits \(15m to 12h\); check --duration, AWS_ASSUME_ROLE_TTL and duration_seconds\n/,
      ],
      [
        'r1',
        { AWS_ROLE_SESSION_NAME: 'my session' },
        /profile r1: role session name "my session" is not one AWS accepts \(2 to 64 of letters, digits and \+=,\.@_-\); check role_session_name and AWS_ROLE_SESSION_NAME\n/,
      ],
    ];
    for (const [profile, extra, message] of cases) {
      expect((await w.run(['clear'])).exitCode).toBe(0);
      const calls = w.fake.calls.length;
      const result = await w.run(['exec', profile, '--', 'true'], { env: w.env(extra) });
      expect(result.stderr).toMatch(/^aws-vault: error: exec: /);
      expect(result.stderr).toMatch(message);
      expect(result.exitCode).toBe(1);
      expect(w.fake.calls.length).toBe(calls);
    }
  });

  it('names the file and the profiles of a source_profile cycle', async () => {
    const result = await w.run(['exec', 'loop-a', '--', 'true']);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/^aws-vault: error: exec: /);
    expect(result.stderr).toContain(w.home.configFile);
    expect(result.stderr).toContain('loop-a');
    expect(result.stderr).toContain('loop-b');
    expect(result.stderr).not.toContain('    at ');
  });

  it('uses a source_profile with no section whose keys are in the vault (as the Go aws-vault)', async () => {
    const env = await childEnv('from-vault-only');
    expect(w.fake.describeCredentials(env.AWS_ACCESS_KEY_ID as string)?.roleArn).toBe(arn('r1'));
  });

  it('names the file, line and missing source profile, with neither a section nor keys', async () => {
    const calls = w.fake.calls.length;
    const result = await w.run(['exec', 'orphan', '--', 'true']);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(
      `${w.home.configFile}:64: profile orphan: source_profile "nowhere" not found in ${w.home.configFile} (no [profile nowhere] section), and the vault holds no access key for it (add one with \`aws-vault add nowhere\`)\n`,
    );
    const rotate = await w.run(['rotate', 'orphan']);
    expect(rotate.exitCode).toBe(1);
    expect(rotate.stderr).toContain('source_profile "nowhere" not found');
    expect(w.fake.calls.length).toBe(calls);
    const missing = await w.run(['exec', 'no-such-profile', '--', 'true']);
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toContain('no-such-profile');
  });
});

describe('the role session cache', () => {
  let w: ExecWorld;
  const arn = (name: string) => `arn:aws:iam::${w.fake.accountId}:role/${name}`;
  const roleOf = async (profile: string, env: NodeJS.ProcessEnv = {}) => {
    const r = await w.run(['exec', profile, '--', 'env'], { env: w.env(env) });
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    return w.fake.describeCredentials(parseEnvLines(r.stdout).AWS_ACCESS_KEY_ID as string)?.roleArn;
  };
  const config = (role: string, extra = '') =>
    `[profile base]\n\n[profile r]\nsource_profile = base\nrole_arn = ${arn(role)}\n${extra}`;

  beforeAll(async () => {
    w = await startExecWorld();
    await w.addUser('base');
    for (const name of ['dev', 'admin', 'ops']) w.fake.createRole(name);
  });
  afterAll(async () => {
    await w?.close();
  });

  it('never hands out a cached role session for another role_arn, AWS_ROLE_ARN or tags', async () => {
    w.home.writeConfig(config('admin'));
    const calls = () => w.fake.count('AssumeRole', { ok: true });
    const start = calls();
    expect(await roleOf('r')).toBe(arn('admin'));
    expect(await roleOf('r')).toBe(arn('admin'));
    expect(calls() - start).toBe(1);
    // The same profile, edited: a new AssumeRole, not the old role's session.
    w.home.writeConfig(config('ops'));
    expect(await roleOf('r')).toBe(arn('ops'));
    expect(calls() - start).toBe(2);
    expect(await roleOf('r')).toBe(arn('ops'));
    expect(calls() - start).toBe(2);
    // The environment's override, and back: each keeps its own session.
    expect(await roleOf('r', { AWS_ROLE_ARN: arn('dev') })).toBe(arn('dev'));
    expect(await roleOf('r')).toBe(arn('ops'));
    expect(await roleOf('r', { AWS_ROLE_ARN: arn('dev') })).toBe(arn('dev'));
    expect(calls() - start).toBe(3);
    // Session tags are part of what was asked for too.
    w.home.writeConfig(config('ops', 'session_tags = Team=dev\n'));
    await roleOf('r');
    expect(calls() - start).toBe(4);
    // One session per request: admin's, ops', dev's and the tagged one.
    const list = await w.run(['list', '--json']);
    const doc = JSON.parse(list.stdout) as { sessions: { type: string; profile: string }[] };
    expect(doc.sessions.filter((s) => s.profile === 'r')).toHaveLength(4);
  });
});
