import type { FastifyReply, FastifyRequest } from 'fastify';
import { TTL } from '../../core/artifacts.ts';
import { makeLog } from '../../core/logs.ts';
import { startPasswordless } from '../../core/passwordless.ts';
import { hitHourly } from '../../core/rate-limit.ts';
import { OAuthError } from '../../errors/oauth-error.ts';
import { PageError } from '../../errors/page-error.ts';
import type { TemplateEngine } from '../../mail/templates.ts';
import type { Services } from '../../services.ts';
import { requestLanguage } from '../auth/start-request.ts';
import { requestContext } from '../request-context.ts';
import { pageError } from './error-page.ts';
import type { LoginContext } from './login-transaction.ts';

/** Issue 3 §2: a new email at most every 30 s per transaction (resend, or a double-submitted form). */
export const RESEND_COOLDOWN_MS = 30_000;

export type Sent = 'sent' | 'sent_already';

/**
 * Sends the code or link of the hosted page and records it on the transaction. The start is
 * authenticated by the transaction itself (spec §2.1: `transaction_state`), so a confidential app
 * signing in through the page never leaves a depnote, flag on or off.
 *
 * Returns 'sent_already' for a request that raced another one after the same previous send (a
 * double-clicked submit): only one of them sends, so the first email's code is not replaced by a
 * second one. (Sequential repeats are the caller's business: it knows `sent_at`.)
 */
export async function sendFromPage(
  s: Services, engine: TemplateEngine, req: FastifyRequest, reply: FastifyReply, ctx: LoginContext, email: string, send: 'code' | 'link',
): Promise<Sent> {
  const rc = requestContext(req);
  await limitPerIp(s, reply, rc, ctx);
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
      email,
      connection: ctx.connection.name,
      language: requestLanguage(ctx.tx.params.ui_locales?.split(' ')[0], req.headers['accept-language']),
      ctx: rc,
    });
  } catch (err) {
    // Nothing was sent: give the claim back (a counter in another window starts over), so that a
    // retry after fixing the cause is not mistaken for a duplicate.
    await s.store.hitRateLimit(key, -1, TTL.transaction);
    // The connection or client does not allow this sign-in (disabled connection, grant not
    // allowed): a configuration problem the person cannot fix, shown as a page, not JSON.
    if (err instanceof OAuthError) throw new PageError(err.status, err.error, err.error_description);
    throw err;
  }
  if (!(await s.store.updateArtifact('transaction', ctx.txId, { ...ctx.tx, email, sent_with: send, sent_at: now }, now))) {
    throw pageError(400, 'login_expired');
  }
  return 'sent';
}

/** The page's sends count against the same per-IP hourly budget as /passwordless/start (spec §7). */
async function limitPerIp(s: Services, reply: FastifyReply, rc: ReturnType<typeof requestContext>, ctx: LoginContext): Promise<void> {
  if (s.config.startLimitPerHour <= 0) return;
  const now = s.now();
  const limit = await hitHourly(s.store, `start:${rc.ip}`, s.config.startLimitPerHour, now);
  if (!limit.exceeded) return;
  if (limit.firstExceeded) {
    await s.store.appendLogs([makeLog('api_limit', rc, {
      client_id: ctx.client.client_id,
      client_name: ctx.client.name,
      details: { limit: { bucket: 'passwordless-start-per-ip', size: limit.limit }, request: { method: 'POST', path: '/login' } },
    }, now)]);
  }
  reply.header('retry-after', String(Math.max(1, limit.reset - Math.floor(now / 1000))));
  throw pageError(429, 'too_many_requests');
}
