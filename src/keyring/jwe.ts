import {
  createCipheriv,
  createDecipheriv,
  pbkdf2Sync,
  randomBytes,
  type BinaryLike,
} from 'node:crypto';

// The one JWE form the Go aws-vault's file store writes (99designs/keyring
// through jose2go): compact serialisation, PBES2-HS256+A128KW key wrapping,
// A256GCM content encryption. Done with node:crypto directly: a general JOSE
// library pulls in WebCrypto, which costs more start-up time than the whole
// cached `exec` path should take.

export const JWE_ALG = 'PBES2-HS256+A128KW';
export const JWE_ENC = 'A256GCM';
/** The PBKDF2 iteration count jose2go writes. */
export const JWE_P2C = 8192;
/** Refuse absurd iteration counts in a file (a denial of service), as jose does. */
const MAX_P2C = 1_000_000;
/** RFC 3394's default initial value for AES key wrap. */
const KW_IV = Buffer.from('a6a6a6a6a6a6a6a6', 'hex');

/** The token is not a JWE this store writes, or is damaged. */
export class JweFormatError extends Error {
  override name = 'JweFormatError';
}

/** The key does not open the token: the wrong passphrase. */
export class JweDecryptionError extends Error {
  override name = 'JweDecryptionError';
}

/**
 * The key opens the token (its wrapped content key checks out), but the
 * content fails its integrity check: the file is damaged or tampered with.
 */
export class JweIntegrityError extends Error {
  override name = 'JweIntegrityError';
}

/**
 * Key-encryption keys derived from one passphrase, by salt and count, so a
 * process derives each at most once (PBKDF2 is the expensive part).
 */
export class Pbes2Keys {
  readonly #passphrase: BinaryLike;
  readonly #keys = new Map<string, Promise<Buffer>>();

  constructor(passphrase: BinaryLike) {
    this.#passphrase = passphrase;
  }

