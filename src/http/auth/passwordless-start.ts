import type { FastifyInstance, FastifyReply } from 'fastify';
import { authenticateClient } from '../../core/client-auth.ts';
import { type TransactionDoc, artifactId } from '../../core/artifacts.ts';
import { makeLog } from '../../core/logs.ts';
import { type StartAuth, startPasswordless } from '../../core/passwordless.ts';
import { hitStartBudget } from '../../core/attack-protection.ts';
import { OAuthError, badRequest } from '../../errors/oauth-error.ts';
import { createTemplateEngine } from '../../mail/templates.ts';
import type { Services } from '../../services.ts';
import { endUserIp } from '../end-user-ip.ts';
import { requestContext } from '../request-context.ts';
import { parseStartRequest, requestLanguage } from './start-request.ts';

/**
 * POST /passwordless/start (spec §1, §2): validate → authenticate the client → apply the migration
 * rule → per-IP limit → grant and connection checks → code or link, message and logs in one
 * transaction (core/passwordless.ts, shared with the hosted login page).
 */
export function registerPasswordlessStart(app: FastifyInstance, s: Services): void {
  const engine = createTemplateEngine();

  app.post('/passwordless/start', async (req, reply) => {
    const body = parseStartRequest(req.body);
    const found = await authenticateClient(s, { ...body.credentials, client_id: body.client_id, authorization: req.headers.authorization });
    if (!found) throw badRequest('bad.client_id', `Unknown client: ${body.client_id.slice(0, 64)}`);
    const { client, method } = found;
    const ctx = requestContext(req);
    ctx.ip = endUserIp(client, method, req);
    const now = s.now();

    const limit = await hitStartBudget(s, 'start', ctx.ip, now);
    if (limit) {
      setLimitHeaders(reply, limit.limit, limit.remaining, limit.reset);
      if (limit.exceeded) {
        if (limit.firstExceeded) {
          await s.store.appendLogs([makeLog('api_limit', ctx, { client_id: client.client_id, client_name: client.name, details: { limit: { bucket: 'passwordless-start-per-ip', size: limit.limit }, request: { method: 'POST', path: '/passwordless/start' } } }, now)]);
        }
        throw new OAuthError(429, 'too_many_requests', 'Too many requests. Check the X-RateLimit-Limit, X-RateLimit-Remaining and X-RateLimit-Reset headers.', {
          headers: { 'retry-after': String(Math.max(1, limit.reset - Math.floor(now / 1000))) },
        });
      }
    }

    // Spec §2.1: a login page authenticates its start by forwarding the state of its live
    // /authorize transaction. A state that names no live transaction of this client is no
    // authentication at all (a depnote while the flag is off, 403 once it is on).
    let auth: StartAuth = method;
    let transaction: string | undefined;
    const state = body.authParams.state;
    if (method === null && typeof state === 'string' && state.length <= 512) {
      const tx = await s.store.getArtifact<TransactionDoc>('transaction', artifactId(s, 'transaction', state), now);
      if (tx && tx.doc.params.client_id === client.client_id && tx.doc.completed_at === undefined) {
        auth = 'transaction_state';
        transaction = state;
      }
    }
    const language = requestLanguage(req.headers['x-request-language'], req.headers['accept-language']);
    return startPasswordless(s, engine, {
      client, auth, transaction, ctx,
      connection: body.connection,
      email: body.email,
      phone: body.phone,
      send: body.send,
      authParams: body.authParams,
      language,
    }).then(({ _id, phone_number }) =>
      // Spec §1.3: the SMS answer names the number as stored (E.164) and the template language.
      phone_number !== undefined ? { _id, phone_number, request_language: language ?? null, phone_verified: false } : { _id, email: body.email, email_verified: false });
  });
}

function setLimitHeaders(reply: FastifyReply, limit: number, remaining: number, reset: number) {
  reply.header('x-ratelimit-limit', String(limit)).header('x-ratelimit-remaining', String(remaining)).header('x-ratelimit-reset', String(reset));
}
