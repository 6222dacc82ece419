import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type TransactionDoc, TTL, artifactId, newToken } from '../../core/artifacts.ts';
import { authorizationSuccess, errorResponse, readSession } from '../../core/authorize.ts';
import { RedirectableError, parseAuthorize } from '../../core/authorize-request.ts';
import type { Services } from '../../services.ts';
import { COOKIE, cookieOptions } from '../cookies.ts';
import { sendAuthorizationResponse } from './authorization-response.ts';
import { redeemAtAuthorize } from './login-ticket.ts';

/** One year: the browser-binding cookie only identifies the browser, it grants nothing by itself. */
const BROWSER_COOKIE_MS = 365 * 24 * 3_600_000;

/**
 * GET /authorize (RFC 6749 §4.1.1, OIDC Core §3): validates the request, then either answers at
 * once from the login session (SSO, `prompt=none`) or opens a transaction and sends the browser to
 * the login page with the transaction's token as `state` (spec §2.1: the page forwards it to
 * /passwordless/start as its client authentication).
 */
export function registerAuthorize(app: FastifyInstance, s: Services): void {
  app.get('/authorize', async (req, reply) => {
    const q = (req.query ?? {}) as Record<string, unknown>;
    try {
      const { client, params } = await parseAuthorize(s, q);
      // Cross-origin login (spec §3.6): a ticket from /co/authenticate ends the sign-in here.
      if (q.login_ticket !== undefined) return redeemAtAuthorize(s, req, reply, client, params, q.login_ticket);

      const session = params.prompt === 'login' ? undefined : await readSession(s, req.cookies[COOKIE.session]);
      if (session) {
        const response = await authorizationSuccess(s, params, client, { user: session.user, connection: session.doc.connection, authTime: session.doc.auth_time }, session.sid);
        return sendAuthorizationResponse(reply, response);
      }
      // OIDC Core §3.1.2.6: prompt=none never shows a page.
      if (params.prompt === 'none') throw new RedirectableError('login_required', 'Login required', params);

      const tx = newToken();
      const doc: TransactionDoc = { params, browser_hash: s.keyring.hash('browser', browserId(s, req, reply)), csrf: newToken(), created_at: s.now() };
      await s.store.putArtifact({ kind: 'transaction', id: artifactId(s, 'transaction', tx), family: null, doc, expires_at: s.now() + TTL.transaction });
      return reply.header('cache-control', 'no-store').redirect(`/login?${new URLSearchParams({ state: tx, client: client.client_id, protocol: 'oauth2' })}`, 302);
    } catch (err) {
      if (err instanceof RedirectableError) return sendAuthorizationResponse(reply, errorResponse(err.target, err));
      throw err;
    }
  });
}

/** This browser's binding id: the existing cookie, or a new one set on this response. */
export function browserId(s: Services, req: FastifyRequest, reply: FastifyReply): string {
  const existing = req.cookies[COOKIE.browser];
  if (existing && /^[A-Za-z0-9_-]{43}$/.test(existing)) return existing;
  const id = newToken();
  reply.setCookie(COOKIE.browser, id, cookieOptions(s, BROWSER_COOKIE_MS));
  return id;
}

/** Whether this request comes from the browser that opened the transaction. */
export function isSameBrowser(s: Services, req: FastifyRequest, tx: TransactionDoc): boolean {
  const id = req.cookies[COOKIE.browser];
  return id !== undefined && id.length <= 64 && s.keyring.verify('browser', id, tx.browser_hash);
}
