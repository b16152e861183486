import { spawn, spawnSync } from 'node:child_process';
import { compactDecrypt, decodeProtectedHeader } from 'jose';
import {
  chmodSync,
  chownSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UserError } from '../../../src/errors.ts';
import { DamagedItemError } from '../../../src/keyring/backend.ts';
import { CredentialStore } from '../../../src/keyring/credentialStore.ts';
import { FileBackend } from '../../../src/keyring/fileBackend.ts';
import { openBackend } from '../../../src/keyring/openBackend.ts';
import { decodeFileName, encodeFileName } from '../../../src/keyring/percent.ts';

const GO_PASSPHRASE = 'correct horse battery staple';
// A copy of ../shared/fixtures/go-aws-vault-file-store, written by the Go aws-vault.
const fixtureDir = new URL('../../fixtures/go-aws-vault-file-store/keys', import.meta.url).pathname;

let tmp: string;
beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), 'aws-vault-file-'));
});
afterEach(() => {
  rmSync(tmp, { recursive: true, force: true });
});

function copyFixture(): string {
  const dir = join(tmp, 'keys');
  cpSync(fixtureDir, dir, { recursive: true });
  return dir;
}

function snapshot(dir: string): Record<string, string> {
  return Object.fromEntries(readdirSync(dir).map((n) => [n, readFileSync(join(dir, n), 'utf8')]));
}

async function decryptIndependently(path: string, passphrase: string) {
  const token = readFileSync(path, 'utf8');
  const { plaintext, protectedHeader } = await compactDecrypt(
    token,
    new TextEncoder().encode(passphrase),
    {
      keyManagementAlgorithms: ['PBES2-HS256+A128KW'],
      contentEncryptionAlgorithms: ['A256GCM'],
    },
  );
  return {
    item: JSON.parse(new TextDecoder().decode(plaintext)) as Record<string, unknown>,
    protectedHeader,
  };
}

describe('file names', () => {
  it('percent-encodes only % and / like the Go aws-vault', () => {
    expect(encodeFileName('team/dev prod')).toBe('team%2Fdev prod');
    expect(encodeFileName('50%/x')).toBe('50%25%2Fx');
    expect(encodeFileName('ünï ☃')).toBe('ünï ☃');
    for (const key of ['team/dev prod', '50%/x', '%2F', 'a%zz', 'ünï/☃']) {
      expect(decodeFileName(encodeFileName(key))).toBe(key);
    }
    expect(decodeFileName('a%2fb')).toBe('a/b');
    expect(decodeFileName('%E2%98%83')).toBe('☃');
  });
});

