import { createHash, randomUUID } from 'node:crypto';
import type { JWTPayload } from 'jose';
import type { Services } from '../services.ts';
import type { Client, User } from './model.ts';
import { requireResourceServer } from './resource-servers.ts';
import { grantUserScopes } from './token-scopes.ts';

/** Auth0's default access-token lifetime for user flows (spec §3.1 sample: `expires_in: 86400`). */
export const ACCESS_TOKEN_TTL_S = 86_400;
/** Auth0's default `jwt_configuration.lifetime_in_seconds` for ID tokens. */
export const ID_TOKEN_TTL_S = 36_000;
/** RFC 9068 §2.1: the `typ` of a JWT access token; userinfo checks it so an ID token is never accepted. */
export const ACCESS_TOKEN_TYP = 'at+jwt';

export interface UserTokenRequest {
  client: Client;
  user: User;
  /** Space-separated scopes as asked for; grantUserScopes (token-scopes.ts) decides which are granted. */
  scope: string;
  /** An API identifier; omitted = the token is only good for `/userinfo`. */
  audience?: string | undefined;
  /** Echoed into the ID token (OIDC Core §3.1.2.1); the SDKs compare it with what they sent. */
  nonce?: string | undefined;
  /** When the user authenticated, epoch seconds (OIDC Core §2 `auth_time`). */
  authTime: number;
  sid?: string | undefined;
}

export interface UserTokens {
  access_token: string;
  id_token?: string;
  token_type: 'Bearer';
  expires_in: number;
  scope: string;
}

export const userinfoAudience = (issuer: string) => `${issuer}userinfo`;

/**
 * Issue 4 §4: a user token's `audience` must name an API (`403 access_denied "Service not found:
 * <aud>"` otherwise), and its access token lives exactly that API's `token_lifetime`. No audience,
 * or the `/userinfo` one every tenant has, keeps Auth0's default. Grants call it before they spend
 * a code or a refresh token; issueUserTokens calls it again (a cached read) for the lifetime.
 */
export async function userAccessLifetime(s: Services, audience: string | undefined): Promise<number> {
  if (!audience || audience === userinfoAudience(s.issuer)) return ACCESS_TOKEN_TTL_S;
  return (await requireResourceServer(s, audience)).token_lifetime;
}
export const hasScope = (scope: string, name: string) => scope.split(' ').includes(name);

/** Splits, de-duplicates and re-joins a scope string (RFC 6749 §3.3: space-delimited, order-free). */
export function normaliseScope(scope: string): string {
  return [...new Set(scope.split(/\s+/).filter(Boolean))].join(' ');
}

/**
 * The user claims a scope releases (OIDC Core §5.4): `email` → email, email_verified; `phone` →
 * phone_number, phone_verified; `profile` → name, nickname, picture, updated_at. Shared by the ID token and `/userinfo` so they always agree.
 */
export function profileClaims(user: User, scope: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (hasScope(scope, 'profile')) {
    for (const k of ['name', 'nickname', 'picture'] as const) if (user[k] !== undefined) out[k] = user[k];
    // Auth0 sends `updated_at` as an ISO string, not OIDC's epoch number; the SDKs pass it through.
    out.updated_at = user.updated_at;
  }
  if (hasScope(scope, 'email') && user.email !== undefined) {
    out.email = user.email;
    out.email_verified = user.email_verified ?? false;
  }
  if (hasScope(scope, 'phone') && user.phone_number !== undefined) {
    out.phone_number = user.phone_number;
    out.phone_verified = user.phone_verified ?? false;
  }
  return out;
}

/** OIDC Core §3.1.3.6 / §3.3.2.11: base64url of the left half of SHA-256 (RS256) of the access token. */
export function atHash(accessToken: string): string {
  const digest = createHash('sha256').update(accessToken, 'ascii').digest();
  return digest.subarray(0, digest.length / 2).toString('base64url');
}

/**
 * Issues the access token (always) and the ID token (scope `openid`) for a user login. Each costs one
 * RSA signature and nothing else does. They are signed one after the other, not concurrently,
 * because the ID token's `at_hash` is a hash of the *signed* access token: total CPU is the same, the
 * latency is one extra signature (~1 ms for RSA-2048).
 */
export async function issueUserTokens(s: Services, req: UserTokenRequest): Promise<UserTokens> {
  const issuer = s.issuer; // read at request time: listen() may fix it after binding port 0
  const iat = Math.floor(s.now() / 1000);
  const userinfo = userinfoAudience(issuer);
  const [lifetime, granted] = await Promise.all([
    userAccessLifetime(s, req.audience),
    grantUserScopes(s, { user: req.user, audience: req.audience, requested: req.scope }),
  ]);
  const scope = granted.scope;

  const access: JWTPayload = {
    iss: issuer,
    sub: req.user.user_id,
    aud: req.audience && req.audience !== userinfo ? [req.audience, userinfo] : userinfo,
    iat,
    exp: iat + lifetime,
    jti: randomUUID(),
    azp: req.client.client_id,
    scope,
    ...(granted.permissions ? { permissions: granted.permissions } : {}),
  };
  const access_token = await s.keys.sign(access, ACCESS_TOKEN_TYP);
  const out: UserTokens = { access_token, token_type: 'Bearer', expires_in: lifetime, scope };
  if (!hasScope(scope, 'openid')) return out;

  const idLifetime = req.client.jwt_configuration?.lifetime_in_seconds || ID_TOKEN_TTL_S;
  const id: JWTPayload = {
    ...profileClaims(req.user, scope),
    iss: issuer,
    sub: req.user.user_id,
    aud: req.client.client_id,
    iat,
    exp: iat + idLifetime,
    auth_time: req.authTime,
    at_hash: atHash(access_token),
    ...(req.nonce !== undefined ? { nonce: req.nonce } : {}),
    ...(req.sid !== undefined ? { sid: req.sid } : {}),
  };
  out.id_token = await s.keys.sign(id);
  return out;
}
