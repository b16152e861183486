import type { AccessKeyInfo, IamApi } from '../aws/iam.ts';
import { awsErrorCode } from '../aws/iam.ts';
import { UserError } from '../errors.ts';
import type { Credentials } from '../credentials/types.ts';

/** A long-term access key pair. */
export interface AccessKey {
  accessKeyId: string;
  secretAccessKey: string;
}

/** Everything the rotation touches, passed in so each failure can be tested. */
export interface RotateKeyDeps {
  /** Name under which the key is stored in the vault (the profile or its source). */
  storedAs: string;
  /** The key stored now. */
  oldKey: AccessKey;
  /** Credentials for IAM calls before the new key exists: the old key, or an MFA session of it. */
  callerCredentials: Credentials;
  /** True when `callerCredentials` is an MFA session (IAM requires MFA for this user). */
  callerIsMfaSession: boolean;
  iamWith(credentials: Credentials): IamApi;
  /** STS GetCallerIdentity with `credentials`; throws when STS rejects them. */
  callerIdentity(credentials: Credentials): Promise<{ arn: string }>;
  /** Replaces the stored key (atomically). */
  store(key: AccessKey): Promise<void>;
  /** Removes the cached sessions of every profile that uses the key; returns counts per profile. */
  clearSessions(): Promise<Array<{ profile: string; removed: number }>>;
  /** Progress lines for the user (stdout). */
  say(line: string): void;
  debug(line: string): void;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  /** How long to wait for STS to accept the new key, in ms (default 60s). */
  activationTimeoutMs?: number;
  /** How long to retry deleting the old key while IAM catches up, in ms (default 30s). */
  deleteTimeoutMs?: number;
}

/**
 * Rotates a stored IAM access key without ever leaving the user locked out:
 * create a new key, wait until STS accepts it, store it, clear the sessions
 * derived from the old key, then delete the old key with the new one. Every
 * failure leaves exactly one working key in the vault and says what IAM holds.
 */
