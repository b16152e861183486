import { CompactEncrypt, compactDecrypt, decodeProtectedHeader } from 'jose';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  decryptJwe,
  encryptJwe,
  JweDecryptionError,
  JweFormatError,
  JweIntegrityError,
  Pbes2Keys,
} from '../../../src/keyring/jwe.ts';

const PASS = 'correct horse battery staple';
const enc = new TextEncoder();

/** A token as jose (an independent JOSE implementation) writes it. */
async function joseToken(plaintext: string, passphrase: string, p2c = 8192): Promise<string> {
  return new CompactEncrypt(enc.encode(plaintext))
    .setProtectedHeader({ alg: 'PBES2-HS256+A128KW', enc: 'A256GCM', created: 'x' })
    .setKeyManagementParameters({ p2c, p2s: randomBytes(12) })
    .encrypt(enc.encode(passphrase));
}

function withHeader(token: string, change: (h: Record<string, unknown>) => void): string {
  const parts = token.split('.');
  const header = JSON.parse(Buffer.from(parts[0] as string, 'base64url').toString()) as Record<
    string,
    unknown
  >;
  change(header);
  parts[0] = Buffer.from(JSON.stringify(header)).toString('base64url');
  return parts.join('.');
}

describe('JWE of the file store (node:crypto, no WebCrypto)', () => {
  it('writes tokens jose decrypts, with the header fields sorted as Go writes them', async () => {
    const token = await encryptJwe(Buffer.from('{"Key":"k"}'), new Pbes2Keys(PASS), {
      created: '2026-01-01 00:00:00.000000000 +0000 UTC',
    });
    const header = JSON.parse(
      Buffer.from(token.split('.')[0] as string, 'base64url').toString(),
    ) as Record<string, unknown>;
    expect(Object.keys(header)).toEqual(['alg', 'created', 'enc', 'p2c', 'p2s']);
    expect(decodeProtectedHeader(token)).toMatchObject({
      alg: 'PBES2-HS256+A128KW',
      enc: 'A256GCM',
      p2c: 8192,
    });
    expect(Buffer.from(header.p2s as string, 'base64url')).toHaveLength(12);
    const { plaintext } = await compactDecrypt(token, enc.encode(PASS), {
      keyManagementAlgorithms: ['PBES2-HS256+A128KW'],
      contentEncryptionAlgorithms: ['A256GCM'],
    });
    expect(new TextDecoder().decode(plaintext)).toBe('{"Key":"k"}');
  });

  it('reads tokens jose wrote, whatever their iteration count', async () => {
    const keys = new Pbes2Keys(PASS);
    expect((await decryptJwe(await joseToken('hello ü', PASS), keys)).toString()).toBe('hello ü');
    expect((await decryptJwe(await joseToken('low', PASS, 1000), keys)).toString()).toBe('low');
  });

  it('a wrong passphrase is a decryption error; a damaged token opened by the right one is not', async () => {
    const token = await joseToken('secret', PASS);
    await expect(decryptJwe(token, new Pbes2Keys('wrong'))).rejects.toBeInstanceOf(
      JweDecryptionError,
    );
    const flip = (part: number) => {
      const parts = token.split('.');
      const bytes = Buffer.from(parts[part] as string, 'base64url');
      bytes[0] = (bytes[0] as number) ^ 1;
      parts[part] = bytes.toString('base64url');
      return parts.join('.');
    };
    // The key checks out, the content does not: the file, not the passphrase.
    for (const damaged of [flip(3), flip(4), flip(2)]) {
      await expect(decryptJwe(damaged, new Pbes2Keys(PASS))).rejects.toBeInstanceOf(
        JweIntegrityError,
      );
    }
    // The header is authenticated too.
    const relabelled = withHeader(token, (h) => (h.created = 'y'));
    await expect(decryptJwe(relabelled, new Pbes2Keys(PASS))).rejects.toBeInstanceOf(
      JweIntegrityError,
    );
    // A damaged wrapped key fails key wrap's own check, like a wrong passphrase.
    await expect(decryptJwe(flip(1), new Pbes2Keys(PASS))).rejects.toBeInstanceOf(
      JweDecryptionError,
    );
  });

  it('refuses other algorithms, absurd iteration counts and malformed tokens', async () => {
    const keys = new Pbes2Keys(PASS);
    const token = await joseToken('x', PASS);
    for (const bad of [
      'not a jwe',
      'a.b.c.d',
      withHeader(token, (h) => (h.alg = 'dir')),
      withHeader(token, (h) => (h.enc = 'A128GCM')),
      withHeader(token, (h) => (h.p2c = 10_000_000)),
      withHeader(token, (h) => (h.p2c = 0)),
      withHeader(token, (h) => (h.zip = 'DEF')),
      withHeader(token, (h) => delete h.p2s),
      `${token.split('.')[0]}.%%%.a.b.c`,
    ]) {
      await expect(decryptJwe(bad, keys), bad).rejects.toBeInstanceOf(JweFormatError);
    }
  });

  it('derives each key once per salt and count', async () => {
    const keys = new Pbes2Keys(PASS);
    const salt = randomBytes(20);
    const first = keys.keyFor(salt, 1000);
    expect(keys.keyFor(Buffer.from(salt), 1000)).toBe(first);
    expect(keys.keyFor(salt, 1001)).not.toBe(first);
    expect(await first).toHaveLength(16);
  });
});
