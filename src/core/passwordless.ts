import { randomBytes } from 'node:crypto';
import { badRequest, clientAuthRequired, grantNotAllowed } from '../errors/oauth-error.ts';
import { type TemplateEngine, renderEmail } from '../mail/templates.ts';
import { EMAIL_PROVIDER_SETTING, defaultFromAddress } from '../mail/transport.ts';
import type { Services } from '../services.ts';
import type { EmailProvider } from '../store/types.ts';
import { artifactId } from './artifacts.ts';
import { randomSecret } from './crypto.ts';
import type { AuthMethod } from './client-auth.ts';
import { type RequestContext, makeLog, passwordlessFields } from './logs.ts';
import { type Client, PASSWORDLESS_OTP_GRANT } from './model.ts';
import { reserveIdentifierStart } from './identifier-limits.ts';
import { newCode, otpSettings } from './otp.ts';
import { decideStart } from './start-policy.ts';
import { publicAuthParams, rememberedParams } from './start-params.ts';
import { startSms } from './sms-start.ts';

export type Send = 'code' | 'link' | 'link_ios' | 'link_android';

/** How a start call proved it acts for the client: a client credential, or a live /authorize transaction's `state`. */
export type StartAuth = AuthMethod | 'transaction_state' | null;

export interface StartInput {
  client: Client;
  auth: StartAuth;
  connection: string;
  /** Required for email connections; checked in Auth0's order, after the connection (spec §1.4). */
  email: string | undefined;
  /** Required for sms connections: already normalised to E.164 (src/core/phone.ts). */
  phone?: { e164: string; country: string | undefined } | undefined;
  /** Omitted = the channel's default: `link` for email (API-PL), `code` for SMS (the only one). */
  send: Send | undefined;
  /** authParams as sent (spec §1.1); the ones worth keeping are remembered with the code. */
  authParams: Record<string, unknown>;
  /** The /authorize transaction (its token) this start belongs to: binds magic links to its browser. */
  transaction?: string | undefined;
  language?: string | undefined;
  ctx: RequestContext;
}

/**
 * The passwordless start (spec §1, §2), shared by POST /passwordless/start and the hosted login
 * page: the migration rule, grant and connection checks, then the code or link, its message and the
 * logs in one transaction. Returns the transaction id Auth0 answers as `_id` (and an SMS start's E.164 number).
 */
