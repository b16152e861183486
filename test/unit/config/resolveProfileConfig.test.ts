import { describe, expect, it } from 'vitest';
import {
  missingSourceProfileError,
  resolveProfileConfig,
  sourceProfileSetting,
  type ResolveProfileOptions,
} from '../../../src/config/resolveProfileConfig.ts';
import { configErrorOf, configFrom } from './helpers.ts';

function resolve(text: string, name: string, options: Partial<ResolveProfileOptions> = {}) {
  const { file, path } = configFrom(text);
  return { profile: resolveProfileConfig(file, name, { env: {}, ...options }), path };
}

function errorOf(text: string, name: string, options: Partial<ResolveProfileOptions> = {}) {
  const { file, path } = configFrom(text);
  return {
    error: configErrorOf(() => resolveProfileConfig(file, name, { env: {}, ...options })),
    path,
  };
}

describe('resolveProfileConfig: keys', () => {
  it('reads every profile key', () => {
    const { profile, path } = resolve(
      `[profile all]
region = eu-west-1
mfa_serial = arn:aws:iam::111111111111:mfa/me
mfa_process = pass otp aws
role_arn = arn:aws:iam::222222222222:role/admin
role_session_name = me-session
external_id = ext-123
duration_seconds = 900
credential_process = /bin/creds --json
web_identity_token_file = /tmp/token
web_identity_token_process = /bin/token
sts_regional_endpoints = legacy
endpoint_url = http://127.0.0.1:9000
session_tags = team=core, env = prod
transitive_session_tags = team, env
source_identity = alice
`,
      'all',
    );
    expect(profile).toEqual({
      name: 'all',
      file: path,
      inFile: true,
      line: 1,
      region: 'eu-west-1',
      mfaSerial: 'arn:aws:iam::111111111111:mfa/me',
      mfaProcess: 'pass otp aws',
      roleArn: 'arn:aws:iam::222222222222:role/admin',
      roleSessionName: 'me-session',
      externalId: 'ext-123',
      credentialProcess: '/bin/creds --json',
      webIdentityTokenFile: '/tmp/token',
      webIdentityTokenProcess: '/bin/token',
      stsRegionalEndpoints: 'legacy',
      endpointUrl: 'http://127.0.0.1:9000',
      serviceEndpoints: {},
      sessionTags: { team: 'core', env: 'prod' },
      transitiveSessionTags: ['team', 'env'],
      sourceIdentity: 'alice',
      noSession: false,
      assumeRoleDuration: 900,
      assumeRoleDurationAt: { file: path, line: 8 },
      sessionTokenDuration: 3600,
      chainedSessionTokenDuration: 8 * 3600,
      federationTokenDuration: 3600,
      minTtl: 300,
    });
  });

  it('applies the defaults to a bare profile', () => {
    const { profile } = resolve('[profile bare]\n', 'bare');
    expect(profile).toMatchObject({
      name: 'bare',
      sessionTags: {},
      transitiveSessionTags: [],
      assumeRoleDuration: 3600,
      sessionTokenDuration: 3600,
      chainedSessionTokenDuration: 28800,
      federationTokenDuration: 3600,
      minTtl: 300,
      noSession: false,
    });
    expect(profile.region).toBeUndefined();
    expect(profile.sourceProfileName).toBeUndefined();
  });

  it('accepts duration_seconds with units too', () => {
    expect(resolve('[profile d]\nduration_seconds = 1h30m\n', 'd').profile.assumeRoleDuration).toBe(
      5400,
    );
  });

  it('reads sso_session values from [sso-session], and legacy sso_* keys', () => {
    const text = `[profile with-sso-session]
sso_session = moon-sso
sso_account_id = 123456789012
sso_role_name = Admin
sso_start_url = https://ignored.example.com/start
region = moon-1 # differs from the sso region

[sso-session moon-sso]
sso_start_url = https://d-123456789.awsapps.com/start#/
sso_region = moon-2
sso_registration_scopes = sso:account:access, openid

[profile legacy]
sso_start_url = https://legacy.awsapps.com/start
sso_region = us-east-2
sso_account_id = 210987654321
sso_role_name = ReadOnly
`;
    const session = resolve(text, 'with-sso-session').profile;
    expect(session).toMatchObject({
      region: 'moon-1',
      ssoSession: 'moon-sso',
      ssoStartUrl: 'https://d-123456789.awsapps.com/start#/',
      ssoRegion: 'moon-2',
      ssoRegistrationScopes: ['sso:account:access', 'openid'],
      ssoAccountId: '123456789012',
      ssoRoleName: 'Admin',
    });
    const legacy = resolve(text, 'legacy').profile;
    expect(legacy).toMatchObject({
      ssoStartUrl: 'https://legacy.awsapps.com/start',
      ssoRegion: 'us-east-2',
      ssoAccountId: '210987654321',
      ssoRoleName: 'ReadOnly',
    });
    expect(legacy.ssoSession).toBeUndefined();
  });

  it('reads per-service endpoints from [services] and ignore_configured_endpoint_urls', () => {
    const { profile } = resolve(
      `[profile local]
services = dev
endpoint_url = http://127.0.0.1:1
ignore_configured_endpoint_urls = true

[services dev]
sts =
  endpoint_url = http://127.0.0.1:2
sso_oidc =
  endpoint_url = http://127.0.0.1:3
s3 =
  addressing_style = path
`,
      'local',
    );
    expect(profile.services).toBe('dev');
    expect(profile.serviceEndpoints).toEqual({
      sts: 'http://127.0.0.1:2',
      sso_oidc: 'http://127.0.0.1:3',
    });
    expect(profile.endpointUrl).toBe('http://127.0.0.1:1');
    expect(profile.ignoreConfiguredEndpointUrls).toBe(true);
  });

  it('treats an empty value as unset', () => {
    const { profile } = resolve('[default]\nregion = us-east-2\n[profile e]\nregion =\n', 'e');
    expect(profile.region).toBe('us-east-2');
  });
});

