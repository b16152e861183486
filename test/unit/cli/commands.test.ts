import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { addCommand, type AddDeps } from '../../../src/cli/add.ts';
import { clearCommand } from '../../../src/cli/clear.ts';
import { removeCommand, type RemoveDeps } from '../../../src/cli/remove.ts';
import { scriptedPrompter } from '../../../src/prompt/interactive.ts';
import { UserError } from '../../../src/errors.ts';

function sink() {
  let text = '';
  const stream = new Writable({
    write(chunk, _enc, cb) {
      text += String(chunk);
      cb();
    },
  });
  return { stream, text: () => text };
}

function addDeps(overrides: Partial<AddDeps> = {}) {
  const out = sink();
  const stored = new Map<string, [string, string]>();
  const added: string[] = [];
  const deps: AddDeps = {
    env: {},
    prompter: scriptedPrompter([]),
    sourceProfileOf: () => undefined,
    hasProfile: () => false,
    checkAddable: () => {},
    addProfile: async (p) => {
      added.push(p);
      return '/x/config';
    },
    storeCredentials: async (p, a, s) => void stored.set(p, [a, s]),
    removeSessions: async () => 2,
    stdout: out.stream,
    debug: () => {},
    ...overrides,
  };
  return { deps, out, stored, added };
}

describe('add', () => {
  it('prompts, stores, deletes sessions and adds the profile', async () => {
    const prompter = scriptedPrompter(['AKIAEXAMPLE', ' secret/+= ']);
    const { deps, out, stored, added } = addDeps({ prompter });
    await addCommand({ profileName: 'p', fromEnv: false, addConfig: true }, deps);
    expect(prompter.asked).toEqual(['Enter Access Key ID: ', 'Enter Secret Access Key: ']);
    expect(stored.get('p')).toEqual(['AKIAEXAMPLE', 'secret/+=']);
    expect(out.text()).toBe(
      'Added credentials to profile "p" in vault\nDeleted 2 existing sessions.\n',
    );
    expect(added).toEqual(['p']);
  });

  it('reads --env and honours --no-add-config', async () => {
    const { deps, stored, added } = addDeps({
      env: { AWS_ACCESS_KEY_ID: 'AKIA1', AWS_SECRET_ACCESS_KEY: 's1' },
    });
    await addCommand({ profileName: 'p', fromEnv: true, addConfig: false }, deps);
    expect(stored.get('p')).toEqual(['AKIA1', 's1']);
    expect(added).toEqual([]);
  });

  it('rejects missing env, empty input and a source_profile elsewhere', async () => {
    await expect(
      addCommand({ profileName: 'p', fromEnv: true, addConfig: true }, addDeps().deps),
    ).rejects.toThrow('Missing value for AWS_ACCESS_KEY_ID');
    const empty = addDeps({ prompter: scriptedPrompter(['AKIA', '']) });
    await expect(
      addCommand({ profileName: 'p', fromEnv: false, addConfig: true }, empty.deps),
    ).rejects.toThrow('Secret Access Key must not be empty');
    expect(empty.stored.size).toBe(0);
    const sourced = addDeps({ sourceProfileOf: () => ({ name: 'base', from: 'p' }) });
    await expect(
      addCommand({ profileName: 'p', fromEnv: false, addConfig: true }, sourced.deps),
    ).rejects.toThrow('source_profile of base');
    // A profile that names itself as source holds its own keys.
    const self = addDeps({
      sourceProfileOf: () => ({ name: 'p', from: 'p' }),
      env: { AWS_ACCESS_KEY_ID: 'A', AWS_SECRET_ACCESS_KEY: 'S' },
    });
    await addCommand({ profileName: 'p', fromEnv: true, addConfig: true }, self.deps);
    expect(self.stored.has('p')).toBe(true);
  });

  it('refuses a source_profile inherited through include_profile, naming where it comes from', async () => {
    const opened: string[] = [];
    const sourced = addDeps({
      sourceProfileOf: () => ({ name: 'base', from: 'common' }),
      openVault: async () => void opened.push('vault'),
      env: { AWS_ACCESS_KEY_ID: 'A', AWS_SECRET_ACCESS_KEY: 'S' },
    });
    await expect(
      addCommand({ profileName: 'p', fromEnv: true, addConfig: true }, sourced.deps),
    ).rejects.toThrow(
      'Your profile has a source_profile of base (through include_profile, from [profile common])',
    );
    expect(sourced.stored.size).toBe(0);
    // Refused before the vault is opened (no passphrase prompt for nothing).
    expect(opened).toEqual([]);
  });

  it('a source_profile in [default] does not stop add (stored keys come first)', async () => {
    const opened: string[] = [];
    const d = addDeps({
      sourceProfileOf: () => ({ name: 'base', from: 'default' }),
      openVault: async () => void opened.push('vault'),
      env: { AWS_ACCESS_KEY_ID: 'A', AWS_SECRET_ACCESS_KEY: 'S' },
    });
    await addCommand({ profileName: 'p', fromEnv: true, addConfig: true }, d.deps);
    expect(d.stored.get('p')).toEqual(['A', 'S']);
    expect(opened).toEqual(['vault']);
    // [default] itself naming another source is its own setting: refused.
    const def = addDeps({ sourceProfileOf: () => ({ name: 'base', from: 'default' }) });
    await expect(
      addCommand({ profileName: 'default', fromEnv: true, addConfig: true }, def.deps),
    ).rejects.toThrow('source_profile of base,');
  });

  it('refuses a name the config cannot hold before opening the vault or storing anything', async () => {
    const opened: string[] = [];
    const d = addDeps({
      checkAddable: (name) => {
        throw new UserError(`cannot add profile "${name}": not a valid profile name`);
      },
      openVault: async () => void opened.push('vault'),
      env: { AWS_ACCESS_KEY_ID: 'A', AWS_SECRET_ACCESS_KEY: 'S' },
    });
    await expect(
      addCommand({ profileName: 'a]b', fromEnv: true, addConfig: true }, d.deps),
    ).rejects.toThrow(
      'cannot add profile "a]b": not a valid profile name; nothing was stored (--no-add-config stores the keys without adding the profile)',
    );
    expect(d.stored.size).toBe(0);
    expect(opened).toEqual([]);
    // Without adding the profile, there is nothing to refuse.
    await addCommand({ profileName: 'a]b', fromEnv: true, addConfig: false }, d.deps);
    expect(d.stored.has('a]b')).toBe(true);
  });
});

