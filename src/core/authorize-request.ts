import { PageError } from '../errors/page-error.ts';
import { DASHBOARD_ONLY, isDashboardClient, isManagementAudience } from './admins.ts';
import type { Services } from '../services.ts';
import type { AuthorizeParams, ResponseMode, ResponseType } from './artifacts.ts';
import { AuthorizeError } from './authorize.ts';
import { type Client, type Connection, isPublicApp } from './model.ts';
import { findResourceServer, serviceNotFoundText } from './resource-servers.ts';
import { userinfoAudience } from './tokens.ts';

export const RESPONSE_TYPES: Record<string, ResponseType> = {
  code: 'code',
  token: 'token',
  id_token: 'id_token',
  'id_token token': 'id_token token',
  'token id_token': 'id_token token',
};
export const RESPONSE_MODES: ResponseMode[] = ['query', 'fragment', 'form_post', 'web_message'];
const PROMPTS = ['none', 'login', 'consent', 'select_account'];
const MAX = 2048;

export interface ParsedAuthorize {
  client: Client;
  params: AuthorizeParams;
  connection: Connection;
}

type Query = Record<string, unknown>;

function str(q: Query, name: string): string | undefined {
  const v = q[name];
  if (v === undefined || v === '') return undefined;
  if (typeof v !== 'string' || v.length > MAX) throw new PageError(400, 'invalid_request', `Invalid parameter: ${name}`);
  return v;
}

/**
 * Validates a GET /authorize request (RFC 6749 §4.1.1, OIDC Core §3.1.2.1, RFC 7636). Until the
 * client and its redirect_uri are known to match, errors are pages (PageError): redirecting to an
 * unverified URI would make Sesame an open redirector (RFC 6749 §4.1.2.1). After that, errors go
 * back to the application (AuthorizeError, with `redirect` set to where they go).
 */
export async function parseAuthorize(s: Services, q: Query): Promise<ParsedAuthorize> {
  // NUL is refused for every route by the HTTP layer, except here (http/nul.ts): until the client
  // and redirect_uri are known good it is a page, after that it goes back to the application.
  if (hasNul(q.client_id) || hasNul(q.redirect_uri)) throw new PageError(400, 'invalid_characters', 'Strings must not contain NUL characters');
  const clientId = str(q, 'client_id');
  if (!clientId) throw new PageError(400, 'invalid_request', 'Missing required parameter: client_id');
  const found = await s.store.getClient(clientId);
  if (!found) throw new PageError(400, 'invalid_request', `Unknown client: ${clientId.slice(0, 64)}`);
  const { client } = found;
  const asked = str(q, 'redirect_uri');
  // Exact string match (RFC 9700 §2.1); a client with a single callback may omit it.
  const redirectUri = asked ?? (client.callbacks.length === 1 ? client.callbacks[0] : undefined);
  if (!redirectUri) throw new PageError(400, 'invalid_request', 'Missing required parameter: redirect_uri');
  if (!client.callbacks.includes(redirectUri)) {
    throw new PageError(400, 'invalid_request', `Callback URL mismatch. ${redirectUri.slice(0, 200)} is not in the list of allowed callback URLs`);
  }

  // From here on, errors are sent back to the application's redirect_uri.
  const state = typeof q.state === 'string' && q.state.length <= MAX && !q.state.includes('\0') ? q.state : undefined;
  const rawType = str(q, 'response_type');
  const responseType = rawType !== undefined ? RESPONSE_TYPES[rawType.trim().split(/\s+/).join(' ')] : undefined;
  const implicit = responseType !== undefined && responseType !== 'code';
  const rawMode = str(q, 'response_mode');
  const mode = (rawMode ?? (implicit ? 'fragment' : 'query')) as ResponseMode;
  const fail = (error: string, description: string) =>
    new RedirectableError(error, description, {
      redirect_uri: redirectUri,
      response_mode: RESPONSE_MODES.includes(mode) && !(implicit && mode === 'query') ? mode : implicit ? 'fragment' : 'query',
      ...(state !== undefined ? { state } : {}),
    });

  const withNul = Object.keys(q).find((k) => hasNul(k) || hasNul(q[k]));
  if (withNul !== undefined) throw fail('invalid_request', `Strings must not contain NUL characters (at /${withNul.replace(/\0/g, '')})`);
  if (rawType === undefined) throw fail('invalid_request', 'Missing required parameter: response_type');
  if (!responseType) throw fail('unsupported_response_type', `Unsupported response type: ${rawType.slice(0, 64)}`);
  if (!RESPONSE_MODES.includes(mode)) throw fail('invalid_request', `Unsupported response_mode: ${String(rawMode).slice(0, 64)}`);
  // OAuth 2.0 Multiple Response Types §5: tokens must never travel in a query string.
  if (implicit && mode === 'query') throw fail('invalid_request', `response_mode query is not allowed for response_type ${responseType}`);
  if (!implicit && !client.grant_types.includes('authorization_code')) throw fail('unauthorized_client', "Grant type 'authorization_code' not allowed for the client.");
  if (implicit && !client.grant_types.includes('implicit')) throw fail('unauthorized_client', "Grant type 'implicit' not allowed for the client.");

  const nonce = str(q, 'nonce');
  if (responseType.includes('id_token') && !nonce) throw fail('invalid_request', 'Missing required parameter: nonce');
  const challenge = str(q, 'code_challenge');
  const method = str(q, 'code_challenge_method');
  if (method !== undefined && method !== 'S256') throw fail('invalid_request', 'Unsupported code_challenge_method: only S256 is allowed');
  if (challenge !== undefined && !/^[A-Za-z0-9_-]{43}$/.test(challenge)) throw fail('invalid_request', 'Invalid code_challenge: expected the base64url SHA-256 of the verifier (43 characters)');
  // Public clients cannot authenticate at the token endpoint: PKCE is what binds the code to them (RFC 9700 §2.1.1).
  if (responseType === 'code' && isPublicApp(client) && challenge === undefined) throw fail('invalid_request', 'Missing required parameter: code_challenge');

  const prompt = str(q, 'prompt');
  const prompts = prompt?.split(' ') ?? [];
  if (prompts.some((p) => !PROMPTS.includes(p))) throw fail('invalid_request', `Unsupported prompt: ${prompt!.slice(0, 64)}`);
  if (prompts.includes('none') && prompts.length > 1) throw fail('invalid_request', 'prompt=none cannot be combined with other values');
  const send = str(q, 'send');
  if (send !== undefined && send !== 'code' && send !== 'link') throw fail('invalid_request', 'send must be code or link');

  // Issue 4 §4: an audience must name an API, else Auth0's access_denied "Service not found: <aud>".
  const audience = str(q, 'audience');
  if (audience !== undefined && audience !== userinfoAudience(s.issuer) && !(await findResourceServer(s, audience))) {
    throw fail('access_denied', serviceNotFoundText(audience));
  }
  // Issue 10 §1 / issue 12: Management API user tokens go only to the dashboard, by code + PKCE
  // (never in a URL fragment); whether the user is an administrator is decided once signed in.
  if (isManagementAudience(s, audience) && (responseType !== 'code' || !(await isDashboardClient(s, client)))) throw fail('access_denied', DASHBOARD_ONLY);
  const connection = await pickConnection(s, client, str(q, 'connection'), fail);
  const scope = (str(q, 'scope') ?? 'openid').trim().split(/\s+/).join(' ');
  const params: AuthorizeParams = {
    client_id: client.client_id,
    redirect_uri: redirectUri,
    response_type: responseType,
    response_mode: mode,
    scope,
    connection: connection.name,
    ...(state !== undefined ? { state } : {}),
    ...(nonce !== undefined ? { nonce } : {}),
    ...opt('audience', audience),
    ...(challenge !== undefined ? { code_challenge: challenge, code_challenge_method: 'S256' as const } : {}),
    ...opt('login_hint', str(q, 'login_hint')),
    ...opt('ui_locales', str(q, 'ui_locales')),
    ...(send !== undefined ? { send } : {}),
    ...(prompts.includes('none') ? { prompt: 'none' as const } : prompts.includes('login') ? { prompt: 'login' as const } : {}),
  };
  return { client, params, connection };
}

