import { makeLog, passwordlessFields } from '../core/logs.ts';
import { type Connection, type LogEvent, PASSWORDLESS_OTP_GRANT, type User } from '../core/model.ts';
import { tooManyAttempts } from '../core/brute-force.ts';
import { OTP_ERRORS, verifyCode } from '../core/otp.ts';
import { offlineAccess } from '../core/refresh-tokens.ts';
import { managementAudience } from '../core/scopes.ts';
import { issueUserTokens, userAccessLifetime } from '../core/tokens.ts';
import { findOrSignUp, passwordlessIdentifier } from '../core/users.ts';
import { OAuthError, badRequest } from '../errors/oauth-error.ts';
import { withFailureLogs } from './logged.ts';
import type { GrantContext, GrantHandler } from './types.ts';

const { wrong: WRONG, exhausted: EXHAUSTED, expired: EXPIRED } = OTP_ERRORS;
/** Generous bounds: longer values cannot match a stored code or user, and are refused before any store work. */
const MAX_LEN = { username: 320, otp: 64, realm: 128, scope: 2048, audience: 2048, nonce: 512 } as const;

type Strategy = keyof typeof WRONG;
const invalidGrant = (description: string) => new OAuthError(403, 'invalid_grant', description);

/**
 * `http://auth0.com/oauth/grant-type/passwordless/otp` (spec §3.1): exchanges the code sent by
 * /passwordless/start for tokens. Public (native) apps call it without a secret.
 */
export const passwordlessOtpGrant: GrantHandler = {
  grantType: PASSWORDLESS_OTP_GRANT,
  allowPublic: true,
  handle(ctx) {
    // LOGCODES `fepotpft` on every failure; the code itself is never part of a log (spec §6).
    const state: Attempt = {};
    return withFailureLogs(ctx, state, exchange, (failure) => [...(state.extraLogs ?? []), failureLog(ctx, state, failure)]);
  },
};

/** What the exchange learnt before it failed, for the failure log. */
interface Attempt {
  connection?: Connection;
  username?: string;
  audience?: string | undefined;
  user?: User;
  extraLogs?: LogEvent[];
}

async function exchange(ctx: GrantContext, state: Attempt): Promise<Record<string, unknown>> {
  const { s, client, body } = ctx;
  const username = param(body, 'username', true);
  const otp = param(body, 'otp', true);
  const realm = param(body, 'realm', true);
  // Checked before the code so a malformed request never spends one of the code's attempts.
  const asked = { scope: param(body, 'scope', false), audience: param(body, 'audience', false), nonce: param(body, 'nonce', false) };

  // ERR-TOKEN: realm names the connection; it must exist, be passwordless and be enabled for the client.
  const connection = await s.store.getConnectionByName(realm);
  if (!connection || !Object.hasOwn(WRONG, connection.strategy)) throw badRequest('invalid_request', 'the connection was not found');
  state.connection = connection;
  if (!(await s.store.isConnectionEnabled(connection.id, client.client_id))) throw badRequest('invalid_request', 'the connection was disabled');
  const strategy = connection.strategy as Strategy;
  // Must match how /passwordless/start stored it: an email lower-cased, a phone number in E.164.
  const identifier = passwordlessIdentifier(connection, username);
  state.username = identifier ?? username.slice(0, 64);
  // Nothing can be stored under a value that is not a phone number: answered as a wrong code.
  if (identifier === undefined) throw invalidGrant(WRONG[strategy]);
  // Issue 4 §4: an audience sent with the exchange must name an API; checked before the code is spent.
  if (asked.audience !== undefined && asked.audience !== managementAudience(s.issuer)) {
    state.audience = asked.audience;
    await userAccessLifetime(s, asked.audience);
  }

  // Spec §3.2: codes are per (connection, identifier, client); one issued to another app is "wrong".
  const result = await verifyCode(s, { connection_id: connection.id, identifier, client_id: client.client_id }, otp, { ctx: ctx.req, client, connection });
  if (!result.ok && result.reason === 'blocked') throw tooManyAttempts(result.retryAt, s.now()); // spec §3.3, §7 (BFP)
  if (!result.ok) throw invalidGrant(result.reason === 'exhausted' ? EXHAUSTED : result.reason === 'expired' ? EXPIRED : WRONG[strategy]);

  // The exchange may override what start remembered; OIDC needs start's nonce in the ID token.
  const remembered = result.record.params;
  const scope = asked.scope ?? remembered.scope ?? 'openid';
  const audience = asked.audience ?? remembered.audience;
  const nonce = asked.nonce ?? remembered.nonce;
  state.audience = audience;
  // User tokens never reach the Management API: it trusts `scope`, which a user could ask for freely.
  if (audience === managementAudience(s.issuer)) {
    throw new OAuthError(403, 'access_denied', 'User tokens cannot be issued for the Management API audience');
  }
  // One remembered from /passwordless/start is checked here (its API may have been deleted since).
  if (asked.audience === undefined) await userAccessLifetime(s, audience);

  const nowIso = new Date(s.now()).toISOString();
  // A new user's first login (counters and the ss + s logs) is written with the user, in one write.
  const signupLogs = (u: User) => {
    const fields = successFields(ctx, connection, u, audience, scope);
    return [makeLog('ss', ctx.req, fields, s.now()), makeLog('s', ctx.req, fields, s.now())];
  };
  const { user, created } = await resolveUser(ctx, connection, identifier, state, signupLogs);
  state.user = user;
  if (user.blocked) throw new OAuthError(401, 'unauthorized', 'user is blocked'); // ERR-VERIFY

  const authTime = Math.floor(s.now() / 1000);
  // Issue 3 §6: `offline_access` (and the client's refresh_token grant) also earns a refresh token.
  const issuing = issueUserTokens(s, { client, user, scope, audience, nonce, authTime }).then(async (tokens) => ({
    ...tokens,
    ...(await offlineAccess(s, { client, user_id: user.user_id, connection: connection.name, scope: tokens.scope, audience, auth_time: authTime })),
  }));
  if (created) return { ...(await issuing) };
  const fields = successFields(ctx, connection, user, audience, scope);
  const [tokens] = await Promise.all([
    issuing,
    s.store.recordLogin(user.user_id, nowIso, ctx.req.ip),
    s.store.appendLogs([makeLog('s', ctx.req, fields, s.now())]),
  ]);
  return { ...tokens };
}

