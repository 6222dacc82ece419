import { type AuthCodeDoc, findArtifact } from '../core/artifacts.ts';
import { makeLog } from '../core/logs.ts';
import type { LogEvent, User } from '../core/model.ts';
import { CODE_VERIFIER, verifyS256 } from '../core/pkce.ts';
import { offlineAccess } from '../core/refresh-tokens.ts';
import { isManagementAudience, managementUserGrant } from '../core/admins.ts';
import { issueUserTokens, userAccessLifetime } from '../core/tokens.ts';
import { OAuthError, badRequest } from '../errors/oauth-error.ts';
import { stringParam } from './params.ts';
import { withFailureLogs } from './logged.ts';
import type { GrantContext, GrantHandler } from './types.ts';

/**
 * Auth0's descriptions. Every unusable code (unknown, expired, used, another client's) gets the
 * same one, so the answer reveals nothing about codes the caller does not own.
 */
const INVALID_CODE = 'Invalid authorization code';
const BAD_VERIFIER = 'Failed to verify code verifier';
const BAD_REDIRECT = 'Invalid redirect URI';
const LOG_TEXT = {
  seacft: 'Successful exchange of authorization code for Access Token',
  feacft: 'Failed to exchange authorization code for Access Token',
} as const;

const invalidGrant = (description: string) => new OAuthError(403, 'invalid_grant', description);

/**
 * `authorization_code` (RFC 6749 §4.1.3, RFC 7636 §4.5): redeems a code issued by /authorize
 * (`authorizationSuccess`). Public clients call it without credentials, bound by PKCE instead;
 * the token endpoint has already made confidential clients authenticate.
 */
export const authorizationCodeGrant: GrantHandler = {
  grantType: 'authorization_code',
  allowPublic: true,
  handle(ctx) {
    // LOGCODES `feacft` on every failure; the code itself is never logged.
    const attempt: Attempt = {};
    return withFailureLogs(ctx, attempt, exchange, (failure) => {
      const details = { error: { message: failure.error_description, oauthError: failure.error }, ...(attempt.replay ? { replay_detected: true, revoked_refresh_tokens: attempt.revoked ?? 0 } : {}) };
      return [log(ctx, 'feacft', attempt, { description: attempt.replay ? `${LOG_TEXT.feacft}: the code was already used` : failure.error_description, details })];
    });
  },
};

/** What the exchange learnt before it failed, for the failure log. */
interface Attempt {
  doc?: AuthCodeDoc;
  user?: User;
  replay?: boolean;
  revoked?: number;
}

