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
      throw Object.assign(new Error(`${action} refused`), {
        name: 'AccessDenied',
        $metadata: { httpStatusCode: 403 },
      });
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
      // The key is made, but its answer never arrives (a reset, a timeout).
      if (answerLost) throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
      // Made, the answer lost, and the SDK's retry refused: two keys now.
      if (retriedIntoLimit) {
        throw Object.assign(new Error('Cannot exceed quota for AccessKeysPerUser: 2'), {
          name: 'LimitExceeded',
          $metadata: { httpStatusCode: 409, attempts: 2 },
        });
      }
      if (signalAndLose) {
        for (const h of signalHandlers) h(signalAndLose);
        throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
      }
      // The user presses Ctrl-C (or the system stops it) while IAM answers.
      if (signalOnCreate) for (const h of signalHandlers) h(signalOnCreate);
      return { accessKeyId: id, secretAccessKey: `secret-${id}` };
    },
    async deleteAccessKey(id) {
      maybeFail('DeleteAccessKey');
      if (!keys.has(id)) {
        throw Object.assign(new Error(`The Access Key with id ${id} cannot be found.`), {
          name: 'NoSuchEntity',
          $metadata: { httpStatusCode: 404 },
        });
      }
      log.push(`delete ${id} by ${creds.accessKeyId}`);
      keys.delete(id);
    },
  });
  let now = 0;
  let answerLost = false;
  let retriedIntoLimit = false;
  let signalAndLose: NodeJS.Signals | undefined;
  let signalOnCreate: NodeJS.Signals | undefined;
  let signalOnStore: NodeJS.Signals | undefined;
  const signalHandlers = new Set<(signal: NodeJS.Signals) => void>();
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
      if (signalOnStore) for (const h of signalHandlers) h(signalOnStore);
      stored.push(key);
    },
    watchSignals(onSignal) {
      signalHandlers.add(onSignal);
      return () => signalHandlers.delete(onSignal);
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
  return {
    keys,
    fail,
    log,
    stored,
    deps,
    identity: () => identityCalls,
    loseCreateAnswer: () => (answerLost = true),
    retryIntoLimit: () => (retriedIntoLimit = true),
    signalAndLoseCreate: (signal: NodeJS.Signals) => (signalAndLose = signal),
    signal: (signal: NodeJS.Signals) => {
      for (const h of [...signalHandlers]) h(signal);
    },
    signalOnCreate: (signal: NodeJS.Signals) => (signalOnCreate = signal),
    signalOnStore: (signal: NodeJS.Signals) => (signalOnStore = signal),
    watching: () => signalHandlers.size,
  };
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

  it('deletes a key IAM made when its answer was lost (it says so, and never "nothing was changed")', async () => {
    const w = world();
    w.loseCreateAnswer();
    const error = (await rotateKey(w.deps).catch((e: unknown) => e)) as Error;
    expect(error.message).toMatch(
      /^creating a new access key failed: socket hang up after IAM made AKIANEW1, whose secret was lost; it has been deleted\. Nothing else changed: AKIAOLD is still active and stored in the vault$/,
    );
    expect([...w.keys.keys()]).toEqual(['AKIAOLD']);
    expect(w.stored).toEqual([]);
    // A second rotate is not blocked by a lost key.
    const w2 = world();
    w2.loseCreateAnswer();
    w2.fail.DeleteAccessKey = 1;
    await expect(rotateKey(w2.deps)).rejects.toThrow(
      /after IAM made AKIANEW1, whose secret was lost, and deleting it failed too .*delete the lost key with: aws iam delete-access-key --access-key-id AKIANEW1$/,
    );
  });

  it('a LimitExceeded after a retry is not taken for a refusal: the key the first attempt made is deleted', async () => {
    const w = world();
    w.retryIntoLimit();
    await expect(rotateKey(w.deps)).rejects.toThrow(
      /^creating a new access key failed: LimitExceeded: Cannot exceed quota for AccessKeysPerUser: 2 after IAM made AKIANEW1, whose secret was lost; it has been deleted\./,
    );
    expect([...w.keys.keys()]).toEqual(['AKIAOLD']);
  });

  it('a signal during a CreateAccessKey that fails exits 128+N, after the same clean-up', async () => {
    const w = world();
    w.signalAndLoseCreate('SIGTERM');
    const error = (await rotateKey(w.deps).catch((e: unknown) => e)) as Error & {
      exitCode?: number;
    };
    expect(error.message).toMatch(
      /^rotate was stopped \(SIGTERM\): creating a new access key failed: socket hang up after IAM made AKIANEW1, whose secret was lost; it has been deleted/,
    );
    expect(error.exitCode).toBe(143);
    expect([...w.keys.keys()]).toEqual(['AKIAOLD']);
  });

  it('a second signal lets go of the signals (a third has its default effect)', async () => {
    const w = world({ activeAfter: 1000 });
    w.deps.activationTimeoutMs = 10_000;
    let calls = 0;
    const sleep = w.deps.sleep;
    w.deps.sleep = async (ms, signal) => {
      if (++calls === 1) {
        w.signal('SIGINT');
        w.signal('SIGINT');
      }
      return sleep?.(ms, signal);
    };
    await expect(rotateKey(w.deps)).rejects.toThrow(/rotate was stopped \(SIGINT\)/);
    expect(w.log).toContain(
      'say Still undoing the new access key, so that it is not left active in IAM; send the signal again to stop at once',
    );
    expect(w.watching()).toBe(0);
  });

  it('says the outcome is unknown when the keys cannot be listed after a lost answer', async () => {
    const w = world();
    w.loseCreateAnswer();
    w.fail.ListAccessKeys = 0;
    const first = w.deps.iamWith;
    let lists = 0;
    w.deps.iamWith = (creds) => {
      const iam = first(creds);
      return {
        ...iam,
        async listAccessKeys() {
          lists += 1;
          if (lists > 1) throw new Error('connect ECONNREFUSED');
          return iam.listAccessKeys();
        },
      };
    };
    await expect(rotateKey(w.deps)).rejects.toThrow(
      /IAM may have made the key all the same, with its secret lost\. The vault still holds AKIAOLD, which still works; list the user's keys \(aws iam list-access-keys\) and delete any other than AKIAOLD/,
    );
  });

  it('a signal while the new key exists only in IAM deletes it and exits 128+N', async () => {
    for (const [signal, code] of [
      ['SIGINT', 130],
      ['SIGTERM', 143],
      ['SIGHUP', 129],
    ] as const) {
      const w = world({ activeAfter: 3 });
      w.signalOnCreate(signal);
      const error = (await rotateKey(w.deps).catch((e: unknown) => e)) as Error & {
        exitCode?: number;
      };
      expect(error.message).toMatch(
        new RegExp(
          `^the new access key AKIANEW1 was created but rotate was stopped \\(${signal}\\); it has been deleted\\. Nothing else changed: AKIAOLD is still active and stored in the vault$`,
        ),
      );
      expect(error.exitCode).toBe(code);
      expect(w.log.filter((l) => l.startsWith('delete'))).toEqual(['delete AKIANEW1 by AKIAOLD']);
      expect([...w.keys.keys()]).toEqual(['AKIAOLD']);
      expect(w.stored).toEqual([]);
      expect(w.watching()).toBe(0);
    }
  });

  it('a signal while the new key is being stored keeps it, gives it to every name that held the old one, and names the old one', async () => {
    const w = world();
    const shared: string[] = [];
    w.deps.sharedWith = ['work'];
    w.deps.storeShared = async (profile, key) => {
      shared.push(`${profile} ${key.accessKeyId}`);
    };
    w.signalOnStore('SIGINT');
    const error = (await rotateKey(w.deps).catch((e: unknown) => e)) as Error & {
      exitCode?: number;
    };
    expect(error.message).toBe(
      'rotate was stopped (SIGINT) after the new access key AKIANEW1 was stored in the vault; the old key AKIAOLD is still active in IAM: delete it with: aws iam delete-access-key --access-key-id AKIAOLD',
    );
    expect(error.exitCode).toBe(130);
    expect(shared).toEqual(['work AKIANEW1']);
    expect(w.stored.map((k) => k.accessKeyId)).toEqual(['AKIANEW1']);
    expect([...w.keys.keys()].sort()).toEqual(['AKIANEW1', 'AKIAOLD']);
    expect(w.watching()).toBe(0);
  });

  it('stops watching signals once the new key is stored', async () => {
    const w = world();
    await rotateKey(w.deps);
    expect(w.watching()).toBe(0);
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