describe('resolveProfileConfig: include_profile and [default]', () => {
  it('fills unset keys from [default]', () => {
    const { profile } = resolve(
      '[default]\nregion = us-west-2\nmfa_serial = m\n[profile a]\nregion = eu-west-1\n',
      'a',
    );
    expect(profile.region).toBe('eu-west-1');
    expect(profile.mfaSerial).toBe('m');
  });

  it('follows include_profile chains; the profile beats what it includes', () => {
    const { profile } = resolve(
      `[default]
region = default-region
external_id = from-default
[profile base]
region = base-region
mfa_serial = base-mfa
role_session_name = base-name
[profile middle]
include_profile = base
role_session_name = middle-name
[profile top]
include_profile = middle
role_arn = arn:top
`,
      'top',
    );
    expect(profile).toMatchObject({
      roleArn: 'arn:top',
      roleSessionName: 'middle-name',
      region: 'base-region',
      mfaSerial: 'base-mfa',
      // [default] is reached from the end of the include chain.
      externalId: 'from-default',
    });
  });

  it('accepts parent_profile, the old name', () => {
    const { profile } = resolve('[profile p]\nregion = r\n[profile c]\nparent_profile = p\n', 'c');
    expect(profile.region).toBe('r');
  });

  it('takes session_tags whole from the first profile that sets them', () => {
    const { profile } = resolve(
      '[default]\nsession_tags = a=1,b=2\ntransitive_session_tags = a\n[profile x]\nsession_tags = c=3\n',
      'x',
    );
    expect(profile.sessionTags).toEqual({ c: '3' });
    expect(profile.transitiveSessionTags).toEqual(['a']);
  });

  it('resolves [default] itself without looping', () => {
    const { profile } = resolve('[default]\nregion = r\n', 'default');
    expect(profile.region).toBe('r');
  });

  it('lets [default] include a profile that falls back to [default]', () => {
    const { profile } = resolve(
      '[default]\ninclude_profile = common\nregion = d\n[profile common]\nmfa_serial = m\n',
      'default',
    );
    expect(profile).toMatchObject({ region: 'd', mfaSerial: 'm' });
  });
});