  /** The 16-byte A128KW key for this salt input (`alg || 0x00 || p2s`) and count. */
  keyFor(salt: Buffer, count: number): Promise<Buffer> {
    const id = `${count}:${salt.toString('base64')}`;
    let key = this.#keys.get(id);
    if (key === undefined) {
      // Synchronous: about 2 ms for jose2go's 8192 rounds, less than starting
      // libuv's thread pool for the asynchronous form on a cached `exec`.
      key = Promise.resolve(pbkdf2Sync(this.#passphrase, salt, count, 16, 'sha256'));
      this.#keys.set(id, key);
    }
    return key;
  }
}

/** The protected header fields this store reads and writes. */
interface JweHeader {
  alg?: unknown;
  enc?: unknown;
  p2c?: unknown;
  p2s?: unknown;
  zip?: unknown;
  crit?: unknown;
  [name: string]: unknown;
}

function saltInput(p2s: Buffer): Buffer {
  return Buffer.concat([Buffer.from(JWE_ALG, 'utf8'), Buffer.from([0]), p2s]);
}

function b64(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

function unb64(part: string, what: string): Buffer {
  if (!/^[A-Za-z0-9_-]*$/.test(part)) throw new JweFormatError(`${what} is not base64url`);
  return Buffer.from(part, 'base64url');
}

/**
 * Encrypts `plaintext` as a compact JWE (PBES2-HS256+A128KW, p2c 8192, a
 * fresh 12-byte salt, A256GCM), its header in jose2go's field order, with
 * the extra header fields given (the Go store adds `created`).
 */
export async function encryptJwe(
  plaintext: Buffer,
  keys: Pbes2Keys,
  extraHeader: Record<string, string> = {},
): Promise<string> {
  const p2s = randomBytes(12);
  const header: Record<string, unknown> = {
    ...extraHeader,
    alg: JWE_ALG,
    enc: JWE_ENC,
    p2c: JWE_P2C,
    p2s: b64(p2s),
  };
  // Go marshals a map with sorted keys; so do we, byte for byte alike.
  const sorted = Object.fromEntries(
    Object.keys(header)
      .sort()
      .map((k) => [k, header[k]]),
  );
  const protectedB64 = b64(JSON.stringify(sorted));
  const kek = await keys.keyFor(saltInput(p2s), JWE_P2C);
  const cek = randomBytes(32);
  const wrapper = createCipheriv('id-aes128-wrap', kek, KW_IV);
  const wrapped = Buffer.concat([wrapper.update(cek), wrapper.final()]);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', cek, iv);
  cipher.setAAD(Buffer.from(protectedB64, 'ascii'));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const tag = cipher.getAuthTag();
  cek.fill(0);
  return [protectedB64, b64(wrapped), b64(iv), b64(ciphertext), b64(tag)].join('.');
}

/**
 * Decrypts a compact JWE of the form {@link encryptJwe} writes. Throws
 * {@link JweFormatError} for anything malformed or of another algorithm,
 * {@link JweDecryptionError} when the key does not open it, and
 * {@link JweIntegrityError} when the key opens it but its content is damaged.
 */
export async function decryptJwe(token: string, keys: Pbes2Keys): Promise<Buffer> {
  const parts = token.trim().split('.');
  if (parts.length !== 5) throw new JweFormatError('not a compact JWE (5 parts)');
  const [protectedB64, wrappedB64, ivB64, ciphertextB64, tagB64] = parts as [
    string,
    string,
    string,
    string,
    string,
  ];
  const { p2s, count, wrapped } = parseKeyParts(protectedB64, wrappedB64);
  const iv = unb64(ivB64, 'iv');
  const ciphertext = unb64(ciphertextB64, 'ciphertext');
  const tag = unb64(tagB64, 'tag');
  if (iv.length !== 12) throw new JweFormatError('bad JWE iv length');
  if (tag.length !== 16) throw new JweFormatError('bad JWE tag length');
  const cek = await unwrapContentKey(keys, p2s, count, wrapped);
  // From here the key is proven right (key wrap's 64-bit check passed), so a
  // failure is the file's: one damaged file must not read as a wrong
  // passphrase for the whole store.
  try {
    if (cek.length !== 32) throw new Error('bad content key length');
    const decipher = createDecipheriv('aes-256-gcm', cek, iv, { authTagLength: 16 });
    decipher.setAAD(Buffer.from(protectedB64, 'ascii'));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  } catch (error) {
    throw new JweIntegrityError('the content fails its integrity check', { cause: error });
  } finally {
    cek.fill(0);
  }
}

/**
 * Whether `keys` open the content key of a token whose later parts may be
 * damaged (a file cut short): true or false when its header and encrypted
 * key are intact, undefined when they are not, so nothing can be told.
 */
export async function opensContentKey(
  token: string,
  keys: Pbes2Keys,
): Promise<boolean | undefined> {
  const [protectedB64, wrappedB64] = token.trim().split('.');
  let parsed: ReturnType<typeof parseKeyParts>;
  try {
    parsed = parseKeyParts(protectedB64 ?? '', wrappedB64 ?? '');
  } catch {
    return undefined;
  }
  try {
    (await unwrapContentKey(keys, parsed.p2s, parsed.count, parsed.wrapped)).fill(0);
    return true;
  } catch (error) {
    if (error instanceof JweDecryptionError) return false;
    throw error;
  }
}

/** The protected header's salt and count, and the encrypted key; JweFormatError if malformed. */
function parseKeyParts(
  protectedB64: string,
  wrappedB64: string,
): { p2s: Buffer; count: number; wrapped: Buffer } {
  let header: JweHeader;
  try {
    header = JSON.parse(unb64(protectedB64, 'header').toString('utf8')) as JweHeader;
  } catch (error) {
    throw new JweFormatError('the JWE header is not JSON', { cause: error });
  }
  if (typeof header !== 'object' || header === null) throw new JweFormatError('bad JWE header');
  if (header.alg !== JWE_ALG || header.enc !== JWE_ENC) {
    throw new JweFormatError('unsupported JWE algorithm');
  }
  if (header.zip !== undefined || header.crit !== undefined) {
    throw new JweFormatError('unsupported JWE header parameter');
  }
  const count = header.p2c;
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > MAX_P2C) {
    throw new JweFormatError('bad JWE p2c');
  }
  if (typeof header.p2s !== 'string') throw new JweFormatError('missing JWE p2s');
  const p2s = unb64(header.p2s, 'p2s');
  if (p2s.length < 8) throw new JweFormatError('JWE p2s too short');
  const wrapped = unb64(wrappedB64, 'encrypted key');
  if (wrapped.length !== 40) throw new JweFormatError('bad JWE encrypted key length');
  return { p2s, count, wrapped };
}

/** The content key; JweDecryptionError when `keys` do not open it. */
async function unwrapContentKey(
  keys: Pbes2Keys,
  p2s: Buffer,
  count: number,
  wrapped: Buffer,
): Promise<Buffer> {
  const kek = await keys.keyFor(saltInput(p2s), count);
  try {
    const unwrapper = createDecipheriv('id-aes128-wrap', kek, KW_IV);
    return Buffer.concat([unwrapper.update(wrapped), unwrapper.final()]);
  } catch (error) {
    // AES key wrap's integrity check failed: the wrong key.
    throw new JweDecryptionError('decryption failed', { cause: error });
  }
}
