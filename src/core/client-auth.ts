import { createPublicKey, type KeyObject } from 'node:crypto';
import { decodeProtectedHeader, errors as joseErrors, jwtVerify } from 'jose';
import { accessDenied, badRequest } from '../errors/oauth-error.ts';
import type { Services } from '../services.ts';
import { SECRET_PURPOSE } from './clients.ts';
import type { Client, ClientCredential } from './model.ts';

export const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** PKJWT: the SDKs sign 120–180 s assertions; anything longer-lived is refused. */
const MAX_ASSERTION_LIFETIME_S = 300;
/** Clock skew accepted on an assertion's `exp` and `iat` (seconds). */
const CLOCK_SKEW_S = 10;
const ALLOWED_ALGS = ['RS256', 'RS384', 'PS256'];

export interface ClientAuthInput {
  client_id?: unknown;
  client_secret?: unknown;
  client_assertion?: unknown;
  client_assertion_type?: unknown;
  /** The raw Authorization header, for client_secret_basic. */
  authorization?: string | undefined;
}

export type AuthMethod = 'client_secret_post' | 'client_secret_basic' | 'private_key_jwt';

export interface ClientAuthResult {
  client: Client;
  /** The method that authenticated the call, or null when no credentials were presented. */
  method: AuthMethod | null;
}

/**
 * RFC 6749 §2.3 and spec §1.2: finds the client and checks the one credential presented. Wrong
 * credentials are 401 `access_denied`/`Unauthorized` whatever the tenant flags say; presenting none
 * is not an error here — each endpoint decides what an unauthenticated call may do. Returns
 * undefined for an unknown client id (each endpoint has its own Auth0 error for that).
 */
export async function authenticateClient(s: Services, input: ClientAuthInput): Promise<ClientAuthResult | undefined> {
  const basic = parseBasic(input.authorization);
  const hasPost = input.client_secret !== undefined;
  const hasAssertion = input.client_assertion !== undefined || input.client_assertion_type !== undefined;
  if (Number(hasPost) + Number(basic !== undefined) + Number(hasAssertion) > 1) {
    throw badRequest('invalid_request', 'Only one client authentication method may be used per request.');
  }
  const bodyId = typeof input.client_id === 'string' ? input.client_id : undefined;
  if (basic && bodyId !== undefined && bodyId !== basic.id) throw accessDenied();
  const clientId = basic?.id ?? bodyId;
  if (clientId === undefined || clientId === '') return undefined;

  const found = await s.store.getClient(clientId);
  if (!found) return undefined;
  const { client, secretHash } = found;

  if (hasPost || basic) {
    const secret = basic ? basic.secret : input.client_secret;
    if (typeof secret !== 'string' || !secretHash || !s.keyring.verify(SECRET_PURPOSE, secret, secretHash)) throw accessDenied();
    // Hashed by a previous SESAME_SECRET: the secret is at hand now, so re-hash it under the current
    // one (issue 10 §3). Compare-and-set, so a secret rotated meanwhile by the API is not overwritten.
    if (!s.keyring.isCurrent(secretHash)) await s.store.rehashClientSecret(client.client_id, secretHash, s.keyring.hash(SECRET_PURPOSE, secret));
    return { client, method: basic ? 'client_secret_basic' : 'client_secret_post' };
  }
  if (hasAssertion) {
    await verifyAssertion(s, client, input.client_assertion, input.client_assertion_type);
    return { client, method: 'private_key_jwt' };
  }
  return { client, method: null };
}

/** `Authorization: Basic base64(urlencode(id):urlencode(secret))` (RFC 6749 §2.3.1). */
function parseBasic(header: string | undefined): { id: string; secret: string } | undefined {
  if (!header || !/^basic /i.test(header)) return undefined;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i < 0) throw accessDenied();
  let id: string;
  let secret: string;
  try {
    id = decodeURIComponent(decoded.slice(0, i));
    secret = decodeURIComponent(decoded.slice(i + 1));
  } catch {
    throw accessDenied();
  }
  // The header is decoded here, past the HTTP layer's NUL guard (http/nul.ts): refuse it as it would.
  if (id.includes('\0') || secret.includes('\0')) throw badRequest('invalid_request', 'Strings must not contain NUL characters (at Authorization)');
  return { id, secret };
}

const keyCache = new Map<string, KeyObject>();

function credentialKey(cred: ClientCredential): KeyObject {
  const cacheKey = `${cred.id}:${cred.updated_at}`;
  let key = keyCache.get(cacheKey);
  if (!key) {
    key = createPublicKey(cred.pem);
    if (keyCache.size > 1000) keyCache.clear();
    keyCache.set(cacheKey, key);
  }
  return key;
}

/** private_key_jwt (RFC 7523 §3, PKJWT): signature, iss = sub = client_id, aud = issuer, short life, single-use jti. */
async function verifyAssertion(s: Services, client: Client, assertion: unknown, type: unknown): Promise<void> {
  if (type !== JWT_BEARER || typeof assertion !== 'string' || assertion.length > 8192) throw accessDenied();
  const creds = (client.client_authentication_methods?.private_key_jwt?.credentials ?? []).filter(
    (c) => !c.expires_at || Date.parse(c.expires_at) > s.now(),
  );
  if (creds.length === 0) throw accessDenied();
  let header;
  try {
    header = decodeProtectedHeader(assertion);
  } catch {
    throw accessDenied();
  }
  if (typeof header.alg !== 'string' || !ALLOWED_ALGS.includes(header.alg)) throw accessDenied();
  const candidates = header.kid ? creds.filter((c) => c.kid === header.kid || c.id === header.kid) : creds;
  for (const cred of candidates.length ? candidates : creds) {
    if (cred.alg && cred.alg !== header.alg) continue;
    let payload;
    try {
      ({ payload } = await jwtVerify(assertion, credentialKey(cred), {
        algorithms: ALLOWED_ALGS,
        issuer: client.client_id,
        subject: client.client_id,
        audience: s.issuer,
        clockTolerance: CLOCK_SKEW_S,
        currentDate: new Date(s.now()),
        requiredClaims: ['exp', 'iat', 'jti'],
      }));
    } catch (err) {
      if (err instanceof joseErrors.JWSSignatureVerificationFailed) continue;
      throw accessDenied();
    }
    const { exp, iat, jti } = payload as { exp: number; iat: number; jti: unknown };
    if (typeof jti !== 'string' || jti.length > 64 || client.client_id.length > 64) throw accessDenied();
    // Issue 10 §5: `exp − iat` alone would accept an assertion issued a year ahead and valid from
    // then on. It must be issued by now (give or take the skew) and expire within the cap from now.
    const nowS = Math.floor(s.now() / 1000);
    if (exp - iat > MAX_ASSERTION_LIFETIME_S || iat > nowS + CLOCK_SKEW_S || exp - nowS > MAX_ASSERTION_LIFETIME_S) throw accessDenied();
    // The jti is kept as long as the assertion is accepted: until exp plus the tolerated skew.
    if (!(await s.store.useAssertionJti(client.client_id, jti, (exp + CLOCK_SKEW_S) * 1000))) throw accessDenied();
    return;
  }
  throw accessDenied();
}