export async function rotateKey(deps: RotateKeyDeps): Promise<AccessKey> {
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const now = deps.now ?? Date.now;
  const oldId = deps.oldKey.accessKeyId;
  const callerIam = deps.iamWith(deps.callerCredentials);

  // IAM allows two keys per user: check before changing anything.
  let existing: AccessKeyInfo[] | undefined;
  try {
    existing = await callerIam.listAccessKeys();
  } catch (error) {
    deps.debug(`rotate: ListAccessKeys failed (${describe(error)}); trying CreateAccessKey anyway`);
  }
  if (existing !== undefined) {
    deps.debug(`rotate: IAM user has ${existing.length} access key(s)`);
    if (!existing.some((k) => k.accessKeyId === oldId)) {
      deps.debug(`rotate: the stored key ${oldId} is not among the caller's keys`);
    }
    if (existing.length >= 2) {
      const others = existing.filter((k) => k.accessKeyId !== oldId).map((k) => k.accessKeyId);
      throw new UserError(
        `the IAM user already has two access keys (${existing.map((k) => k.accessKeyId).join(', ')}), the most IAM allows, ` +
          `so a new one cannot be created. Nothing was changed. The vault holds ${oldId}; ` +
          `delete the other key if you no longer need it (aws iam delete-access-key --access-key-id ${others[0] ?? 'ID'}) and run rotate again`,
      );
    }
  }

  deps.say('Creating a new access key');
  let created: AccessKey;
  try {
    created = await callerIam.createAccessKey();
  } catch (error) {
    throw new UserError(
      `creating a new access key failed: ${describe(error)}. Nothing was changed: ${oldId} is still active and stored in the vault`,
      { cause: error },
    );
  }
  const newId = created.accessKeyId;
  deps.say(`Created new access key ${newId}`);
  const newCredentials: Credentials = {
    accessKeyId: created.accessKeyId,
    secretAccessKey: created.secretAccessKey,
  };

  // New keys take a few seconds to reach STS; storing one that does not work yet would lock the user out.
  const activationTimeout = deps.activationTimeoutMs ?? 60_000;
  const started = now();
  let delay = 500;
  let attempts = 0;
  for (;;) {
    attempts += 1;
    try {
      await deps.callerIdentity(newCredentials);
      deps.debug(`rotate: STS accepted ${newId} after ${attempts} attempt(s)`);
      break;
    } catch (error) {
      const elapsed = now() - started;
      if (elapsed + delay > activationTimeout) {
        await undoNewKey(deps, callerIam, newId, error, Math.round(activationTimeout / 1000));
      }
      deps.debug(
        `rotate: STS does not accept ${newId} yet (${describe(error)}); waiting ${delay}ms`,
      );
      await sleep(delay);
      delay = Math.min(delay * 2, 8_000);
    }
  }

  try {
    await deps.store(created);
  } catch (error) {
    await undoNewKey(deps, callerIam, newId, error, undefined, 'storing it in the vault failed');
  }
  deps.say(`Stored new access key ${newId} in the vault as "${deps.storedAs}"`);

  try {
    for (const { profile, removed } of await deps.clearSessions()) {
      if (removed > 0) {
        deps.say(`Deleted ${removed} session${removed === 1 ? '' : 's'} for ${profile}`);
      }
    }
  } catch (error) {
    deps.say(
      `Warning: could not delete cached sessions made with the old key (${describe(error)}); run "aws-vault clear"`,
    );
  }

  // Delete with the new key (proving it works for IAM too), unless IAM
  // demands MFA: then the MFA session, which stays valid, does it.
  deps.say(`Deleting old access key ${oldId}`);
  const deleter = deps.callerIsMfaSession ? callerIam : deps.iamWith(newCredentials);
  const deleteTimeout = deps.deleteTimeoutMs ?? 30_000;
  const deleteStarted = now();
  for (let attempt = 1; ; attempt++) {
    try {
      await deleter.deleteAccessKey(oldId);
      break;
    } catch (error) {
      const code = awsErrorCode(error);
      if (code === 'NoSuchEntity') {
        deps.debug(`rotate: ${oldId} was already gone`);
        break;
      }
      if (now() - deleteStarted + 2_000 > deleteTimeout) {
        throw new UserError(
          `the new access key ${newId} is stored in the vault and works, but deleting the old key ${oldId} failed after ${attempt} attempt${attempt === 1 ? '' : 's'}: ${describe(error)}. ` +
            `${oldId} is still active in IAM; delete it with: aws iam delete-access-key --access-key-id ${oldId}`,
          { cause: error },
        );
      }
      deps.debug(`rotate: deleting ${oldId} failed (${describe(error)}); retrying in 2s`);
      await sleep(2_000);
    }
  }
  deps.say(`Deleted old access key ${oldId}`);
  deps.say('Finished rotating access key');
  return created;
}

/** The new key is unusable or unstorable: delete it so the user keeps exactly the old key. */
async function undoNewKey(
  deps: RotateKeyDeps,
  callerIam: IamApi,
  newId: string,
  cause: unknown,
  waitedSeconds?: number,
  what?: string,
): Promise<never> {
  const problem =
    what ?? `STS did not accept it within ${waitedSeconds ?? 0}s (last error: ${describe(cause)})`;
  try {
    await callerIam.deleteAccessKey(newId);
  } catch (deleteError) {
    throw new UserError(
      `the new access key ${newId} was created but ${problem}, and deleting it failed too (${describe(deleteError)}). ` +
        `The vault still holds ${deps.oldKey.accessKeyId}, which still works; ${newId} is still active in IAM: ` +
        `delete it with: aws iam delete-access-key --access-key-id ${newId}`,
      { cause },
    );
  }
  throw new UserError(
    `the new access key ${newId} was created but ${problem}; it has been deleted. ` +
      `Nothing else changed: ${deps.oldKey.accessKeyId} is still active and stored in the vault`,
    { cause },
  );
}

function describe(error: unknown): string {
  const code = awsErrorCode(error);
  const message = error instanceof Error ? error.message : String(error);
  if (code && !message.startsWith(code)) return `${code}: ${message}`;
  return message;
}
