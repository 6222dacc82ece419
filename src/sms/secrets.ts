/**
 * An SMS connection's provider secrets at rest (issue 5 §1): `twilio_token` and
 * `gateway_authentication.secret` are stored sealed with the keyring (AES-256-GCM, src/core/keyring.ts),
 * bound to the connection (`sms:twilio:<connection id>`, `sms:gateway:<connection id>`, issue 10 §3),
 * under a different key, so a stored value is never mistaken for a plain one:
 *
 *   { twilio_token: "abc" }                       ⇄  { twilio_token_enc: "v1.…" }
 *   { gateway_authentication: { secret: "abc" } } ⇄  { gateway_authentication: { secret_enc: "v1.…" } }
 *
 * The Management API returns options as Auth0 does, secrets included, so reads open them again.
 * Both functions are idempotent and total: options without these fields (or with non-string values,
 * such as Auth0's `null`) pass through unchanged, and the input object is never modified.
 */

/** The part of src/core/keyring.ts Keyring used here. */
export interface SecretBox {
  seal(context: string, plain: string): string;
  open(context: string, sealed: string): string;
}

export const TWILIO_TOKEN_SEALED = 'twilio_token_enc';
export const GATEWAY_SECRET_SEALED = 'secret_enc';

type Options = Record<string, unknown>;

const isObject = (v: unknown): v is Options => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Replaces `plainKey` (a string) by its ciphertext under `sealedKey`; a plain value wins over an older sealed one. */
function sealField(keyring: SecretBox, context: string, obj: Options, plainKey: string, sealedKey: string): Options {
  const plain = obj[plainKey];
  if (typeof plain !== 'string') return obj;
  const { [plainKey]: _plain, [sealedKey]: _old, ...rest } = obj;
  return { ...rest, [sealedKey]: keyring.seal(context, plain) };
}

/**
 * Restores `plainKey` from `sealedKey`. A value that cannot be opened (SESAME_SECRET changed without
 * SESAME_SECRET_PREVIOUS, or a ciphertext copied from another row or purpose) is left out: the read
 * does not fail, no ciphertext is shown, and sending then reports the secret as missing.
 */
function openField(keyring: SecretBox, context: string, obj: Options, plainKey: string, sealedKey: string): Options {
  const sealed = obj[sealedKey];
  if (typeof sealed !== 'string') return obj;
  const { [sealedKey]: _sealed, ...rest } = obj;
  if (typeof obj[plainKey] === 'string') return rest;
  try {
    return { ...rest, [plainKey]: keyring.open(context, sealed) };
  } catch {
    return rest;
  }
}

const twilioContext = (connectionId: string) => `sms:twilio:${connectionId}`;
const gatewayContext = (connectionId: string) => `sms:gateway:${connectionId}`;

/** The options as they are stored: secrets encrypted. */
export function sealSmsSecrets(keyring: SecretBox, options: Options, connectionId: string): Options {
  const out = sealField(keyring, twilioContext(connectionId), options, 'twilio_token', TWILIO_TOKEN_SEALED);
  const auth = out.gateway_authentication;
  if (!isObject(auth)) return out;
  const sealedAuth = sealField(keyring, gatewayContext(connectionId), auth, 'secret', GATEWAY_SECRET_SEALED);
  return sealedAuth === auth ? out : { ...out, gateway_authentication: sealedAuth };
}

/** The options in Auth0's shape: secrets in the clear, as the Management API returns them and the providers need them. */
export function openSmsSecrets(keyring: SecretBox, options: Options, connectionId: string): Options {
  const out = openField(keyring, twilioContext(connectionId), options, 'twilio_token', TWILIO_TOKEN_SEALED);
  const auth = out.gateway_authentication;
  if (!isObject(auth)) return out;
  const openedAuth = openField(keyring, gatewayContext(connectionId), auth, 'secret', GATEWAY_SECRET_SEALED);
  return openedAuth === auth ? out : { ...out, gateway_authentication: openedAuth };
}

/**
 * The first storage-only key (`*_enc`) anywhere in API input, as a dotted path (issue 10 §3): sealed
 * values are written by Sesame alone. Accepting one would store a ciphertext that a later read opens,
 * e.g. a signing key's `private_jwk_enc` copied from a backup into `twilio_token_enc`.
 */
export function storageOnlyField(value: unknown, path = ''): string | undefined {
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) {
      const found = storageOnlyField(v, `${path}[${i}]`);
      if (found) return found;
    }
    return undefined;
  }
  if (!isObject(value)) return undefined;
  for (const [k, v] of Object.entries(value)) {
    const here = path ? `${path}.${k}` : k;
    if (k.endsWith('_enc')) return here;
    const found = storageOnlyField(v, here);
    if (found) return found;
  }
  return undefined;
}

/** A sealed value moved to the current secret, or why it could not be. */
export type Reseal = { value: string; changed: boolean } | { error: string };

/**
 * `sesame secrets reseal`: the options with every sealed secret opened (with whichever configured
 * secret sealed it) and sealed again under the current one. A value that does not open is kept as
 * it is and reported, never dropped.
 */
export function resealSmsSecrets(reseal: (context: string, sealed: string) => Reseal, options: Options, connectionId: string): { options: Options; changed: number; errors: string[] } {
  let changed = 0;
  const errors: string[] = [];
  const redo = (obj: Options, key: string, context: string): Options => {
    const sealed = obj[key];
    if (typeof sealed !== 'string') return obj;
    const r = reseal(context, sealed);
    if ('error' in r) {
      errors.push(`${key}: ${r.error}`);
      return obj;
    }
    if (r.changed) changed++;
    return { ...obj, [key]: r.value };
  };
  let out = redo(options, TWILIO_TOKEN_SEALED, twilioContext(connectionId));
  if (isObject(out.gateway_authentication)) out = { ...out, gateway_authentication: redo(out.gateway_authentication, GATEWAY_SECRET_SEALED, gatewayContext(connectionId)) };
  return { options: out, changed, errors };
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
