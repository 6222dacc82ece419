import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type TransactionDoc, artifactId } from '../../core/artifacts.ts';
import { AuthorizeError, errorResponse } from '../../core/authorize.ts';
import { makeLog, passwordlessFields } from '../../core/logs.ts';
import { TOO_MANY_ATTEMPTS } from '../../core/brute-force.ts';
import { verifyCode } from '../../core/otp.ts';
import { badRequest } from '../../errors/oauth-error.ts';
import type { TemplateEngine } from '../../mail/templates.ts';
import type { Services } from '../../services.ts';
import { sendAuthorizationResponse } from '../auth/authorization-response.ts';
import { requestContext } from '../request-context.ts';
import { pageError } from './error-page.ts';
import { finishSignIn } from './finish.ts';
import { customLoginHtml, sendCustomLoginPage } from './custom-login.ts';
import { RESEND_COOLDOWN_MS, sendFromPage } from './login-send.ts';
import { type LoginContext, checkForm, formField, loadLogin, methodsOf } from './login-transaction.ts';
import { type LoginMessage, type View, codeView, doneView, emailView, linkSentView, loginText, loginUrl } from './login-views.ts';
import { sendPage } from './page-context.ts';

// WHATWG HTML's valid-email-address production (what <input type=email> accepts), as /passwordless/start checks it.
const EMAIL = /^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;

type Query = Record<string, unknown>;
const show = (reply: FastifyReply, ctx: LoginContext, view: View, status = 200) => sendPage(reply, status, { lang: ctx.lang, chrome: ctx.chrome, ...view });
const form = (ctx: LoginContext) => ({ state: ctx.state, csrf: ctx.tx.csrf });
/** See other (RFC 9110 §15.4.4): after a POST, the browser GETs the next step (no resubmission on reload). */
const next = (reply: FastifyReply, url: string) => reply.header('cache-control', 'no-store').redirect(url, 303);

/**
 * The hosted login page (issue 3 §2), reached from /authorize with the transaction's token as
 * `state`: email → code (or "check your inbox" for a link) → the application's callback.
 * Server-rendered and complete without JavaScript for the code path.
 */
export function registerLogin(app: FastifyInstance, s: Services, engine: TemplateEngine): void {
  app.get('/login', async (req, reply) => {
    const ctx = await loadLogin(s, req, (req.query as Query).state, { open: false });
    if (ctx.tx.completed_at !== undefined) return show(reply, ctx, doneView(ctx.lang));
    const custom = customLoginHtml(ctx.client, await s.store.getTenantSettings());
    if (custom !== undefined) return sendCustomLoginPage(s, reply, ctx, custom);
    return show(reply, ctx, emailForm(ctx));
  });

  app.post('/login/email', async (req, reply) => {
    const ctx = await loadLogin(s, req, formField(req.body, 'state'), { open: true });
    checkForm(s, req, ctx);
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
    if (!repeat) await sendFromPage(s, engine, req, reply, ctx, email, send);
    return next(reply, loginUrl(send === 'code' ? '/code' : '/link', ctx.state));
  });

  app.get('/login/code', async (req, reply) => {
    const q = req.query as Query;
    const ctx = await loadLogin(s, req, q.state, { open: false });
    if (ctx.tx.completed_at !== undefined) return show(reply, ctx, doneView(ctx.lang));
    if (!ctx.tx.email) return next(reply, loginUrl('', ctx.state));
    if (ctx.tx.sent_with === 'link') return next(reply, loginUrl('/link', ctx.state));
    return show(reply, ctx, codeView(ctx.lang, { ...form(ctx), email: ctx.tx.email, resent: q.resent === '1' }));
  });

  app.get('/login/link', async (req, reply) => {
    const q = req.query as Query;
    const ctx = await loadLogin(s, req, q.state, { open: false });
    if (ctx.tx.completed_at !== undefined) return show(reply, ctx, doneView(ctx.lang));
    if (!ctx.tx.email) return next(reply, loginUrl('', ctx.state));
    if (ctx.tx.sent_with !== 'link') return next(reply, loginUrl('/code', ctx.state));
    return show(reply, ctx, linkSentView(ctx.lang, { ...form(ctx), email: ctx.tx.email, resent: q.resent === '1' }));
  });

  app.post('/login/code', async (req, reply) => {
    const ctx = await loadLogin(s, req, formField(req.body, 'state'), { open: true });
    checkForm(s, req, ctx);
    const { tx } = ctx;
    if (!tx.email || !tx.sent_with) return next(reply, loginUrl('', ctx.state));
    if (formField(req.body, 'action') === 'resend') return resend(s, engine, req, reply, ctx, tx.email, tx.sent_with);
    return verify(s, req, reply, ctx, tx.email, formField(req.body, 'code'));
  });

  /** Polled by the "check your inbox" page: has the link tab (or a relay code) finished the sign-in? */
  app.get('/login/status', async (req, reply) => {
    const state = (req.query as Query).state;
    const found = typeof state === 'string' && state.length <= 128
      ? await s.store.getArtifact<TransactionDoc>('transaction', artifactId(s, 'transaction', state), s.now())
      : undefined;
    if (!found) throw badRequest('invalid_request', 'Unknown or expired sign-in');
    reply.header('cache-control', 'no-store');
    return { status: found.doc.completed_at !== undefined ? 'done' : 'pending' };
  });
}

