import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type TransactionDoc, artifactId } from '../../core/artifacts.ts';
import { AuthorizeError, errorResponse } from '../../core/authorize.ts';
import { makeLog, passwordlessFields } from '../../core/logs.ts';
import { TOO_MANY_ATTEMPTS } from '../../core/brute-force.ts';
import { OTP_ERRORS, verifyCode } from '../../core/otp.ts';
import { effectiveFraudGuards } from '../../core/fraud-guards.ts';
import { PHONE_PATTERN_ERROR, formatInternational, isPhoneCountry, normalizePhone, normalizeTypedPhone } from '../../core/phone.ts';
import { badRequest } from '../../errors/oauth-error.ts';
import type { TemplateEngine } from '../../mail/templates.ts';
import type { Services } from '../../services.ts';
import { sendAuthorizationResponse } from '../auth/authorization-response.ts';
import { requestContext } from '../request-context.ts';
import { pageError } from './error-page.ts';
import { finishSignIn } from './finish.ts';
import { customLoginHtml, sendCustomLoginPage } from './custom-login.ts';
import { type PhoneRefusal, type Recipient, RESEND_COOLDOWN_MS, sendFromPage } from './login-send.ts';
import { type LoginContext, checkForm, formField, loadLogin, methodsOf, wordsOf } from './login-transaction.ts';
import {
  type LoginMessage, type Message, type View, codeView, doneView, emailView, linkSentView, loginUrl, phoneView,
} from './login-views.ts';
import { sendPage } from './page-context.ts';
import { defaultCountry, listedCountries } from './phone-step.ts';

// WHATWG HTML's valid-email-address production (what <input type=email> accepts), as /passwordless/start checks it.
const EMAIL = /^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;

type Query = Record<string, unknown>;
const show = (reply: FastifyReply, ctx: LoginContext, view: View, status = 200) => sendPage(reply, status, { lang: ctx.lang, chrome: ctx.chrome, ...view });
const form = (ctx: LoginContext) => ({ state: ctx.state, csrf: ctx.tx.csrf });
/** See other (RFC 9110 §15.4.4): after a POST, the browser GETs the next step (no resubmission on reload). */
const next = (reply: FastifyReply, url: string) => reply.header('cache-control', 'no-store').redirect(url, 303);
const isSms = (ctx: LoginContext) => ctx.connection.strategy === 'sms';
const codeWords = (ctx: LoginContext) => wordsOf(ctx, isSms(ctx) ? 'login-passwordless-sms-otp' : 'login-passwordless-email-code');

/** Where the code of this transaction went, as the code page names it; undefined before the first send. */
type SentTo = { email: string } | { phone: string };
function sentTo(ctx: LoginContext): SentTo | undefined {
  if (isSms(ctx)) return ctx.tx.phone ? { phone: ctx.tx.phone } : undefined;
  return ctx.tx.email ? { email: ctx.tx.email } : undefined;
}
/** A number stored on the transaction is E.164 already; its region is read again for the country guard. */
function recipient(to: SentTo): Recipient {
  if ('email' in to) return to;
  const parsed = normalizePhone(to.phone);
  return { phone: { e164: to.phone, country: parsed.ok ? parsed.country : undefined } };
}

/**
 * The hosted login page (issue 3 §2), reached from /authorize with the transaction's token as
 * `state`: email → code (or "check your inbox" for a link) → the application's callback; for an
 * sms connection, phone number → code → the callback (no links by text). Server-rendered and
 * complete without JavaScript for the code path.
 */
