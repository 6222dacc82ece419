import type { FastifyReply } from 'fastify';
import type { LinkParamsProblem } from '../../core/link-params.ts';
import type { Services } from '../../services.ts';
import { escapeHtml } from './html.ts';
import { type Locale, defineMessages } from './i18n.ts';
import { loadChrome, sendPage } from './page-context.ts';

/** The pages of a magic link (verify_redirect) and of its relay code (/login/relay). */

const t = defineMessages({
  en: {
    confirm_title: 'Sign in to {app}',
    confirm_auto: 'Finishing your sign-in…',
    confirm_manual: 'Select Continue to finish signing in to {app}.',
    confirm_ignore: 'If you did not ask to sign in, close this page: nothing happens until you continue.',
    continue: 'Continue',
    other_title: 'Finish on your first device',
    other_why: 'For your security, this link must be finished in the browser where you entered your email address. It was opened in a different browser or on another device.',
    other_how: 'Go back to the page that says “Check your inbox” and enter this code there:',
    other_expiry: 'The code works once and only while the link is valid ({minutes} min). If you did not try to sign in, ignore this page.',
    other_warning: 'Never read this code out or send it to anyone, even someone who says they are from the application or its support: nobody legitimate ever asks for it, and whoever types it in is signed in to your account.',
    relay_title: 'Enter the code from your other device',
    relay_label: 'Code shown on the other device',
    relay_wrong: 'That code is not right. {remaining} tries left.',
    relay_empty: 'Enter the 6-character code shown where you opened the link.',
    relay_back: 'Back to “Check your inbox”',
    error_title: 'This link cannot be used',
    done_title: 'Already signed in',
    incomplete: 'This sign-in link is incomplete. Open the whole link from the email, or request a new link.',
    invalid: 'This sign-in link is not valid any more: it was already used, or a newer link was sent since. Request a new link from the application.',
    expired: 'This sign-in link has expired. Request a new link from the application.',
    exhausted: 'This sign-in link was tried too many times. Request a new link from the application.',
    blocked: 'Your account has been blocked after multiple consecutive login attempts. Contact the application’s support to unblock it.',
    used: 'This sign-in link has already been used. If you still need to sign in, request a new link from the application.',
    session_expired: 'The sign-in this link belongs to has expired. Go back to the application and sign in again.',
    done: 'This sign-in is already complete. You can close this page.',
    cross_site: 'This sign-in can only be finished from its own confirmation page. Open the link from the email again.',
    relay_dead: 'This code can no longer be used: it was used, it expired, or it was tried 3 times. Open the link in the email again to get a new code.',
    config: 'This link cannot finish signing in to {app}: {detail} Contact the application’s support.',
    p_redirect_uri: 'the return address it asks for is not registered for the application.',
    p_response_type: 'the kind of response it asks for is not supported.',
    p_response_mode: 'the way it asks to return to the application is not supported.',
    p_grant: 'the application is not allowed to receive this kind of response.',
    p_nonce: 'it asks for an ID token without a nonce.',
    p_pkce: 'this application must start its sign-in with PKCE (a code_challenge), and this link was requested without one.',
    p_audience: 'it asks for an API that users cannot get tokens for.',
  },
  fr: {
    confirm_title: 'Connexion à {app}',
    confirm_auto: 'Connexion en cours…',
    confirm_manual: 'Choisissez Continuer pour terminer votre connexion à {app}.',
    confirm_ignore: 'Si vous n’avez pas demandé à vous connecter, fermez cette page : rien ne se passe tant que vous ne continuez pas.',
    continue: 'Continuer',
    other_title: 'Terminez sur votre premier appareil',
    other_why: 'Pour votre sécurité, ce lien doit être terminé dans le navigateur où vous avez saisi votre adresse e-mail. Il a été ouvert dans un autre navigateur ou sur un autre appareil.',
    other_how: 'Revenez à la page « Consultez votre boîte de réception » et saisissez-y ce code :',
    other_expiry: 'Le code ne sert qu’une fois et seulement tant que le lien est valide ({minutes} min). Si vous n’avez pas essayé de vous connecter, ignorez cette page.',
    other_warning: 'Ne lisez ni n’envoyez jamais ce code à personne, même à quelqu’un qui se présente comme l’application ou son support : personne de légitime ne vous le demandera, et celui qui le saisit est connecté à votre compte.',
    relay_title: 'Saisissez le code de votre autre appareil',
    relay_label: 'Code affiché sur l’autre appareil',
    relay_wrong: 'Ce code n’est pas le bon. Essais restants : {remaining}.',
    relay_empty: 'Saisissez le code de 6 caractères affiché là où vous avez ouvert le lien.',
    relay_back: 'Revenir à « Consultez votre boîte de réception »',
    error_title: 'Ce lien ne peut pas être utilisé',
    done_title: 'Connexion déjà terminée',
    incomplete: 'Ce lien de connexion est incomplet. Ouvrez le lien complet depuis l’e-mail, ou demandez un nouveau lien.',
    invalid: 'Ce lien de connexion n’est plus valide : il a déjà été utilisé, ou un lien plus récent a été envoyé depuis. Demandez un nouveau lien depuis l’application.',
    expired: 'Ce lien de connexion a expiré. Demandez un nouveau lien depuis l’application.',
    exhausted: 'Ce lien de connexion a été essayé trop de fois. Demandez un nouveau lien depuis l’application.',
    blocked: 'Votre compte a été bloqué après plusieurs tentatives de connexion consécutives. Contactez le support de l’application pour le débloquer.',
    used: 'Ce lien de connexion a déjà été utilisé. Si vous devez encore vous connecter, demandez un nouveau lien depuis l’application.',
    session_expired: 'La connexion à laquelle ce lien appartient a expiré. Revenez à l’application et connectez-vous à nouveau.',
    done: 'Cette connexion est déjà terminée. Vous pouvez fermer cette page.',
    cross_site: 'Cette connexion ne peut être terminée que depuis sa propre page de confirmation. Ouvrez à nouveau le lien de l’e-mail.',
    relay_dead: 'Ce code ne peut plus être utilisé : il a déjà servi, il a expiré ou il a été essayé 3 fois. Ouvrez à nouveau le lien de l’e-mail pour obtenir un nouveau code.',
    config: 'Ce lien ne peut pas terminer la connexion à {app} : {detail} Contactez le support de l’application.',
    p_redirect_uri: 'l’adresse de retour demandée n’est pas enregistrée pour l’application.',
    p_response_type: 'le type de réponse demandé n’est pas pris en charge.',
    p_response_mode: 'le mode de retour vers l’application demandé n’est pas pris en charge.',
    p_grant: 'l’application n’est pas autorisée à recevoir ce type de réponse.',
    p_nonce: 'il demande un jeton d’identité sans nonce.',
    p_pkce: 'cette application doit commencer sa connexion avec PKCE (un code_challenge), et ce lien a été demandé sans.',
    p_audience: 'il demande une API pour laquelle les utilisateurs ne peuvent pas obtenir de jeton.',
  },
});

