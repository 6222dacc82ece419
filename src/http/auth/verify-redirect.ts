import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type TransactionDoc, TTL, artifactId } from '../../core/artifacts.ts';
import { AuthorizeError, authorizationSuccess, createSession, errorResponse, signInUser } from '../../core/authorize.ts';
import { linkAuthorizeParams } from '../../core/link-params.ts';
import { type RequestContext, makeLog, passwordlessFields } from '../../core/logs.ts';
import type { Client, Connection } from '../../core/model.ts';
import { TOO_MANY_ATTEMPTS } from '../../core/brute-force.ts';
import { OTP_ERRORS, checkCode } from '../../core/otp.ts';
import { passwordlessIdentifier } from '../../core/users.ts';
import { createRelay, formatRelay } from '../../core/relay.ts';
import type { Services } from '../../services.ts';
import type { CodeKey, CodeRecord } from '../../store/types.ts';
import { COOKIE, cookieOptions } from '../cookies.ts';
import { finishSignIn } from '../pages/finish.ts';
import { type Locale, negotiateLocale } from '../pages/i18n.ts';
import { LINK_FIELDS, type LinkErrorReason, confirmView, linkConfigView, linkErrorView, otherDeviceView, sendLinkPage } from '../pages/link-views.ts';
import { requestContext } from '../request-context.ts';
import { isSameBrowser } from './authorize.ts';
import { sendAuthorizationResponse } from './authorization-response.ts';

/**
 * The magic link's target (spec §3.5, issue 3 §4). Mail scanners (Outlook Safe Links, Defender…)
 * fetch links before the person does (research/peers.md §4.1), so GET and HEAD only read: they
 * answer a page whose form POSTs the same parameters back. The page submits itself by script in the
 * browser that started the sign-in (it holds the binding cookie) and waits for a click anywhere
 * else. The POST verifies and completes; what the link may do is decided by the code record that
 * /passwordless/start stored, never by the link's query string.
 */
export function registerVerifyRedirect(app: FastifyInstance, s: Services): void {
  // Fastify answers HEAD from this GET route (exposeHeadRoutes): the same reads, no body.
  app.get('/passwordless/verify_redirect', async (req, reply) => {
    let lang = negotiateLocale(undefined, header(req, 'accept-language'));
    const link = readLink(req.query);
    if (!link) return sendLinkPage(s, reply, 400, lang, linkErrorView(lang, 'incomplete'));
    const found = await s.store.getClient(link.client_id);
    if (!found) return sendLinkPage(s, reply, 400, lang, linkErrorView(lang, 'invalid'));
    // Reading the transaction only decides whether the page may submit itself.
    const tx = await transactionOf(s, link);
    const ours = tx && tx.completed_at === undefined ? tx : undefined;
    if (ours) lang = negotiateLocale(ours.params.ui_locales, header(req, 'accept-language'));
    return sendLinkPage(s, reply, 200, lang, confirmView(lang, found.client.name, link.fields, ours !== undefined && isSameBrowser(s, req, ours)));
  });

  app.post('/passwordless/verify_redirect', async (req, reply) => {
    const lang = negotiateLocale(undefined, header(req, 'accept-language'));
    // Login CSRF (issue 10 §4): the fields of a link requested by an attacker for their own address,
    // POSTed from their site, would sign the victim's browser into the attacker's account. The form
    // is Sesame's own confirmation page, so the POST must come from this origin; the GET above
    // stays a read-only page for mail scanners.
    if (!sameOrigin(s, req)) return sendLinkPage(s, reply, 403, lang, linkErrorView(lang, 'cross_site'));
    const link = readLink(req.body);
    if (!link) return sendLinkPage(s, reply, 400, lang, linkErrorView(lang, 'incomplete'));
    const [found, connection] = await Promise.all([s.store.getClient(link.client_id), s.store.getConnectionByName(link.connection)]);
    if (!found || !connection || (connection.strategy !== 'email' && connection.strategy !== 'sms')) return sendLinkPage(s, reply, 400, lang, linkErrorView(lang, 'invalid'));
    // Lock in passwordless mode on a login page on this host checks an SMS code the same way as an
    // email code: auth0-js `passwordlessVerify` POSTs /passwordless/verify, then sends the browser
    // here with `phone_number` (as Lock built it, dial code + national number) instead of `email`.
    const typed = connection.strategy === 'sms' ? link.fields.phone_number : link.email;
    if (typed === undefined) return sendLinkPage(s, reply, 400, lang, linkErrorView(lang, 'incomplete'));
    const identifier = passwordlessIdentifier(connection, typed);
    if (identifier === undefined) return sendLinkPage(s, reply, 400, lang, linkErrorView(lang, 'invalid'));
    const v: Visit = { s, req, reply, lang, client: found.client, connection, userName: identifier, ctx: requestContext(req) };
    const key: CodeKey = { connection_id: connection.id, identifier, client_id: found.client.client_id };

    // A check, not a consumption: a link opened on another device must stay usable in the first
    // browser. The attempt counts like any guess; a right code gets its budget back (core/otp.ts).
    const checked = await checkCode(s, key, link.verification_code, { ctx: v.ctx, client: found.client, connection });
    // Brute-force protection (spec §7, BFP): the pair is blocked; nothing was checked or spent.
    if (!checked.ok && checked.reason === 'blocked') {
      await failureLog(v, LOG_TEXT.blocked);
      return sendLinkPage(s, reply, 429, lang, linkErrorView(lang, 'blocked'));
    }
    if (!checked.ok) {
      // A second submission in the browser that already finished (a double click): say it is done.
      const tx = checked.reason === 'wrong' ? await transactionOf(s, link) : undefined;
      if (tx?.completed_at !== undefined && isSameBrowser(s, req, tx)) {
        const txLang = negotiateLocale(tx.params.ui_locales, header(req, 'accept-language'));
        return sendLinkPage(s, reply, 200, txLang, linkErrorView(txLang, 'done'));
      }
      return refuse(v, checked.reason === 'wrong' ? 'invalid' : checked.reason, LOG_TEXT[checked.reason]);
    }
    return checked.record.params.tx !== undefined ? completeBound(v, key, checked.record, checked.record.params.tx) : completeUnbound(v, key, checked.record);
  });
}

