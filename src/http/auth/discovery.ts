import type { FastifyInstance } from 'fastify';
import { GRANTS } from '../../grants/index.ts';
import type { Services } from '../../services.ts';

/** Discovery and the JWKS change only on key rotation or a new issuer; a minute of caching is harmless. */
export const WELL_KNOWN_CACHE = 'public, max-age=60';

/**
 * OpenID Provider metadata (OIDC Discovery §3), Auth0-shaped (spec §8.4, DISCO). Built from
 * `s.issuer` at request time: the issuer may be fixed after listen() binds port 0, and
 * auth0-auth-js/oauth4webapi require `issuer` to equal `https://{domain}/` exactly.
 */
export function discoveryDocument(s: Services): Record<string, unknown> {
  const iss = s.issuer;
  return {
    issuer: iss,
    authorization_endpoint: `${iss}authorize`,
    token_endpoint: `${iss}oauth/token`,
    userinfo_endpoint: `${iss}userinfo`,
    jwks_uri: `${iss}.well-known/jwks.json`,
    // RFC 7009 / RFC 8414 §2; Auth0's logout endpoint is /v2/logout (OIDC RP-Initiated Logout §2.1 name).
    revocation_endpoint: `${iss}oauth/revoke`,
    end_session_endpoint: `${iss}v2/logout`,
    scopes_supported: ['openid', 'profile', 'email', 'phone', 'offline_access'],
    // What /authorize issues: a code, or implicit tokens (the client's `implicit` grant gates them).
    response_types_supported: ['code', 'token', 'id_token', 'token id_token'],
    // web_message: the postMessage mode of auth0-spa-js and auth0-js silent authentication.
    response_modes_supported: ['query', 'fragment', 'form_post', 'web_message'],
    subject_types_supported: ['public'],
    // Only what Sesame really does: it signs with RS256 alone (Auth0 also lists HS256/PS256).
    id_token_signing_alg_values_supported: ['RS256'],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
    token_endpoint_auth_signing_alg_values_supported: ['RS256', 'RS384', 'PS256'],
    revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'],
    // `implicit` has no token-endpoint grant: it is the token/id_token responses of /authorize.
    grant_types_supported: [...GRANTS.keys(), 'implicit'],
    code_challenge_methods_supported: ['S256'],
    claims_supported: ['aud', 'auth_time', 'azp', 'at_hash', 'email', 'email_verified', 'exp', 'iat', 'iss', 'name', 'nickname', 'nonce', 'phone_number', 'phone_verified', 'picture', 'sub', 'updated_at'],
    request_uri_parameter_supported: false,
    request_parameter_supported: false,
  };
}

export function registerDiscovery(app: FastifyInstance, s: Services): void {
  app.get('/.well-known/openid-configuration', async (_req, reply) => {
    reply.header('cache-control', WELL_KNOWN_CACHE);
    return discoveryDocument(s);
  });
}