function removeDeps(answers: string[], has = true) {
  const out = sink();
  const calls: string[] = [];
  const deps: RemoveDeps = {
    prompter: scriptedPrompter(answers),
    hasCredentials: async () => has,
    removeCredentials: async (p) => void calls.push(`creds:${p}`),
    removeSessions: async (p) => (calls.push(`sessions:${p}`), 1),
    stdout: out.stream,
  };
  return { deps, out, calls };
}

describe('remove', () => {
  it('asks, and removes on y', async () => {
    const r = removeDeps(['Y']);
    await removeCommand({ profileName: 'p', force: false, sessionsOnly: false }, r.deps);
    expect(r.calls).toEqual(['creds:p', 'sessions:p']);
    expect(r.out.text()).toBe('Deleted credentials.\nDeleted 1 sessions.\n');
  });
  it('keeps everything on anything but y', async () => {
    const r = removeDeps(['n']);
    await removeCommand({ profileName: 'p', force: false, sessionsOnly: false }, r.deps);
    expect(r.calls).toEqual([]);
  });
  it('--force does not ask; --sessions-only keeps keys; nothing stored is an error', async () => {
    const f = removeDeps([]);
    await removeCommand({ profileName: 'p', force: true, sessionsOnly: false }, f.deps);
    expect(f.calls).toEqual(['creds:p', 'sessions:p']);
    const s = removeDeps([]);
    await removeCommand({ profileName: 'p', force: false, sessionsOnly: true }, s.deps);
    expect(s.calls).toEqual(['sessions:p']);
    expect(s.out.text()).toBe('Deleted 1 sessions.\n');
    await expect(
      removeCommand(
        { profileName: 'nope', force: true, sessionsOnly: false },
        removeDeps([], false).deps,
      ),
    ).rejects.toThrow('profile nope: no credentials stored');
  });
});

describe('clear', () => {
  it('counts sessions and tokens', async () => {
    const out = sink();
    const deps = {
      removeAllSessions: async () => 3,
      removeAllOidcTokens: async () => 1,
      removeSessionsFor: async () => 2,
      removeOidcTokenFor: async () => 0,
      stdout: out.stream,
    };
    await clearCommand({}, deps);
    await clearCommand({ profileName: 'p' }, deps);
    expect(out.text()).toBe('Cleared 4 sessions.\nCleared 2 sessions.\n');
  });
});
