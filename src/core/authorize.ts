import type { Services } from '../services.ts';
import { type AuthCodeDoc, type AuthorizeParams, type ResponseMode, type SessionDoc, TTL, artifactId, findArtifact, newToken } from './artifacts.ts';
import { managementUserGrant, isManagementAudience } from './admins.ts';
import { randomId } from './crypto.ts';
import { type RequestContext, makeLog, passwordlessFields } from './logs.ts';
import type { Client, Connection, LogEvent, User } from './model.ts';
import { issueUserTokens } from './tokens.ts';
import { findOrSignUp } from './users.ts';

/**
 * An error that ends a browser sign-in: sent back to the application's redirect_uri as
 * `error`/`error_description` (RFC 6749 §4.1.2.1), in the request's response mode.
 */
export class AuthorizeError extends Error {
  readonly error: string;
  readonly error_description: string;
  constructor(error: string, description: string) {
    super(description);
    this.error = error;
    this.error_description = description;
  }
}

/** Where and how the sign-in's result goes back to the application. */
export interface AuthorizationResponse {
  redirect_uri: string;
  response_mode: ResponseMode;
  /** `code` or tokens, or `error`/`error_description`; `state` when the application sent one. */
  params: Record<string, string>;
}

export function errorResponse(params: Pick<AuthorizeParams, 'redirect_uri' | 'response_mode' | 'state'>, err: AuthorizeError): AuthorizationResponse {
  return {
    redirect_uri: params.redirect_uri,
    response_mode: params.response_mode,
    params: { error: err.error, error_description: err.error_description, ...(params.state !== undefined ? { state: params.state } : {}) },
  };
}

export interface SignedIn {
  user: User;
  connection: Connection;
  /** Epoch seconds when the user proved control of the identifier. */
  authTime: number;
}

/**
 * A browser sign-in proved control of `identifier` (a code on the hosted page, a magic link, a
 * cross-origin ticket): finds or signs up the user and records the login with its `s` (and `ss`)
 * log. Blocked users and refused sign-ups end the sign-in with `access_denied` and an `f` log.
 */
export async function signInUser(s: Services, client: Client, connection: Connection, identifier: string, ctx: RequestContext): Promise<SignedIn> {
  const now = s.now();
  const fields = (u: User): Partial<LogEvent> => ({ ...passwordlessFields(client, connection), user_id: u.user_id, user_name: u.email ?? u.phone_number });
  const outcome = await findOrSignUp(s, connection, identifier, ctx.ip, (u) => [makeLog('ss', ctx, fields(u), now), makeLog('s', ctx, fields(u), now)]);
  const fail = async (description: string, error = 'access_denied') => {
    await s.store.appendLogs([makeLog('f', ctx, { ...passwordlessFields(client, connection), user_name: identifier, description, details: { error: { message: description, oauthError: error } } }, now)]);
    return new AuthorizeError(error, description);
  };
  if (outcome.kind === 'signup_disabled') throw await fail('Signups are disabled for this connection');
  const { user, created } = outcome;
  if (user.blocked) throw await fail('user is blocked', 'unauthorized');
  if (!created) {
    await Promise.all([
      s.store.recordLogin(user.user_id, new Date(now).toISOString(), ctx.ip),
      s.store.appendLogs([makeLog('s', ctx, fields(user), now)]),
    ]);
  }
  return { user, connection, authTime: Math.floor(now / 1000) };
}

/** A new login session; the token goes into the session cookie, only its keyed hash is stored. */
export async function createSession(s: Services, signedIn: SignedIn): Promise<{ token: string; sid: string; expiresAt: number }> {
  const token = newToken();
  const sid = randomId(32);
  const now = s.now();
  const expiresAt = now + TTL.session;
  const doc: SessionDoc & { sid: string } = { sid, user_id: signedIn.user.user_id, connection: signedIn.connection.name, auth_time: signedIn.authTime, created_at: now };
  await s.store.putArtifact({ kind: 'session', id: artifactId(s, 'session', token), family: sid, doc, expires_at: expiresAt });
  return { token, sid, expiresAt };
}