async function exchange(ctx: GrantContext, attempt: Attempt): Promise<Record<string, unknown>> {
  const { s, client, body } = ctx;
  const code = stringParam(body, 'code', 512, true);
  const redirectUri = stringParam(body, 'redirect_uri', 2048, false);
  const verifier = stringParam(body, 'code_verifier', 512, false);
  if (verifier !== undefined && !CODE_VERIFIER.test(verifier)) {
    throw badRequest('invalid_request', 'Invalid parameter: code_verifier must be 43 to 128 characters from [A-Za-z0-9-._~]');
  }

  const found = code.length <= 128 ? await findArtifact<AuthCodeDoc>(s, 'auth_code', code, s.now()) : undefined;
  if (!found || found.doc.client_id !== client.client_id) throw invalidGrant(INVALID_CODE);
  const id = found.id;
  const doc = found.doc;
  attempt.doc = doc;
  if (found.consumed_at !== null) throw await replayed(ctx, id, attempt);

  // Checked before the code is spent, so a request that fails them leaves the code to its owner.
  // RFC 6749 §4.1.3: the redirect_uri must be identical to the one the code was issued for. Sesame
  // cannot tell whether /authorize received it explicitly (a client with one callback may omit it),
  // so an absent one is accepted: the code is bound to the client by authentication or PKCE anyway.
  if (redirectUri !== undefined && redirectUri !== doc.redirect_uri) throw invalidGrant(BAD_REDIRECT);
  // RFC 7636 §4.6; and RFC 9700 §2.1.1: a verifier for a code issued without a challenge is refused
  // too (PKCE downgrade).
  if (doc.code_challenge !== undefined ? verifier === undefined || !verifyS256(verifier, doc.code_challenge) : verifier !== undefined) {
    throw invalidGrant(BAD_VERIFIER);
  }
  // Issue 4 §4: /authorize checked the audience; its API may have been deleted since the sign-in.
  await userAccessLifetime(s, doc.audience);

  const user = await s.store.getUser(doc.user_id);
  if (!user) throw invalidGrant(INVALID_CODE); // deleted since the sign-in
  attempt.user = user;
  if (user.blocked) throw new OAuthError(401, 'unauthorized', 'user is blocked'); // ERR-VERIFY
  // Issue 12: a Management API token only for an administrator through the dashboard, checked again
  // here (the admin may have been removed since the sign-in); /authorize already narrowed the scope.
  if (isManagementAudience(s, doc.audience)) {
    const grant = await managementUserGrant(s, client, user, doc.scope);
    if (!grant.ok) throw new OAuthError(403, 'access_denied', grant.description);
  }

  // The atomic step (store contract): of concurrent redemptions exactly one gets `ok`.
  const spent = await s.store.consumeArtifact<AuthCodeDoc>('auth_code', id, s.now());
  if (spent.status === 'reused') throw await replayed(ctx, id, attempt);
  if (spent.status === 'missing') throw invalidGrant(INVALID_CODE);

  const grant = { client, user_id: user.user_id, connection: doc.connection, audience: doc.audience, auth_time: doc.auth_time, sid: doc.sid };
  const tokens = await issueUserTokens(s, { client, user, scope: doc.scope, audience: doc.audience, nonce: doc.nonce, authTime: doc.auth_time, sid: doc.sid });
  // The code's id names the refresh-token family, so a replay of the code can find and revoke it.
  const offline = await offlineAccess(s, { ...grant, scope: tokens.scope, family: id });
  // A replay racing this exchange may have revoked the family before our refresh token was
  // stored. The replay marks the code first, then revokes; we store, then look: whichever order
  // the two ran in, one of them deletes the new token, and this answer then carries none.
  if (offline.refresh_token !== undefined && (await s.store.getArtifact<AuthCodeDoc>('auth_code', id, s.now()))?.doc.replayed_at !== undefined) {
    throw await replayed(ctx, id, attempt);
  }
  await s.store.appendLogs([log(ctx, 'seacft', attempt, {})]);
  return { ...tokens, ...offline };
}

/**
 * RFC 6749 §4.1.2: a code used twice is refused, and the tokens issued from it are revoked. Its
 * access and ID tokens are self-contained JWTs that live out their (short) lifetime; its refresh
 * tokens are deleted.
 */
async function replayed(ctx: GrantContext, codeId: string, attempt: Attempt): Promise<OAuthError> {
  attempt.replay = true;
  // Marked before revoking, so an exchange still storing its refresh token finds the mark (above).
  if (attempt.doc) await ctx.s.store.updateArtifact<AuthCodeDoc>('auth_code', codeId, { ...attempt.doc, replayed_at: ctx.s.now() }, ctx.s.now());
  attempt.revoked = await ctx.s.store.deleteArtifactFamily(codeId);
  return invalidGrant(INVALID_CODE);
}

function log(ctx: GrantContext, type: keyof typeof LOG_TEXT, attempt: Attempt, extra: Partial<LogEvent>): LogEvent {
  const { doc, user } = attempt;
  return makeLog(
    type,
    ctx.req,
    {
      description: LOG_TEXT[type],
      client_id: ctx.client.client_id,
      client_name: ctx.client.name,
      ...(doc ? { connection: doc.connection, scope: doc.scope, user_id: doc.user_id, ...(doc.audience ? { audience: doc.audience } : {}) } : {}),
      ...(user?.email !== undefined ? { user_name: user.email } : {}),
      ...extra,
    },
    ctx.s.now(),
  );
}
