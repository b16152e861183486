import { describe, expect, it } from 'vitest';
import { openBackend } from '../../../src/keyring/openBackend.ts';
import { CredentialStore } from '../../../src/keyring/credentialStore.ts';
import { secretServiceAvailable, uniquePrefix } from '../../helpers/secretService.ts';

const enabled = secretServiceAvailable();

describe.skipIf(!enabled)('secret-service backend (real gnome-keyring)', () => {
  const options = { fileDir: '/nonexistent', debug: () => undefined };

  it('is the default backend when a Secret Service answers', async () => {
    const backend = await openBackend(options);
    expect(backend.name).toBe('secret-service');
  });

  it('stores, reads, lists and removes keys, unicode and / included', async () => {
    const backend = await openBackend({ ...options, backend: 'secret-service' });
    const p = uniquePrefix('ss');
    const keys = [
      `${p}/team/dev prod`,
      `${p}-ünïcødé ☃`,
      `sts.GetSessionToken,${Buffer.from(p).toString('base64url')},,1999999999`,
    ];
    for (const [i, key] of keys.entries()) await backend.set(key, `value ${i} ✓`);
    for (const [i, key] of keys.entries()) expect(await backend.get(key)).toBe(`value ${i} ✓`);
    const listed = await backend.keys();
    for (const key of keys) expect(listed).toContain(key);
    await backend.set(keys[0] as string, 'replaced');
    expect(await backend.get(keys[0] as string)).toBe('replaced');
    for (const key of keys) await backend.remove(key);
    for (const key of keys) expect(await backend.get(key)).toBeUndefined();
    const after = await backend.keys();
    for (const key of keys) expect(after).not.toContain(key);
    await backend.remove(keys[0] as string); // removing a missing key is fine
  });

  it('keeps credentials in Go-compatible JSON through CredentialStore', async () => {
    const backend = await openBackend({ ...options, backend: 'secret-service' });
    const store = new CredentialStore(backend);
    const profile = uniquePrefix('cred');
    await store.set(profile, { accessKeyId: 'AKIATEST', secretAccessKey: 'secret/+=' });
    const got = await store.get(profile);
    expect(got?.accessKeyId).toBe('AKIATEST');
    expect(got?.secretAccessKey).toBe('secret/+=');
    expect(got?.addedAt).toBeInstanceOf(Date);
    expect(await store.profiles()).toContain(profile);
    await store.remove(profile);
    expect(await store.has(profile)).toBe(false);
  });

  it('lists while another client removes entries (list raced a pruned session)', async () => {
    const writer = await openBackend({ ...options, backend: 'secret-service' });
    const p = uniquePrefix('race');
    const keys = Array.from({ length: 40 }, (_, i) => `${p}-${i}`);
    for (const key of keys) await writer.set(key, 'v');
    // Removed one by one while listings run, from a separate keyring client.
    const removing = (async () => {
      for (const key of keys) await writer.remove(key);
    })();
    const listings: Promise<string[]>[] = [];
    for (let i = 0; i < 12; i++) {
      const reader = await openBackend({ ...options, backend: 'secret-service' });
      listings.push(reader.keys());
      await new Promise((resolve) => setTimeout(resolve, 15));
    }
    await removing;
    for (const listed of await Promise.all(listings)) {
      expect(listed.every((key) => !key.startsWith(p) || keys.includes(key))).toBe(true);
    }
  });

  it('pins entries to a collection named by its label', async () => {
    const backend = await openBackend({
      ...options,
      backend: 'secret-service',
      secretServiceCollection: 'Login',
    });
    const key = uniquePrefix('coll');
    await backend.set(key, 'in Login');
    expect(await backend.get(key)).toBe('in Login');
    expect(await backend.keys()).toContain(key);
    await backend.remove(key);
    expect(await backend.get(key)).toBeUndefined();
  });

  it("also takes the Go aws-vault's name for a collection, its object path's last part", async () => {
    // gnome-keyring's default collection: /org/freedesktop/secrets/collection/login, label Login.
    const byLabel = await openBackend({
      ...options,
      backend: 'secret-service',
      secretServiceCollection: 'Login',
    });
    const byName = await openBackend({
      ...options,
      backend: 'secret-service',
      secretServiceCollection: 'login',
    });
    const key = uniquePrefix('goname');
    await byName.set(key, 'in login');
    try {
      expect(await byLabel.get(key)).toBe('in login');
      expect(await byName.keys()).toContain(key);
    } finally {
      await byName.remove(key);
    }
    expect(await byLabel.get(key)).toBeUndefined();
  });

  it('says so when the named collection does not exist', async () => {
    const backend = await openBackend({
      ...options,
      backend: 'secret-service',
      secretServiceCollection: 'NoSuchCollection',
    });
    await expect(backend.keys()).rejects.toThrow(
      /no keyring collection labelled \(or named\) "NoSuchCollection"/,
    );
  });

  it('does not list the default collection when the named collection does not exist', async () => {
    // The flake behind the test above: with an entry elsewhere (another test
    // file's), the keyring library listed it for the missing collection.
    const elsewhere = await openBackend({ ...options, backend: 'secret-service' });
    const key = uniquePrefix('elsewhere');
    await elsewhere.set(key, 'in the default collection');
    try {
      const backend = await openBackend({
        ...options,
        backend: 'secret-service',
        secretServiceCollection: 'NoSuchCollection',
      });
      await expect(backend.keys()).rejects.toThrow(
        /no keyring collection labelled \(or named\) "NoSuchCollection"/,
      );
    } finally {
      await elsewhere.remove(key);
    }
  });
});