/** The live session named by a session cookie, with its user (unless deleted or blocked since). */
export async function readSession(s: Services, token: string | undefined): Promise<{ sid: string; doc: SessionDoc; user: User } | undefined> {
  if (!token || token.length > 128) return undefined;
  const a = await findArtifact<SessionDoc & { sid: string }>(s, 'session', token, s.now());
  if (!a) return undefined;
  const user = await s.store.getUser(a.doc.user_id);
  if (!user || user.blocked) return undefined;
  return { sid: a.doc.sid, doc: a.doc, user };
}

export async function endSession(s: Services, token: string | undefined): Promise<void> {
  if (!token || token.length > 128) return;
  const a = await findArtifact(s, 'session', token, s.now());
  if (a) await s.store.deleteArtifact('session', a.id);
}

/**
 * Issues what the response_type asks for (OIDC Core §3.1.2.5, §3.2.2.5): an authorization code
 * bound to the client, redirect_uri and PKCE challenge, or tokens for the implicit flow.
 */
export async function authorizationSuccess(
  s: Services,
  p: AuthorizeParams,
  client: Client,
  signedIn: { user: User; connection: string; authTime: number },
  sid: string,
): Promise<AuthorizationResponse> {
  const out: Record<string, string> = {};
  let scope = p.scope;
  // Issue 12: a Management API token only for an administrator (parseAuthorize let only the
  // dashboard's code flow ask for it); anyone else goes back to the app with access_denied.
  if (isManagementAudience(s, p.audience)) {
    const grant = await managementUserGrant(s, client, signedIn.user, p.scope);
    if (!grant.ok) return refuseManagement(s, p, client, signedIn.user, grant.description);
    scope = grant.scope;
  }
  if (p.response_type === 'code') {
    const code = newToken();
    const doc: AuthCodeDoc = {
      client_id: client.client_id,
      redirect_uri: p.redirect_uri,
      scope,
      ...(p.audience !== undefined ? { audience: p.audience } : {}),
      ...(p.nonce !== undefined ? { nonce: p.nonce } : {}),
      ...(p.code_challenge !== undefined ? { code_challenge: p.code_challenge, code_challenge_method: p.code_challenge_method ?? 'S256' } : {}),
      user_id: signedIn.user.user_id,
      connection: signedIn.connection,
      auth_time: signedIn.authTime,
      sid,
    };
    await s.store.putArtifact({ kind: 'auth_code', id: artifactId(s, 'auth_code', code), family: null, doc, expires_at: s.now() + TTL.auth_code });
    out.code = code;
  } else {
    const tokens = await issueUserTokens(s, { client, user: signedIn.user, scope, audience: p.audience, nonce: p.nonce, authTime: signedIn.authTime, sid });
    if (p.response_type.split(' ').includes('token')) {
      out.access_token = tokens.access_token;
      out.token_type = tokens.token_type;
      out.expires_in = String(tokens.expires_in);
      out.scope = tokens.scope;
    }
    if (p.response_type.split(' ').includes('id_token') && tokens.id_token) out.id_token = tokens.id_token;
  }
  if (p.state !== undefined) out.state = p.state;
  return { redirect_uri: p.redirect_uri, response_mode: p.response_mode, params: out };
}

/** The refusal of a Management API token after sign-in: an `f` log, and `access_denied` back to the app. */
async function refuseManagement(s: Services, p: AuthorizeParams, client: Client, user: User, description: string): Promise<AuthorizationResponse> {
  await s.store.appendLogs([makeLog('f', null, {
    description,
    client_id: client.client_id,
    client_name: client.name,
    connection: p.connection,
    user_id: user.user_id,
    ...(user.email !== undefined ? { user_name: user.email } : {}),
    audience: p.audience,
    details: { error: { message: description, oauthError: 'access_denied' } },
  }, s.now())]);
  return errorResponse(p, new AuthorizeError('access_denied', description));
}