interface Visit {
  s: Services;
  req: FastifyRequest;
  reply: FastifyReply;
  lang: Locale;
  client: Client;
  connection: Connection;
  /** The email (lower-cased) or the E.164 number: the logs' `user_name`. */
  userName: string;
  ctx: RequestContext;
}

const LOG_TEXT = {
  wrong: 'Wrong email or verification code.',
  expired: 'The verification code has expired.',
  exhausted: 'The verification code was tried too many times.',
  blocked: TOO_MANY_ATTEMPTS,
} as const;

/**
 * A link started from an /authorize transaction (the hosted or a custom login page). It completes in
 * the browser that opened the transaction, or anywhere if the tenant allows it (Auth0's
 * `universal_login.passwordless.allow_magiclink_verify_without_session`, default false); elsewhere it
 * shows a relay code for the first tab and consumes nothing.
 */
async function completeBound(v: Visit, key: CodeKey, record: CodeRecord, txId: string): Promise<FastifyReply> {
  const { s } = v;
  const tx = await s.store.getArtifact<TransactionDoc>('transaction', txId, s.now());
  if (!tx || tx.doc.params.client_id !== v.client.client_id) return refuse(v, 'session_expired', 'The sign-in transaction of this link has expired.');
  const lang = negotiateLocale(tx.doc.params.ui_locales, header(v.req, 'accept-language'));
  // Finished already (the code in the first tab, or a relay): nothing to do, and nothing to consume.
  if (tx.doc.completed_at !== undefined) return sendLinkPage(s, v.reply, 200, lang, linkErrorView(lang, 'done'));

  if (!isSameBrowser(s, v.req, tx.doc) && !(await allowedWithoutSession(s))) {
    const relay = await createRelay(s, txId, record);
    await failureLog(v, 'The link must be opened on the same device and browser from which you submitted your email address.');
    const minutes = Math.ceil((record.expires_at - s.now()) / 60_000);
    return sendLinkPage(s, v.reply, 200, lang, otherDeviceView(lang, formatRelay(relay), minutes));
  }
  // Single use: of the link, a relay code and concurrent clicks, exactly one consumes the code.
  if (!(await s.store.consumeCode(key, record.code_hash))) return refuse(v, 'used', 'The link was already used.', lang);
  try {
    return await finishSignIn(s, v.reply, { txId, tx: tx.doc, client: v.client, connection: v.connection, identifier: key.identifier, ctx: v.ctx });
  } catch (err) {
    if (err instanceof AuthorizeError) return sendAuthorizationResponse(v.reply, errorResponse(tx.doc.params, err));
    throw err;
  }
}

/**
 * A link started by an API call (a backend, or an SPA: no transaction, so nothing to bind to): it
 * completes in any browser after the explicit POST, with the request remembered at start.
 */
