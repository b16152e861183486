import { shortDuration } from '../config/duration.ts';
import { needFullCli, UserError } from '../errors.ts';
import type { EngineDeps, SessionMeta } from './engineDeps.ts';
import type { Credentials, CredentialsProvider } from './types.ts';

/** `52m`, `1h3m`, `45s`: how long is left, for debug lines. */
export function formatTimeLeft(expiration: Date | undefined, now = Date.now()): string {
  if (expiration === undefined) return 'never';
  let seconds = Math.max(0, Math.round((expiration.getTime() - now) / 1000));
  const hours = Math.floor(seconds / 3600);
  seconds -= hours * 3600;
  const minutes = Math.floor(seconds / 60);
  seconds -= minutes * 60;
  if (hours > 0) return `${hours}h${minutes}m`;
  if (minutes > 0) return `${minutes}m`;
  return `${seconds}s`;
}

/** {@link SessionMeta.request} from the settings a session was asked with. */
export function requestOf(settings: unknown[]): string {
  return JSON.stringify(settings.map((v) => v ?? null));
}

/** A file-name-safe lock name for one cached session. */
export function lockNameFor(meta: SessionMeta): string {
  const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64url');
  return `${meta.type},${b64(meta.profileName)},${b64(meta.mfaSerial ?? '')}`;
}

/** Long enough for another process's MFA prompt or SSO sign-in (its code lasts 10 minutes). */
export const REFRESH_WAIT_MS = 15 * 60_000;

function defaultWithLock(meta: SessionMeta) {
  return async <T>(lockDir: string, name: string, fn: () => Promise<T>) => {
    const { withLock } = await import('../keyring/lock.ts');
    return withLock(lockDir, name, fn, {
      timeoutMs: REFRESH_WAIT_MS,
      // A refresh takes well under a second; a longer wait is someone's prompt.
      noticeAfterMs: 3000,
      unavailable: (why) =>
        process.stderr.write(
          `aws-vault: warning: ${why}; getting the ${meta.type} session for profile ${meta.profileName} without the lock (parallel runs may each ask STS, and for an MFA code)\n`,
        ),
      onWait: (holder) =>
        process.stderr.write(
          `aws-vault: waiting for another aws-vault (process ${holder.pid}) getting a new ${meta.type} session for profile ${meta.profileName} (it may be asking for an MFA code or an SSO sign-in)\n`,
        ),
    });
  };
}

/**
 * Wraps `refresh` with the vault's session cache: a cached session with at
 * least `minTtl` seconds left is used as is; otherwise, holding a
 * cross-process lock, the cache is read again (another process may have just
 * refreshed it) and only then `refresh` runs and its result is stored. So N
 * processes started together make one STS call and ask for one MFA code.
 */
export function withSessionCache(
  refresh: CredentialsProvider,
  options: { meta: SessionMeta; minTtl: number; deps: EngineDeps },
): CredentialsProvider {
  const { meta, minTtl, deps } = options;
  const who = `profile ${meta.profileName}`;
  const lookup = async (): Promise<Credentials | undefined> => {
    const cached = await deps.sessions.get(meta, minTtl);
    if (cached !== undefined) {
      deps.debug(
        `${who}: using cached session ${meta.type} (expires in ${formatTimeLeft(cached.expiration)})`,
      );
    }
    return cached;
  };
  return async () => {
    const cached = await lookup();
    if (cached !== undefined) return cached;
    if (deps.cachedOnly === true) needFullCli(`${who}: no cached session ${meta.type}`);
    const withLock = deps.withLock ?? defaultWithLock(meta);
    return withLock(deps.lockDir, lockNameFor(meta), async () => {
      const again = await lookup();
      if (again !== undefined) return again;
      deps.debug(`${who}: no cached session ${meta.type} with ${minTtl}s left; getting a new one`);
      const fresh = await refresh();
      if (fresh.expiration === undefined) return fresh;
      if (fresh.expiration.getTime() <= Date.now()) {
        // Nothing to cache or use: STS works on its own clock, so this one is off.
        throw new UserError(
          `${who}: the new ${meta.type} session expired at ${fresh.expiration.toISOString()}, before this computer's time (${new Date().toISOString()}): check the system clock (and its time zone)`,
        );
      }
      const warn = deps.warn ?? ((line: string) => process.stderr.write(`${line}\n`));
      if (fresh.expiration.getTime() - Date.now() <= minTtl * 1000) {
        // Go's aws-vault says nothing here, and every run then prompts again.
        warn(
          `aws-vault: warning: ${who}: the new ${meta.type} session lasts ${formatTimeLeft(fresh.expiration)}, no longer than AWS_MIN_TTL (${shortDuration(minTtl)}), so no later run can reuse it and each asks STS (and for any MFA code) again: lower AWS_MIN_TTL, or ask for a longer session (--duration, AWS_SESSION_TOKEN_TTL, AWS_ASSUME_ROLE_TTL, duration_seconds)`,
        );
      }
      try {
        await deps.sessions.removeExpired?.();
        await deps.sessions.set(meta, fresh);
        deps.debug(
          `${who}: cached session ${meta.type} (expires in ${formatTimeLeft(fresh.expiration)})`,
        );
      } catch (error) {
        // The session is good and an MFA code may be spent on it: use it; the
        // next run gets a new one (and may meet the same store error).
        const why = error instanceof UserError ? error.message : String(error);
        warn(
          `aws-vault: warning: ${who}: the new session could not be cached, so the next run asks STS again: ${why}`,
        );
      }
      return fresh;
    });
  };
}