/** Finds or signs up the user (core/users.ts); a refused sign-up answers as a wrong code. */
async function resolveUser(ctx: GrantContext, connection: Connection, identifier: string, state: Attempt, signupLogs: (user: User) => LogEvent[]) {
  const outcome = await findOrSignUp(ctx.s, connection, identifier, ctx.req.ip, signupLogs);
  if (outcome.kind === 'user') return outcome;
  // Answer as for a wrong code so the endpoint does not reveal which emails have accounts; the log says why.
  state.extraLogs = [makeLog('fu', ctx.req, {
    ...logBase(ctx, connection, identifier),
    description: 'Failed Login (Invalid Email/Username): signups are disabled for this connection',
  }, ctx.s.now())];
  throw invalidGrant(WRONG[connection.strategy as Strategy]);
}

/** A string parameter; non-strings and oversized values are a malformed request (RFC 6749 §5.2). */
function param(body: Record<string, unknown>, name: keyof typeof MAX_LEN, required: true): string;
function param(body: Record<string, unknown>, name: keyof typeof MAX_LEN, required: false): string | undefined;
function param(body: Record<string, unknown>, name: keyof typeof MAX_LEN, required: boolean): string | undefined {
  const v = body[name];
  if (v === undefined || v === null || v === '') {
    if (required) throw badRequest('invalid_request', `Missing required parameter: ${name}`);
    return undefined;
  }
  if (typeof v !== 'string') throw badRequest('invalid_request', `Invalid parameter: ${name} must be a string`);
  if (v.length > MAX_LEN[name]) throw badRequest('invalid_request', `Invalid parameter: ${name} is too long`);
  return v;
}

function logBase(ctx: GrantContext, connection: Connection | undefined, userName: string | undefined): Partial<LogEvent> {
  return {
    client_id: ctx.client.client_id,
    client_name: ctx.client.name,
    ...(connection ? passwordlessFields(ctx.client, connection) : {}),
    ...(userName !== undefined ? { user_name: userName } : {}),
  };
}

function successFields(ctx: GrantContext, connection: Connection, user: User, audience: string | undefined, scope: string): Partial<LogEvent> {
  return { ...logBase(ctx, connection, user.email ?? user.phone_number), user_id: user.user_id, scope, ...(audience ? { audience } : {}) };
}

/** LOGSCHEMA `fepotpft` requires `audience` and `hostname`; hostname comes from the request context. */
function failureLog(ctx: GrantContext, state: Attempt, err: OAuthError): LogEvent {
  return makeLog('fepotpft', ctx.req, {
    ...logBase(ctx, state.connection, state.username),
    ...(state.user ? { user_id: state.user.user_id } : {}),
    audience: state.audience ?? '',
    // Shaped like Auth0's `details.error` on failed-auth logs (LOGSCHEMA `fcoa`).
    details: { error: { message: err.error_description, oauthError: err.error } },
  }, ctx.s.now());
}