async function completeUnbound(v: Visit, key: CodeKey, record: CodeRecord): Promise<FastifyReply> {
  const { s, reply } = v;
  const resolved = linkAuthorizeParams(s, v.client, v.connection, record.params);
  if (!resolved.ok) {
    await failureLog(v, `The link's authorization request is invalid (${resolved.problem}).`);
    return sendLinkPage(s, reply, 400, v.lang, linkConfigView(v.lang, v.client.name, resolved.problem));
  }
  const params = resolved.params;
  if (!(await s.store.consumeCode(key, record.code_hash))) return refuse(v, 'used', 'The link was already used.');
  try {
    const signedIn = await signInUser(s, v.client, v.connection, key.identifier, v.ctx);
    const session = await createSession(s, signedIn);
    reply.setCookie(COOKIE.session, session.token, cookieOptions(s, TTL.session));
    const response = await authorizationSuccess(s, params, v.client, { user: signedIn.user, connection: v.connection.name, authTime: signedIn.authTime }, session.sid);
    return sendAuthorizationResponse(reply, response);
  } catch (err) {
    if (err instanceof AuthorizeError) return sendAuthorizationResponse(reply, errorResponse(params, err));
    throw err;
  }
}

/** A refused use of a link: an `f` log (never with the code) and a page that says what to do. */
async function refuse(v: Visit, reason: LinkErrorReason, logText: string, lang = v.lang): Promise<FastifyReply> {
  await failureLog(v, logText);
  return sendLinkPage(v.s, v.reply, 400, lang, linkErrorView(lang, reason));
}

function failureLog(v: Visit, description: string): Promise<void> {
  const sms = v.connection.strategy === 'sms';
  // An SMS code arrives here only from Lock's passwordlessVerify: name it so, with the sms wording (spec §3.3).
  const text = sms && description === LOG_TEXT.wrong ? OTP_ERRORS.wrong.sms : description;
  return v.s.store.appendLogs([makeLog('f', v.ctx, {
    ...passwordlessFields(v.client, v.connection),
    user_name: v.userName,
    description: text,
    details: { error: { message: text }, method: sms ? 'sms_code' : 'magic_link' },
  }, v.s.now())]);
}

/**
 * The Fetch Metadata header (`Sec-Fetch-Site: same-origin`, sent by current browsers to trustworthy
 * origins) or an `Origin` equal to the issuer's or to the origin the request was addressed to.
 * Browsers send `Origin` with every cross-origin POST and with same-origin form POSTs; a request
 * with neither (or `Origin: null`) is refused.
 */
function sameOrigin(s: Services, req: FastifyRequest): boolean {
  const site = header(req, 'sec-fetch-site');
  if (site !== undefined) return site === 'same-origin';
  const origin = header(req, 'origin');
  if (origin === undefined || origin === 'null') return false;
  return origin === new URL(s.issuer).origin || origin === `${req.protocol}://${req.headers.host ?? ''}`;
}

/** The transaction the link's `state` names, if it is one of the link's client (a link of an API start carries the app's state). */
async function transactionOf(s: Services, link: Link): Promise<TransactionDoc | undefined> {
  if (link.state === undefined || link.state.length > 512) return undefined;
  const tx = await s.store.getArtifact<TransactionDoc>('transaction', artifactId(s, 'transaction', link.state), s.now());
  return tx && tx.doc.params.client_id === link.client_id ? tx.doc : undefined;
}

async function allowedWithoutSession(s: Services): Promise<boolean> {
  const ul = (await s.store.getTenantSettings()).universal_login as { passwordless?: { allow_magiclink_verify_without_session?: unknown } } | undefined;
  return ul?.passwordless?.allow_magiclink_verify_without_session === true;
}

interface Link {
  client_id: string;
  connection: string;
  verification_code: string;
  email: string | undefined;
  state: string | undefined;
  /** Every recognised parameter, for the confirm form. */
  fields: Record<string, string>;
}

/** The link's parameters (spec §3.5) from a query or a form body; undefined if a required one is missing. */
function readLink(raw: unknown): Link | undefined {
  if (!raw || typeof raw !== 'object') return undefined;
  const r = raw as Record<string, unknown>;
  const fields: Record<string, string> = {};
  for (const k of LINK_FIELDS) {
    const value = r[k];
    if (typeof value === 'string' && value !== '' && value.length <= 2048) fields[k] = value;
  }
  const { client_id, connection, verification_code } = fields;
  if (!client_id || !connection || !verification_code) return undefined;
  if (client_id.length > 128 || connection.length > 128 || verification_code.length > 128 || (fields.email?.length ?? 0) > 320) return undefined;
  if (fields.email === undefined && fields.phone_number === undefined) return undefined;
  return { client_id, connection, verification_code, email: fields.email, state: fields.state, fields };
}

const header = (req: FastifyRequest, name: string): string | undefined => {
  const v = req.headers[name];
  return typeof v === 'string' ? v : undefined;
};
