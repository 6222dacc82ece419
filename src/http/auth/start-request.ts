import { normalizePhone } from '../../core/phone.ts';
import { badRequest } from '../../errors/oauth-error.ts';

/** A validated `/passwordless/start` body (spec §1.1). */
export interface StartRequest {
  client_id: string;
  connection: string;
  email: string | undefined;
  /** Normalised to E.164 with its region (issue 5 §2). */
  phone: { e164: string; country: string | undefined } | undefined;
  /** Undefined when omitted or null: the connection's channel picks the default. */
  send: 'code' | 'link' | 'link_ios' | 'link_android' | undefined;
  authParams: Record<string, unknown>;
  credentials: { client_secret?: unknown; client_assertion?: unknown; client_assertion_type?: unknown };
}

// WHATWG HTML's valid-email-address production: what browsers accept in <input type=email>.
const EMAIL = /^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;
const SENDS = ['code', 'link', 'link_ios', 'link_android'];

const typeName = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

/** Checks the body in Auth0's order and with its byte-exact error codes and texts (spec §1.4). */
export function parseStartRequest(body: unknown): StartRequest {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw badRequest('bad.request', 'The request body must be a JSON object.');
  const b = body as Record<string, unknown>;
  if (b.client_id === undefined || b.client_id === '') throw badRequest('bad.client_id', 'Missing required property: client_id');
  if (typeof b.client_id !== 'string') throw badRequest('bad.client_id', `error in client_id - invalid type: ${typeName(b.client_id)} (expected string)`);
  if (b.connection === undefined || b.connection === '') throw badRequest('bad.connection', 'Missing required property: connection');
  if (typeof b.connection !== 'string') throw badRequest('bad.connection', `error in connection - invalid type: ${typeName(b.connection)} (expected string)`);
  if (b.authParams !== undefined && (typeof b.authParams !== 'object' || b.authParams === null || Array.isArray(b.authParams))) {
    throw badRequest('bad.authParams', `error in authParams - invalid type: ${typeName(b.authParams)} (expected object)`);
  }
  // `send` null or omitted takes the channel's default (API-PL: link for email; SMS knows only code).
  const send = b.send ?? undefined;
  if (send !== undefined && (typeof send !== 'string' || !SENDS.includes(send))) {
    throw badRequest('bad.send', `error in send - must be one of ${SENDS.join(', ')}`);
  }
  let email: string | undefined;
  if (b.email !== undefined) {
    if (typeof b.email !== 'string') throw badRequest('bad.email', `error in email - invalid type: ${typeName(b.email)} (expected string)`);
    email = b.email.trim();
    if (email.length > 254 || !EMAIL.test(email)) throw badRequest('bad.email', `error in email - email format validation failed: ${email.slice(0, 254)}`);
  }
  let phone: StartRequest['phone'];
  if (b.phone_number !== undefined) {
    // Issue 5 §2: strings only; separators stripped, then Auth0's pattern, then a possible number.
    if (typeof b.phone_number !== 'string') {
      throw badRequest('bad.phone_number', `error in phone_number - invalid type: ${typeName(b.phone_number)} (expected string)`);
    }
    const parsed = normalizePhone(b.phone_number.slice(0, 64));
    if (!parsed.ok) throw badRequest('bad.phone_number', parsed.description);
    phone = { e164: parsed.e164, country: parsed.country };
  }
  return {
    client_id: b.client_id,
    connection: b.connection,
    email,
    phone,
    send: send as StartRequest['send'],
    authParams: (b.authParams as Record<string, unknown> | undefined) ?? {},
    credentials: { client_secret: b.client_secret, client_assertion: b.client_assertion, client_assertion_type: b.client_assertion_type },
  };
}

/** X-Request-Language wins over Accept-Language (PL-EMAIL); the first tag of the latter is used. */
export function requestLanguage(xRequestLanguage: unknown, acceptLanguage: unknown): string | undefined {
  const pick = (v: unknown) => (typeof v === 'string' ? v.split(',')[0]?.split(';')[0]?.trim() : undefined);
  const lang = pick(xRequestLanguage) || pick(acceptLanguage);
  return lang && /^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$/.test(lang) ? lang : undefined;
}
