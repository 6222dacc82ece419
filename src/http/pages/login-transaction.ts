import type { FastifyRequest } from 'fastify';
import { type TransactionDoc, artifactId } from '../../core/artifacts.ts';
import { safeEqual } from '../../core/crypto.ts';
import type { Client, Connection } from '../../core/model.ts';
import type { Services } from '../../services.ts';
import { type ScreenTexts, type Words, loadCustomText, wordsFor } from './custom-text.ts';
import { isSameBrowser } from '../auth/authorize.ts';
import { pageError } from './error-page.ts';
import { type Locale, negotiateLocale } from './i18n.ts';
import type { Methods } from './login-views.ts';
import { type Chrome, loadChrome, rememberPage } from './page-context.ts';

/** The /authorize transaction a login page works on, with what the page needs to show it. */
export interface LoginContext {
  /** The transaction's token: the `state` query parameter and form field. */
  state: string;
  /** Its artifact id, `artifactId(s, 'transaction', state)`. */
  txId: string;
  tx: TransactionDoc;
  client: Client;
  connection: Connection;
  lang: Locale;
  chrome: Chrome;
  /** The tenant's custom text in `lang`, per prompt (Management API /prompts/…/custom-text). */
  texts: Record<string, ScreenTexts>;
}

/** newToken() is 43 base64url characters; anything else cannot name a transaction. */
const STATE = /^[A-Za-z0-9_-]{20,128}$/;

export const formField = (body: unknown, name: string): string | undefined => {
  const v = body && typeof body === 'object' ? (body as Record<string, unknown>)[name] : undefined;
  return typeof v === 'string' ? v : undefined;
};

/**
 * Loads the transaction named by `state`. Unknown, expired or (with `open`) already completed
 * transactions are a 400 page that says the sign-in expired: nothing is redirected, since nothing
 * about the request can be trusted. The page's language and chrome are remembered for error pages.
 */
export async function loadLogin(s: Services, req: FastifyRequest, state: unknown, opts: { open: boolean }): Promise<LoginContext> {
  const acceptLanguage = req.headers['accept-language'];
  const chrome = await loadChrome(s);
  rememberPage(req, { lang: negotiateLocale(undefined, acceptLanguage, chrome.locales), chrome });
  if (typeof state !== 'string' || !STATE.test(state)) throw pageError(400, 'login_expired');
  const txId = artifactId(s, 'transaction', state);
  const found = await s.store.getArtifact<TransactionDoc>('transaction', txId, s.now());
  if (!found || (opts.open && found.doc.completed_at !== undefined)) throw pageError(400, 'login_expired');
  const tx = found.doc;
  const lang = negotiateLocale(tx.params.ui_locales, acceptLanguage, chrome.locales);
  rememberPage(req, { lang, chrome });
  const [client, connection, texts] = await Promise.all([
    s.store.getClient(tx.params.client_id), s.store.getConnectionByName(tx.params.connection ?? ''), loadCustomText(s, lang),
  ]);
  // The client or connection was deleted since /authorize: this sign-in cannot finish.
  if (!client || !connection) throw pageError(400, 'login_expired');
  return { state, txId, tx, client: client.client, connection, lang, chrome, texts };
}

/** The transaction's `_csrf`, compared in constant time; else a 403 page. */
export function checkCsrf(ctx: LoginContext, body: unknown): void {
  const sent = formField(body, '_csrf');
  if (sent === undefined || !safeEqual(sent, ctx.tx.csrf)) throw pageError(403, 'invalid_csrf');
}

/**
 * Every POST of the hosted page carries the transaction's `_csrf` and comes from the browser that
 * opened the transaction (its binding cookie, set by /authorize): whoever reads the page's URL can
 * read its form, so the token alone would not stop a leaked URL being driven from elsewhere.
 */
export function checkForm(s: Services, req: FastifyRequest, ctx: LoginContext): void {
  checkCsrf(ctx, req.body);
  if (!isSameBrowser(s, req, ctx.tx)) throw pageError(403, 'invalid_csrf');
}

/** What the connection offers: `options.authentication_method` `code` (default), `link` or `both`. */
export function methodsOf(conn: Connection): Methods {
  const m = conn.options.authentication_method;
  return m === 'link' || m === 'both' ? m : 'code';
}

/** The strings of one screen of this sign-in: custom text for the page's language, else Sesame's. */
export const wordsOf = (ctx: LoginContext, screen: Parameters<typeof wordsFor>[2]): Words => wordsFor(ctx.lang, ctx.texts, screen, ctx.chrome.tenantName);