describe('file backend and the Go aws-vault store', () => {
  it('opens the store the Go aws-vault wrote, unchanged', async () => {
    const dir = copyFixture();
    const before = snapshot(dir);
    const backend = new FileBackend({ dir, passphrase: GO_PASSPHRASE });
    expect(await backend.keys()).toEqual(['interop', 'team/dev prod']);
    const store = new CredentialStore(backend);
    expect(await store.profiles()).toEqual(['interop', 'team/dev prod']);
    expect(await store.get('interop')).toEqual({
      accessKeyId: 'AKIAINTEROPEXAMPLE01',
      secretAccessKey: 'interopSecretKey/With+Symbols=0001',
    });
    expect(await store.get('team/dev prod')).toEqual({
      accessKeyId: 'AKIAINTEROPEXAMPLE02',
      secretAccessKey: 'interopSecretKey/With+Symbols=0002',
    });
    expect(snapshot(dir)).toEqual(before);
  });

  it('writes files in the Go format, readable by any JOSE implementation', async () => {
    const dir = copyFixture();
    const backend = new FileBackend({ dir, passphrase: GO_PASSPHRASE });
    const store = new CredentialStore(backend);
    const addedAt = new Date('2026-01-02T03:04:05Z');
    await store.set('new/prof ü', { accessKeyId: 'AKIANEW', secretAccessKey: 's/+=', addedAt });
    const path = join(dir, 'new%2Fprof ü');
    const header = decodeProtectedHeader(readFileSync(path, 'utf8'));
    expect(header).toMatchObject({ alg: 'PBES2-HS256+A128KW', enc: 'A256GCM', p2c: 8192 });
    expect(typeof header.p2s).toBe('string');
    expect(typeof header.created).toBe('string');
    const { item } = await decryptIndependently(path, GO_PASSPHRASE);
    expect(Object.keys(item)).toEqual([
      'Key',
      'Data',
      'Label',
      'Description',
      'KeychainNotTrustApplication',
      'KeychainNotSynchronizable',
    ]);
    expect(item.Key).toBe('new/prof ü');
    expect(item.Label).toBe('aws-vault (new/prof ü)');
    const data = JSON.parse(Buffer.from(item.Data as string, 'base64').toString('utf8'));
    // Same fields and order as the fixture's (Go's aws.Credentials), plus AddedAt.
    const goData = JSON.parse(
      Buffer.from(
        (await decryptIndependently(join(dir, 'interop'), GO_PASSPHRASE)).item.Data as string,
        'base64',
      ).toString(),
    );
    expect(Object.keys(data)).toEqual([...Object.keys(goData), 'AddedAt']);
    expect(data).toMatchObject({
      AccessKeyID: 'AKIANEW',
      SecretAccessKey: 's/+=',
      AddedAt: '2026-01-02T03:04:05Z',
    });
    expect(await store.get('new/prof ü')).toEqual({
      accessKeyId: 'AKIANEW',
      secretAccessKey: 's/+=',
      addedAt,
    });
  });

  it('has() answers from the file names, without a passphrase (nothing is decrypted)', async () => {
    const dir = copyFixture();
    const backend = new FileBackend({ dir }); // no passphrase, no prompt
    expect(await backend.has('team/dev prod')).toBe(true);
    expect(await backend.has('interop')).toBe(true);
    expect(await backend.has('missing')).toBe(false);
    expect(await new CredentialStore(backend).has('interop')).toBe(true);
    expect(await new FileBackend({ dir: join(tmp, 'absent') }).has('interop')).toBe(false);
  });

  it('refuses a wrong passphrase with a clear error and changes nothing', async () => {
    const dir = copyFixture();
    const before = snapshot(dir);
    const wrong = new FileBackend({ dir, passphrase: 'not the passphrase' });
    const wrongPass = /wrong passphrase for the file backend in .*keys/;
    await expect(wrong.get('interop')).rejects.toThrow(wrongPass);
    await expect(wrong.set('interop', 'x')).rejects.toThrow(wrongPass);
    await expect(wrong.set('brand-new', 'x')).rejects.toThrow(wrongPass);
    await expect(wrong.remove('interop')).rejects.toThrow(wrongPass);
    await expect(wrong.get('interop')).rejects.toBeInstanceOf(UserError);
    expect(snapshot(dir)).toEqual(before);
    // The error never shows the passphrase.
    const error = await wrong.get('interop').catch((e: Error) => e);
    expect(String(error)).not.toContain('not the passphrase');
  });

  it('one damaged file is named as damaged; the passphrase and the other files still work', async () => {
    const dir = join(tmp, 'keys');
    const backend = new FileBackend({ dir, passphrase: 'pw' });
    await backend.set('aaa', 'first');
    await backend.set('bbb', 'second');
    /** Flips one bit of part `part` of the JWE in the file for `key`. */
    const damage = (key: string, part: number) => {
      const path = join(dir, key);
      const parts = readFileSync(path, 'utf8').split('.');
      const bytes = Buffer.from(parts[part] as string, 'base64url');
      bytes[0] = (bytes[0] as number) ^ 1;
      parts[part] = bytes.toString('base64url');
      writeFileSync(path, parts.join('.'));
    };
    // aaa sorts first, so it is the file the passphrase is checked against.
    damage('aaa', 3); // the ciphertext

    const fresh = () => new FileBackend({ dir, passphrase: 'pw' });
    const error = await fresh()
      .get('aaa')
      .catch((e: Error) => e);
    expect(error).toBeInstanceOf(DamagedItemError);
    expect(String(error)).toMatch(
      /the file for "aaa" in .*keys is damaged or not an aws-vault file; remove it with aws-vault remove --force aaa and/,
    );
    expect(String(error)).not.toMatch(/passphrase/);
    expect(await fresh().get('bbb')).toBe('second');
    await fresh().set('ccc', 'third');
    expect(await fresh().get('ccc')).toBe('third');
    await fresh().remove('aaa');
    expect(await fresh().keys()).toEqual(['bbb', 'ccc']);
    // A wrong passphrase is still one.
    await expect(new FileBackend({ dir, passphrase: 'nope' }).set('d', 'x')).rejects.toThrow(
      /wrong passphrase/,
    );
    await expect(new FileBackend({ dir, passphrase: 'nope' }).get('bbb')).rejects.toThrow(
      /wrong passphrase/,
    );
    // A damaged wrapped key reads like a wrong passphrase for that file
    // alone; the other files say it is the file.
    damage('bbb', 1); // the wrapped key
    await expect(fresh().get('bbb')).rejects.toThrow(
      /the file for "bbb" in .*keys is damaged: the passphrase that opens the other files does not; remove it/,
    );
    expect(await fresh().get('ccc')).toBe('third');
    await fresh().set('ddd', 'fourth');
    expect(await fresh().get('ddd')).toBe('fourth');
    // A damaged session points at clear.
    const session = 'sts.GetSessionToken,YQ,,1999999999';
    await fresh().set(session, '{}');
    writeFileSync(join(dir, encodeFileName(session)), 'garbage');
    await expect(fresh().get(session)).rejects.toThrow(
      /is damaged or not an aws-vault file; it is a cached session: aws-vault clear removes it/,
    );
  });

  it('checks the passphrase against a file cut short, whose header and wrapped key are intact', async () => {
    const dir = join(tmp, 'keys');
    await new FileBackend({ dir, passphrase: 'right' }).set('work', 'v');
    // Cut inside the ciphertext: the file is damaged, but still tells a typo.
    const path = join(dir, 'work');
    writeFileSync(path, readFileSync(path, 'utf8').slice(0, 300));
    await expect(new FileBackend({ dir, passphrase: 'rigth' }).set('other', 'x')).rejects.toThrow(
      /wrong passphrase for the file backend in .*keys/,
    );
    expect(readdirSync(dir)).toEqual(['work']);
    await new FileBackend({ dir, passphrase: 'right' }).set('other', 'x');
    expect(await new FileBackend({ dir, passphrase: 'right' }).get('other')).toBe('x');
    // Cut before the wrapped key ends, nothing can be told: the passphrase is
    // taken as for an empty store.
    rmSync(join(dir, 'other'));
    writeFileSync(path, readFileSync(path, 'utf8').split('.')[0] as string);
    await new FileBackend({ dir, passphrase: 'new' }).set('third', 'y');
    expect(await new FileBackend({ dir, passphrase: 'new' }).get('third')).toBe('y');
  });

  it('a file that cannot be removed is a clear error naming the folder, not a raw errno', async () => {
    const dir = join(tmp, 'keys');
    const backend = new FileBackend({ dir, passphrase: 'pw' });
    await backend.set('good', 'x');
    mkdirSync(join(dir, 'odd')); // unlink fails on a folder
    const error = await backend.remove('odd').catch((e: Error) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).toBe(
      `file backend: cannot remove a file in ${dir}: EISDIR (illegal operation on a directory)`,
    );
  });

  it("names a damaged file's profile as a shell word in the fix", async () => {
    const dir = join(tmp, 'keys');
    const backend = new FileBackend({ dir, passphrase: 'pw' });
    await backend.set('good', 'x');
    const name = "team's dev";
    writeFileSync(join(dir, encodeFileName(name)), 'not a JWE');
    const error = await new FileBackend({ dir, passphrase: 'pw' }).get(name).catch((e: Error) => e);
    expect(error).toBeInstanceOf(DamagedItemError);
    expect(String(error)).toContain(
      `remove it with aws-vault remove --force 'team'\\''s dev' and add the key again`,
    );
  });

  it('fails at once without a passphrase or a terminal, and asks the prompt only once', async () => {
    const dir = copyFixture();
    const none = new FileBackend({ dir });
    await expect(none.get('interop')).rejects.toThrow(/AWS_VAULT_FILE_PASSPHRASE/);
    expect(await none.keys()).toEqual(['interop', 'team/dev prod']); // listing needs no passphrase
    // A first write without a passphrase creates nothing, not even the folder.
    const fresh = join(tmp, 'new', 'keys');
    await expect(new FileBackend({ dir: fresh }).set('k', 'v')).rejects.toThrow(
      /AWS_VAULT_FILE_PASSPHRASE/,
    );
    expect(existsSync(join(tmp, 'new'))).toBe(false);
    let asked = 0;
    const prompted = new FileBackend({
      dir,
      promptPassphrase: async () => {
        asked++;
        return GO_PASSPHRASE;
      },
    });
    await prompted.get('interop');
    await prompted.get('team/dev prod');
    await prompted.set('x', 'y');
    expect(asked).toBe(1);
    // A wrong passphrase typed at the prompt is not blamed on the variable.
    const typedWrong = new FileBackend({ dir, promptPassphrase: async () => 'not it' });
    const error = await typedWrong.get('interop').catch((e: Error) => e);
    expect(String(error)).toMatch(
      /wrong passphrase for the file backend in .* \(nothing was changed\); run the command again and type the passphrase this folder was made with$/,
    );
    expect(String(error)).not.toContain('AWS_VAULT_FILE_PASSPHRASE');
  });

  it('accepts an empty passphrase from the environment, as the Go aws-vault does', async () => {
    const dir = join(tmp, 'empty');
    const backend = new FileBackend({ dir, passphrase: '' });
    await backend.set('k', 'v');
    expect(await new FileBackend({ dir, passphrase: '' }).get('k')).toBe('v');
    await expect(new FileBackend({ dir, passphrase: 'x' }).get('k')).rejects.toThrow(
      /wrong passphrase/,
    );
  });
});