export type LinkErrorReason =
  | 'incomplete' | 'invalid' | 'expired' | 'exhausted' | 'blocked' | 'used' | 'session_expired' | 'done' | 'cross_site';

/** The parameters a magic link carries (spec §3.5), forwarded unchanged by the confirm form. */
export const LINK_FIELDS = [
  'client_id', 'connection', 'email', 'phone_number', 'verification_code', 'state',
  'scope', 'response_type', 'response_mode', 'redirect_uri', 'audience', 'nonce',
] as const;

/**
 * Sends a link page with the hosted pages' headers (page-context.ts: fresh CSP nonce, no caching,
 * no framing, no Referer — the link's URL holds the code, spec §3.5), kept out of search indexes.
 */
export async function sendLinkPage(
  s: Services, reply: FastifyReply, status: number, lang: Locale, page: { title: string; body: string; script?: string },
): Promise<FastifyReply> {
  const chrome = await loadChrome(s);
  return sendPage(reply.header('x-robots-tag', 'noindex'), status, { lang, chrome, ...page });
}

const hidden = (name: string, value: string) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`;

/** Submits once: the button is disabled first, so a quick click cannot send a second POST whose refusal would replace the sign-in. */
const AUTO_SUBMIT = "var f=document.getElementById('link-form');f.querySelector('button').disabled=true;f.submit();";

/**
 * GET /passwordless/verify_redirect: a form that POSTs the link's parameters back. `auto` (the
 * browser that started the sign-in) submits it by script; otherwise the person clicks Continue, so a
 * mail scanner that only fetches the link changes nothing.
 */
export function confirmView(lang: Locale, appName: string, fields: Record<string, string>, auto: boolean) {
  const inputs = LINK_FIELDS.filter((k) => fields[k] !== undefined).map((k) => hidden(k, fields[k]!)).join('');
  const body = `<h1>${escapeHtml(t(lang, 'confirm_title', { app: appName }))}</h1>