export async function startPasswordless(s: Services, engine: TemplateEngine, input: StartInput): Promise<{ _id: string; phone_number?: string }> {
  const { client, ctx } = input;
  const now = s.now();
  const [conn, tenant] = await Promise.all([s.store.getConnectionByName(input.connection), s.store.getTenantSettings()]);
  if (!conn) throw badRequest('bad.connection', 'Connection does not exist');
  if (conn.strategy !== 'email' && conn.strategy !== 'sms') {
    throw badRequest('bad.connection', 'Invalid connection strategy. It must either be a passwordless connection');
  }
  const decision = decideStart(client, input.auth, tenant.flags ?? {}, conn, ctx, now);
  if (!decision.allowed) throw clientAuthRequired();
  // The OTP grant governs codes exchanged at /oauth/token. A login page's start (transaction state)
  // ends at /authorize, whose own grant (authorization_code or implicit) was checked there.
  if (input.auth !== 'transaction_state' && !client.grant_types.includes(PASSWORDLESS_OTP_GRANT)) throw grantNotAllowed(PASSWORDLESS_OTP_GRANT);
  if (!(await s.store.isConnectionEnabled(conn.id, client.client_id))) throw badRequest('bad.connection', 'Connection is disabled');
  if (conn.strategy === 'sms') {
    const remembered = rememberedParams(input.authParams);
    // Lock on a login page on this host finishes an SMS code as it does an email code: auth0-js
    // `passwordlessVerify` sends the browser to /passwordless/verify_redirect, which completes the
    // /authorize transaction the code is bound to (spec §3.4).
    if (input.transaction) remembered.tx = artifactId(s, 'transaction', input.transaction);
    return startSms(s, engine, input, conn, tenant, decision.depnote, remembered, publicAuthParams(input.authParams));
  }

  if (input.email === undefined) throw badRequest('bad.email', 'Missing required property: email');
  const email = input.email;
  const send: Send = input.send ?? 'link';
  const isLink = send !== 'code';
  const identifier = email.toLowerCase();
  const transactionId = randomBytes(12).toString('hex');
  // Issue 4 §4: a blocked user is sent nothing, and the answer is the usual 200 so the endpoint does
  // not reveal who is blocked. One indexed read on (connection, email), only once the request is
  // valid; the `f` log ("Failed Login", description "user is blocked") says why nothing was sent.
  // Issue 10 §2: codes per identifier from any IP; a refused start sends nothing (429). Reserved at
  // the same time as the lookup, for blocked users too: one round trip less per start (issue 13),
  // and a blocked user's starts meet the same cap as anyone's, so a 429 tells nothing either.
  const [existing] = await Promise.all([
    s.store.findUserByEmail(conn.name, identifier),
    reserveIdentifierStart(s, client, conn, identifier, ctx, now),
  ]);
  if (existing?.blocked) {
    // The call itself may still be non-compliant: its depnote is written all the same.
    await s.store.appendLogs([...(decision.depnote ? [decision.depnote] : []), makeLog('f', ctx, {
      ...passwordlessFields(client, conn),
      description: 'user is blocked',
      user_id: existing.user_id,
      user_name: email,
      details: { transaction_id: transactionId, send, error: { message: 'user is blocked: no code or link was sent' } },
    }, now)]);
    return { _id: transactionId };
  }
  const key = { connection_id: conn.id, identifier, client_id: client.client_id };
  const params = rememberedParams(input.authParams);
  if (input.transaction) params.tx = artifactId(s, 'transaction', input.transaction);
  if (isLink) params.link = '1';
  // A link's code is never typed: 256 bits instead of digits, so it cannot be guessed at all.
  const { code, record } = newCode(s, key, otpSettings(conn), params, isLink ? randomSecret() : undefined);
  const link = isLink ? magicLink(s.issuer, client, conn.name, email, code, params, input.transaction) : undefined;
  const provider = await s.store.getSetting<EmailProvider>(EMAIL_PROVIDER_SETTING);
  const message = await renderEmail(
    engine,
    conn.options.email as Parameters<typeof renderEmail>[1],
    {
      ...(isLink ? { link } : { code }),
      send,
      application: { name: client.name },
      request_language: input.language,
      connection: { name: conn.name },
      operation: null,
      email,
      expires_in_minutes: Math.round((record.expires_at - record.created_at) / 60_000),
    },
    defaultFromAddress(provider, s.config),
  );
  const body = {
    client_id: client.client_id, connection: conn.name, email, send,
    authParams: publicAuthParams(input.authParams), request_language: input.language ?? null, ip: ctx.ip, 'user-agent': ctx.user_agent ?? null,
  };
  // LOGCODES: `cs` for a code, `cls` for a link; neither ever holds the code or the link.
  const sent = makeLog(isLink ? 'cls' : 'cs', ctx, {
    ...passwordlessFields(client, conn),
    user_name: email,
    details: { body, transaction_id: transactionId, authenticated_with: input.auth ?? 'none' },
  }, now);
  await s.store.issueCode(
    record,
    { channel: 'email', recipient: email, payload: JSON.stringify(message), meta: { client_id: client.client_id, client_name: client.name, connection: conn.name, email_type: 'passwordless' } },
    decision.depnote ? [decision.depnote, sent] : [sent],
  );
  s.mail.wake();
  return { _id: transactionId };
}

/**
 * The magic link (spec §3.5): `/passwordless/verify_redirect` with the client, connection, email,
 * code and the auth params. A browser sign-in's link carries the transaction as `state`.
 */
function magicLink(issuer: string, client: Client, connection: string, email: string, code: string, params: Record<string, string>, tx: string | undefined): string {
  const q = new URLSearchParams();
  for (const k of ['scope', 'response_type', 'redirect_uri', 'audience', 'nonce', 'response_mode']) if (params[k] !== undefined) q.set(k, params[k]);
  if (tx !== undefined) q.set('state', tx);
  else if (params.state !== undefined) q.set('state', params.state);
  q.set('verification_code', code);
  q.set('connection', connection);
  q.set('client_id', client.client_id);
  q.set('email', email);
  return `${issuer}passwordless/verify_redirect?${q.toString()}`;
}
