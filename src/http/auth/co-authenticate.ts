import type { CookieSerializeOptions } from '@fastify/cookie';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AuthorizeError, type SignedIn, signInUser } from '../../core/authorize.ts';
import { TOO_MANY_ATTEMPTS, tooManyAttempts } from '../../core/brute-force.ts';
import { issueLoginTicket } from '../../core/login-ticket.ts';
import { type RequestContext, makeLog, passwordlessFields } from '../../core/logs.ts';
import { type Client, type Connection, type LogEvent, PASSWORDLESS_OTP_GRANT } from '../../core/model.ts';
import { clientAllowsOrigin } from '../../core/origins.ts';
import { MAX_ATTEMPTS, OTP_ERRORS, verifyCode } from '../../core/otp.ts';
import { hitStartBudget } from '../../core/attack-protection.ts';
import { passwordlessIdentifier } from '../../core/users.ts';
import { OAuthError } from '../../errors/oauth-error.ts';
import type { Services } from '../../services.ts';
import { COOKIE } from '../cookies.ts';
import { issuerOrigin, originOf } from '../cors.ts';
import { requestContext } from '../request-context.ts';

/** Spec §3.6 (AUTH0JS-DOC), byte for byte. */
const INVALID_BODY = 'Invalid request body. All and only of client_id, credential_type, username, otp, realm are required.';
const NOT_ALLOWED = 'Cross origin login not allowed.';
/** Auth0 says "Wrong email or password." for passwords; for a code, the OTP grant's string (spec §3.3). */
const { exhausted: EXHAUSTED, expired: EXPIRED } = OTP_ERRORS;
/** Auth0's text for a wrong code on the connection's channel (spec §3.3). */
const wrongFor = (c: Connection) => OTP_ERRORS.wrong[c.strategy === 'sms' ? 'sms' : 'email'];
const FIELDS = { client_id: 128, credential_type: 128, username: 320, otp: 64, realm: 128 } as const;
type CoRequest = Record<keyof typeof FIELDS, string>;

/** auth0-js keeps the verifier 15 minutes (spec §3.6); the cookie lives as long. */
const CO_COOKIE_MAX_AGE_S = 900;
/** Always `SameSite=None; Secure`: the call is cross-site by definition, so a Lax cookie would never come back. */
export const CO_COOKIE: CookieSerializeOptions = { path: '/', httpOnly: true, secure: true, sameSite: 'none' };

/**
 * POST /co/authenticate (spec §3.6): auth0-js's `passwordlessLogin` from a page on another origin.
 * limit per IP → parse → client and origin → realm → verify the code (attempt, constant-time
 * compare, consume) → sign in → ticket + verifier cookie. Logs `scoa` / `fcoa`.
 */
export function registerCoAuthenticate(app: FastifyInstance, s: Services): void {
  app.post('/co/authenticate', async (req, reply) => {
    const ctx = requestContext(req);
    const seen: Seen = {};
    try {
      await limitPerIp(s, ctx);
      seen.client = await namedClient(s, req.body); // for the log, even when the body is refused
      const body = parseBody(req.body);
      seen.username = body.username;
      const client = allowedClient(s, req, seen.client);
      const connection = await realm(s, client, body.realm);
      seen.connection = connection;
      // As /passwordless/start stored it: an email lower-cased, a phone number in E.164.
      const identifier = passwordlessIdentifier(connection, body.username);
      if (identifier === undefined) throw new OAuthError(403, 'access_denied', wrongFor(connection));
      seen.username = identifier;

      const result = await verifyCode(s, { connection_id: connection.id, identifier, client_id: client.client_id }, body.otp, { ctx, client, connection });
      if (!result.ok && result.reason === 'blocked') throw tooManyAttempts(result.retryAt, s.now()); // spec §3.6, §7 (BFP)
      if (!result.ok) throw new OAuthError(403, 'access_denied', result.reason === 'exhausted' ? EXHAUSTED : result.reason === 'expired' ? EXPIRED : wrongFor(connection));
      const signedIn = await signIn(s, client, connection, identifier, ctx);

      const ticket = await issueLoginTicket(s, client, signedIn);
      reply.setCookie(`${COOKIE.coPrefix}${ticket.co_id}`, ticket.co_verifier, { ...CO_COOKIE, maxAge: CO_COOKIE_MAX_AGE_S });
      await s.store.appendLogs([makeLog('scoa', ctx, { ...fields(seen), user_id: signedIn.user.user_id, user_name: signedIn.user.email ?? signedIn.user.phone_number, description: 'Successful cross-origin authentication' }, s.now())]);
      return reply.header('cache-control', 'no-store').send(ticket);
    } catch (err) {
      // The per-IP refusal writes one `api_limit` log per window, not one `fcoa` per request; a
      // brute-force block (core/brute-force.ts) is a refused login like any other.
      if (err instanceof OAuthError && (err.status !== 429 || err.error_description === TOO_MANY_ATTEMPTS)) {
        await s.store
          .appendLogs([makeLog('fcoa', ctx, { ...fields(seen), description: err.error_description, details: { error: { message: err.error_description, oauthError: err.error } } }, s.now())])
          .catch((logErr: unknown) => s.log.error({ err: logErr }, 'could not write the fcoa log'));
      }
      throw err;
    }
  });
}