describe('resolveProfileConfig: source_profile', () => {
  const CHAIN = `[profile root]
region = us-east-1
mfa_serial = arn:aws:iam::111111111111:mfa/me
[profile one]
source_profile = root
role_arn = arn:one
[profile two]
source_profile = one
role_arn = arn:two
[profile three]
source_profile = two
role_arn = arn:three
`;

  it('resolves chains of any depth', () => {
    const { profile } = resolve(CHAIN, 'three');
    expect(profile.sourceProfileName).toBe('two');
    expect(profile.sourceProfile?.name).toBe('two');
    expect(profile.sourceProfile?.roleArn).toBe('arn:two');
    expect(profile.sourceProfile?.sourceProfile?.roleArn).toBe('arn:one');
    const root = profile.sourceProfile?.sourceProfile?.sourceProfile;
    expect(root?.name).toBe('root');
    expect(root?.mfaSerial).toBe('arn:aws:iam::111111111111:mfa/me');
    expect(root?.sourceProfile).toBeUndefined();
  });

  it('lets a profile name itself as source_profile (its own stored keys)', () => {
    const { profile } = resolve(
      '[profile self]\nsource_profile = self\nrole_arn = arn:self\n',
      'self',
    );
    expect(profile.sourceProfileName).toBe('self');
    expect(profile.sourceProfile).toBeUndefined();
    expect(profile.roleArn).toBe('arn:self');
  });

  it('lets an included profile also be the source', () => {
    const { profile } = resolve(
      '[profile root]\nregion = r\n[profile foo]\ninclude_profile = root\nsource_profile = root\n',
      'foo',
    );
    expect(profile.region).toBe('r');
    expect(profile.sourceProfile?.name).toBe('root');
  });

  it('inherits source_profile from [default]; the source itself then sources itself', () => {
    const { profile } = resolve(
      '[default]\nsource_profile = base\n[profile base]\n[profile role]\nrole_arn = arn:r\n',
      'role',
    );
    expect(profile.sourceProfile?.name).toBe('base');
    expect(profile.sourceProfile?.sourceProfileName).toBe('base');
    expect(profile.sourceProfile?.sourceProfile).toBeUndefined();
  });
});

describe('sourceProfileSetting', () => {
  const text = `[default]
region = eu-west-1
source_profile = base

[profile base]
source_profile = base

[profile common]
source_profile = me

[profile me]

[profile role]
include_profile = common
role_arn = arn:aws:iam::111111111111:role/r

[profile own]
source_profile = me
include_profile = common

[profile plain]
region = us-east-1
`;

  it('names the source and the section that sets it, as the resolver reads it', () => {
    const { file } = configFrom(text);
    expect(sourceProfileSetting(file, 'own')).toEqual({ name: 'me', from: 'own', line: 18 });
    expect(sourceProfileSetting(file, 'role')).toEqual({ name: 'me', from: 'common', line: 9 });
    expect(sourceProfileSetting(file, 'base')).toEqual({ name: 'base', from: 'base', line: 6 });
    expect(sourceProfileSetting(file, 'plain')).toEqual({
      name: 'base',
      from: 'default',
      line: 3,
    });
    // A profile with no section falls back to [default], as the resolver does.
    expect(sourceProfileSetting(file, 'nowhere')?.from).toBe('default');
    for (const name of ['own', 'role', 'plain', 'nowhere']) {
      const resolved = resolveProfileConfig(file, name, { env: {} });
      expect(resolved.sourceProfileName).toBe(sourceProfileSetting(file, name)?.name);
    }
  });

  it('is undefined without a source_profile, and include errors still throw', () => {
    const { file } = configFrom('[profile a]\nregion = x\n[profile b]\ninclude_profile = zz\n');
    expect(sourceProfileSetting(file, 'a')).toBeUndefined();
    expect(configErrorOf(() => sourceProfileSetting(file, 'b')).message).toContain(
      'include_profile "zz" not found',
    );
  });
});

