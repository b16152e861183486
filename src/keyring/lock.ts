import { createHash, randomBytes } from 'node:crypto';
import { constants, promises as fs, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { errnoText, UserError } from '../errors.ts';

export interface LockOptions {
  /** Give up waiting after this long (default 5 minutes: a holder may be waiting for an MFA code). */
  timeoutMs?: number;
  /** How often waiters look again (default 25ms). */
  pollMs?: number;
  /**
   * A lock held from another host (a shared home folder) whose file has not
   * been touched for this long is taken over (default 30s; holders touch it
   * every few seconds). Locks of this host are judged by their process instead.
   */
  staleMs?: number;
  debug?: (line: string) => void;
  /** Called once when this process has waited `noticeAfterMs` (default 1s) for a live holder. */
  onWait?: (holder: { pid: number; host: string }) => void;
  noticeAfterMs?: number;
  /**
   * When the lock cannot be taken at all (its folder or file cannot be made:
   * a read-only or full HOME), `fn` runs without it after this is told why;
   * without this option, that is an error.
   */
  unavailable?: (why: string) => void;
}

/** The lock's folder or file cannot be made (not: another process holds it). */
export class LockUnavailableError extends UserError {
  override name = 'LockUnavailableError';
}

/** What a lock file holds. */
interface Holder {
  pid: number;
  /** The process's start time (Linux), so a reused pid is not mistaken for the holder. */
  start?: string;
  host: string;
  token: string;
  since: string;
}

/** The lock file for `name` in `lockDir`. */
export function lockPath(lockDir: string, name: string): string {
  const slug = name.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 60);
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 16);
  return join(lockDir, `${slug}-${hash}.lock`);
}

/**
 * Runs `fn` while holding a lock shared by every process of this user, so
 * that "read the cache, else refresh and write it" happens once when many
 * aws-vault processes start together. The lock is a file created with
 * O_EXCL in `lockDir` (made 0700). A holder that died (its pid is gone, or
 * the pid now belongs to another process) is detected and its lock taken
 * over; waiters look again every `pollMs`.
 */
export async function withLock<T>(
  lockDir: string,
  name: string,
  fn: () => Promise<T>,
  opts: LockOptions = {},
): Promise<T> {
  let release: () => Promise<void>;
  try {
    release = await acquireLock(lockDir, name, opts);
  } catch (error) {
    if (!(error instanceof LockUnavailableError) || opts.unavailable === undefined) throw error;
    opts.unavailable(error.message);
    return fn();
  }
  try {
    return await fn();
  } finally {
    await release();
  }
}

/** Takes the lock; the returned function releases it. Prefer {@link withLock}. */
export async function acquireLock(
  lockDir: string,
  name: string,
  opts: LockOptions = {},
): Promise<() => Promise<void>> {
  const timeoutMs = opts.timeoutMs ?? 300_000;
  const pollMs = opts.pollMs ?? 25;
  const staleMs = opts.staleMs ?? 30_000;
  const debug = opts.debug ?? (() => undefined);
  await ensureDir(lockDir);
  const path = lockPath(lockDir, name);
  const me: Holder = {
    pid: process.pid,
    ...startTimeOf(process.pid),
    host: hostname(),
    token: randomBytes(12).toString('hex'),
    since: new Date().toISOString(),
  };
  const started = Date.now();
  const deadline = started + timeoutMs;
  let announced = false;
  let noticed = false;
  for (;;) {
    if (await tryCreate(path, me)) break;
    const holder = await readHolder(path);
    if (holder !== 'missing' && (await isStale(path, holder, staleMs))) {
      await breakStale(path, holder, staleMs, debug);
      continue;
    }
    if (!announced && holder !== 'missing' && holder !== 'invalid') {
      debug(`lock ${name}: waiting for process ${holder.pid}`);
      announced = true;
    }
    if (
      !noticed &&
      typeof holder === 'object' &&
      opts.onWait !== undefined &&
      Date.now() - started >= (opts.noticeAfterMs ?? 1000)
    ) {
      noticed = true;
      opts.onWait(holder);
    }
    if (Date.now() >= deadline) {
      const who =
        typeof holder === 'object' ? `process ${holder.pid} on ${holder.host}` : 'another process';
      throw new UserError(
        `timed out after ${Math.round(timeoutMs / 1000)}s waiting for ${who} (another aws-vault) to release ${path}; if no aws-vault is running, delete that file`,
      );
    }
    await sleep(pollMs);
  }
  debug(`lock ${name}: acquired`);
  // Holders on other hosts are judged by the file's age: keep it fresh.
  const heartbeat = setInterval(
    () => {
      const now = new Date();
      fs.utimes(path, now, now).catch(() => undefined);
    },
    Math.max(1000, Math.floor(staleMs / 3)),
  );
  heartbeat.unref();
  let released = false;
  return async () => {
    if (released) return;
    released = true;
    clearInterval(heartbeat);
    // Remove it only if it is still ours (it could have been taken over).
    const holder = await readHolder(path);
    if (typeof holder === 'object' && holder.token === me.token) {
      await fs.unlink(path).catch(() => undefined);
    }
    debug(`lock ${name}: released`);
  };
}

