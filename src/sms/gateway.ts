import { SignJWT } from 'jose';
import { type SmsMessage, type SmsReceipt, type SmsRequestInfo, SmsProviderError } from './types.ts';
import { TransportError, postWithRetry } from './http.ts';
import { forwardsRequestInfo } from './options.ts';

/** Lifetime of the bearer JWT: one request, plus a retry and clock skew. */
export const GATEWAY_JWT_TTL_S = 60;

/** The gateway fields of an sms connection's options (spec §4), secrets opened. */
export interface GatewayOptions {
  gateway_url?: unknown;
  from?: unknown;
  forward_req_info?: unknown;
  gateway_authentication?: unknown;
}

interface GatewayAuth {
  method?: unknown;
  subject?: unknown;
  audience?: unknown;
  secret?: unknown;
  secret_base64_encoded?: unknown;
}

const fail = (description: string) => new SmsProviderError('sms_provider_error', description);

/**
 * Sends one SMS through a custom gateway (Auth0's PL-GW contract): POST `gateway_url` with JSON
 * `{recipient, body, sender}`, plus `req {ip, "user-agent"}` when `forward_req_info` is on, and
 * `Authorization: Bearer <HS256 JWT {sub, aud, iat, exp}>` when `gateway_authentication` is set.
 * Only the status counts. Auth0 documents 200 as success; any 2xx is accepted here, since a
 * gateway answering 201 or 202 ("queued") has taken the message. Error texts are Auth0's, byte for
 * byte (spec §1.4): connection errors reuse the "Unexpected response" pattern with the errno code.
 * `timeoutMs` is per attempt (SESAME_SMS_GATEWAY_TIMEOUT_MS: Auth0's 30 s, spec §4, by default).
 */
export async function sendGateway(options: GatewayOptions, message: SmsMessage, req: SmsRequestInfo, nowMs: number, timeoutMs: number): Promise<SmsReceipt> {
  const url = typeof options.gateway_url === 'string' ? options.gateway_url : undefined;
  if (!url) throw fail('The SMS gateway is not configured: gateway_url is required');

  const payload: Record<string, unknown> = { recipient: message.to, body: message.body };
  if (typeof options.from === 'string' && options.from !== '') payload.sender = options.from;
  if (forwardsRequestInfo(options.forward_req_info)) payload.req = { ip: req.ip, 'user-agent': req.userAgent ?? null };

  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
  const auth = options.gateway_authentication;
  if (auth !== undefined && auth !== null) headers.authorization = `Bearer ${await bearer(auth as GatewayAuth, nowMs)}`;

  let status: number;
  try {
    ({ status } = await postWithRetry(url, { headers, body: JSON.stringify(payload), timeoutMs, readBody: false }));
  } catch (err) {
    if (!(err instanceof TransportError)) throw err;
    if (err.code === 'ETIMEDOUT') throw fail('Timeout while calling the SMS gateway: ETIMEDOUT');
    throw fail(`Unexpected response while calling the SMS gateway: ${err.code}`);
  }
  if (status >= 200 && status < 300) return { provider: 'sms_gateway' };
  if (status === 401) throw fail('Authentication failed while calling the SMS gateway: 401');
  throw fail(`Unexpected response while calling the SMS gateway: ${status}`);
}

/** The HS256 JWT the gateway verifies with the shared secret (base64-decoded when so marked). */
async function bearer(auth: GatewayAuth, nowMs: number): Promise<string> {
  const { subject, audience, secret } = auth;
  if (auth.method !== 'bearer' || typeof subject !== 'string' || typeof audience !== 'string' || typeof secret !== 'string' || secret === '') {
    throw fail('The SMS gateway authentication is not configured: method "bearer", subject, audience and secret are required');
  }
  const key = auth.secret_base64_encoded === true ? Buffer.from(secret, 'base64') : new TextEncoder().encode(secret);
  if (key.length === 0) throw fail('The SMS gateway authentication is not configured: the secret is empty');
  const iat = Math.floor(nowMs / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(subject)
    .setAudience(audience)
    .setIssuedAt(iat)
    .setExpirationTime(iat + GATEWAY_JWT_TTL_S)
    .sign(key);
}