export function registerLogin(app: FastifyInstance, s: Services, engine: TemplateEngine): void {
  app.get('/login', async (req, reply) => {
    const ctx = await loadLogin(s, req, (req.query as Query).state, { open: false });
    if (ctx.tx.completed_at !== undefined) return show(reply, ctx, doneView({ lang: ctx.lang }));
    const custom = customLoginHtml(ctx.client, await s.store.getTenantSettings());
    if (custom !== undefined) return sendCustomLoginPage(s, reply, ctx, custom);
    return show(reply, ctx, isSms(ctx) ? await phoneForm(s, req, ctx) : emailForm(ctx));
  });

  app.post('/login/email', async (req, reply) => {
    const ctx = await loadLogin(s, req, formField(req.body, 'state'), { open: true });
    checkForm(s, req, ctx);
    // A form of the other step (an old tab): the page shows the step this connection has.
    if (isSms(ctx)) return next(reply, loginUrl('', ctx.state));
    const email = (formField(req.body, 'email') ?? '').trim();
    if (email.length > 254 || !EMAIL.test(email)) return show(reply, ctx, emailForm(ctx, { email, error: 'invalid_email' }), 400);
    const methods = methodsOf(ctx.connection);
    const asked = formField(req.body, 'send');
    const send = methods === 'both' ? asked : methods;
    if (send !== 'code' && send !== 'link') return show(reply, ctx, emailForm(ctx, { email, error: 'invalid_send' }), 400);
    const { tx } = ctx;
    // The same address and method again within the cooldown (a double submit, the back button):
    // the email already on its way stays the valid one.
    const repeat = tx.email === email && tx.sent_with === send && tx.sent_at !== undefined && s.now() - tx.sent_at < RESEND_COOLDOWN_MS;
    if (!repeat) await sendFromPage(s, engine, req, reply, ctx, { email }, send);
    return next(reply, loginUrl(send === 'code' ? '/code' : '/link', ctx.state));
  });

  /**
   * The phone step of an sms connection (issue 5 follow-up): the number as people type it, checked
   * and normalised as /passwordless/start does (src/core/phone.ts), then a code by text message.
   * Every refusal is the same form again with the reason in the page's language.
   */
  app.post('/login/phone', async (req, reply) => {
    const ctx = await loadLogin(s, req, formField(req.body, 'state'), { open: true });
    checkForm(s, req, ctx);
    if (!isSms(ctx)) return next(reply, loginUrl('', ctx.state));
    const typed = (formField(req.body, 'phone_number') ?? '').trim();
    const chosen = formField(req.body, 'country');
    const country = chosen !== undefined && isPhoneCountry(chosen) ? chosen : undefined;
    const parsed = typed.length > 64 ? ({ ok: false, description: PHONE_PATTERN_ERROR } as const) : normalizeTypedPhone(typed, country);
    if (!parsed.ok) {
      const error = parsed.description === PHONE_PATTERN_ERROR ? 'invalid_phone_format' : 'invalid_phone';
      return show(reply, ctx, await phoneForm(s, req, ctx, { phone: typed.slice(0, 64), error, country }), 400);
    }
    const { tx } = ctx;
    // The same number again within the cooldown (a double submit, the back button): the text
    // already on its way stays the valid one.
    const repeat = tx.phone === parsed.e164 && tx.sent_at !== undefined && s.now() - tx.sent_at < RESEND_COOLDOWN_MS;
    if (!repeat) {
      const sent = await sendFromPage(s, engine, req, reply, ctx, { phone: { e164: parsed.e164, country: parsed.country } }, 'code');
      if (typeof sent === 'object') return show(reply, ctx, await phoneForm(s, req, ctx, { phone: typed, error: refusalMessage(reply, sent), country }), sent.status);
    }
    return next(reply, loginUrl('/code', ctx.state));
  });

  app.get('/login/code', async (req, reply) => {
    const q = req.query as Query;
    const ctx = await loadLogin(s, req, q.state, { open: false });
    if (ctx.tx.completed_at !== undefined) return show(reply, ctx, doneView({ lang: ctx.lang }));
    const to = sentTo(ctx);
    if (!to) return next(reply, loginUrl('', ctx.state));
    if (ctx.tx.sent_with === 'link') return next(reply, loginUrl('/link', ctx.state));
    return show(reply, ctx, codeView(codeWords(ctx), { ...form(ctx), ...to, resent: q.resent === '1' }));
  });

  app.get('/login/link', async (req, reply) => {
    const q = req.query as Query;
    const ctx = await loadLogin(s, req, q.state, { open: false });
    if (ctx.tx.completed_at !== undefined) return show(reply, ctx, doneView({ lang: ctx.lang }));
    if (!ctx.tx.email) return next(reply, loginUrl('', ctx.state));
    if (ctx.tx.sent_with !== 'link') return next(reply, loginUrl('/code', ctx.state));
    return show(reply, ctx, linkSentView(wordsOf(ctx, 'login-passwordless-email-link'), { ...form(ctx), email: ctx.tx.email, resent: q.resent === '1' }));
  });

  app.post('/login/code', async (req, reply) => {
    const ctx = await loadLogin(s, req, formField(req.body, 'state'), { open: true });
    checkForm(s, req, ctx);
    const to = sentTo(ctx);
    if (!to || !ctx.tx.sent_with) return next(reply, loginUrl('', ctx.state));
    if (formField(req.body, 'action') === 'resend') return resend(s, engine, req, reply, ctx, to, ctx.tx.sent_with);
    return verify(s, req, reply, ctx, to, formField(req.body, 'code'));
  });

  /**
   * The phone step's live preview (issue 11): the number in international form exactly when
   * POST /login/phone would take it, else null. Read-only, for a live transaction only.
   */
  app.get('/login/phone/preview', async (req, reply) => {
    const q = req.query as Query;
    await liveTransaction(s, q.state);
    const typed = typeof q.phone_number === 'string' && q.phone_number.length <= 64 ? q.phone_number : '';
    const country = typeof q.country === 'string' && isPhoneCountry(q.country) ? q.country : undefined;
    const parsed = normalizeTypedPhone(typed, country);
    reply.header('cache-control', 'no-store');
    return { international: parsed.ok ? formatInternational(parsed.e164) : null };
  });

  /** Polled by the "check your inbox" page: has the link tab (or a relay code) finished the sign-in? */
  app.get('/login/status', async (req, reply) => {
    const found = await liveTransaction(s, (req.query as Query).state);
    reply.header('cache-control', 'no-store');
    return { status: found.doc.completed_at !== undefined ? 'done' : 'pending' };
  });
}

