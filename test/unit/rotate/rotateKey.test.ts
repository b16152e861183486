import { describe, expect, it } from 'vitest';
import type { IamApi } from '../../../src/aws/iam.ts';
import { rotateKey, type AccessKey, type RotateKeyDeps } from '../../../src/cli/rotate.ts';
import type { Credentials } from '../../../src/credentials/types.ts';

/** An IAM user in memory: which keys exist, and knobs to fail calls. */
function world(options: { keys?: string[]; activeAfter?: number } = {}) {
  const keys = new Map<string, string>();
  for (const id of options.keys ?? ['AKIAOLD']) keys.set(id, `secret-${id}`);
  let created = 0;
  const fail: Record<string, number> = {};
  let identityCalls = 0;
  const log: string[] = [];
  const stored: AccessKey[] = [];
  const maybeFail = (action: string) => {
    if ((fail[action] ?? 0) > 0) {
      fail[action] = (fail[action] ?? 0) - 1;
      throw Object.assign(new Error(`${action} refused`), { name: 'AccessDenied' });
    }
  };
  const iamWith = (creds: Credentials): IamApi => ({
    async getUserName() {
      return 'alice';
    },
    async listAccessKeys() {
      maybeFail('ListAccessKeys');
      return [...keys.keys()].map((accessKeyId) => ({ accessKeyId, status: 'Active' }));
    },
    async createAccessKey() {
      maybeFail('CreateAccessKey');
      created += 1;
      const id = `AKIANEW${created}`;
      keys.set(id, `secret-${id}`);
      log.push(`create ${id} by ${creds.accessKeyId}`);
      return { accessKeyId: id, secretAccessKey: `secret-${id}` };
    },
    async deleteAccessKey(id) {
      maybeFail('DeleteAccessKey');
      log.push(`delete ${id} by ${creds.accessKeyId}`);
      keys.delete(id);
    },
  });
  let now = 0;
  const deps: RotateKeyDeps = {
    storedAs: 'alice',
    oldKey: { accessKeyId: 'AKIAOLD', secretAccessKey: 'secret-AKIAOLD' },
    callerCredentials: { accessKeyId: 'AKIAOLD', secretAccessKey: 'secret-AKIAOLD' },
    callerIsMfaSession: false,
    iamWith,
    async callerIdentity(creds) {
      identityCalls += 1;
      maybeFail('GetCallerIdentity');
      if (identityCalls <= (options.activeAfter ?? 0) || !keys.has(creds.accessKeyId)) {
        throw Object.assign(new Error('not yet'), { name: 'InvalidClientTokenId' });
      }
      return { arn: 'arn:aws:iam::111111111111:user/alice' };
    },
    async store(key) {
      maybeFail('store');
      stored.push(key);
    },
    async clearSessions() {
      log.push('clear');
      return [{ profile: 'alice', removed: 2 }];
    },
    say: (line) => log.push(`say ${line}`),
    debug: () => {},
    sleep: async (ms) => {
      now += ms;
    },
    now: () => now,
  };
  return { keys, fail, log, stored, deps, identity: () => identityCalls };
}

describe('rotateKey', () => {
  it('creates, waits for STS, stores, clears sessions, deletes the old key with the new one', async () => {
    const w = world({ activeAfter: 2 });
    const result = await rotateKey(w.deps);
    expect(result.accessKeyId).toBe('AKIANEW1');
    expect([...w.keys.keys()]).toEqual(['AKIANEW1']);
    expect(w.stored).toEqual([{ accessKeyId: 'AKIANEW1', secretAccessKey: 'secret-AKIANEW1' }]);
    expect(w.identity()).toBe(3);
    expect(w.log).toContain('create AKIANEW1 by AKIAOLD');
    expect(w.log).toContain('delete AKIAOLD by AKIANEW1');
    expect(w.log.indexOf('clear')).toBeLessThan(w.log.indexOf('delete AKIAOLD by AKIANEW1'));
    expect(w.log).toContain('say Deleted 2 sessions for alice');
  });

  it('deletes with the MFA session when IAM requires MFA', async () => {
    const w = world();
    w.deps.callerCredentials = { accessKeyId: 'ASIAMFA', secretAccessKey: 's', sessionToken: 't' };
    w.deps.callerIsMfaSession = true;
    await rotateKey(w.deps);
    expect(w.log).toContain('delete AKIAOLD by ASIAMFA');
  });

  it('refuses before any change when the user already has two keys', async () => {
    const w = world({ keys: ['AKIAOLD', 'AKIAOTHER'] });
    await expect(rotateKey(w.deps)).rejects.toThrow(
      /already has two access keys .*Nothing was changed.*delete-access-key --access-key-id AKIAOTHER/,
    );
    expect(w.log.filter((l) => !l.startsWith('say'))).toEqual([]);
    expect(w.stored).toEqual([]);
  });

  it('changes nothing when CreateAccessKey fails', async () => {
    const w = world();
    w.fail.CreateAccessKey = 1;
    await expect(rotateKey(w.deps)).rejects.toThrow(
      /creating a new access key failed.*Nothing was changed: AKIAOLD is still active/,
    );
    expect([...w.keys.keys()]).toEqual(['AKIAOLD']);
    expect(w.stored).toEqual([]);
  });

  it('deletes the new key and keeps the old one when STS never accepts it', async () => {
    const w = world({ activeAfter: 1000 });
    w.deps.activationTimeoutMs = 10_000;
    await expect(rotateKey(w.deps)).rejects.toThrow(
      /AKIANEW1 was created but STS did not accept it within 10s.*it has been deleted.*AKIAOLD is still active and stored/,
    );
    expect([...w.keys.keys()]).toEqual(['AKIAOLD']);
    expect(w.stored).toEqual([]);
    expect(w.log).toContain('delete AKIANEW1 by AKIAOLD');
  });

  it('names the leftover new key when it can be neither used nor deleted', async () => {
    const w = world({ activeAfter: 1000 });
    w.deps.activationTimeoutMs = 2_000;
    w.fail.DeleteAccessKey = 1;
    await expect(rotateKey(w.deps)).rejects.toThrow(
      /deleting it failed too.*AKIAOLD, which still works; AKIANEW1 is still active in IAM: delete it with: aws iam delete-access-key --access-key-id AKIANEW1/,
    );
    expect(w.stored).toEqual([]);
  });

  it('retries deleting the old key while IAM catches up', async () => {
    const w = world();
    w.fail.DeleteAccessKey = 3;
    await rotateKey(w.deps);
    expect([...w.keys.keys()]).toEqual(['AKIANEW1']);
  });

  it('keeps the new key stored and names the old one when it cannot be deleted', async () => {
    const w = world();
    w.fail.DeleteAccessKey = 1000;
    w.deps.deleteTimeoutMs = 6_000;
    await expect(rotateKey(w.deps)).rejects.toThrow(
      /new access key AKIANEW1 is stored in the vault and works, but deleting the old key AKIAOLD failed.*AKIAOLD is still active in IAM; delete it with: aws iam delete-access-key --access-key-id AKIAOLD/,
    );
    expect(w.stored.map((k) => k.accessKeyId)).toEqual(['AKIANEW1']);
    expect([...w.keys.keys()].sort()).toEqual(['AKIANEW1', 'AKIAOLD']);
  });

  it('deletes the new key when storing it fails', async () => {
    const w = world();
    w.fail.store = 1;
    await expect(rotateKey(w.deps)).rejects.toThrow(
      /storing it in the vault failed; it has been deleted/,
    );
    expect([...w.keys.keys()]).toEqual(['AKIAOLD']);
  });
});