/** A query value (a string, or an array of them for a repeated name) holding U+0000. */
const hasNul = (v: unknown): boolean => (typeof v === 'string' ? v.includes('\0') : Array.isArray(v) && v.some(hasNul));

const opt = <K extends string>(k: K, v: string | undefined) => (v !== undefined ? ({ [k]: v } as Record<K, string>) : {});

/**
 * The connection named by `connection` (a passwordless email or sms one enabled for the client), or
 * the client's first enabled email connection, else its first enabled sms connection: Universal
 * Login offers SMS passwordless too, so `connection=sms` gets the hosted page's phone flow.
 */
async function pickConnection(s: Services, client: Client, name: string | undefined, fail: (e: string, d: string) => Error): Promise<Connection> {
  if (name !== undefined) {
    const conn = await s.store.getConnectionByName(name);
    if (!conn || (conn.strategy !== 'email' && conn.strategy !== 'sms')) throw fail('invalid_request', `the connection was not found: ${name.slice(0, 64)}`);
    if (!(await s.store.isConnectionEnabled(conn.id, client.client_id))) throw fail('invalid_request', 'the connection is not enabled for this client');
    return conn;
  }
  for (const strategy of ['email', 'sms']) {
    const { items } = await s.store.listConnections({ page: 0, perPage: 50, strategy: [strategy] });
    for (const conn of items) if (await s.store.isConnectionEnabled(conn.id, client.client_id)) return conn;
  }
  throw fail('invalid_request', 'no passwordless connection is enabled for this client');
}

/** An AuthorizeError that knows where to go: the verified redirect_uri, mode and state. */
export class RedirectableError extends AuthorizeError {
  readonly target: Pick<AuthorizeParams, 'redirect_uri' | 'response_mode' | 'state'>;
  constructor(error: string, description: string, target: Pick<AuthorizeParams, 'redirect_uri' | 'response_mode' | 'state'>) {
    super(error, description);
    this.target = target;
  }
}
