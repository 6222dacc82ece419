import { createRequire } from 'node:module';

/**
 * libphonenumber-js with its full metadata costs the process ~10 MB: loaded on the first phone
 * number, so a tenant that only signs in by email never pays for it (the benchmark's RSS budget).
 */
type PhoneLib = typeof import('libphonenumber-js/max');
type CountryCode = import('libphonenumber-js/max').CountryCode;
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

/** ISO 3166-1 alpha-2 regions with a calling code: the hosted page's country list. */
export const phoneCountries = (): readonly string[] => phoneLib().getCountries();
export const isPhoneCountry = (country: string): boolean => /^[A-Z]{2}$/.test(country) && phoneLib().isSupportedCountry(country);
export const callingCode = (country: string): string => phoneLib().getCountryCallingCode(country as CountryCode);

/**
 * A number as the hosted page's phone step takes it (issue 11): international (`+…`, checked as
 * /passwordless/start checks it, the country ignored), or national as people dial it at home
 * ("06 12 34 56 78", "0033 6…") with the country chosen beside it. A national number must be valid
 * there, not merely of a possible length: the person named the country, so a number that cannot
 * exist in it is a typo or the wrong country, better said on the page than texted.
 */
export function normalizeTypedPhone(input: string, country: string | undefined): PhoneResult {
  const stripped = input.replace(SEPARATORS, '');
  if (stripped.startsWith('+') || !country) return normalizePhone(stripped);
  if (!/^[0-9]{2,17}$/.test(stripped) || !isPhoneCountry(country)) return { ok: false, description: PHONE_PATTERN_ERROR };
  const parsed = phoneLib().parsePhoneNumberFromString(stripped, country as CountryCode);
  if (!parsed?.isValid()) return { ok: false, description: PHONE_INVALID_ERROR };
  return normalizePhone(parsed.number);
}

/** `+33 6 12 34 56 78` from `+33612345678`: how the page shows a number before sending to it. */
export const formatInternational = (e164: string): string => phoneLib().parsePhoneNumberFromString(e164)?.formatInternational() ?? e164;

/** A phone number for logs: every digit but the last four replaced (issue 5 §4, `limit_phone`). */
export function maskPhone(e164: string): string {
  const digits = e164.replace(/^\+/, '');
  const keep = digits.slice(-4);
  return `+${'*'.repeat(Math.max(0, digits.length - keep.length))}${keep}`;
}