describe('file backend contract', () => {
  it('sets, gets, lists and removes keys, unicode and / included', async () => {
    const dir = join(tmp, 'a', 'keys');
    const backend = new FileBackend({ dir, passphrase: 'pw' });
    expect(await backend.keys()).toEqual([]);
    expect(await backend.get('missing')).toBeUndefined();
    const keys = [
      'team/dev prod',
      'ünïcødé ☃',
      '50%',
      'sts.GetSessionToken,cHJvZA,,1700000000',
      'oidc:https://x.awsapps.com/start',
    ];
    for (const key of keys) await backend.set(key, `value of ${key}`);
    expect(await backend.keys()).toEqual([...keys].sort());
    for (const key of keys) expect(await backend.get(key)).toBe(`value of ${key}`);
    await backend.set('team/dev prod', 'replaced');
    expect(await backend.get('team/dev prod')).toBe('replaced');
    await backend.remove('team/dev prod');
    await backend.remove('team/dev prod');
    expect(await backend.get('team/dev prod')).toBeUndefined();
    expect(await backend.keys()).not.toContain('team/dev prod');
    await expect(backend.set('', 'x')).rejects.toThrow(/empty key/);
  });

  it('makes the folder 0700 and files 0600, and tightens a loose folder', async () => {
    const dir = join(tmp, 'deep', 'keys');
    const backend = new FileBackend({ dir, passphrase: 'pw' });
    await backend.set('k', 'v');
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, 'k')).mode & 0o777).toBe(0o600);
    const loose = join(tmp, 'loose');
    mkdirSync(loose, { mode: 0o755 });
    chmodSync(loose, 0o755);
    const lines: string[] = [];
    await new FileBackend({ dir: loose, passphrase: 'pw', debug: (l) => lines.push(l) }).set(
      'k',
      'v',
    );
    expect(statSync(loose).mode & 0o777).toBe(0o700);
    expect(lines.join('\n')).toMatch(/mode 755, changed to 0700/);
  });

  it('tightens loose key files: in a loose folder when opened, and on every write', async () => {
    const dir = join(tmp, 'copied');
    await new FileBackend({ dir, passphrase: 'pw' }).set('a', '1');
    await new FileBackend({ dir, passphrase: 'pw' }).set('b', '2');
    chmodSync(dir, 0o755); // as cp -r under umask 022 leaves it
    chmodSync(join(dir, 'a'), 0o644);
    expect(await new FileBackend({ dir, passphrase: 'pw' }).get('b')).toBe('2');
    expect(statSync(join(dir, 'a')).mode & 0o777).toBe(0o600);
    chmodSync(join(dir, 'b'), 0o666); // the folder is fine now: a write finds it
    const lines: string[] = [];
    await new FileBackend({ dir, passphrase: 'pw', debug: (l) => lines.push(l) }).set('c', '3');
    expect(statSync(join(dir, 'b')).mode & 0o777).toBe(0o600);
    expect(lines).toContain('file backend: b was mode 666, changed to 0600');
  });

  it("refuses a FIFO or another user's file in a key's place, at once, and still stores beside it", async () => {
    // What someone could plant in a folder that was writable by others.
    const dir = join(tmp, 'planted');
    await new FileBackend({ dir, passphrase: 'pw' }).set('mine', 'v');
    const fifo = spawnSync('mkfifo', [join(dir, 'alice')]);
    expect(fifo.status).toBe(0);
    symlinkSync(join(dir, 'alice'), join(dir, 'bob'));
    const started = Date.now();
    for (const key of ['alice', 'bob']) {
      await expect(new FileBackend({ dir, passphrase: 'pw' }).get(key)).rejects.toThrow(
        /is not a regular file, so it is not a key aws-vault wrote; move it out of the folder/,
      );
    }
    // The passphrase check reads the other files: the FIFO is passed over, not waited on.
    const lines: string[] = [];
    const fresh = new FileBackend({ dir, passphrase: 'pw', debug: (l) => lines.push(l) });
    await fresh.set('new', 'w');
    expect(await fresh.get('new')).toBe('w');
    expect(Date.now() - started).toBeLessThan(5_000);
    if (process.getuid?.() === 0) {
      // Root can make a file another user owns; others cannot, and need no such check here.
      writeFileSync(join(dir, 'carol'), readFileSync(join(dir, 'mine')), { mode: 0o600 });
      chownSync(join(dir, 'carol'), 65534, 65534);
      await expect(new FileBackend({ dir, passphrase: 'pw' }).get('carol')).rejects.toThrow(
        /belongs to another user \(uid 65534\)/,
      );
    }
  });

  it('refuses a folder that is a file', async () => {
    const path = join(tmp, 'file');
    writeFileSync(path, 'x');
    await expect(new FileBackend({ dir: path, passphrase: 'pw' }).set('k', 'v')).rejects.toThrow(
      /not a folder/,
    );
  });

  it('is what openBackend gives for --backend=file', async () => {
    const backend = await openBackend({
      backend: 'file',
      fileDir: join(tmp, 'k'),
      filePassphrase: 'pw',
      debug: () => undefined,
    });
    expect(backend.name).toBe('file');
    await backend.set('a', 'b');
    expect(await backend.get('a')).toBe('b');
  });

  it('never writes the value in plaintext', async () => {
    const dir = join(tmp, 'plain');
    await new FileBackend({ dir, passphrase: 'pw' }).set('k', 'SUPERSECRETVALUE');
    for (const name of readdirSync(dir)) {
      const raw = readFileSync(join(dir, name));
      expect(raw.includes('SUPERSECRETVALUE')).toBe(false);
      expect(raw.includes(Buffer.from('SUPERSECRETVALUE').toString('base64'))).toBe(false);
    }
  });
});

