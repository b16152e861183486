import type { Command } from 'commander';
import type { AccessKeyInfo, IamApi } from '../aws/iam.ts';
import type { ProfileConfig } from '../config/types.ts';
import {
  missingSourceProfileError,
  sectionlessSourceOf,
  sourceChain,
} from '../config/resolveProfileConfig.ts';
import type { EngineDeps } from '../credentials/engineDeps.ts';
import type { Credentials } from '../credentials/types.ts';
import { profileOperand, UserError } from '../errors.ts';
import { signalExitCode } from './childProcess.ts';
import type { Context } from './context.ts';
import type { RegisterCommand } from './host.ts';

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
  /** STS GetCallerIdentity with `credentials`; throws when STS rejects them, or when `signal` aborts. */
  callerIdentity(credentials: Credentials, signal?: AbortSignal): Promise<{ arn: string }>;
  /** Replaces the stored key (atomically). */
  store(key: AccessKey): Promise<void>;
  /** Other vault entries holding the same old key (the same IAM key added under several names). */
  sharedWith?: string[];
  /** Replaces the key stored under one of {@link sharedWith}. */
  storeShared?(profile: string, key: AccessKey): Promise<void>;
  /** Removes the cached sessions of every profile that uses the key; returns counts per profile. */
  clearSessions(): Promise<Array<{ profile: string; removed: number }>>;
  /** Progress lines for the user (stdout). */
  say(line: string): void;
  debug(line: string): void;
  /** Waits `ms`; resolves early when `signal` aborts. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  now?: () => number;
  /** How long to wait for STS to accept the new key, in ms (default 60s). */
  activationTimeoutMs?: number;
  /** How long to retry deleting the old key while IAM catches up, in ms (default 30s). */
  deleteTimeoutMs?: number;
  /**
   * Calls `onSignal` on SIGINT, SIGTERM or SIGHUP instead of dying, until the
   * returned function is called (default: process signal handlers). Used
   * while a new key exists in IAM but not yet in the vault.
   */
  watchSignals?: (onSignal: (signal: NodeJS.Signals) => void) => () => void;
}

/** The default {@link RotateKeyDeps.sleep}: no timer is left running once `signal` aborts. */
async function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  const { setTimeout: wait } = await import('node:timers/promises');
  await wait(ms, undefined, signal === undefined ? {} : { signal }).catch(() => undefined);
}

/** The default {@link RotateKeyDeps.watchSignals}. */
function watchProcessSignals(onSignal: (signal: NodeJS.Signals) => void): () => void {
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const signal of signals) process.on(signal, onSignal);
  return () => {
    for (const signal of signals) process.off(signal, onSignal);
  };
}

/**
 * Rotates a stored IAM access key without ever leaving the user locked out:
 * create a new key, wait until STS accepts it, store it, clear the sessions
 * derived from the old key, then delete the old key with the new one. Every
 * failure leaves exactly one working key in the vault and says what IAM holds.
 */
