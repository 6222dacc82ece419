import { createRequire } from 'node:module';

/**
 * libphonenumber-js with its full metadata costs the process ~10 MB: loaded on the first phone
 * number, so a tenant that only signs in by email never pays for it (the benchmark's RSS budget).
 */
type PhoneLib = typeof import('libphonenumber-js/max');
let lib: PhoneLib | undefined;
const phoneLib = (): PhoneLib => (lib ??= createRequire(import.meta.url)('libphonenumber-js/max') as PhoneLib);

/** Auth0's shape check on `phone_number` (spec §1.4, ERR-START), applied after separators are stripped. */
export const PHONE_PATTERN = /^\+[0-9]{1,15}$/;
export const PHONE_PATTERN_ERROR = 'String does not match pattern: ^\\+[0-9]{1,15}$';
export const PHONE_INVALID_ERROR = 'Invalid phone number';

export type PhoneResult =
  | { ok: true; e164: string; country: string | undefined }
  | { ok: false; description: string };

/** What people type between digits; stripped before any check (issue 5 §2). */
const SEPARATORS = /[\s\-.()]/g;

/**
 * A phone number as Sesame stores and sends it: E.164, possible for its country (libphonenumber's
 * full metadata, which also tells the region behind a shared calling code such as +1 or +44).
 * `country` is the ISO 3166-1 alpha-2 region, undefined for non-geographic numbers (+800, +882…),
 * which no `allowed_countries` list admits.
 */
export function normalizePhone(input: string): PhoneResult {
  const stripped = input.replace(SEPARATORS, '');
  if (!PHONE_PATTERN.test(stripped)) return { ok: false, description: PHONE_PATTERN_ERROR };
  const parsed = phoneLib().parsePhoneNumberFromString(stripped);
  if (!parsed || !parsed.isPossible()) return { ok: false, description: PHONE_INVALID_ERROR };
  return { ok: true, e164: parsed.number, country: parsed.country };
}

/** A phone number for logs: every digit but the last four replaced (issue 5 §4, `limit_phone`). */
export function maskPhone(e164: string): string {
  const digits = e164.replace(/^\+/, '');
  const keep = digits.slice(-4);
  return `+${'*'.repeat(Math.max(0, digits.length - keep.length))}${keep}`;
}