describe('file backend crash safety', () => {
  it('a process killed (SIGKILL) in the middle of writing never leaves a corrupt or missing key', async () => {
    const dir = join(tmp, 'crash');
    const passphrase = 'crash test';
    const backend = new FileBackend({ dir, passphrase });
    const keys = Array.from({ length: 3 }, (_, i) => `key/${i} ü`);
    for (const key of keys) await backend.set(key, 'v0');
    const child = new URL('./fixtures/writeLoop.ts', import.meta.url).pathname;
    for (let round = 0; round < 5; round++) {
      const proc = spawn(process.execPath, [child, dir, String(keys.length)], {
        env: { ...process.env, TEST_PASSPHRASE: passphrase },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      await new Promise<void>((resolve, reject) => {
        proc.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
        proc.on('exit', (code) => reject(new Error(`writer exited early (${code})`)));
      });
      await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 150)));
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGKILL');
      await exited;
      const reader = new FileBackend({ dir, passphrase });
      expect(await reader.keys()).toEqual([...keys].sort());
      for (const key of keys) expect(await reader.get(key)).toMatch(/^v\d+$/);
    }
    // Temp files left by the killed writers are cleaned up by the next write.
    await backend.set(keys[0] as string, 'final');
    expect(readdirSync(dir).filter((n) => n.startsWith('%tmp-'))).toEqual([]);
  }, 60_000);
});