export async function rotateKey(deps: RotateKeyDeps): Promise<AccessKey> {
  const sleep = deps.sleep ?? abortableSleep;
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
  // From here until the new key is in the vault, a signal must not leave it
  // active in IAM with its secret lost: it is noted, and the key deleted.
  let interrupted: NodeJS.Signals | undefined;
  // Stops the wait for STS (its request and the sleep), so the process ends promptly.
  const abort = new AbortController();
  const woken = new Promise<void>((resolve) =>
    abort.signal.addEventListener('abort', () => resolve(), { once: true }),
  );
  let watching = true;
  const stopWatchingSignals = (deps.watchSignals ?? watchProcessSignals)((signal) => {
    if (interrupted !== undefined) {
      // A second signal: the next one has its default effect (the key may be left in IAM).
      deps.say(
        'Still undoing the new access key, so that it is not left active in IAM; send the signal again to stop at once',
      );
      stopWatching();
      return;
    }
    interrupted = signal;
    abort.abort();
  });
  function stopWatching(): void {
    if (!watching) return;
    watching = false;
    stopWatchingSignals();
  }
  try {
    return await rotateWithNewKey();
  } finally {
    stopWatching();
  }

  async function rotateWithNewKey(): Promise<AccessKey> {
    let created: AccessKey;
    try {
      created = await callerIam.createAccessKey();
    } catch (error) {
      const failed = await createFailed(deps, callerIam, existing, error);
      if (interrupted === undefined) throw failed;
      throw new UserError(`rotate was stopped (${interrupted}): ${failed.message}`, {
        cause: error,
        exitCode: signalExitCode(interrupted),
      });
    }
    const newId = created.accessKeyId;
    deps.say(`Created new access key ${newId}`);
    const newCredentials: Credentials = {
      accessKeyId: created.accessKeyId,
      secretAccessKey: created.secretAccessKey,
    };
    const stopIfInterrupted = async (): Promise<void> => {
      if (interrupted === undefined) return;
      await undoNewKey(deps, callerIam, newId, {
        problem: `rotate was stopped (${interrupted})`,
        exitCode: signalExitCode(interrupted),
      });
    };
    await stopIfInterrupted();

    // New keys take a few seconds to reach STS; storing one that does not work yet would lock the user out.
    const activationTimeout = deps.activationTimeoutMs ?? 60_000;
    const started = now();
    let delay = 500;
    let attempts = 0;
    for (;;) {
      attempts += 1;
      let accepted = false;
      let rejection: unknown;
      try {
        // A signal stops the wait at once (woken), not after STS answers.
        await Promise.race([
          deps.callerIdentity(newCredentials, abort.signal).then(() => (accepted = true)),
          woken,
        ]);
      } catch (error) {
        rejection = error;
      }
      await stopIfInterrupted();
      if (accepted) {
        deps.debug(`rotate: STS accepted ${newId} after ${attempts} attempt(s)`);
        break;
      }
      const elapsed = now() - started;
      if (elapsed + delay > activationTimeout) {
        await undoNewKey(deps, callerIam, newId, {
          problem: `STS did not accept it within ${Math.round(activationTimeout / 1000)}s (last error: ${describe(rejection)})`,
          cause: rejection,
        });
      }
      deps.debug(
        `rotate: STS does not accept ${newId} yet (${describe(rejection)}); waiting ${delay}ms`,
      );
      await Promise.race([sleep(delay, abort.signal), woken]);
      await stopIfInterrupted();
      delay = Math.min(delay * 2, 8_000);
    }

    try {
      await deps.store(created);
    } catch (error) {
      await undoNewKey(deps, callerIam, newId, {
        problem: 'storing it in the vault failed',
        cause: error,
      });
    }
    stopWatching();
    deps.say(`Stored new access key ${newId} in the vault as "${deps.storedAs}"`);
    const stoppedDuringStore = interrupted;
    for (const other of deps.sharedWith ?? []) {
      // The old key is about to be deleted: every name holding it gets the new one.
      try {
        if (!deps.storeShared) throw new Error('no way to store it');
        await deps.storeShared(other, created);
        deps.say(
          `Stored new access key ${newId} as "${other}" too (it held the same old key ${oldId})`,
        );
      } catch (error) {
        deps.say(
          `Warning: could not store the new key as "${other}" (${describe(error)}); it still holds ${oldId}, which is being deleted: run "aws-vault add ${profileOperand(other)}" with the new key`,
        );
      }
    }

    if (stoppedDuringStore !== undefined) {
      // Stopped while the key was being stored: it is there (under every name that
      // held the old one) and works; the old one is left for the user to delete.
      throw new UserError(
        `rotate was stopped (${stoppedDuringStore}) after the new access key ${newId} was stored in the vault; the old key ${oldId} is still active in IAM: delete it with: aws iam delete-access-key --access-key-id ${oldId}`,
        { exitCode: signalExitCode(stoppedDuringStore) },
      );
    }
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
}

/**
 * CreateAccessKey failed. Any failure but a refusal on the first attempt (a
 * timeout, a reset connection, a 5xx, a refusal after retries) may have come
 * after IAM made the key, whose secret is then lost. So the keys are listed
 * again whenever the list from before is known, and a new one is deleted.
 */
async function createFailed(
  deps: RotateKeyDeps,
  callerIam: IamApi,
  before: AccessKeyInfo[] | undefined,
  error: unknown,
): Promise<UserError> {
  const oldId = deps.oldKey.accessKeyId;
  const failed = `creating a new access key failed: ${describe(error)}`;
  const metadata = (error as { $metadata?: { httpStatusCode?: number; attempts?: number } })
    ?.$metadata;
  const status = metadata?.httpStatusCode;
  // A refusal on the first attempt made nothing. After retries it proves
  // nothing (an attempt that timed out may have made a key, and the retry
  // then hit LimitExceeded), so the keys are listed again whenever they can be.
  const refused =
    awsErrorCode(error) !== undefined &&
    status !== undefined &&
    status >= 400 &&
    status < 500 &&
    (metadata?.attempts ?? 1) <= 1;
  const nothing = new UserError(
    `${failed}. Nothing was changed: ${oldId} is still active and stored in the vault`,
    { cause: error },
  );
  if (refused && before === undefined) return nothing;
  const unknown = new UserError(
    `${failed}, and IAM may have made the key all the same, with its secret lost. The vault still holds ${oldId}, which still works; ` +
      `list the user's keys (aws iam list-access-keys) and delete any other than ${oldId} (aws iam delete-access-key --access-key-id ID)`,
    { cause: error },
  );
  if (before === undefined) return unknown;
  let after: AccessKeyInfo[];
  try {
    after = await callerIam.listAccessKeys();
  } catch (listError) {
    deps.debug(`rotate: ListAccessKeys after the failure failed too (${describe(listError)})`);
    return refused ? nothing : unknown;
  }
  const made = after.filter((k) => !before.some((b) => b.accessKeyId === k.accessKeyId));
  if (made.length === 0) {
    if (refused) return nothing;
    return new UserError(
      `${failed}. IAM made no key (checked): nothing was changed; ${oldId} is still active and stored in the vault`,
      { cause: error },
    );
  }
  const ids = made.map((k) => k.accessKeyId);
  try {
    for (const id of ids) await callerIam.deleteAccessKey(id);
  } catch (deleteError) {
    return new UserError(
      `${failed} after IAM made ${ids.join(', ')}, whose secret was lost, and deleting it failed too (${describe(deleteError)}). ` +
        `The vault still holds ${oldId}, which still works; delete the lost key with: aws iam delete-access-key --access-key-id ${ids[0]}`,
      { cause: error },
    );
  }
  return new UserError(
    `${failed} after IAM made ${ids.join(', ')}, whose secret was lost; it has been deleted. Nothing else changed: ${oldId} is still active and stored in the vault`,
    { cause: error },
  );
}

/**
 * The new key is unusable or unstorable, or rotate was stopped: delete it so
 * the user keeps exactly the old key. `problem` completes the sentence "the
 * new access key ID was created but ...".
 */
async function undoNewKey(
  deps: RotateKeyDeps,
  callerIam: IamApi,
  newId: string,
  { problem, cause, exitCode }: { problem: string; cause?: unknown; exitCode?: number },
): Promise<never> {
  try {
    await callerIam.deleteAccessKey(newId);
  } catch (deleteError) {
    throw new UserError(
      `the new access key ${newId} was created but ${problem}, and deleting it failed too (${describe(deleteError)}). ` +
        `The vault still holds ${deps.oldKey.accessKeyId}, which still works; ${newId} is still active in IAM: ` +
        `delete it with: aws iam delete-access-key --access-key-id ${newId}`,
      { cause, ...(exitCode === undefined ? {} : { exitCode }) },
    );
  }
  throw new UserError(
    `the new access key ${newId} was created but ${problem}; it has been deleted. ` +
      `Nothing else changed: ${deps.oldKey.accessKeyId} is still active and stored in the vault`,
    { cause, ...(exitCode === undefined ? {} : { exitCode }) },
  );
}

function describe(error: unknown): string {
  // AWS's own words (StsError.aws), not advice meant for other commands ("run aws-vault clear").
  const aws = (error as { aws?: unknown } | undefined)?.aws;
  if (error instanceof UserError && typeof aws === 'string') return aws;
  const code = awsErrorCode(error);
  const message = error instanceof Error ? error.message : String(error);
  if (code && !message.startsWith(code)) return `${code}: ${message}`;
  return message;
}

/** What `rotate` needs, bound from argv. */
export interface RotateInput {
  profile: string;
  /** `-t/--mfa-token` (ext): the MFA code, when IAM calls need an MFA session. */
  mfaToken?: string;
  /** `-n/--no-session`: call IAM with the long-term keys even when mfa_serial is set. */
  noSession: boolean;
}

/** `AWS_VAULT_ROTATE_TIMEOUT` (ext): how long to wait for STS to accept the new key, and to retry deleting the old one. */
function activationTimeoutMs(env: NodeJS.ProcessEnv): number | undefined {
  const text = env.AWS_VAULT_ROTATE_TIMEOUT;
  if (text === undefined || text === '') return undefined;
  const match = /^(\d+)(ms|s|m)$/.exec(text.trim());
  if (!match) {
    throw new UserError(
      `AWS_VAULT_ROTATE_TIMEOUT must be a duration with a unit (e.g. 60s, 2m), not "${text}"`,
    );
  }
  const n = Number(match[1]);
  return match[2] === 'ms' ? n : match[2] === 's' ? n * 1000 : n * 60_000;
}

/**
 * Rotates the access key stored for `input.profile` (or its source profile):
 * the command half of {@link rotateKey}, which does the work.
 */
export async function rotateCommand(input: RotateInput, ctx: Context): Promise<number> {
  const [{ engineDeps, loadConfig, openVault, lockDir }, { resolveProfileConfig }] =
    await Promise.all([import('./deps.ts'), import('../config/resolveProfileConfig.ts')]);
  const file = await loadConfig(ctx);
  const profile = resolveProfileConfig(file, input.profile, {
    env: ctx.env,
    overrides: {
      ...(input.noSession ? { noSession: true } : {}),
      ...(input.mfaToken !== undefined ? { mfaToken: input.mfaToken } : {}),
    },
  });
  const [vault, federation, engine, { mfaPromptFor }, { knownProfileCheck }] = await Promise.all([
    openVault(ctx),
    import('../credentials/getFederationCredentials.ts'),
    import('../credentials/getCredentialsProvider.ts'),
    import('../prompt/mfa.ts'),
    import('./credentialsForCommand.ts'),
  ]);
  await knownProfileCheck(ctx, file, vault.credentials)(input.profile);
  const deps = engineDeps(
    ctx,
    vault,
    lockDir(ctx),
    mfaPromptFor({
      driver: ctx.globals.prompt ?? 'terminal',
      io: ctx.io,
      env: ctx.env,
      debug: ctx.debug,
      mfaToken: profile.mfaToken,
      mfaProcess: profile.mfaProcess,
      noTerminalHint:
        'pass the code with -t/--mfa-token, set mfa_process in the profile, choose another --prompt (ykman, zenity, kdialog, osascript), or run rotate in a terminal',
    }),
  );
  const storedAs = await federation.findStoredKeysProfile(profile, deps);
  if (storedAs === undefined) {
    const orphan = sectionlessSourceOf(profile);
    if (orphan !== undefined) throw missingSourceProfileError(orphan);
    throw new UserError(
      `profile ${input.profile}: no access key is stored in the vault for it or its source profiles, so there is nothing to rotate` +
        (profile.ssoStartUrl ? ' (SSO profiles have no long-term keys)' : ''),
    );
  }
  const oldKey = await vault.credentials.get(storedAs);
  if (oldKey === undefined) throw new UserError(`profile ${storedAs}: its stored key vanished`);
  const sharedWith = await sameKeyStoredAs(vault.credentials, storedAs, oldKey.accessKeyId);
  if (sharedWith.length > 0) {
    ctx.debug(`rotate: the same key is also stored as ${sharedWith.join(', ')}`);
  }
  const owner = chainProfile(profile, storedAs) ?? profile;
  const mfaSerial = profile.mfaSerial || owner.mfaSerial || undefined;
  const useMfa = mfaSerial !== undefined && !input.noSession;
  const say = (line: string) => ctx.io.stdout.write(`${line}\n`);
  say(
    useMfa
      ? `Rotating credentials stored for profile '${storedAs}' using an MFA session (takes 10-20 seconds)`
      : `Rotating credentials stored for profile '${storedAs}' using its access key (takes 10-20 seconds)`,
  );
  ctx.debug(`rotate: rotating access key ${oldKey.accessKeyId} stored as ${storedAs}`);

  let callerCredentials: Credentials = {
    accessKeyId: oldKey.accessKeyId,
    secretAccessKey: oldKey.secretAccessKey,
  };
  if (useMfa) {
    // GetSessionToken with MFA on the owner's keys alone (no role): IAM
    // refuses session credentials that were obtained without MFA.
    const sessionProfile: ProfileConfig = {
      ...owner,
      mfaSerial,
      roleArn: undefined,
      sourceProfile: undefined,
      sourceProfileName: undefined,
      noSession: false,
    };
    callerCredentials = await engine.getCredentialsProvider(sessionProfile, deps, {
      cache: false,
    })();
  }

  const [{ createIamApi }, { clientConfigFor }, sts] = await Promise.all([
    import('../aws/iam.ts'),
    import('../aws/clientConfig.ts'),
    import('../aws/sts.ts'),
  ]);
  const iamWith = (credentials: Credentials): IamApi =>
    createIamApi({
      credentials,
      region: profile.region,
      clientOptions: clientConfigFor({ profile, service: 'iam', env: ctx.env, debug: ctx.debug }),
    });
  const timeout = activationTimeoutMs(ctx.env);
  await rotateKey({
    storedAs,
    oldKey: { accessKeyId: oldKey.accessKeyId, secretAccessKey: oldKey.secretAccessKey },
    callerCredentials,
    callerIsMfaSession: useMfa,
    iamWith,
    callerIdentity: (credentials, signal) =>
      sts.getCallerIdentity({
        profile,
        env: ctx.env,
        debug: ctx.debug,
        ...(signal === undefined ? {} : { abortSignal: signal }),
        credentials: async () => credentials,
        signer: { kind: 'session', description: 'the new access key' },
      }),
    store: (key) => vault.credentials.set(storedAs, key),
    sharedWith,
    storeShared: (name, key) => vault.credentials.set(name, key),
    clearSessions: () => clearSessionsUsing([storedAs, ...sharedWith], ctx, deps),
    say,
    debug: ctx.debug,
    ...(timeout !== undefined ? { activationTimeoutMs: timeout, deleteTimeoutMs: timeout } : {}),
  });
  return 0;
}

/** The profile called `name` in `profile`'s source chain. */
function chainProfile(profile: ProfileConfig, name: string): ProfileConfig | undefined {
  for (const p of sourceChain(profile)) {
    if (p.name === name) return p;
  }
  return undefined;
}

/** The other vault entries that hold access key `accessKeyId` (sorted). */
async function sameKeyStoredAs(
  credentials: {
    profiles(): Promise<string[]>;
    get(name: string): Promise<{ accessKeyId: string } | undefined>;
  },
  storedAs: string,
  accessKeyId: string,
): Promise<string[]> {
  const names: string[] = [];
  for (const name of await credentials.profiles()) {
    if (name === storedAs) continue;
    if ((await credentials.get(name))?.accessKeyId === accessKeyId) names.push(name);
  }
  return names.sort();
}

/**
 * Removes the cached sessions of every profile whose credentials come from
 * the key stored under any of `storedAs` (those entries, and every profile
 * sourcing one, directly or through a chain).
 */
async function clearSessionsUsing(
  storedAs: string[],
  ctx: Context,
  deps: EngineDeps,
): Promise<Array<{ profile: string; removed: number }>> {
  const [{ loadConfig, openVault }, { resolveProfileConfig }, federation] = await Promise.all([
    import('./deps.ts'),
    import('../config/resolveProfileConfig.ts'),
    import('../credentials/getFederationCredentials.ts'),
  ]);
  const file = await loadConfig(ctx);
  const { sessions } = await openVault(ctx);
  const names = new Set<string>(storedAs);
  for (const session of await sessions.list()) names.add(session.profileName);
  const result: Array<{ profile: string; removed: number }> = [];
  for (const name of names) {
    let uses = storedAs.includes(name);
    if (!uses) {
      try {
        const p = resolveProfileConfig(file, name, { env: ctx.env });
        const keysOf = await federation.findStoredKeysProfile(p, deps);
        uses = keysOf !== undefined && storedAs.includes(keysOf);
      } catch (error) {
        ctx.debug(
          `rotate: cannot resolve profile ${name} (${String(error)}); keeping its sessions`,
        );
      }
    }
    if (uses) result.push({ profile: name, removed: await sessions.removeForProfile(name) });
  }
  return result;
}

export const registerRotate: RegisterCommand = (program: Command, host) => {
  program
    .command('rotate')
    .description('Rotate credentials')
    .argument('<profile>', 'Name of the profile')
    .option('-n, --no-session', 'Use master credentials, no session or role used')
    .option('-t, --mfa-token <code>', 'The MFA token to use (when mfa_serial is set)')
    .addHelpText(
      'after',
      `
Creates a new access key, waits until AWS accepts it, stores it, deletes the
cached sessions made with the old key, then deletes the old key. At every step
a failure leaves one working key in the vault.

Examples:
  $ aws-vault rotate jonsmith       # rotate the key stored for "jonsmith"
  $ aws-vault rotate prod           # rotate the key of prod's source profile
  $ aws-vault rotate -t 123456 me   # MFA code on the command line (when mfa_serial is set)

When the same access key is stored under several names, all of them get the
new key (and lose their cached sessions) before the old key is deleted.

Environment:
  AWS_VAULT_ROTATE_TIMEOUT   how long to wait for AWS to accept the new key (default 60s)
                             and to retry deleting the old one (default 30s)`,
    )
    .action(async (profile: string, opts: Record<string, unknown>, command: Command) => {
      await host.run(command, (ctx) =>
        rotateCommand(
          {
            profile,
            noSession: opts.session === false,
            ...(typeof opts.mfaToken === 'string' && opts.mfaToken !== ''
              ? { mfaToken: opts.mfaToken }
              : {}),
          },
          ctx,
        ),
      );
    });
};

/** The error code of an SDK failure (`AccessDenied`, `LimitExceeded`, `NoSuchEntity`). */
export function awsErrorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as { name?: unknown; Code?: unknown };
  if (typeof e.Code === 'string') return e.Code;
  // Not our own errors' class names (UserError): AWS codes only.
  if (error instanceof UserError) return undefined;
  if (typeof e.name === 'string' && e.name !== 'Error') return e.name;
  return undefined;
}