function emailForm(ctx: LoginContext, f: { email?: string; error?: LoginMessage } = {}): View {
  const methods = methodsOf(ctx.connection);
  const send = ctx.tx.sent_with ?? ctx.tx.params.send ?? 'code';
  const email = f.email ?? ctx.tx.email ?? ctx.tx.params.login_hint?.slice(0, 254);
  return emailView(ctx.lang, { ...form(ctx), app: ctx.client.name, methods, send, ...(email !== undefined ? { email } : {}), ...(f.error ? { error: f.error } : {}) });
}

/** "Send a new code/link": at most every 30 s per transaction (sooner → 429 page), then like the first send. */
async function resend(s: Services, engine: TemplateEngine, req: FastifyRequest, reply: FastifyReply, ctx: LoginContext, email: string, send: 'code' | 'link') {
  const wait = (ctx.tx.sent_at ?? 0) + RESEND_COOLDOWN_MS - s.now();
  const tooSoon = () => {
    reply.header('retry-after', String(Math.max(1, Math.ceil(wait / 1000))));
    return pageError(429, 'resend_too_soon');
  };
  if (wait > 0) throw tooSoon();
  if ((await sendFromPage(s, engine, req, reply, ctx, email, send)) === 'sent_already') throw tooSoon();
  return next(reply, loginUrl(send === 'code' ? '/code' : '/link', ctx.state, { resent: '1' }));
}

const FAILURES = { wrong: 'wrong_code', exhausted: 'exhausted', expired: 'expired_code', blocked: 'blocked' } as const;

/** Checks the code (atomic attempt + constant-time compare + consume) and finishes the sign-in. */
async function verify(s: Services, req: FastifyRequest, reply: FastifyReply, ctx: LoginContext, email: string, raw: string | undefined) {
  // People paste codes with spaces ("123 456"); the code itself is digits only.
  const code = (raw ?? '').replace(/\s+/g, '');
  const again = (error: LoginMessage) => show(reply, ctx, codeView(ctx.lang, { ...form(ctx), email, error }), 400);
  if (!code) return again('missing_code');
  const rc = requestContext(req);
  const identifier = email.toLowerCase();
  const result = code.length > 64
    ? ({ ok: false, reason: 'wrong' } as const)
    : await verifyCode(s, { connection_id: ctx.connection.id, identifier, client_id: ctx.client.client_id }, code, { ctx: rc, client: ctx.client, connection: ctx.connection });
  if (!result.ok) {
    const message = FAILURES[result.reason];
    // Brute-force protection (spec §7, BFP): a blocked pair gets 429 and the page says why.
    const blocked = result.reason === 'blocked';
    // Auth0's English strings in the log (spec §3.3), whatever the page's language.
    const description = blocked ? TOO_MANY_ATTEMPTS : loginText('en', message);
    await s.store.appendLogs([makeLog('f', rc, {
      ...passwordlessFields(ctx.client, ctx.connection), user_name: identifier, description,
      details: { error: { message: description, oauthError: blocked ? 'too_many_attempts' : 'invalid_grant' } },
    }, s.now())]);
    return blocked ? show(reply, ctx, codeView(ctx.lang, { ...form(ctx), email, error: message }), 429) : again(message);
  }
  try {
    return await finishSignIn(s, reply, { txId: ctx.txId, tx: ctx.tx, client: ctx.client, connection: ctx.connection, identifier, ctx: rc });
  } catch (err) {
    if (err instanceof AuthorizeError) return sendAuthorizationResponse(reply, errorResponse(ctx.tx.params, err));
    throw err;
  }
}