async function ensureDir(dir: string): Promise<void> {
  try {
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    const stat = await fs.stat(dir);
    if ((stat.mode & 0o077) !== 0) await fs.chmod(dir, 0o700);
  } catch (error) {
    throw new LockUnavailableError(`cannot make the lock folder ${dir}: ${errnoText(error)}`, {
      cause: error,
    });
  }
}

async function tryCreate(path: string, holder: Holder): Promise<boolean> {
  let handle;
  try {
    handle = await fs.open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new LockUnavailableError(`cannot create the lock file ${path}: ${errnoText(error)}`, {
      cause: error,
    });
  }
  try {
    await handle.writeFile(JSON.stringify(holder));
  } catch (error) {
    // A full disk: an empty lock file would make others wait for nothing.
    await handle.close().catch(() => undefined);
    await fs.unlink(path).catch(() => undefined);
    throw new LockUnavailableError(`cannot write the lock file ${path}: ${errnoText(error)}`, {
      cause: error,
    });
  }
  await handle.close();
  return true;
}

async function readHolder(path: string): Promise<Holder | 'missing' | 'invalid'> {
  let text: string;
  try {
    text = await fs.readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    return 'invalid';
  }
  try {
    const parsed = JSON.parse(text) as Holder;
    if (typeof parsed.pid === 'number' && typeof parsed.token === 'string') return parsed;
  } catch {
    // Being written right now, or the writer died mid-write: judged by age.
  }
  return 'invalid';
}

async function isStale(
  path: string,
  holder: Holder | 'invalid',
  staleMs: number,
): Promise<boolean> {
  if (holder === 'invalid' || holder.host !== hostname()) {
    // A half-written file gets a moment to be completed; a foreign host's lock is judged by its heartbeat.
    const age = await fileAge(path);
    return age !== undefined && age > (holder === 'invalid' ? 2000 : staleMs);
  }
  if (!isAlive(holder.pid) || isZombie(holder.pid)) return true;
  const start = startTimeOf(holder.pid).start;
  return holder.start !== undefined && start !== undefined && start !== holder.start;
}

/**
 * Removes a stale lock under a short "breaker" lock, re-checking it first,
 * so two waiters that both saw it stale cannot remove a fresh lock that
 * one of them has just taken.
 */
async function breakStale(
  path: string,
  seen: Holder | 'invalid',
  staleMs: number,
  debug: (line: string) => void,
): Promise<void> {
  const breaker = `${path}.break`;
  const me: Holder = {
    pid: process.pid,
    ...startTimeOf(process.pid),
    host: hostname(),
    token: 'breaker',
    since: '',
  };
  if (!(await tryCreate(breaker, me))) {
    // Someone else is breaking it; a breaker left by a killed process expires quickly.
    const b = await readHolder(breaker);
    const age = await fileAge(breaker);
    if (
      (typeof b === 'object' && b.host === hostname() && !isAlive(b.pid)) ||
      (age !== undefined && age > 5000)
    ) {
      await fs.unlink(breaker).catch(() => undefined);
    }
    return;
  }
  try {
    const now = await readHolder(path);
    const same =
      now === 'invalid'
        ? seen === 'invalid'
        : typeof now === 'object' && typeof seen === 'object' && now.token === seen.token;
    if (same && (await isStale(path, now as Holder | 'invalid', staleMs))) {
      debug(
        `lock: removing a stale lock ${typeof now === 'object' ? `of dead process ${now.pid}` : '(unreadable)'}`,
      );
      await fs.unlink(path).catch(() => undefined);
    }
  } finally {
    await fs.unlink(breaker).catch(() => undefined);
  }
}

async function fileAge(path: string): Promise<number | undefined> {
  try {
    return Date.now() - (await fs.stat(path)).mtimeMs;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A process that has exited but was not yet reaped by its parent. */
function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}

/** Field 22 of /proc/PID/stat (start time in clock ticks since boot), Linux only. */
function startTimeOf(pid: number): { start?: string } {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: split after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const start = fields[19];
    return start === undefined ? {} : { start };
  } catch {
    return {};
  }
}