describe('resolveProfileConfig: precedence', () => {
  const TEXT = `[default]
region = default-region
[profile base]
region = base-region
mfa_serial = base-mfa
[profile role]
source_profile = base
role_arn = arn:file
role_session_name = file-name
session_tags = from=file
transitive_session_tags = from
source_identity = file-id
sts_regional_endpoints = legacy
duration_seconds = 1200
`;

  it('uses the file when nothing overrides it', () => {
    const { profile } = resolve(TEXT, 'role');
    expect(profile).toMatchObject({
      region: 'default-region',
      roleArn: 'arn:file',
      stsRegionalEndpoints: 'legacy',
      assumeRoleDuration: 1200,
    });
    expect(profile.mfaSerial).toBeUndefined();
    expect(profile.sourceProfile?.region).toBe('base-region');
  });

  it('lets the environment beat the file', () => {
    const env = {
      AWS_REGION: 'env-region',
      AWS_STS_REGIONAL_ENDPOINTS: 'regional',
      AWS_MFA_SERIAL: 'env-mfa',
      AWS_ROLE_ARN: 'arn:env',
      AWS_ROLE_SESSION_NAME: 'env-name',
      AWS_SESSION_TAGS: 'from=env,x=y',
      AWS_TRANSITIVE_TAGS: 'from,x',
      AWS_SOURCE_IDENTITY: 'env-id',
      AWS_ASSUME_ROLE_TTL: '45m',
      AWS_SESSION_TOKEN_TTL: '12h',
      AWS_CHAINED_SESSION_TOKEN_TTL: '2h',
      AWS_FEDERATION_TOKEN_TTL: '90m',
      AWS_MIN_TTL: '10m',
    };
    const { profile } = resolve(TEXT, 'role', { env });
    expect(profile).toMatchObject({
      region: 'env-region',
      stsRegionalEndpoints: 'regional',
      mfaSerial: 'env-mfa',
      roleArn: 'arn:env',
      roleSessionName: 'env-name',
      sessionTags: { from: 'env', x: 'y' },
      transitiveSessionTags: ['from', 'x'],
      sourceIdentity: 'env-id',
      assumeRoleDuration: 45 * 60,
      sessionTokenDuration: 12 * 3600,
      chainedSessionTokenDuration: 2 * 3600,
      federationTokenDuration: 90 * 60,
      minTtl: 600,
    });
    // As in the Go aws-vault: region, STS mode, MFA serial and TTLs apply along
    // the chain; the role variables only to the profile asked for.
    const source = profile.sourceProfile;
    expect(source).toMatchObject({
      region: 'env-region',
      mfaSerial: 'env-mfa',
      sessionTokenDuration: 12 * 3600,
    });
    expect(source?.roleArn).toBeUndefined();
    expect(source?.roleSessionName).toBeUndefined();
    expect(source?.sessionTags).toEqual({});
    expect(source?.transitiveSessionTags).toEqual([]);
    expect(source?.sourceIdentity).toBeUndefined();
  });

  it('takes a TTL of 0 as the default, as the Go aws-vault does; AWS_MIN_TTL=0 as 0', () => {
    const env = {
      AWS_ASSUME_ROLE_TTL: '0',
      AWS_SESSION_TOKEN_TTL: '0s',
      AWS_CHAINED_SESSION_TOKEN_TTL: '0h',
      AWS_FEDERATION_TOKEN_TTL: '0m',
      AWS_MIN_TTL: '0s',
    };
    const plain = resolve(TEXT, 'role', {}).profile;
    const { profile } = resolve(TEXT, 'role', { env });
    expect(profile).toMatchObject({
      assumeRoleDuration: plain.assumeRoleDuration,
      sessionTokenDuration: 3600,
      chainedSessionTokenDuration: 8 * 3600,
      federationTokenDuration: 3600,
      minTtl: 0,
    });
  });

  it('prefers AWS_REGION to AWS_DEFAULT_REGION, and uses the latter alone', () => {
    const both = { AWS_REGION: 'a', AWS_DEFAULT_REGION: 'b' };
    expect(resolve(TEXT, 'role', { env: both }).profile.region).toBe('a');
    expect(resolve(TEXT, 'role', { env: { AWS_DEFAULT_REGION: 'b' } }).profile.region).toBe('b');
    expect(resolve(TEXT, 'role', { env: { AWS_REGION: '' } }).profile.region).toBe(
      'default-region',
    );
  });

  it('lets flags beat the environment', () => {
    const env = {
      AWS_REGION: 'env-region',
      AWS_ASSUME_ROLE_TTL: '45m',
      AWS_SESSION_TOKEN_TTL: '12h',
    };
    const { profile } = resolve(TEXT, 'role', {
      env,
      overrides: { region: 'flag-region', duration: 1800, mfaToken: '123456', noSession: true },
    });
    expect(profile).toMatchObject({
      region: 'flag-region',
      mfaToken: '123456',
      noSession: true,
      assumeRoleDuration: 1800,
      sessionTokenDuration: 1800,
      federationTokenDuration: 1800,
      chainedSessionTokenDuration: 8 * 3600,
    });
    expect(profile.sourceProfile).toMatchObject({ region: 'flag-region', mfaToken: '123456' });
  });

  it('treats --duration 0 as unset', () => {
    const { profile } = resolve(TEXT, 'role', { overrides: { duration: 0 } });
    expect(profile.assumeRoleDuration).toBe(1200);
    expect(profile.sessionTokenDuration).toBe(3600);
  });

  it('treats duration_seconds = 0 as unset, as the Go aws-vault does', () => {
    expect(resolve('[profile z]\nduration_seconds = 0\n', 'z').profile.assumeRoleDuration).toBe(
      3600,
    );
  });
});

