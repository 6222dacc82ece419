import type { FastifyRequest } from 'fastify';
import { type JWK, type JWTPayload, createLocalJWKSet, errors as joseErrors, jwtVerify } from 'jose';
import { managementAudience } from '../../core/scopes.ts';
import { DASHBOARD_ONLY, NOT_ADMIN, isAdminUser, isDashboardClient } from '../../core/admins.ts';
import { ApiError, insufficientScope, unauthorized } from '../../errors/api-error.ts';
import type { Services } from '../../services.ts';
import { REQUIRED_SCOPES } from '../openapi-collector.ts';

/** Tokens that passed `requireScopes`, for handlers and the audit log (no request decoration needed). */
const verified = new WeakMap<FastifyRequest, JWTPayload>();
export const managementToken = (req: FastifyRequest): JWTPayload | undefined => verified.get(req);

/**
 * Key sets by published key list: KeyManager returns the same array until its keys change, so each
 * key is imported once, and a rotation is picked up on the next request.
 */
const keySets = new WeakMap<JWK[], ReturnType<typeof createLocalJWKSet>>();
function keySet(s: Services) {
  const jwks = s.keys.jwks();
  let set = keySets.get(jwks.keys);
  if (!set) {
    set = createLocalJWKSet(jwks);
    keySets.set(jwks.keys, set);
  }
  return set;
}

const forbidden = (message: string) => new ApiError(403, message, 'access_denied');

// Auth0's Management API messages (its hapi-auth-jwt stack), which apps match on.
const EXPIRED = 'Expired token received for JSON Web Token validation';
const BAD_SIGNATURE = 'Invalid signature received for JSON Web Token validation';

/**
 * An `onRequest` hook for a Management API route: a valid `Authorization: Bearer` access token for
 * `<issuer>api/v2/` (spec §5) carrying at least one of `anyOf`. It runs before the body is parsed
 * and validated, so a caller without a token learns nothing about the payload rules (as on Auth0,
 * which answers 401 first). The issuer is read per request: listen() may change it. The hook
 * carries its scopes (REQUIRED_SCOPES) for the OpenAPI document's `security`.
 */
export function requireScopes(s: Services, ...anyOf: string[]) {
  return Object.assign(checkManagementToken, { [REQUIRED_SCOPES]: Object.freeze([...anyOf]) });
  async function checkManagementToken(req: FastifyRequest): Promise<void> {
    const header = req.headers.authorization;
    if (!header) throw unauthorized('Missing authentication');
    const m = /^Bearer +([A-Za-z0-9._~+/=-]+) *$/i.exec(header);
    if (!m) throw unauthorized('Bad HTTP authentication header format');
    const token = m[1]!;
    if (token.length > 8192) throw unauthorized('Invalid token');

    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keySet(s), {
        algorithms: ['RS256'],
        issuer: s.issuer,
        audience: managementAudience(s.issuer),
        currentDate: new Date(s.now()),
        requiredClaims: ['exp', 'iat', 'sub', 'scope'],
      }));
    } catch (err) {
      throw tokenError(err);
    }
    if (typeof payload.scope !== 'string') throw unauthorized('Invalid token');
    // client_credentials tokens act on the Management API; a user token only if it is the
    // dashboard's and its user is an administrator *now* (issue 12): removing an administrator
    // takes effect on their next request, not when the token expires.
    if (payload.gty !== 'client-credentials') await checkAdminToken(s, payload);
    const granted = payload.scope.split(' ');
    if (!anyOf.some((scope) => granted.includes(scope))) throw insufficientScope(anyOf);
    verified.set(req, payload);
  }
}

/**
 * A user token on the Management API: issued to the dashboard application (`azp`) for a user who is
 * still an administrator. Two cached reads (the setting) and two indexed ones (user, admins) per
 * request. A token from any other application, or a user no longer an administrator, gets 403.
 */
async function checkAdminToken(s: Services, payload: JWTPayload): Promise<void> {
  if (typeof payload.azp !== 'string' || typeof payload.sub !== 'string' || payload.sub.length > 512) throw unauthorized('Invalid token');
  if (!(await isDashboardClient(s, { client_id: payload.azp }))) throw forbidden(DASHBOARD_ONLY);
  const user = await s.store.getUser(payload.sub);
  if (!user || !(await isAdminUser(s, user))) throw forbidden(NOT_ADMIN);
}

function tokenError(err: unknown): Error {
  if (err instanceof joseErrors.JWTExpired) return unauthorized(EXPIRED);
  if (err instanceof joseErrors.JWSSignatureVerificationFailed || err instanceof joseErrors.JWKSNoMatchingKey) return unauthorized(BAD_SIGNATURE);
  if (err instanceof joseErrors.JWTClaimValidationFailed && err.claim === 'aud') {
    const aud = err.payload.aud;
    return unauthorized(`Bad audience: ${(Array.isArray(aud) ? aud.join(' ') : String(aud ?? '')).slice(0, 200)}`);
  }
  if (err instanceof joseErrors.JOSEError) return unauthorized('Invalid token');
  return err instanceof Error ? err : new Error(String(err));
}
