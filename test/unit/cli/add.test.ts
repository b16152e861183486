import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { addCommand, type AddDeps } from '../../../src/cli/add.ts';
import { ConfigError } from '../../../src/config/errors.ts';
import type { Prompter } from '../../../src/prompt/interactive.ts';

function deps(overrides: Partial<AddDeps> = {}) {
  const stored: string[] = [];
  const out = new PassThrough();
  let printed = '';
  out.on('data', (c: Buffer) => (printed += c.toString()));
  const d: AddDeps = {
    env: { AWS_ACCESS_KEY_ID: 'AKIAEXAMPLEEXAMPLE01', AWS_SECRET_ACCESS_KEY: 'secret' },
    prompter: {} as Prompter,
    sourceProfileOf: () => undefined,
    hasProfile: () => false,
    checkAddable: () => {},
    addProfile: async () => '/home/me/.aws/config',
    storeCredentials: async (profile) => {
      stored.push(profile);
    },
    removeSessions: async () => 0,
    stdout: out,
    debug: () => {},
    ...overrides,
  };
  return { d, stored, printed: () => printed };
}

describe('add', () => {
  it('says the key is stored when the config then cannot be written', async () => {
    const { d, stored } = deps({
      addProfile: () =>
        Promise.reject(
          new ConfigError('cannot write the config file: ENOSPC: no space left on device', {
            file: '/home/me/.aws/config',
          }),
        ),
    });
    await expect(
      addCommand({ profileName: 'alice', fromEnv: true, addConfig: true }, d),
    ).rejects.toThrow(
      'the key is stored in the vault, but the profile could not be added to the config: /home/me/.aws/config: cannot write the config file: ENOSPC: no space left on device; aws-vault exec alice works without it (add the section yourself if you want one)',
    );
    expect(stored).toEqual(['alice']);
  });
});
