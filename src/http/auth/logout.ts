import type { FastifyInstance } from 'fastify';
import { compactVerify, createLocalJWKSet } from 'jose';
import { endSession, readSession } from '../../core/authorize.ts';
import { makeLog } from '../../core/logs.ts';
import type { Client, LogEvent } from '../../core/model.ts';
import { PageError } from '../../errors/page-error.ts';
import type { Services } from '../../services.ts';
import { COOKIE, cookieOptions } from '../cookies.ts';
import { escapeHtml } from '../pages/html.ts';
import { defineMessages, negotiateLocale } from '../pages/i18n.ts';
import { loadChrome, rememberPage, sendPage } from '../pages/page-context.ts';
import { requestContext } from '../request-context.ts';

const t = defineMessages({
  en: { title: 'You are signed out', body: 'You have signed out of {tenant}. You can close this window.' },
  fr: { title: 'Vous êtes déconnecté', body: 'Vous vous êtes déconnecté de {tenant}. Vous pouvez fermer cette fenêtre.' },
});

/** LOGCODES descriptions. */
const LOG_TEXT = { slo: 'User successfully logged out', flo: 'User logout failed' } as const;
const MAX = 2048;

/**
 * GET /v2/logout (Auth0's logout endpoint, also the discovery `end_session_endpoint`): ends the
 * login session, then sends the browser to `returnTo`. Sesame redirects only to a URL listed, exactly,
 * in the client's `allowed_logout_urls` when `client_id` is given, or else in the tenant's
 * `allowed_logout_urls`: anything else would make it an open redirector (RFC 9700 §4.11), so a
 * mismatch is a 400 page and the session is left alone. Without `returnTo`: a signed-out page.
 * OIDC RP-Initiated Logout 1.0 §2–3 spellings work too, since discovery names this endpoint:
 * `post_logout_redirect_uri` for `returnTo`, `id_token_hint` naming the client, `state` echoed.
 */
export function registerLogout(app: FastifyInstance, s: Services): void {
  app.get('/v2/logout', async (req, reply) => {
    const q = (req.query ?? {}) as Record<string, unknown>;
    const ctx = requestContext(req);
    const chrome = await loadChrome(s);
    const lang = negotiateLocale(param(q, 'ui_locales'), header(req.headers['accept-language']), chrome.locales);
    rememberPage(req, { lang, chrome }); // a PageError below is shown in the same language and branding
    const oidcReturn = param(q, 'post_logout_redirect_uri');
    const returnTo = param(q, 'returnTo') ?? oidcReturn;
    const clientId = param(q, 'client_id') ?? (await hintedClient(s, param(q, 'id_token_hint')));
    const state = oidcReturn !== undefined ? param(q, 'state') : undefined;

    let client: Client | undefined;
    const fail = async (message: string): Promise<PageError> => {
      await s.store.appendLogs([makeLog('flo', ctx, { description: LOG_TEXT.flo, ...clientFields(client, clientId), details: { error: { message }, return_to: returnTo } }, s.now())]);
      return new PageError(400, 'invalid_request', message);
    };
    if (clientId !== undefined) {
      client = (await s.store.getClient(clientId))?.client;
      if (!client) throw await fail(`Unknown client: ${clientId.slice(0, 64)}`);
    }
    if (returnTo !== undefined) {
      const allowed = client ? client.allowed_logout_urls : stringList((await s.store.getTenantSettings()).allowed_logout_urls);
      if (!allowed.includes(returnTo)) {
        const where = client ? 'the application\'s "Allowed Logout URLs"' : 'the tenant\'s "Allowed Logout URLs" (send client_id to use the application\'s list)';
        throw await fail(`The "returnTo" querystring parameter "${returnTo.slice(0, 200)}" is not defined as a valid URL in ${where}.`);
      }
    }

    const cookie = req.cookies[COOKIE.session];
    const session = await readSession(s, cookie);
    await endSession(s, cookie);
    if (cookie !== undefined) reply.clearCookie(COOKIE.session, cookieOptions(s));
    const user: Partial<LogEvent> = session ? { user_id: session.user.user_id, connection: session.doc.connection, ...(session.user.email ? { user_name: session.user.email } : {}) } : {};
    const details = { ...(returnTo !== undefined ? { return_to: returnTo } : {}), ...(session ? { session_id: session.sid } : {}) };
    await s.store.appendLogs([makeLog('slo', ctx, { description: LOG_TEXT.slo, ...clientFields(client, clientId), ...user, details }, s.now())]);

    if (returnTo !== undefined) return reply.header('cache-control', 'no-store').redirect(withState(returnTo, state), 302);
    const title = t(lang, 'title');
    const body = `<h1>${escapeHtml(title)}</h1><p class="notice" role="status">${escapeHtml(t(lang, 'body', { tenant: chrome.tenantName }))}</p>`;
    return sendPage(reply, 200, { lang, chrome, title, body });
  });
}

function param(q: Record<string, unknown>, name: string): string | undefined {
  const v = q[name];
  if (v === undefined || v === '') return undefined;
  if (typeof v !== 'string' || v.length > MAX) throw new PageError(400, 'invalid_request', `Invalid parameter: ${name}`);
  return v;
}

/**
 * The client an ID token was issued to (its `aud`), if Sesame signed it (RP-Initiated Logout §2:
 * an expired ID token is still a valid hint, so only the signature and issuer are checked).
 */
async function hintedClient(s: Services, hint: string | undefined): Promise<string | undefined> {
  if (hint === undefined) return undefined;
  try {
    const { payload } = await compactVerify(hint, createLocalJWKSet(s.keys.jwks()), { algorithms: ['RS256'] });
    const claims = JSON.parse(new TextDecoder().decode(payload)) as { iss?: unknown; aud?: unknown };
    if (claims.iss === s.issuer && typeof claims.aud === 'string') return claims.aud;
  } catch {
    // falls through to the error below
  }
  throw new PageError(400, 'invalid_request', 'Invalid parameter: id_token_hint is not an ID token issued by this server');
}

/** RP-Initiated Logout §3: the RP's `state` comes back on the redirect. */
function withState(url: string, state: string | undefined): string {
  if (state === undefined) return url;
  const u = new URL(url);
  u.searchParams.set('state', state);
  return u.href;
}

const header = (v: string | string[] | undefined) => (Array.isArray(v) ? v.join(',') : v);

/** The tenant setting is free-form JSON: only its string entries count. */
const stringList = (v: unknown): string[] => (Array.isArray(v) ? v.filter((u): u is string => typeof u === 'string') : []);

function clientFields(client: Client | undefined, clientId: string | undefined): Partial<LogEvent> {
  if (client) return { client_id: client.client_id, client_name: client.name };
  return clientId !== undefined ? { client_id: clientId.slice(0, 64) } : {};
}
