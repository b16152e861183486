import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openBackend } from '../../../src/keyring/openBackend.ts';
import { FAKE_PASS } from '../../helpers/fakePass.ts';

let tmp: string;
beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), 'aws-vault-pass-'));
});
afterEach(() => {
  rmSync(tmp, { recursive: true, force: true });
});

describe('pass backend', () => {
  it('stores Go-format items under the prefix, lists and removes them, secrets never in argv', async () => {
    const cmd = join(tmp, 'fake-pass');
    writeFileSync(cmd, FAKE_PASS);
    chmodSync(cmd, 0o755);
    const log = join(tmp, 'argv.log');
    const backend = await openBackend({
      backend: 'pass',
      fileDir: tmp,
      passCmd: cmd,
      passDir: join(tmp, 'store'),
      passPrefix: 'aws-vault',
      env: { ...process.env, PASS_ARGV_LOG: log },
      debug: () => undefined,
    });
    expect(backend.name).toBe('pass');
    await backend.set('team/dev prod', 'SECRET-VALUE-1');
    await backend.set('ünï', 'SECRET-VALUE-2');
    expect(await backend.get('team/dev prod')).toBe('SECRET-VALUE-1');
    expect(await backend.keys()).toEqual(['team/dev prod', 'ünï']);
    const item = JSON.parse(
      readFileSync(join(tmp, 'store', 'aws-vault', 'team', 'dev prod.gpg'), 'utf8'),
    );
    expect(item).toMatchObject({ Key: 'team/dev prod', Label: 'aws-vault (team/dev prod)' });
    await backend.remove('team/dev prod');
    await backend.remove('team/dev prod');
    expect(await backend.get('team/dev prod')).toBeUndefined();
    expect(await backend.keys()).toEqual(['ünï']);
    expect(readFileSync(log, 'utf8')).not.toContain('SECRET');
  });

  it('says so when the pass program is missing', async () => {
    await expect(
      openBackend({
        backend: 'pass',
        fileDir: tmp,
        passCmd: 'no-such-pass-xyz',
        debug: () => undefined,
      }),
    ).rejects.toThrow(/pass backend: the pass program \("no-such-pass-xyz"\) is not installed/);
  });

  it('reports the exit status, not an EPIPE crash, when pass exits without reading stdin', async () => {
    // More than a pipe's buffer, so the write is still pending when the stand-in exits.
    const cmd = join(tmp, 'early-exit-pass');
    writeFileSync(cmd, '#!/bin/sh\necho "gpg: no public key" >&2\nexit 1\n');
    chmodSync(cmd, 0o755);
    const backend = await openBackend({
      backend: 'pass',
      fileDir: tmp,
      passCmd: cmd,
      passDir: join(tmp, 'store'),
      debug: () => undefined,
    });
    const value = 'x'.repeat(1 << 20);
    await expect(backend.set('big', value)).rejects.toThrow(
      /pass backend: '.*early-exit-pass insert' failed \(exit 1\): gpg: no public key/,
    );
  });
});