describe('resolveProfileConfig: profiles that exist only in the vault', () => {
  it('resolves a profile with no section from [default] and the environment', () => {
    const { profile } = resolve('[default]\nregion = r\n', 'vault-only', {
      env: { AWS_MFA_SERIAL: 'm' },
    });
    expect(profile).toMatchObject({
      name: 'vault-only',
      inFile: false,
      region: 'r',
      mfaSerial: 'm',
    });
    expect(profile.line).toBeUndefined();
  });

  it('writes the section of a name with spaces as it must be typed', () => {
    const { profile } = resolve('[profile r]\nsource_profile = team ops\n', 'r');
    expect(missingSourceProfileError(profile).message).toContain(
      '(no [profile "team ops"] section)',
    );
  });
});

describe('resolveProfileConfig: errors', () => {
  it('resolves a source_profile with no section as a vault-only profile, noting where it is set', () => {
    const { profile, path } = resolve(
      '[default]\nregion = d\n[profile ok]\n\n[profile dev]\nregion = r\nsource_profile = base\n',
      'dev',
    );
    expect(profile.sourceProfile).toMatchObject({ name: 'base', inFile: false, region: 'd' });
    expect(profile.sourceProfileAt).toEqual({ file: path, profile: 'dev', line: 7 });
  });

  it('words the error for a source_profile with neither a section nor stored keys', () => {
    const { profile, path } = resolve(
      '[profile ok]\n\n[profile dev]\nregion = r\nsource_profile = base\n',
      'dev',
    );
    expect(missingSourceProfileError(profile).message).toBe(
      `${path}:5: profile dev: source_profile "base" not found in ${path} (no [profile base] section), and the vault holds no access key for it (add one with \`aws-vault add base\`)`,
    );
  });

  it('notes the section that sets a source_profile deep in a chain or through include_profile', () => {
    const top = resolve(
      '[profile top]\nsource_profile = mid\n[profile mid]\nsource_profile = gone\n',
      'top',
    );
    const deep = top.profile.sourceProfile;
    expect(deep?.sourceProfileAt).toEqual({ file: top.path, profile: 'mid', line: 4 });
    const { profile: included, path } = resolve(
      '[profile shared]\nsource_profile = -gone\n[profile top]\ninclude_profile = shared\n',
      'top',
    );
    expect(included.sourceProfileAt).toEqual({ file: path, profile: 'shared', line: 2 });
    expect(missingSourceProfileError(included).message).toContain('`aws-vault add -- -gone`');
  });

  it('refuses a source_profile chain deeper than 50 profiles, and resolves one of 50', () => {
    const chain = (n: number) =>
      Array.from({ length: n }, (_, i) =>
        i === n - 1 ? `[profile p${i}]\n` : `[profile p${i}]\nsource_profile = p${i + 1}\n`,
      ).join('');
    let depth = 0;
    for (let p = resolve(chain(50), 'p0').profile; p.sourceProfile; p = p.sourceProfile) depth++;
    expect(depth).toBe(49);
    const { error, path } = errorOf(chain(20_000), 'p0');
    expect(error.message).toBe(
      `${path}:100: profile p49: source_profile chain longer than 50 profiles (p0 -> p1 -> p2 -> ...): no role chain is that deep; check the source_profile settings`,
    );
  });

  it('reports a source_profile cycle', () => {
    const { error, path } = errorOf(
      '[profile a]\nsource_profile = b\n[profile b]\nsource_profile = a\n',
      'a',
    );
    expect(error.message).toBe(`${path}:4: profile b: source_profile cycle a -> b -> a`);
  });

  it('reports a longer source_profile cycle that does not include the first profile', () => {
    const { error } = errorOf(
      '[profile a]\nsource_profile = b\n[profile b]\nsource_profile = c\n[profile c]\nsource_profile = b\n',
      'a',
    );
    expect(error.message).toContain('source_profile cycle b -> c -> b');
  });

  it('reports an include_profile cycle', () => {
    const { error, path } = errorOf(
      '[profile a]\ninclude_profile = b\n[profile b]\ninclude_profile = a\n',
      'a',
    );
    expect(error.message).toBe(`${path}:4: profile b: include_profile cycle a -> b -> a`);
  });

  it('reports a cycle through include_profile and [default]', () => {
    const { error } = errorOf(
      '[default]\ninclude_profile = a\n[profile a]\ninclude_profile = default\n[profile x]\n',
      'x',
    );
    expect(error.message).toContain('include_profile cycle default -> a -> default');
  });

  it('reports a source_profile cycle that comes through include_profile', () => {
    const { error, path } = errorOf(
      '[profile a]\ninclude_profile = shared\n[profile shared]\nsource_profile = b\n[profile b]\nsource_profile = a\n',
      'a',
    );
    expect(error.message).toBe(`${path}:6: profile b: source_profile cycle a -> b -> a`);
  });

  it('allows a source_profile inherited through include_profile that names the profile itself', () => {
    const { profile } = resolve(
      '[profile mix]\nsource_profile = a\n[profile a]\ninclude_profile = mix\n',
      'a',
    );
    expect(profile.sourceProfileName).toBe('a');
    expect(profile.sourceProfile).toBeUndefined();
  });

  it('reports a missing include_profile target', () => {
    const { error, path } = errorOf('[profile a]\n\ninclude_profile = nope\n', 'a');
    expect(error.message).toBe(
      `${path}:3: profile a: include_profile "nope" not found in ${path} (no [profile nope] section)`,
    );
  });

  it('reports duration_seconds of the wrong form', () => {
    const { error, path } = errorOf(
      '[profile prod]\nregion = r\nduration_seconds = soon\n',
      'prod',
    );
    expect(error.message).toBe(
      `${path}:3: profile prod: duration_seconds: "soon" is not a duration (use e.g. 3600 or 1h)`,
    );
  });

  it('names the profile the bad value came from, not the one asked for', () => {
    const { error, path } = errorOf('[default]\nduration_seconds = -5\n[profile p]\n', 'p');
    expect(error.message).toBe(
      `${path}:2: profile default: duration_seconds: "-5" is not a duration (use e.g. 3600 or 1h)`,
    );
  });

  it('requires units in the TTL variables', () => {
    for (const name of [
      'AWS_SESSION_TOKEN_TTL',
      'AWS_CHAINED_SESSION_TOKEN_TTL',
      'AWS_ASSUME_ROLE_TTL',
      'AWS_FEDERATION_TOKEN_TTL',
      'AWS_MIN_TTL',
    ]) {
      const { error } = errorOf('[profile p]\n', 'p', { env: { [name]: '3600' } });
      expect(error.message).toBe(`${name}: "3600" is not a duration (use e.g. 1h, 90m or 3600s)`);
    }
  });

  it('reports malformed session_tags without echoing them', () => {
    const { error, path } = errorOf('[profile p]\nsession_tags = justakey\n', 'p');
    expect(error.message).toBe(
      `${path}:2: profile p: session_tags: must be key1=value1,key2=value2`,
    );
    const fromEnv = errorOf('[profile p]\n', 'p', { env: { AWS_SESSION_TAGS: 'a=1,oops' } }).error;
    expect(fromEnv.message).toBe('AWS_SESSION_TAGS: must be key1=value1,key2=value2');
  });

  it('reports a bad sts_regional_endpoints', () => {
    const { error, path } = errorOf('[profile p]\nsts_regional_endpoints = global\n', 'p');
    expect(error.message).toBe(
      `${path}:2: profile p: sts_regional_endpoints: "global" must be "regional" or "legacy"`,
    );
  });

  it('refuses a quoted value of a key that cannot hold quotes, naming the line, not the value', () => {
    const hint =
      'is written in quotes, and the quotes would be part of the value (the AWS CLI reads it so too; the Go aws-vault dropped them): remove them';
    const role = errorOf(
      '[profile base]\n[profile r]\nsource_profile = base\nrole_arn = "arn:aws:iam::111111111111:role/x"\n',
      'r',
    );
    expect(role.error.message).toBe(`${role.path}:4: profile r: role_arn ${hint}`);
    expect(role.error.message).not.toContain('111111111111');
    const single = errorOf("[default]\nregion = 'eu-west-1'\n[profile p]\n", 'p');
    expect(single.error.message).toBe(`${single.path}:2: profile default: region ${hint}`);
    const include = errorOf('[profile a]\ninclude_profile = "b"\n[profile b]\n', 'a');
    expect(include.error.message).toBe(`${include.path}:2: profile a: include_profile ${hint}`);
    const sso = errorOf(
      '[profile s]\nsso_session = corp\n[sso-session corp]\nsso_region = "eu-west-1"\n',
      's',
    );
    expect(sso.error.message).toBe(`${sso.path}:3: sso-session corp: sso_region ${hint}`);
    const services = errorOf(
      '[profile s]\nservices = local\n[services local]\nsts =\n  endpoint_url = "http://127.0.0.1:1"\n',
      's',
    );
    expect(services.error.message).toBe(`${services.path}:3: services local: endpoint_url ${hint}`);
  });

  it('refuses an endpoint_url that is not an http(s) URL, naming the line', () => {
    const hint =
      'is not an http:// or https:// URL (e.g. https://sts.eu-west-1.amazonaws.com or http://localhost:4566)';
    for (const value of ['not a url', 'ftp://x', 'localhost:4566']) {
      const bad = errorOf(`[profile base]\nregion = eu-west-1\nendpoint_url = ${value}\n`, 'base');
      expect(bad.error.message).toBe(
        `${bad.path}:3: profile base: endpoint_url "${value}" ${hint}`,
      );
    }
    const inherited = errorOf('[default]\nendpoint_url = nope\n[profile p]\n', 'p');
    expect(inherited.error.message).toBe(
      `${inherited.path}:2: profile default: endpoint_url "nope" ${hint}`,
    );
    const services = errorOf(
      '[profile s]\nservices = local\n[services local]\nsts =\n  endpoint_url = 127.0.0.1:1\n',
      's',
    );
    expect(services.error.message).toBe(
      `${services.path}:3: services local: endpoint_url "127.0.0.1:1" ${hint}`,
    );
    // A quoted one gets the quotes' message.
    const quoted = errorOf('[profile q]\nendpoint_url = "http://127.0.0.1:1"\n', 'q');
    expect(quoted.error.message).toMatch(/endpoint_url is written in quotes/);
    expect(
      resolve('[profile ok]\nendpoint_url = http://[::1]:4566/\n', 'ok').profile.endpointUrl,
    ).toBe('http://[::1]:4566/');
  });

  it('keeps quotes in commands and paths, and inside or on one side of a value', () => {
    const { profile } = resolve(
      `[profile p]
credential_process = "/opt/my tool/bin" --profile p
mfa_process = "/opt/otp"
web_identity_token_file = "/tmp/t"
role_arn = arn:aws:iam::1:role/x"
external_id = "abc
`,
      'p',
    );
    expect(profile.credentialProcess).toBe('"/opt/my tool/bin" --profile p');
    expect(profile.mfaProcess).toBe('"/opt/otp"');
    expect(profile.webIdentityTokenFile).toBe('"/tmp/t"');
    expect(profile.roleArn).toBe('arn:aws:iam::1:role/x"');
    expect(profile.externalId).toBe('"abc');
  });

  it('reports a missing [sso-session] and a missing [services] section', () => {
    const sso = errorOf('[profile s]\nsso_session = corp\n', 's');
    expect(sso.error.message).toBe(
      `${sso.path}:2: profile s: sso_session "corp" not found in ${sso.path} (no [sso-session corp] section)`,
    );
    const services = errorOf('[profile s]\nservices = local\n', 's');
    expect(services.error.message).toContain(':2: profile s: services "local" not found');
  });
});

describe('resolveProfileConfig: --debug', () => {
  it('says which sections and variables each profile came from, never their values', () => {
    const lines: string[] = [];
    resolve(
      '[default]\nregion = d\n[profile base]\n[profile common]\nmfa_serial = m\n[profile role]\ninclude_profile = common\nsource_profile = base\n',
      'role',
      {
        env: { AWS_REGION: 'secret-looking-value', AWS_ROLE_ARN: 'arn:env' },
        debug: (line) => lines.push(line),
      },
    );
    expect(lines).toEqual([
      'profile role: read from [profile role] -> [profile common] -> [default]; environment: AWS_REGION, AWS_ROLE_ARN',
      'profile base: read from [profile base] -> [default]; environment: AWS_REGION',
    ]);
    expect(lines.join('\n')).not.toContain('secret-looking-value');
  });

  it('marks a profile that is not in the file', () => {
    const lines: string[] = [];
    resolve('', 'vault-only', { debug: (line) => lines.push(line) });
    expect(lines).toEqual([
      'profile vault-only: read from [profile vault-only] (not in file) -> [default] (not in file)',
    ]);
  });
});
