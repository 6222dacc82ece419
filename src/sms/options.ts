import { type TemplateEngine } from '../mail/templates.ts';
import { SmsTemplateError, validateSmsTemplate } from './template.ts';

/**
 * The SMS-specific options of a `sms` connection (spec §4, issue 5 §1). `totp`, `disable_signup`,
 * `brute_force_protection` and `fraud_guards` are checked by the connections route. Unknown keys are
 * kept, as Auth0 keeps them. Options are validated in their plain form, before sealSmsSecrets.
 */

export const SMS_PROVIDERS = ['twilio', 'sms_gateway'] as const;
export type SmsProvider = (typeof SMS_PROVIDERS)[number];

/** `provider` absent (or null) means Twilio, as on Auth0, whose older connections have no `provider`. */
export function providerOf(options: Record<string, unknown>): string {
  const p = options.provider;
  return p === undefined || p === null ? 'twilio' : String(p);
}

/** `forward_req_info` is a boolean or, as Auth0's own example sends it, the string "true"/"false". */
export const forwardsRequestInfo = (v: unknown): boolean => v === true || v === 'true';

const MAX_FIELD = 1024;
const MAX_URL = 2048;
// Twilio SIDs are two letters and 32 hex digits; anything alphanumeric is accepted (test doubles,
// future formats), nothing that could change the request path.
const SID = /^[A-Za-z0-9]{1,64}$/;
const BASE64 = /^(?:[A-Za-z0-9+/]+={0,2}|[A-Za-z0-9_-]+)$/;

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const absent = (v: unknown) => v === undefined || v === null;
const nonEmpty = (v: unknown): v is string => typeof v === 'string' && v.trim() !== '' && v.length <= MAX_FIELD;

/** A clear message for a 400 `invalid_body`, or undefined when the options are usable. */
export function validateSmsOptions(options: unknown, engine?: TemplateEngine): string | undefined {
  if (!isObject(options)) return 'options must be an object';
  const provider = providerOf(options);
  if (!(SMS_PROVIDERS as readonly string[]).includes(provider)) return `options.provider must be one of ${SMS_PROVIDERS.join(', ')}`;

  // `from` is Twilio's From and the gateway's `sender`: a number, short code or alphanumeric sender id.
  if (!absent(options.from) && !nonEmpty(options.from)) return `options.from must be a non-empty string of at most ${MAX_FIELD} characters or null`;

  const error = provider === 'twilio' ? twilioError(options) : gatewayError(options);
  if (error) return error;

  try {
    validateSmsTemplate(options, engine);
  } catch (err) {
    if (err instanceof SmsTemplateError) return `options.${err.message}`;
    throw err;
  }
  return undefined;
}

/**
 * A connection without a provider of its own (no `twilio_sid`, no gateway) sends through the tenant's
 * phone provider (`/api/v2/branding/phone/providers`, issue 14; sms/tenant-phone.ts).
 */
export function hasOwnProvider(options: Record<string, unknown>): boolean {
  return providerOf(options) !== 'twilio' || !absent(options.twilio_sid);
}

function twilioError(o: Record<string, unknown>): string | undefined {
  // Only a `from` (the sender to use with the tenant's provider) may come without an account.
  if (absent(o.twilio_sid) && absent(o.twilio_token) && absent(o.messaging_service_sid)) return undefined;
  if (typeof o.twilio_sid !== 'string' || !SID.test(o.twilio_sid)) return 'options.twilio_sid is required with provider twilio: the Account SID (letters and digits)';
  // The token may be left out: a tenant export without secrets (issue 4 §3) is imported first and the
  // token set afterwards. Until then a send answers `Twilio is not configured` (twilio.ts).
  if (!absent(o.twilio_token) && !nonEmpty(o.twilio_token)) return `options.twilio_token must be a non-empty string of at most ${MAX_FIELD} characters (the Auth Token)`;
  const mss = o.messaging_service_sid;
  if (!absent(mss) && (typeof mss !== 'string' || !SID.test(mss))) return 'options.messaging_service_sid must be a Messaging Service SID (letters and digits) or null';
  // Twilio needs exactly one sender; messaging_service_sid wins when both are set (issue 5 §1).
  if (absent(mss) && absent(o.from)) return 'options.from or options.messaging_service_sid is required with provider twilio';
  return undefined;
}

function gatewayError(o: Record<string, unknown>): string | undefined {
  const url = o.gateway_url;
  if (typeof url !== 'string' || !isHttpUrl(url)) return 'options.gateway_url is required with provider sms_gateway: an http(s) URL without credentials';
  const fwd = o.forward_req_info;
  if (!absent(fwd) && typeof fwd !== 'boolean' && fwd !== 'true' && fwd !== 'false') return 'options.forward_req_info must be true, false, "true" or "false"';
  const auth = o.gateway_authentication;
  if (absent(auth)) return undefined;
  if (!isObject(auth)) return 'options.gateway_authentication must be an object or null';
  if (auth.method !== 'bearer') return 'options.gateway_authentication.method must be "bearer"';
  for (const k of ['subject', 'audience', 'secret'] as const) {
    // The secret may be left out for the same reason as twilio_token; a send then fails clearly.
    if (k === 'secret' && absent(auth.secret)) continue;
    if (!nonEmpty(auth[k])) return `options.gateway_authentication.${k} must be a non-empty string of at most ${MAX_FIELD} characters`;
  }
  const b64 = auth.secret_base64_encoded;
  if (!absent(b64) && typeof b64 !== 'boolean') return 'options.gateway_authentication.secret_base64_encoded must be a boolean';
  if (b64 === true && typeof auth.secret === 'string' && !isBase64(auth.secret)) return 'options.gateway_authentication.secret is not valid base64 (secret_base64_encoded is true)';
  return undefined;
}

/**
 * Any http(s) URL: loopback and private hosts included, since Sesame is self-hosted (issue 5 §1).
 * No user:password part: fetch refuses such URLs, and the gateway authenticates with the bearer JWT.
 */
function isHttpUrl(s: string): boolean {
  if (s.length > MAX_URL) return false;
  try {
    const u = new URL(s);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '' && !u.username && !u.password;
  } catch {
    return false;
  }
}

/** Standard or URL-safe base64 that decodes to at least one byte (Buffer would silently skip junk). */
export function isBase64(s: string): boolean {
  return BASE64.test(s) && s.replace(/=+$/, '').length % 4 !== 1 && Buffer.from(s, 'base64').length > 0;
}