/** The transaction a page script asks about (JSON answers: the script, not a person, reads them). */
async function liveTransaction(s: Services, state: unknown) {
  const found = typeof state === 'string' && state.length <= 128
    ? await s.store.getArtifact<TransactionDoc>('transaction', artifactId(s, 'transaction', state), s.now())
    : undefined;
  if (!found) throw badRequest('invalid_request', 'Unknown or expired sign-in');
  return found;
}

function emailForm(ctx: LoginContext, f: { email?: string; error?: LoginMessage } = {}): View {
  const methods = methodsOf(ctx.connection);
  const send = ctx.tx.sent_with ?? ctx.tx.params.send ?? 'code';
  const email = f.email ?? ctx.tx.email ?? ctx.tx.params.login_hint?.slice(0, 254);
  return emailView(wordsOf(ctx, 'login'), { ...form(ctx), app: ctx.client.name, methods, send, ...(email !== undefined ? { email } : {}), ...(f.error ? { error: f.error } : {}) });
}

/**
 * The phone step. The country list is what the connection allows; the country chosen is the one
 * posted, else the default (phone-step.ts: the only allowed one, the tenant's, the browser's).
 */
async function phoneForm(s: Services, req: FastifyRequest, ctx: LoginContext, f: { phone?: string; error?: Message; country?: string | undefined } = {}): Promise<View> {
  // login_hint pre-fills the number when it looks like one (an app may pass the number it knows).
  const hint = ctx.tx.params.login_hint;
  const phone = f.phone ?? ctx.tx.phone ?? (hint !== undefined && /^\+[0-9 ().-]{1,31}$/.test(hint) ? hint : undefined);
  const countries = listedCountries(effectiveFraudGuards(ctx.connection.options).allowed_countries);
  const tenant = await s.store.getTenantSettings();
  const country = f.country !== undefined && countries.includes(f.country) ? f.country : defaultCountry(countries, tenant.default_phone_country, req.headers['accept-language']);
  return phoneView(wordsOf(ctx, 'login'), {
    ...form(ctx), app: ctx.client.name, countries, country, previewUrl: `/login/phone/preview?${new URLSearchParams({ state: ctx.state })}`,
    ...(phone !== undefined ? { phone } : {}), ...(f.error ? { error: f.error } : {}),
  });
}

/** A refused text in the page's words; a tripped guard's Retry-After goes on the page's 429 and, in minutes, into its text. */
function refusalMessage(reply: FastifyReply, r: PhoneRefusal): Message {
  if (r.retryAfter === undefined) return r.refused;
  reply.header('retry-after', String(r.retryAfter));
  return { key: 'too_many_codes_wait', vars: { minutes: Math.max(1, Math.ceil(r.retryAfter / 60)) } };
}

