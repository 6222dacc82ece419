import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type JWK, type JWTVerifyGetKey, createLocalJWKSet, jwtVerify } from 'jose';
import { ACCESS_TOKEN_TYP, profileClaims, userinfoAudience } from '../../core/tokens.ts';
import { OAuthError } from '../../errors/oauth-error.ts';
import type { Services } from '../../services.ts';

/**
 * GET/POST /userinfo (OIDC Core §5.3): the claims of the access token's user that its scope
 * releases. The token is verified against the published JWKS, exactly as an outside resource server
 * would, so a rotated-out key stops working here too.
 */
export function registerUserinfo(app: FastifyInstance, s: Services): void {
  const handler = async (req: FastifyRequest) => {
    const token = bearerToken(req, s);
    let sub: string;
    let scope: string;
    try {
      // A revocation made through another process applies here within KEY_FRESHNESS_MS (core/keys.ts).
      await s.keys.refresh();
      const { payload } = await jwtVerify(token, keySet(s), {
        issuer: s.issuer,
        audience: userinfoAudience(s.issuer),
        algorithms: ['RS256'],
        // RFC 9068 §4: only access tokens; an ID token (no `typ`, aud = client_id) is refused.
        typ: ACCESS_TOKEN_TYP,
        currentDate: new Date(s.now()),
        requiredClaims: ['sub', 'exp'],
      });
      sub = payload.sub!;
      scope = typeof payload.scope === 'string' ? payload.scope : '';
    } catch (err) {
      throw invalidToken(s, 'The access token is invalid or expired', err);
    }
    const user = await s.store.getUser(sub);
    if (!user) throw invalidToken(s, 'The user of this access token no longer exists');
    if (user.blocked) throw invalidToken(s, 'user is blocked');
    return { sub: user.user_id, ...profileClaims(user, scope) };
  };
  app.get('/userinfo', handler);
  app.post('/userinfo', handler);
}

/**
 * The access token, from exactly one of RFC 6750's three methods: the `Authorization: Bearer` header
 * (§2.1), an `access_token` form field of a POST (§2.2), or an `access_token` query parameter (§2.3).
 * Auth0 accepts all three, and passport-auth0 fetches the profile with the query form. A request that
 * uses more than one method is refused (§2: "MUST NOT use more than one method"). The query is never
 * logged: request logging is off and error logs carry no URL (app.ts).
 */
function bearerToken(req: FastifyRequest, s: Services): string {
  const header = req.headers.authorization;
  const query = tokenField(req.query);
  const form = req.method === 'POST' && isForm(req) ? tokenField(req.body) : undefined;
  const given = [header, query, form].filter((v) => v !== undefined).length;
  if (given > 1) throw new OAuthError(400, 'invalid_request', 'The access token must be sent by one method only (RFC 6750 §2)');
  if (query !== undefined || form !== undefined) {
    const token = (query ?? form)!;
    if (!TOKEN_CHARS.test(token)) throw invalidToken(s, 'The access token is malformed');
    return token;
  }
  const m = typeof header === 'string' ? /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header) : null;
  if (!m) {
    // RFC 6750 §3.1: a request without credentials gets the challenge but no error code.
    const challenge = `Bearer realm="${s.issuer}"`;
    if (!header) throw new OAuthError(401, 'invalid_token', 'Missing access token', { headers: { 'www-authenticate': challenge } });
    throw invalidToken(s, 'The Authorization header is not a Bearer token');
  }
  return m[1]!;
}

/** RFC 6750 §2.1's b64token syntax, applied to every method. */
const TOKEN_CHARS = /^[A-Za-z0-9\-._~+/]+=*$/;

/** `access_token` of a parsed query or form: a repeated or non-string field counts as malformed. */
function tokenField(source: unknown): string | undefined {
  if (!source || typeof source !== 'object') return undefined;
  const v = (source as Record<string, unknown>).access_token;
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new OAuthError(400, 'invalid_request', 'access_token must be sent once, as a string');
  return v;
}

/** §2.2 allows the body method only for `application/x-www-form-urlencoded`. */
function isForm(req: FastifyRequest): boolean {
  return (req.headers['content-type'] ?? '').toLowerCase().startsWith('application/x-www-form-urlencoded');
}

/** RFC 6750 §3: 401 with `WWW-Authenticate: Bearer error="invalid_token"`. */
function invalidToken(s: Services, description: string, cause?: unknown): OAuthError {
  const challenge = `Bearer realm="${s.issuer}", error="invalid_token", error_description="${description}"`;
  return new OAuthError(401, 'invalid_token', description, { headers: { 'www-authenticate': challenge }, cause });
}

let cached: { keys: JWK[]; set: JWTVerifyGetKey } | undefined;

/** A local key set over the JWKS; rebuilt when the KeyManager publishes a new key list (rotation). */
function keySet(s: Services): JWTVerifyGetKey {
  const jwks = s.keys.jwks();
  if (cached?.keys !== jwks.keys) cached = { keys: jwks.keys, set: createLocalJWKSet(jwks) };
  return cached.set;
}
