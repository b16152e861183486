import { describe, expect, it } from 'vitest';
import { resolveGlobals } from '../../../src/cli/context.ts';

// Each global flag and the Go aws-vault's environment variable for it
// (cli/global.go): the flag wins, the variable stands in for it, and an
// empty one counts as unset.
const PAIRS = [
  ['backend', 'AWS_VAULT_BACKEND', 'backend', 'pass'],
  ['prompt', 'AWS_VAULT_PROMPT', 'prompt', 'zenity'],
  ['keychain', 'AWS_VAULT_KEYCHAIN_NAME', 'keychainName', 'work'],
  [
    'secretServiceCollection',
    'AWS_VAULT_SECRET_SERVICE_COLLECTION_NAME',
    'secretServiceCollection',
    'awsvault',
  ],
  ['fileDir', 'AWS_VAULT_FILE_DIR', 'fileDir', '/srv/keys'],
  ['passDir', 'AWS_VAULT_PASS_PASSWORD_STORE_DIR', 'passDir', '/srv/pass'],
  ['passCmd', 'AWS_VAULT_PASS_CMD', 'passCmd', 'gopass'],
  ['passPrefix', 'AWS_VAULT_PASS_PREFIX', 'passPrefix', 'aws'],
] as const;

describe('resolveGlobals', () => {
  it.each(PAIRS)('--%s or %s gives %s', (flag, envName, option, value) => {
    const fromEnv = resolveGlobals({}, { [envName]: value }, '/home/u');
    expect(fromEnv[option]).toBe(value);
    const fromFlag = resolveGlobals({ [flag]: 'flag-value' }, { [envName]: value }, '/home/u');
    expect(fromFlag[option]).toBe('flag-value');
    const empty = resolveGlobals({}, { [envName]: '' }, '/home/u');
    expect(empty[option]).toBe(option === 'fileDir' ? '/home/u/.awsvault/keys' : undefined);
  });

  it('expands ~ in the file store folder, from the flag or the variable', () => {
    expect(resolveGlobals({}, { AWS_VAULT_FILE_DIR: '~/vault' }, '/home/u').fileDir).toBe(
      '/home/u/vault',
    );
    expect(resolveGlobals({ fileDir: '~' }, {}, '/home/u').fileDir).toBe('/home/u');
  });
});
