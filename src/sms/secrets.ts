/**
 * An SMS connection's provider secrets at rest (issue 5 §1): `twilio_token` and
 * `gateway_authentication.secret` are stored encrypted with the keyring (AES-256-GCM, src/core/crypto.ts),
 * under a different key, so a stored value is never mistaken for a plain one:
 *
 *   { twilio_token: "abc" }                       ⇄  { twilio_token_enc: "v1.…" }
 *   { gateway_authentication: { secret: "abc" } } ⇄  { gateway_authentication: { secret_enc: "v1.…" } }
 *
 * The Management API returns options as Auth0 does, secrets included, so reads open them again.
 * Both functions are idempotent and total: options without these fields (or with non-string values,
 * such as Auth0's `null`) pass through unchanged, and the input object is never modified.
 */

/** The part of src/core/crypto.ts Keyring used here. */
export interface SecretBox {
  encrypt(plain: string): string;
  decrypt(sealed: string): string;
}

export const TWILIO_TOKEN_SEALED = 'twilio_token_enc';
export const GATEWAY_SECRET_SEALED = 'secret_enc';

type Options = Record<string, unknown>;

const isObject = (v: unknown): v is Options => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Replaces `plainKey` (a string) by its ciphertext under `sealedKey`; a plain value wins over an older sealed one. */
function sealField(keyring: SecretBox, obj: Options, plainKey: string, sealedKey: string): Options {
  const plain = obj[plainKey];
  if (typeof plain !== 'string') return obj;
  const { [plainKey]: _plain, [sealedKey]: _old, ...rest } = obj;
  return { ...rest, [sealedKey]: keyring.encrypt(plain) };
}

/**
 * Restores `plainKey` from `sealedKey`. A value that cannot be decrypted (SESAME_SECRET changed, or an
 * administrator wrote a `*_enc` key by hand) stays sealed: the read does not fail, and sending
 * then reports the secret as missing.
 */
function openField(keyring: SecretBox, obj: Options, plainKey: string, sealedKey: string): Options {
  const sealed = obj[sealedKey];
  if (typeof sealed !== 'string') return obj;
  const { [sealedKey]: _sealed, ...rest } = obj;
  if (typeof obj[plainKey] === 'string') return rest;
  let plain: string;
  try {
    plain = keyring.decrypt(sealed);
  } catch {
    return obj;
  }
  return { ...rest, [plainKey]: plain };
}

/** The options as they are stored: secrets encrypted. */
export function sealSmsSecrets(keyring: SecretBox, options: Options): Options {
  const out = sealField(keyring, options, 'twilio_token', TWILIO_TOKEN_SEALED);
  const auth = out.gateway_authentication;
  if (!isObject(auth)) return out;
  const sealedAuth = sealField(keyring, auth, 'secret', GATEWAY_SECRET_SEALED);
  return sealedAuth === auth ? out : { ...out, gateway_authentication: sealedAuth };
}

/** The options in Auth0's shape: secrets in the clear, as the Management API returns them and the providers need them. */
export function openSmsSecrets(keyring: SecretBox, options: Options): Options {
  const out = openField(keyring, options, 'twilio_token', TWILIO_TOKEN_SEALED);
  const auth = out.gateway_authentication;
  if (!isObject(auth)) return out;
  const openedAuth = openField(keyring, auth, 'secret', GATEWAY_SECRET_SEALED);
  return openedAuth === auth ? out : { ...out, gateway_authentication: openedAuth };
}

/**
 * The options as the Management API shows them: provider secrets left out, plain or sealed, so
 * `read:connections` does not hand out the means to send texts on the tenant's bill (issue 11,
 * "Secrets"). They are write-only, like a client's secret and the SMTP password.
 */
export function hideSmsSecrets(options: Options): Options {
  const { twilio_token: _t, [TWILIO_TOKEN_SEALED]: _s, ...out } = options;
  const auth = out.gateway_authentication;
  if (!isObject(auth)) return out;
  const { secret: _a, [GATEWAY_SECRET_SEALED]: _b, ...rest } = auth;
  return { ...out, gateway_authentication: rest };
}

/**
 * A PATCH replaces `options` whole (spec §4), yet a GET never shows the secrets: sealed secrets the
 * new options leave out are carried over from the stored ones, so echoing a GET keeps them. The
 * gateway secret is carried only while `gateway_authentication` stays an object.
 */
export function keepSmsSecrets(next: Options, stored: Options): Options {
  let out = next;
  if (out.twilio_token === undefined && out[TWILIO_TOKEN_SEALED] === undefined && typeof stored[TWILIO_TOKEN_SEALED] === 'string') {
    out = { ...out, [TWILIO_TOKEN_SEALED]: stored[TWILIO_TOKEN_SEALED] };
  }
  const auth = out.gateway_authentication;
  const storedAuth = stored.gateway_authentication;
  if (isObject(auth) && isObject(storedAuth) && auth.secret === undefined && auth[GATEWAY_SECRET_SEALED] === undefined && typeof storedAuth[GATEWAY_SECRET_SEALED] === 'string') {
    out = { ...out, gateway_authentication: { ...auth, [GATEWAY_SECRET_SEALED]: storedAuth[GATEWAY_SECRET_SEALED] } };
  }
  return out;
}
