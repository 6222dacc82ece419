import { createHash, timingSafeEqual } from 'node:crypto';

/** RFC 7636 §4.1: 43–128 characters of the unreserved set `[A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~"`. */
export const CODE_VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;

/**
 * RFC 7636 §4.6, method S256 (the only one Sesame accepts at /authorize): the challenge must be
 * BASE64URL(SHA256(ASCII(code_verifier))). Compared in constant time.
 */
export function verifyS256(verifier: string, challenge: string): boolean {
  const computed = Buffer.from(createHash('sha256').update(verifier, 'ascii').digest('base64url'));
  const expected = Buffer.from(challenge);
  return computed.length === expected.length && timingSafeEqual(computed, expected);
}