<p>${escapeHtml(auto ? t(lang, 'confirm_auto') : t(lang, 'confirm_manual', { app: appName }))}</p>
<form id="link-form" method="post" action="/passwordless/verify_redirect">${inputs}<button type="submit" data-testid="submit">${escapeHtml(t(lang, 'continue'))}</button></form>
${auto ? '' : `<p class="muted">${escapeHtml(t(lang, 'confirm_ignore'))}</p>`}`;
  return { title: t(lang, 'confirm_title', { app: appName }), body, ...(auto ? { script: AUTO_SUBMIT } : {}) };
}

/** The link was opened in another browser: why it cannot finish here, and the relay code for the first tab. */
export function otherDeviceView(lang: Locale, relayCode: string, minutes: number) {
  const body = `<h1>${escapeHtml(t(lang, 'other_title'))}</h1>
<p>${escapeHtml(t(lang, 'other_why'))}</p>
<p>${escapeHtml(t(lang, 'other_how'))}</p>
<p class="relay" data-testid="relay-code">${escapeHtml(relayCode)}</p>
<p class="alert" role="alert" data-testid="relay-warning">${escapeHtml(t(lang, 'other_warning'))}</p>
<p class="muted">${escapeHtml(t(lang, 'other_expiry', { minutes: Math.max(1, minutes) }))}</p>`;
  return { title: t(lang, 'other_title'), body };
}

/** The relay form again, with what went wrong (POST /login/relay). */
export function relayFormView(lang: Locale, state: string, csrf: string, error: { remaining: number } | 'empty' | 'dead') {
  const message = error === 'empty' ? t(lang, 'relay_empty') : error === 'dead' ? t(lang, 'relay_dead') : t(lang, 'relay_wrong', { remaining: error.remaining });
  const body = `<h1>${escapeHtml(t(lang, 'relay_title'))}</h1>
<p class="alert" role="alert" id="relay-error">${escapeHtml(message)}</p>
<form method="post" action="/login/relay">${hidden('state', state)}${hidden('_csrf', csrf)}
<label for="relay_code">${escapeHtml(t(lang, 'relay_label'))}</label>
<input id="relay_code" name="relay_code" data-testid="relay-input" autocomplete="off" autocapitalize="characters" spellcheck="false" maxlength="16" aria-describedby="relay-error" required>
<button type="submit" data-testid="submit">${escapeHtml(t(lang, 'continue'))}</button></form>
<p class="muted"><a href="${escapeHtml(`/login/link?${new URLSearchParams({ state })}`)}">${escapeHtml(t(lang, 'relay_back'))}</a></p>`;
  return { title: t(lang, 'relay_title'), body };
}

/** What happened and what to do, in plain words. */
export function linkErrorView(lang: Locale, reason: LinkErrorReason) {
  const title = t(lang, reason === 'done' ? 'done_title' : 'error_title');
  const text = escapeHtml(t(lang, reason));
  const message = reason === 'done' ? `<p class="notice" role="status">${text}</p>` : `<p class="alert" role="alert">${text}</p>`;
  return { title, body: `<h1>${escapeHtml(title)}</h1>\n${message}` };
}

/** A link whose remembered request cannot be honoured (misconfigured application). */
export function linkConfigView(lang: Locale, appName: string, problem: LinkParamsProblem) {
  const text = t(lang, 'config', { app: appName, detail: t(lang, `p_${problem}`) });
  return { title: t(lang, 'error_title'), body: `<h1>${escapeHtml(t(lang, 'error_title'))}</h1>\n<p class="alert" role="alert">${escapeHtml(text)}</p>` };
}
