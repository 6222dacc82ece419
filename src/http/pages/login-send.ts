import type { FastifyReply, FastifyRequest } from 'fastify';
import { TTL } from '../../core/artifacts.ts';
import { effectiveFraudGuards } from '../../core/fraud-guards.ts';
import { makeLog } from '../../core/logs.ts';
import { startPasswordless } from '../../core/passwordless.ts';
import { hitStartBudget } from '../../core/attack-protection.ts';
import type { Connection } from '../../core/model.ts';
import { OAuthError } from '../../errors/oauth-error.ts';
import { PageError } from '../../errors/page-error.ts';
import type { TemplateEngine } from '../../mail/templates.ts';
import type { Services } from '../../services.ts';
import { requestLanguage } from '../auth/start-request.ts';
import { requestContext } from '../request-context.ts';
import { pageError } from './error-page.ts';
import type { LoginContext } from './login-transaction.ts';

/** Issue 3 §2: a new email (or text) at most every 30 s per transaction (resend, or a double-submitted form). */
export const RESEND_COOLDOWN_MS = 30_000;

/** Who the code goes to: an address (email connection) or a number already in E.164 (sms connection, src/core/phone.ts). */
export type Recipient = { email: string } | { phone: { e164: string; country: string | undefined } };

/** Why a text was not sent, as the phone and code pages say it (issue 5 follow-up: errors in the page's language, not JSON). */
export type PhoneProblem = 'invalid_phone_format' | 'invalid_phone' | 'country_not_allowed' | 'too_many_codes' | 'sms_failed';
export interface PhoneRefusal {
  refused: PhoneProblem;
  status: 400 | 429;
  /** Seconds, from the guard's Retry-After (429 only). */
  retryAfter?: number;
}

export type Sent = 'sent' | 'sent_already' | PhoneRefusal;

/**
 * Sends the code or link of the hosted page and records it on the transaction. The start is
 * authenticated by the transaction itself (spec §2.1: `transaction_state`), so a confidential app
 * signing in through the page never leaves a depnote, flag on or off.
 *
 * Returns 'sent_already' for a request that raced another one after the same previous send (a
 * double-clicked submit): only one of them sends, so the first message's code is not replaced by a
 * second one. (Sequential repeats are the caller's business: it knows `sent_at`.) A text that the
 * number, a toll-fraud guard or the provider refused is a PhoneRefusal for the page to show.
 */
export async function sendFromPage(
  s: Services, engine: TemplateEngine, req: FastifyRequest, reply: FastifyReply, ctx: LoginContext, to: Recipient, send: 'code' | 'link',
): Promise<Sent> {
  const rc = requestContext(req);
  const limited = await limitPerIp(s, reply, rc, ctx);
  if (limited !== undefined) {
    if ('phone' in to) return { refused: 'too_many_codes', status: 429, retryAfter: limited };
    throw pageError(429, 'too_many_requests');
  }
  const now = s.now();
  // One claim per observed `sent_at`, counted atomically in the store (never read-then-write):
  // requests that saw the same previous send race for it, and exactly one wins.
  const key = `login-send:${ctx.txId}`;
  const seen = ctx.tx.sent_at ?? 0;
  if ((await s.store.hitRateLimit(key, seen, now - seen + TTL.transaction)) > 1) return 'sent_already';
  try {
    await startPasswordless(s, engine, {
      client: ctx.client,
      auth: 'transaction_state',
      transaction: ctx.state,
      authParams: {},
      send,
      ...('phone' in to ? { email: undefined, phone: to.phone } : { email: to.email }),
      connection: ctx.connection.name,
      language: requestLanguage(ctx.tx.params.ui_locales?.split(' ')[0], req.headers['accept-language']),
      ctx: rc,
    });
  } catch (err) {
    // Nothing was sent: give the claim back (a counter in another window starts over), so that a
    // retry after fixing the cause is not mistaken for a duplicate.
    await s.store.hitRateLimit(key, -1, TTL.transaction);
    if (err instanceof OAuthError && 'phone' in to) {
      const refusal = phoneRefusal(err, to.phone.country, ctx.connection);
      if (refusal) return refusal;
    }
    // The address's own start cap (issue 10 §2, core/identifier-limits.ts), not the network's.
    if (err instanceof OAuthError && err.error === 'too_many_requests') {
      if (err.headers?.['retry-after']) reply.header('retry-after', err.headers['retry-after']);
      throw pageError(429, 'too_many_codes');
    }
    // The connection or client does not allow this sign-in (disabled connection, grant not
    // allowed): a configuration problem the person cannot fix, shown as a page, not JSON.
    if (err instanceof OAuthError) throw new PageError(err.status, err.error, err.error_description);
    throw err;
  }
  const progress = 'phone' in to ? { phone: to.phone.e164 } : { email: to.email };
  if (!(await s.store.updateArtifact('transaction', ctx.txId, { ...ctx.tx, ...progress, sent_with: send, sent_at: now }, now))) {
    throw pageError(400, 'login_expired');
  }
  return 'sent';
}

/**
 * What the person can do about a refused text (issue 5 §2, §4): fix the number, try again later,
 * or try again. The answers are /passwordless/start's (docs/auth0-compat.md "SMS"): `bad.phone_number`
 * for a number its provider refuses (Twilio 21211) or from a region outside `allowed_countries`,
 * `too_many_requests` for a tripped guard, `sms_provider_error` for a failed send.
 */
export function phoneRefusal(err: OAuthError, country: string | undefined, conn: Connection): PhoneRefusal | undefined {
  if (err.error === 'too_many_requests') {
    const retryAfter = Number(err.headers?.['retry-after']);
    return { refused: 'too_many_codes', status: 429, ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfter } : {}) };
  }
  if (err.error === 'sms_provider_error') return { refused: 'sms_failed', status: 400 };
  if (err.error !== 'bad.phone_number') return undefined;
  // The page checked the number's shape first (src/core/phone.ts): a bad.phone_number now is the
  // provider's or the allowed_countries guard's: tell the two apart by the connection's list, not by the text.
  const allowed = effectiveFraudGuards(conn.options).allowed_countries;
  const outside = allowed !== null && (country === undefined || !allowed.includes(country));
  return { refused: outside ? 'country_not_allowed' : 'invalid_phone', status: 400 };
}

/**
 * The page's sends count against the same per-IP hourly budget as /passwordless/start (spec §7).
 * Returns the seconds to wait (and sets Retry-After) once the budget is spent.
 */
async function limitPerIp(s: Services, reply: FastifyReply, rc: ReturnType<typeof requestContext>, ctx: LoginContext): Promise<number | undefined> {
  const now = s.now();
  const limit = await hitStartBudget(s, 'start', rc.ip, now);
  if (!limit?.exceeded) return undefined;
  if (limit.firstExceeded) {
    await s.store.appendLogs([makeLog('api_limit', rc, {
      client_id: ctx.client.client_id,
      client_name: ctx.client.name,
      details: { limit: { bucket: 'passwordless-start-per-ip', size: limit.limit }, request: { method: 'POST', path: '/login' } },
    }, now)]);
  }
  const wait = Math.max(1, limit.reset - Math.floor(now / 1000));
  reply.header('retry-after', String(wait));
  return wait;
}
