// RFC 6238 TOTP (HMAC-SHA1, 30-second steps, 6 digits): what virtual MFA
// devices such as Google Authenticator or `oathtool --totp -b SECRET` produce.
import { createHmac, randomBytes } from 'node:crypto';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** A random base32 secret, like the seed IAM shows when you add a virtual MFA device. */
export function newTotpSecret(): string {
  const bytes = randomBytes(20);
  let bits = '';
  for (const b of bytes) bits += b.toString(2).padStart(8, '0');
  let out = '';
  for (let i = 0; i + 5 <= bits.length; i += 5) out += BASE32[parseInt(bits.slice(i, i + 5), 2)];
  return out;
}

function base32Decode(secret: string): Buffer {
  const clean = secret.replace(/=+$/, '').replace(/\s+/g, '').toUpperCase();
  let bits = '';
  for (const c of clean) {
    const v = BASE32.indexOf(c);
    if (v < 0) throw new Error('invalid base32 character in TOTP secret');
    bits += v.toString(2).padStart(5, '0');
  }
  const bytes: number[] = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(bytes);
}

/** The 30-second time step that contains `timeMs`. */
export function totpStep(timeMs: number): number {
  return Math.floor(timeMs / 1000 / 30);
}

/** The 6-digit code for one time step (RFC 4226 HOTP with the step as counter). */
export function totpCodeForStep(secret: string, step: number): string {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac('sha1', base32Decode(secret)).update(counter).digest();
  const offset = mac[mac.length - 1]! & 0x0f;
  const value = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(value % 1_000_000).padStart(6, '0');
}

/** The code a device shows at `timeMs`. */
export function totpCode(secret: string, timeMs: number): string {
  return totpCodeForStep(secret, totpStep(timeMs));
}

/**
 * The time step a code belongs to, accepting one step of drift either way
 * (as AWS does), or undefined when the code is wrong.
 */
export function matchTotp(secret: string, code: string, timeMs: number): number | undefined {
  const step = totpStep(timeMs);
  for (const s of [step, step - 1, step + 1]) {
    if (totpCodeForStep(secret, s) === code) return s;
  }
  return undefined;
}