/** What the request revealed before it failed, for the log. */
interface Seen {
  client?: Client;
  connection?: Connection;
  username?: string;
}

function fields(seen: Seen): Partial<LogEvent> {
  const out: Partial<LogEvent> = {};
  if (seen.client) Object.assign(out, { client_id: seen.client.client_id, client_name: seen.client.name });
  if (seen.client && seen.connection) Object.assign(out, passwordlessFields(seen.client, seen.connection));
  if (seen.username !== undefined) out.user_name = seen.username;
  return out;
}

/**
 * Credential type first, so a password-realm request (Auth0's other use of this endpoint, which
 * Sesame has no passwords for) hears "unknown credential type" rather than about missing fields.
 */
function parseBody(body: unknown): CoRequest {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new OAuthError(400, 'invalid_request', INVALID_BODY);
  const b = body as Record<string, unknown>;
  if (typeof b.credential_type === 'string' && b.credential_type !== '' && b.credential_type !== PASSWORDLESS_OTP_GRANT) {
    throw new OAuthError(400, 'unsupported_credential_type', 'Unknown credential type parameter.');
  }
  const keys = Object.keys(b);
  const ok = keys.length === 5 && (Object.keys(FIELDS) as (keyof typeof FIELDS)[]).every((k) => {
    const v = b[k];
    return typeof v === 'string' && v !== '' && v.length <= FIELDS[k];
  });
  if (!ok) throw new OAuthError(400, 'invalid_request', INVALID_BODY);
  return b as CoRequest;
}

/**
 * The client must exist, have `cross_origin_authentication` on, and the call must come from one of
 * its origins (or Sesame's own). A call without Origin is no browser's: cross-origin login is only
 * for browsers (a backend has the OTP grant). An unknown client gets the same answer: it has no
 * origins, so nothing could be allowed.
 */
function allowedClient(s: Services, req: FastifyRequest, client: Client | undefined): Client {
  const origin = originOf(req);
  const fromAllowedOrigin = typeof origin === 'string' && client !== undefined && (origin === issuerOrigin(s) || clientAllowsOrigin(client, origin));
  if (!client || !client.cross_origin_authentication || !fromAllowedOrigin) throw new OAuthError(401, 'unauthorized_client', NOT_ALLOWED);
  return client;
}

async function namedClient(s: Services, body: unknown): Promise<Client | undefined> {
  const id = body && typeof body === 'object' ? (body as Record<string, unknown>).client_id : undefined;
  return typeof id === 'string' && id.length > 0 && id.length <= FIELDS.client_id ? (await s.store.getClient(id))?.client : undefined;
}

/** `realm` names a passwordless connection (email or sms) enabled for the client. */
async function realm(s: Services, client: Client, name: string): Promise<Connection> {
  const conn = await s.store.getConnectionByName(name);
  if (!conn || (conn.strategy !== 'email' && conn.strategy !== 'sms') || !(await s.store.isConnectionEnabled(conn.id, client.client_id))) {
    throw new OAuthError(400, 'invalid_request', `Unknown realm ${name}.`);
  }
  return conn;
}

/**
 * Blocked users: Auth0's `blocked_user`. A refused sign-up answers as a wrong code, as the OTP grant
 * does, so the endpoint does not tell which emails have accounts (signInUser logs the reason).
 */
async function signIn(s: Services, client: Client, connection: Connection, identifier: string, ctx: RequestContext): Promise<SignedIn> {
  try {
    return await signInUser(s, client, connection, identifier, ctx);
  } catch (err) {
    if (!(err instanceof AuthorizeError)) throw err;
    if (err.error === 'unauthorized') throw new OAuthError(403, 'blocked_user', 'Blocked user');
    throw new OAuthError(403, 'access_denied', wrongFor(connection));
  }
}

/**
 * Auth0's `429 too_many_attempts`. Every code allows MAX_ATTEMPTS tries and codes come from
 * /passwordless/start, which is limited per IP; so MAX_ATTEMPTS × that limit per IP and hour never
 * stops an honest user before start's own limit would, and caps what one IP can try or log here.
 */
async function limitPerIp(s: Services, ctx: RequestContext): Promise<void> {
  const now = s.now();
  const limit = await hitStartBudget(s, 'co', ctx.ip, now, MAX_ATTEMPTS);
  if (!limit?.exceeded) return;
  if (limit.firstExceeded) {
    await s.store.appendLogs([makeLog('api_limit', ctx, { details: { limit: { bucket: 'co-authenticate-per-ip', size: limit.limit }, request: { method: 'POST', path: '/co/authenticate' } } }, now)]);
  }
  throw new OAuthError(429, 'too_many_attempts', 'Too many login attempts from this IP address. Please try again later.', {
    headers: { 'retry-after': String(Math.max(1, limit.reset - Math.floor(now / 1000))) },
  });
}