/**
 * "Send a new code/link": at most every 30 s per transaction, then like the first send. Sooner is a
 * 429: the error page for email (as before), the code page with the reason for a text, whose other
 * refusals (guards, provider) are shown there too.
 */
async function resend(s: Services, engine: TemplateEngine, req: FastifyRequest, reply: FastifyReply, ctx: LoginContext, to: SentTo, send: 'code' | 'link') {
  const wait = (ctx.tx.sent_at ?? 0) + RESEND_COOLDOWN_MS - s.now();
  const onCodePage = (error: Message, status: number) => show(reply, ctx, codeView(codeWords(ctx), { ...form(ctx), ...to, error }), status);
  const tooSoon = () => {
    reply.header('retry-after', String(Math.max(1, Math.ceil(wait / 1000))));
    if ('phone' in to) return onCodePage('resend_too_soon_sms', 429);
    throw pageError(429, 'resend_too_soon');
  };
  if (wait > 0) return tooSoon();
  const sent = await sendFromPage(s, engine, req, reply, ctx, recipient(to), send);
  if (sent === 'sent_already') return tooSoon();
  if (typeof sent === 'object') return onCodePage(refusalMessage(reply, sent), sent.status);
  return next(reply, loginUrl(send === 'code' ? '/code' : '/link', ctx.state, { resent: '1' }));
}

const FAILURES = { wrong: 'wrong_code', exhausted: 'exhausted', expired: 'expired_code', blocked: 'blocked' } as const;

/** Checks the code (atomic attempt + constant-time compare + consume) and finishes the sign-in. */
async function verify(s: Services, req: FastifyRequest, reply: FastifyReply, ctx: LoginContext, to: SentTo, raw: string | undefined) {
  // People paste codes with spaces ("123 456"); the code itself is digits only.
  const code = (raw ?? '').replace(/\s+/g, '');
  const sms = 'phone' in to;
  const again = (error: LoginMessage) => show(reply, ctx, codeView(codeWords(ctx), { ...form(ctx), ...to, error }), 400);
  if (!code) return again(sms ? 'missing_code_sms' : 'missing_code');
  const rc = requestContext(req);
  // The code's key: the lower-cased address, or the E.164 number (as startPasswordless stored it).
  const identifier = 'phone' in to ? to.phone : to.email.toLowerCase();
  const result = code.length > 64
    ? ({ ok: false, reason: 'wrong' } as const)
    : await verifyCode(s, { connection_id: ctx.connection.id, identifier, client_id: ctx.client.client_id }, code, { ctx: rc, client: ctx.client, connection: ctx.connection });
  if (!result.ok) {
    // The page says what to do next; a text's code points at the latest text message.
    const message = sms && result.reason === 'wrong' ? 'wrong_code_sms' : FAILURES[result.reason];
    // Brute-force protection (spec §7, BFP): a blocked pair gets 429 and the page says why.
    const blocked = result.reason === 'blocked';
    // Auth0's byte-exact English strings in the log (spec §3.3), whatever the page says.
    const r = result.reason;
    const description = r === 'blocked' ? TOO_MANY_ATTEMPTS : r === 'wrong' ? OTP_ERRORS.wrong[sms ? 'sms' : 'email'] : OTP_ERRORS[r];
    await s.store.appendLogs([makeLog('f', rc, {
      ...passwordlessFields(ctx.client, ctx.connection), user_name: identifier, description,
      details: { error: { message: description, oauthError: blocked ? 'too_many_attempts' : 'invalid_grant' } },
    }, s.now())]);
    return blocked ? show(reply, ctx, codeView(codeWords(ctx), { ...form(ctx), ...to, error: message }), 429) : again(message);
  }
  try {
    return await finishSignIn(s, reply, { txId: ctx.txId, tx: ctx.tx, client: ctx.client, connection: ctx.connection, identifier, ctx: rc });
  } catch (err) {
    if (err instanceof AuthorizeError) return sendAuthorizationResponse(reply, errorResponse(ctx.tx.params, err));
    throw err;
  }
}
