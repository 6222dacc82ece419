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

/** RFC 6750 §2.1: `Authorization: Bearer <token>`; the only method Auth0 documents for /userinfo. */
function bearerToken(req: FastifyRequest, s: Services): string {
  const header = req.headers.authorization;
  const m = typeof header === 'string' ? /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header) : null;
  if (!m) {
    // RFC 6750 §3.1: a request without credentials gets the challenge but no error code.
    const challenge = `Bearer realm="${s.issuer}"`;
    if (!header) throw new OAuthError(401, 'invalid_token', 'Missing access token', { headers: { 'www-authenticate': challenge } });
    throw invalidToken(s, 'The Authorization header is not a Bearer token');
  }
  return m[1]!;
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
