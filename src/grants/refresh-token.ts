import { isManagementAudience, managementUserGrant } from '../core/admins.ts';
import { makeLog } from '../core/logs.ts';
import type { LogEvent } from '../core/model.ts';
import { type StoredRefreshToken, findRefreshToken, useRefreshToken } from '../core/refresh-tokens.ts';
import { issueUserTokens, normaliseScope, userAccessLifetime } from '../core/tokens.ts';
import { OAuthError, badRequest } from '../errors/oauth-error.ts';
import { stringParam } from './params.ts';
import { withFailureLogs } from './logged.ts';
import type { GrantContext, GrantHandler } from './types.ts';

/** Issue 3 §6, byte for byte: unknown, expired, another client's, revoked and reused tokens alike. */
const INVALID = 'Unknown or invalid refresh token.';
const LOG_TEXT = {
  sertft: 'Successful exchange of Refresh Token for Access Token',
  fertft: 'Failed Exchange of Refresh Token for Access Token',
} as const;

const invalidGrant = () => new OAuthError(403, 'invalid_grant', INVALID);

/**
 * `refresh_token` (RFC 6749 §6): new tokens for the grant a refresh token stands for, rotating it
 * unless the client is non-rotating (src/core/refresh-tokens.ts). Public clients (SPAs, native
 * apps) use it without credentials, as on Auth0 with rotation; confidential ones authenticate.
 */
export const refreshTokenGrant: GrantHandler = {
  grantType: 'refresh_token',
  allowPublic: true,
  handle(ctx) {
    // LOGCODES `fertft` on every failure; the token itself is never logged.
    const attempt: Attempt = {};
    return withFailureLogs(ctx, attempt, exchange, (failure) => {
      const details = { error: { message: failure.error_description, oauthError: failure.error }, ...(attempt.reused ? { reuse_detected: true, revoked_refresh_tokens: attempt.revoked ?? 0 } : {}) };
      const description = attempt.reused ? `${LOG_TEXT.fertft}: reuse of a rotated refresh token, its family was revoked` : failure.error_description;
      return [log(ctx, 'fertft', attempt, { description, details })];
    });
  },
};

interface Attempt {
  doc?: StoredRefreshToken;
  userName?: string;
  reused?: boolean;
  revoked?: number;
}

async function exchange(ctx: GrantContext, attempt: Attempt): Promise<Record<string, unknown>> {
  const { s, client, body } = ctx;
  const token = stringParam(body, 'refresh_token', 512, true);
  const asked = stringParam(body, 'scope', 2048, false);
  const audience = stringParam(body, 'audience', 2048, false);

  const found = await findRefreshToken(s, client, token);
  if (!found) throw invalidGrant();
  const doc = found.doc;
  attempt.doc = doc;

  // Checked before the token is spent, so a malformed request does not cost the app its token.
  const scope = narrowScope(doc.scope, asked);
  // The token is for one API (auth0-spa-js repeats the login's audience on refresh).
  if (audience !== undefined && audience !== doc.audience) {
    throw badRequest('invalid_request', 'The audience does not match the one the refresh token was issued for');
  }
  // Issue 4 §4: the token's API must still exist (403 "Service not found"); checked before rotation.
  await userAccessLifetime(s, doc.audience);
  const user = await s.store.getUser(doc.user_id);
  if (!user) throw invalidGrant(); // deleted since the login
  attempt.userName = user.email;
  if (user.blocked) throw new OAuthError(401, 'unauthorized', 'user is blocked'); // ERR-VERIFY
  // Issue 12: removing an administrator ends their dashboard session at its next refresh.
  if (isManagementAudience(s, doc.audience)) {
    const grant = await managementUserGrant(s, client, user, doc.scope);
    if (!grant.ok) throw new OAuthError(403, 'access_denied', grant.description);
  }

  const used = await useRefreshToken(s, client, found);
  if (used.kind === 'reused') {
    attempt.reused = true;
    attempt.revoked = used.revoked;
  }
  if (used.kind !== 'ok') throw invalidGrant();

  // OIDC Core §12.2: a refreshed ID token keeps the original auth_time and carries no nonce.
  const tokens = await issueUserTokens(s, { client, user, scope, audience: doc.audience, authTime: doc.auth_time, sid: doc.sid });
  await s.store.appendLogs([log(ctx, 'sertft', attempt, { scope })]);
  return { ...tokens, ...(used.refresh_token !== undefined ? { refresh_token: used.refresh_token } : {}) };
}

/**
 * RFC 6749 §6: the access token may be asked for a narrower scope, never a wider one; no `scope`
 * means the scope granted. The rotated refresh token keeps the original scope either way.
 */
function narrowScope(granted: string, asked: string | undefined): string {
  if (asked === undefined) return granted;
  const have = new Set(granted.split(' '));
  const wanted = normaliseScope(asked);
  if (wanted === '') return granted;
  const extra = wanted.split(' ').filter((sc) => sc && !have.has(sc));
  if (extra.length > 0) {
    throw new OAuthError(403, 'invalid_scope', `The requested scope exceeds the granted scope: ${extra.join(' ').slice(0, 200)}`);
  }
  return wanted;
}

function log(ctx: GrantContext, type: keyof typeof LOG_TEXT, attempt: Attempt, extra: Partial<LogEvent>): LogEvent {
  const { doc } = attempt;
  return makeLog(
    type,
    ctx.req,
    {
      description: LOG_TEXT[type],
      client_id: ctx.client.client_id,
      client_name: ctx.client.name,
      ...(doc ? { connection: doc.connection, user_id: doc.user_id, scope: doc.scope, ...(doc.audience ? { audience: doc.audience } : {}) } : {}),
      ...(attempt.userName !== undefined ? { user_name: attempt.userName } : {}),
      ...extra,
    },
    ctx.s.now(),
  );
}
