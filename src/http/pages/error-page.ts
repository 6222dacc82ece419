import type { FastifyRequest } from 'fastify';
import { PageError } from '../../errors/page-error.ts';
import type { Services } from '../../services.ts';
import { escapeHtml } from './html.ts';
import { defineMessages, negotiateLocale } from './i18n.ts';
import { renderPage } from './layout.ts';
import { cachedChrome, newNonce, rememberedPage } from './page-context.ts';

const t = defineMessages({
  en: {
    title: 'Something went wrong',
    code: 'Error code',
    login_expired_title: 'Sign-in expired',
    login_expired: 'This sign-in has expired or is no longer valid. Go back to the application and sign in again.',
    invalid_csrf_title: 'Request refused',
    invalid_csrf: 'This form could not be verified (it may be out of date). Go back, reload the page and try again.',
    resend_too_soon_title: 'Please wait',
    resend_too_soon: 'A new email can be sent 30 seconds after the previous one. Check your inbox, and your spam folder, in the meantime.',
    too_many_requests_title: 'Please wait',
    too_many_requests: 'Too many sign-in emails were requested from your network. Try again later.',
    too_many_codes_title: 'Please wait',
    too_many_codes: 'Too many sign-in emails were requested for this address. Try again later.',
    invalid_characters_title: 'Request refused',
    invalid_characters: 'This request holds characters that are not allowed. Go back to the application and try again.',
    request_too_large_title: 'Request refused',
    request_too_large: 'This request is too large. Go back to the application and try again.',
    temporarily_unavailable_title: 'Temporarily unavailable',
    temporarily_unavailable: 'The service is temporarily unavailable. Wait a few seconds and try again.',
    server_error_title: 'Something went wrong',
    server_error: 'Something went wrong on our side. Try again in a moment.',
  },
  fr: {
    title: 'Une erreur est survenue',
    code: 'Code d’erreur',
    login_expired_title: 'Connexion expirée',
    login_expired: 'Cette connexion a expiré ou n’est plus valide. Retournez dans l’application et connectez-vous à nouveau.',
    invalid_csrf_title: 'Requête refusée',
    invalid_csrf: 'Ce formulaire n’a pas pu être vérifié (il est peut-être périmé). Revenez en arrière, rechargez la page et réessayez.',
    resend_too_soon_title: 'Veuillez patienter',
    resend_too_soon: 'Un nouvel e-mail peut être envoyé 30 secondes après le précédent. En attendant, consultez votre boîte de réception et vos courriers indésirables.',
    too_many_requests_title: 'Veuillez patienter',
    too_many_requests: 'Trop d’e-mails de connexion ont été demandés depuis votre réseau. Réessayez plus tard.',
    too_many_codes_title: 'Veuillez patienter',
    too_many_codes: 'Trop d’e-mails de connexion ont été demandés pour cette adresse. Réessayez plus tard.',
    invalid_characters_title: 'Requête refusée',
    invalid_characters: 'Cette requête contient des caractères non autorisés. Retournez dans l’application et réessayez.',
    request_too_large_title: 'Requête refusée',
    request_too_large: 'Cette requête est trop volumineuse. Retournez dans l’application et réessayez.',
    temporarily_unavailable_title: 'Service momentanément indisponible',
    temporarily_unavailable: 'Le service est momentanément indisponible. Patientez quelques secondes et réessayez.',
    server_error_title: 'Une erreur est survenue',
    server_error: 'Une erreur est survenue de notre côté. Réessayez dans un instant.',
  },
});

type MessageKey = Parameters<typeof t>[1];

/** Page errors whose text this module owns, so they are shown in the page's language. */
const KNOWN = ['login_expired', 'invalid_csrf', 'resend_too_soon', 'too_many_requests', 'too_many_codes', 'invalid_characters', 'request_too_large', 'temporarily_unavailable', 'server_error'] as const;
export type KnownPageError = (typeof KNOWN)[number];
const isKnown = (code: string): code is KnownPageError => (KNOWN as readonly string[]).includes(code);

/** A PageError with this module's (translatable) text. */
export const pageError = (status: number, code: KnownPageError): PageError => new PageError(status, code, t('en', code));

/** The nonce of the error page rendered for a request, for its CSP header (set by the pages' onSend hook). */
const nonces = new WeakMap<FastifyRequest, string>();
export const errorPageNonce = (req: FastifyRequest) => nonces.get(req);

/**
 * The page for a PageError: the hosted layout, in the language the page handler settled on (the
 * transaction's ui_locales) or else Accept-Language. Messages of other modules are shown as they
 * were written (English); the frame around them is translated.
 */
export function renderErrorPage(err: PageError, req: FastifyRequest): string {
  const ctx = rememberedPage(req);
  const chrome = ctx?.chrome ?? cachedChrome((req.server as { sesame?: Services }).sesame);
  const lang = ctx?.lang ?? negotiateLocale(undefined, header(req.headers['accept-language']), chrome.locales);
  const known = isKnown(err.code);
  const title = t(lang, known ? (`${err.code}_title` as MessageKey) : 'title');
  const message = known ? t(lang, err.code as KnownPageError) : err.message;
  const nonce = newNonce();
  nonces.set(req, nonce);
  return renderPage({
    lang,
    title,
    nonce,
    branding: chrome.branding,
    tenantName: chrome.tenantName,
    body: `<h1>${escapeHtml(title)}</h1><p class="alert" role="alert">${escapeHtml(message)}</p>` +
      `<p class="muted">${escapeHtml(t(lang, 'code'))}: <code>${escapeHtml(err.code)}</code></p>`,
  });
}

const header = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);
