import { spawn, type ChildProcess } from 'node:child_process';
import {
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  acquireLock,
  lockPath,
  LockUnavailableError,
  withLock,
} from '../../../src/keyring/lock.ts';

const worker = new URL('./fixtures/lockWorker.ts', import.meta.url).pathname;
let tmp: string;
let lockDir: string;
const children: ChildProcess[] = [];

beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), 'aws-vault-lock-'));
  lockDir = join(tmp, 'locks');
});
afterEach(() => {
  for (const c of children.splice(0))
    if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
});

function run(args: string[]): { child: ChildProcess; output: Promise<string> } {
  const child = spawn(process.execPath, [worker, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  const output = new Promise<string>((resolve, reject) =>
    child.on('exit', (code) =>
      code === 0 ? resolve(out.trim()) : reject(new Error(`worker exit ${code}: ${out}`)),
    ),
  );
  output.catch(() => undefined); // holders are killed on purpose
  return { child, output };
}

function untilLine(child: ChildProcess, line: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes(line)) resolve();
    });
    child.on('exit', (code) => reject(new Error(`exited (${code}) before "${line}"`)));
  });
}

describe('withLock across processes', () => {
  it('N processes contending make one refresh; the others read the cache', async () => {
    const cache = join(tmp, 'cache');
    const calls = join(tmp, 'calls');
    writeFileSync(calls, '');
    const results = await Promise.all(
      Array.from(
        { length: 4 },
        () => run(['refresh', lockDir, 'session prod', cache, calls, '300']).output,
      ),
    );
    expect(readFileSync(calls, 'utf8').trim().split('\n')).toHaveLength(1);
    expect(results.filter((r) => r === 'refreshed')).toHaveLength(1);
    expect(results.filter((r) => r === 'cached')).toHaveLength(3);
    expect(statSync(lockDir).mode & 0o777).toBe(0o700);
    expect(readdirSync(lockDir)).toEqual([]); // released
  }, 30_000);

  it('recovers at once from a holder killed with SIGKILL', async () => {
    const { child } = run(['hold', lockDir, 'prod']);
    await untilLine(child, 'locked');
    const file = lockPath(lockDir, 'prod');
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({
      pid: child.pid,
      host: hostname(),
    });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    const started = Date.now();
    expect(await withLock(lockDir, 'prod', async () => 'mine', { timeoutMs: 5000 })).toBe('mine');
    expect(Date.now() - started).toBeLessThan(1000);
  }, 30_000);

  it('waits for a live holder and gives up after the timeout with a clear error', async () => {
    const { child } = run(['hold', lockDir, 'prod']);
    await untilLine(child, 'locked');
    const waited: number[] = [];
    await expect(
      withLock(lockDir, 'prod', async () => 'never', {
        timeoutMs: 300,
        noticeAfterMs: 100,
        onWait: (holder) => waited.push(holder.pid),
      }),
    ).rejects.toThrow(
      new RegExp(`timed out after 0s waiting for process ${child.pid} .*delete that file`),
    );
    // Told once what it waits for, after waiting a while.
    expect(waited).toEqual([child.pid]);
  }, 30_000);

  it('hands over to a waiter within a poll interval of the release', async () => {
    const release = await acquireLock(lockDir, 'x');
    let acquiredAt = 0;
    const waiter = withLock(lockDir, 'x', async () => {
      acquiredAt = Date.now();
    });
    await new Promise((r) => setTimeout(r, 100));
    const releasedAt = Date.now();
    await release();
    await waiter;
    expect(acquiredAt - releasedAt).toBeLessThan(100);
  });

  it('treats a reused pid (same pid, other start time) and an old half-written file as stale', async () => {
    const file = lockPath(lockDir, 'reused');
    await withLock(lockDir, 'setup', async () => undefined); // creates the folder
    writeFileSync(
      file,
      JSON.stringify({
        pid: process.pid,
        start: 'not-my-start',
        host: hostname(),
        token: 't',
        since: '',
      }),
    );
    expect(await withLock(lockDir, 'reused', async () => 1, { timeoutMs: 2000 })).toBe(1);
    const half = lockPath(lockDir, 'half');
    writeFileSync(half, '{"pid":');
    const old = new Date(Date.now() - 10_000);
    utimesSync(half, old, old);
    expect(await withLock(lockDir, 'half', async () => 2, { timeoutMs: 2000 })).toBe(2);
  });

  it('releases the lock when fn throws', async () => {
    await expect(
      withLock(lockDir, 'boom', async () => Promise.reject(new Error('boom'))),
    ).rejects.toThrow('boom');
    expect(await withLock(lockDir, 'boom', async () => 'again', { timeoutMs: 500 })).toBe('again');
  });
});

describe('withLock when no lock can be made', () => {
  it('is an error naming the folder, or runs without the lock when told how to say so', async () => {
    writeFileSync(join(tmp, 'file'), ''); // a file where the lock folder's parent should be
    const dir = join(tmp, 'file', 'locks');
    const error = await withLock(dir, 'n', async () => 'ran').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LockUnavailableError);
    expect((error as Error).message).toBe(
      `cannot make the lock folder ${dir}: ENOTDIR (not a directory)`,
    );
    const said: string[] = [];
    expect(await withLock(dir, 'n', async () => 'ran', { unavailable: (w) => said.push(w) })).toBe(
      'ran',
    );
    expect(said).toEqual([`cannot make the lock folder ${dir}: ENOTDIR (not a directory)`]);
  });

  it('a failure of fn itself is not taken for an unavailable lock', async () => {
    const said: string[] = [];
    await expect(
      withLock(
        lockDir,
        'n',
        async () => {
          throw new Error('boom');
        },
        { unavailable: (w) => said.push(w) },
      ),
    ).rejects.toThrow('boom');
    expect(said).toEqual([]);
    expect(readdirSync(lockDir)).toEqual([]);
  });
});
