import { randomBytes, randomInt, timingSafeEqual } from 'node:crypto';

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

export { Keyring, SealError } from './keyring.ts';

/** Constant-time string equality for values that are not hashed (e.g. CSRF tokens). */
export function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}
