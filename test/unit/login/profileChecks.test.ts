// The checks every profile command makes before any AWS call: unknown
// (misspelt) profile names and --duration against AWS's limits.
import { describe, expect, it } from 'vitest';
import {
  assertKnownProfile,
  checkDuration,
  closestProfile,
  configFileForMessage,
  editDistance,
  shortDuration,
} from '../../../src/cli/credentialsForCommand.ts';
import type { ProfileConfig } from '../../../src/config/types.ts';

describe('unknown profiles', () => {
  it('counts a swap of neighbours as one edit', () => {
    expect(editDistance('prdo', 'prod')).toBe(1);
    expect(editDistance('prod', 'prod')).toBe(0);
    expect(editDistance('stag', 'staging')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
  });

  it('suggests only a close name', () => {
    expect(closestProfile('prdo', ['dev', 'prod', 'prod-admin'])).toBe('prod');
    expect(closestProfile('Prod', ['prod'])).toBe('prod');
    expect(closestProfile('produciton', ['production', 'prod'])).toBe('production');
    expect(closestProfile('xyz', ['prod', 'dev'])).toBeUndefined();
    expect(closestProfile('dve', ['dev'])).toBe('dev');
  });

  it('names the config file as the user does', () => {
    expect(configFileForMessage({}, '/home/u', '/home/u/.aws/config')).toBe('~/.aws/config');
    expect(configFileForMessage({ AWS_CONFIG_FILE: './cfg' }, '/home/u', '/x/cfg')).toBe('./cfg');
    expect(configFileForMessage({}, '/home/u', '/etc/aws/config')).toBe('/etc/aws/config');
  });

  it('passes a name in the config or in the vault, and refuses one in neither', async () => {
    const sources = (inConfig: boolean, stored: string[]) => ({
      inConfig,
      configProfiles: ['prod', 'dev'],
      storedProfiles: async () => stored,
      configFile: '~/.aws/config',
    });
    await expect(assertKnownProfile('prod', sources(true, []))).resolves.toBeUndefined();
    await expect(assertKnownProfile('me', sources(false, ['me']))).resolves.toBeUndefined();
    await expect(assertKnownProfile('mee', sources(false, ['me']))).rejects.toThrow(
      'profile "mee" not found in ~/.aws/config and no credentials stored for it; did you mean "me"?',
    );
    await expect(assertKnownProfile('team lead', sources(false, []))).rejects.toThrow(
      "store its access key with `aws-vault add 'team lead'`",
    );
  });
});

describe('--duration limits', () => {
  const base = { name: 'p', roleArn: undefined } as unknown as ProfileConfig;
  const role = { ...base, name: 'r', roleArn: 'arn:aws:iam::1:role/x' } as ProfileConfig;
  const chained = { ...role, name: 'c', sourceProfile: role } as ProfileConfig;

  it('formats durations shortly', () => {
    expect(shortDuration(300)).toBe('5m');
    expect(shortDuration(5400)).toBe('1h30m');
    expect(shortDuration(172_800)).toBe('48h');
    expect(shortDuration(0)).toBe('0s');
  });

  it('accepts what AWS accepts', () => {
    expect(() => checkDuration(base, undefined)).not.toThrow();
    expect(() => checkDuration(base, 900)).not.toThrow();
    expect(() => checkDuration(base, 129_600)).not.toThrow();
    expect(() => checkDuration(role, 43_200)).not.toThrow();
    expect(() => checkDuration(chained, 3600)).not.toThrow();
  });

  it('leaves alone a profile whose credentials no STS call makes (credential_process, SSO)', () => {
    const process = { ...base, credentialProcess: 'x' } as ProfileConfig;
    const sso = { ...base, ssoStartUrl: 'https://x.awsapps.com/start' } as ProfileConfig;
    expect(() => checkDuration(process, 600)).not.toThrow();
    expect(() => checkDuration(sso, 600)).not.toThrow();
    // A role on top of them is assumed for --duration: checked.
    expect(() => checkDuration({ ...role, sourceProfile: sso } as ProfileConfig, 7200)).toThrow(
      /between 15m and 1h for profile r/,
    );
  });

  it('refuses the rest, naming the limits', () => {
    expect(() => checkDuration(base, 300)).toThrow(
      "--duration must be between 15m and 36h for profile p (AWS's limits for GetSessionToken and GetFederationToken), not 5m",
    );
    expect(() => checkDuration(role, 43_201)).toThrow(/between 15m and 12h for profile r/);
    expect(() => checkDuration(chained, 7200)).toThrow(
      /between 15m and 1h for profile c \(it assumes a role with the credentials of another role/,
    );
  });
});
