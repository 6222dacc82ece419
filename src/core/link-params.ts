import type { AuthorizeParams, ResponseMode } from './artifacts.ts';
import { RESPONSE_MODES, RESPONSE_TYPES } from './authorize-request.ts';
import { type Client, type Connection, isPublicApp } from './model.ts';
import { managementAudience } from './scopes.ts';

/** Why a link's remembered parameters cannot finish a sign-in (shown on the error page). */
export type LinkParamsProblem =
  | 'redirect_uri'
  | 'response_type'
  | 'response_mode'
  | 'grant'
  | 'nonce'
  | 'pkce'
  | 'audience';

/**
 * The authorization request a link started by an API call (no /authorize transaction) finishes
 * with, built ONLY from what /passwordless/start remembered with the code: the link's query string
 * is whatever the mail (or an attacker) carries, so it decides nothing (spec §3.5, PL-WEB). The
 * same rules as /authorize apply (RFC 6749 §3.1.2, RFC 9700 §2.1), and a link that breaks them
 * fails before its code is consumed.
 */
export function linkAuthorizeParams(
  s: { issuer: string },
  client: Client,
  connection: Connection,
  p: Record<string, string>,
): { ok: true; params: AuthorizeParams } | { ok: false; problem: LinkParamsProblem } {
  const fail = (problem: LinkParamsProblem) => ({ ok: false as const, problem });
  // Exact match with a registered callback (RFC 9700 §2.1); a client with one callback may omit it.
  const redirectUri = p.redirect_uri ?? (client.callbacks.length === 1 ? client.callbacks[0] : undefined);
  if (redirectUri === undefined || !client.callbacks.includes(redirectUri)) return fail('redirect_uri');

  const responseType = RESPONSE_TYPES[(p.response_type ?? 'code').trim().split(/\s+/).join(' ')];
  if (!responseType) return fail('response_type');
  const implicit = responseType !== 'code';
  const mode = (p.response_mode ?? (implicit ? 'fragment' : 'query')) as ResponseMode;
  // OAuth 2.0 Multiple Response Types §5: tokens never travel in a query string.
  if (!RESPONSE_MODES.includes(mode) || (implicit && mode === 'query')) return fail('response_mode');
  if (!client.grant_types.includes(implicit ? 'implicit' : 'authorization_code')) return fail('grant');
  // OIDC Core §3.2.2.1: an ID token in the front channel needs a nonce.
  if (responseType.includes('id_token') && !p.nonce) return fail('nonce');

  const challenge = p.code_challenge;
  if (p.code_challenge_method !== undefined && p.code_challenge_method !== 'S256') return fail('pkce');
  if (challenge !== undefined && !/^[A-Za-z0-9_-]{43}$/.test(challenge)) return fail('pkce');
  // A public client cannot authenticate at the token endpoint: PKCE is what binds the code to it (RFC 9700 §2.1.1).
  if (responseType === 'code' && isPublicApp(client) && challenge === undefined) return fail('pkce');
  // User tokens never reach the Management API, which trusts the scopes in the token.
  if (p.audience === managementAudience(s.issuer)) return fail('audience');

  const scope = (p.scope ?? 'openid').trim().split(/\s+/).filter(Boolean).join(' ') || 'openid';
  return {
    ok: true,
    params: {
      client_id: client.client_id,
      redirect_uri: redirectUri,
      response_type: responseType,
      response_mode: mode,
      scope,
      connection: connection.name,
      ...(p.state !== undefined ? { state: p.state } : {}),
      ...(p.nonce !== undefined ? { nonce: p.nonce } : {}),
      ...(p.audience !== undefined ? { audience: p.audience } : {}),
      ...(challenge !== undefined ? { code_challenge: challenge, code_challenge_method: 'S256' as const } : {}),
    },
  };
}
