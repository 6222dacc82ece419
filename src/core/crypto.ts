import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Random string over [A-Za-z0-9]; `randomInt` rejects biased draws, so every symbol is equally likely. */
export function randomId(length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += ALNUM[randomInt(ALNUM.length)];
  return out;
}

/** Unbiased one-time code of `length` decimal digits (rejection sampling inside `randomInt`). */
export function randomDigits(length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += String(randomInt(10));
  return out;
}

/** 256-bit client secret, base64url (43 chars), as Auth0's secrets look. */
export const randomSecret = (): string => randomBytes(32).toString('base64url');

/**
 * Keys derived from SESAME_SECRET, one per purpose (HKDF, RFC 5869), so a leak of one use does not
 * weaken another.
 */
export class Keyring {
  readonly #hmacKey: Buffer;
  readonly #encKey: Buffer;

  constructor(secret: string) {
    this.#hmacKey = Buffer.from(hkdfSync('sha256', secret, 'sesame', 'hmac-v1', 32));
    this.#encKey = Buffer.from(hkdfSync('sha256', secret, 'sesame', 'aes-256-gcm-v1', 32));
  }

  /** Keyed hash for OTPs and client secrets: hex HMAC-SHA256 over a purpose-tagged message. */
  hash(purpose: string, value: string): string {
    return createHmac('sha256', this.#hmacKey).update(purpose).update('\0').update(value).digest('hex');
  }

  /** Constant-time comparison of `value` against a stored keyed hash. */
  verify(purpose: string, value: string, storedHash: string): boolean {
    const a = Buffer.from(this.hash(purpose, value), 'hex');
    const b = Buffer.from(storedHash, 'hex');
    return a.length === b.length && timingSafeEqual(a, b);
  }

  /** AES-256-GCM for data at rest (signing keys): `v1.<iv>.<tag>.<ciphertext>` in base64url. */
  encrypt(plain: string): string {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.#encKey, iv);
    const ct = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
    return ['v1', iv.toString('base64url'), c.getAuthTag().toString('base64url'), ct.toString('base64url')].join('.');
  }

  decrypt(sealed: string): string {
    const [v, iv, tag, ct] = sealed.split('.');
    if (v !== 'v1' || !iv || !tag || ct === undefined) throw new Error('unknown ciphertext format');
    const d = createDecipheriv('aes-256-gcm', this.#encKey, Buffer.from(iv, 'base64url'));
    d.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([d.update(Buffer.from(ct, 'base64url')), d.final()]).toString('utf8');
  }
}

/** Constant-time string equality for values that are not hashed (e.g. CSRF tokens). */
export function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}
