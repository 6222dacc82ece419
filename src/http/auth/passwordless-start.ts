import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { type AuthMethod, authenticateClient } from '../../core/client-auth.ts';
import { makeLog, passwordlessFields } from '../../core/logs.ts';
import { type Client, PASSWORDLESS_OTP_GRANT, isConfidential } from '../../core/model.ts';
import { newCode, otpSettings } from '../../core/otp.ts';
import { hitHourly } from '../../core/rate-limit.ts';
import { decideStart } from '../../core/start-policy.ts';
import { OAuthError, badRequest, clientAuthRequired, grantNotAllowed } from '../../errors/oauth-error.ts';
import { createTemplateEngine, renderEmail } from '../../mail/templates.ts';
import { EMAIL_PROVIDER_SETTING, defaultFromAddress } from '../../mail/transport.ts';
import type { Services } from '../../services.ts';
import type { EmailProvider } from '../../store/types.ts';
import { requestContext } from '../request-context.ts';
import { parseStartRequest, rememberedParams, requestLanguage } from './start-request.ts';

/**
 * POST /passwordless/start (spec §1, §2): validate → authenticate the client → apply the migration
 * rule → per-IP limit → grant and connection checks → code, message and logs in one transaction.
 */
export function registerPasswordlessStart(app: FastifyInstance, s: Services): void {
  const engine = createTemplateEngine();

  app.post('/passwordless/start', async (req, reply) => {
    const body = parseStartRequest(req.body);
    const auth = await authenticateClient(s, { ...body.credentials, client_id: body.client_id, authorization: req.headers.authorization });
    if (!auth) throw badRequest('bad.client_id', `Unknown client: ${body.client_id.slice(0, 64)}`);
    const { client, method } = auth;
    const ctx = requestContext(req);
    ctx.ip = endUserIp(client, method, req.headers['auth0-forwarded-for'], req.ip);
    const now = s.now();

    if (s.config.startLimitPerHour > 0) {
      const limit = await hitHourly(s.store, `start:${ctx.ip}`, s.config.startLimitPerHour, now);
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

    const [conn, tenant] = await Promise.all([s.store.getConnectionByName(body.connection), s.store.getTenantSettings()]);
    if (!conn) throw badRequest('bad.connection', 'Connection does not exist');
    if (conn.strategy !== 'email' && conn.strategy !== 'sms') {
      throw badRequest('bad.connection', 'Invalid connection strategy. It must either be a passwordless connection');
    }
    const decision = decideStart(client, method, tenant.flags ?? {}, conn, ctx, now);
    if (!decision.allowed) throw clientAuthRequired();
    if (!client.grant_types.includes(PASSWORDLESS_OTP_GRANT)) throw grantNotAllowed(PASSWORDLESS_OTP_GRANT);
    if (!(await s.store.isConnectionEnabled(conn.id, client.client_id))) throw badRequest('bad.connection', 'Connection is disabled');
    if (conn.strategy === 'sms') throw badRequest('bad.connection', 'SMS connections are not available in this version of Sesame');
    if (body.email === undefined) throw badRequest('bad.email', 'Missing required property: email');
    if (body.send !== 'code') {
      throw badRequest('bad.send', `send "${body.send}" (magic links) is not available yet: use send "code"`);
    }

    const identifier = body.email.toLowerCase();
    const key = { connection_id: conn.id, identifier, client_id: client.client_id };
    const { code, record } = newCode(s, key, otpSettings(conn), rememberedParams(body.authParams));
    const language = requestLanguage(req.headers['x-request-language'], req.headers['accept-language']);
    const provider = await s.store.getSetting<EmailProvider>(EMAIL_PROVIDER_SETTING);
    const message = await renderEmail(
      engine,
      conn.options.email as Parameters<typeof renderEmail>[1],
      {
        code,
        send: 'code',
        application: { name: client.name },
        request_language: language,
        connection: { name: conn.name },
        operation: null,
        email: body.email,
        expires_in_minutes: Math.round((record.expires_at - record.created_at) / 60_000),
      },
      defaultFromAddress(provider, s.config),
    );
    const transactionId = randomBytes(12).toString('hex');
    const cs = makeLog('cs', ctx, {
      ...passwordlessFields(client, conn),
      user_name: body.email,
      details: {
        body: { client_id: client.client_id, connection: conn.name, email: body.email, send: body.send, authParams: publicAuthParams(body.authParams), request_language: language ?? null, ip: ctx.ip, 'user-agent': ctx.user_agent ?? null },
        transaction_id: transactionId,
        authenticated_with: method ?? 'none',
      },
    }, now);
    await s.store.issueCode(
      record,
      { channel: 'email', recipient: body.email, payload: JSON.stringify(message), meta: { client_id: client.client_id, client_name: client.name, connection: conn.name, email_type: 'passwordless' } },
      decision.depnote ? [decision.depnote, cs] : [cs],
    );
    s.mail.wake();
    return { _id: transactionId, email: body.email, email_verified: false };
  });
}

/**
 * `auth0-forwarded-for` names the end user's IP only when a confidential client authenticated and
 * trusts the header (spec §1.1, PL-API); otherwise anyone could pick the IP they are limited on.
 */
function endUserIp(client: Client, method: AuthMethod | null, header: string | string[] | undefined, socketIp: string): string {
  if (method === null || !isConfidential(client) || !client.is_token_endpoint_ip_header_trusted) return socketIp;
  const first = (Array.isArray(header) ? header[0] : header)?.split(',')[0]?.trim();
  return first && isIP(first) ? first : socketIp;
}

function setLimitHeaders(reply: FastifyReply, limit: number, remaining: number, reset: number) {
  reply.header('x-ratelimit-limit', String(limit)).header('x-ratelimit-remaining', String(remaining)).header('x-ratelimit-reset', String(reset));
}

/** Only the authParams keys Auth0 logs (LOGSCHEMA), never `_csrf`-like values. */
function publicAuthParams(p: Record<string, unknown>) {
  const out: Record<string, unknown> = {};
  for (const k of ['audience', 'redirect_uri', 'response_type', 'scope', 'state']) if (typeof p[k] === 'string') out[k] = p[k];
  return out;
}

