import { escapeHtml } from './html.ts';
import { maskPhone } from '../../core/phone.ts';
import { type Words, fillCustom } from './custom-text.ts';
import { defineMessages } from './i18n.ts';
import { PHONE_STEP_SCRIPT, countryField, previewRegion } from './phone-step.ts';

/**
 * The hosted login page's views (issue 3 §2; the phone step: issue 5 follow-up). Their texts speak
 * to a person and say what to do next (a wrong code: check the latest message or get a new one,
 * since the page already shows the address); the API keeps Auth0's byte-exact strings, and so do
 * the logs. Markup that tests
 * and password managers rely on is stable: `input[type=email][name=email][autocomplete=email]`,
 * `input[type=tel][name=phone_number][autocomplete=tel][inputmode=tel]`, `input[name=code]
 * [autocomplete=one-time-code][inputmode=numeric]`, one submit button per form, `data-testid` on
 * email, phone-input, code, submit and relay-input, errors in `role="alert"`, the CSRF token `_csrf`
 * on every form. Every value is escaped here; the layout (layout.ts) adds the frame.
 */
const base = defineMessages({
  en: {
    sign_in: 'Sign in',
    intro_code: 'Enter your email address and we will send you a code to sign in to {app}.',
    intro_link: 'Enter your email address and we will send you a link to sign in to {app}.',
    intro_both: 'Enter your email address and we will send you a code or a link to sign in to {app}.',
    email_label: 'Email address',
    method_legend: 'How would you like to sign in?',
    method_code: 'Email me a code',
    method_link: 'Email me a link',
    continue: 'Continue',
    invalid_email: 'Enter a valid email address.',
    invalid_send: 'Choose how you would like to sign in.',
    code_title: 'Enter your code',
    code_intro: 'We sent a code to {email}. Enter it below to continue.',
    code_label: 'Verification code',
    code_submit: 'Sign in',
    missing_code: 'Enter the code from the email.',
    wrong_code: 'That code is not right. Check the latest email, or send a new code.',
    exhausted: "You've reached the maximum number of attempts. Please try to login again.",
    expired_code: 'The verification code has expired. Please try to login again.',
    blocked: 'Your account has been blocked after multiple consecutive login attempts. Contact the application’s support to unblock it.',
    resend_code: 'Send a new code',
    resend_link: 'Send a new link',
    resent_code: 'We sent you a new code.',
    resent_link: 'We sent you a new link.',
    other_email: 'Use a different email address',
    link_title: 'Check your inbox',
    link_intro: 'We sent a sign-in link to {email}. Open it on this device and in this browser: this page will show when you are signed in.',
    link_noscript: 'Opened the link already? Reload this page to check.',
    check_again: 'Check again',
    relay_title: 'Opened the link on another device?',
    relay_intro: 'That device shows a code of 6 characters. Enter it here to finish signing in on this device.',
    relay_label: 'Code shown on the other device',
    relay_submit: 'Continue here',
    done_title: "You're signed in",
    done: "You're signed in — you can close this tab.",
    intro_phone: 'Enter your phone number and we will send you a code by text message to sign in to {app}.',
    phone_label: 'Phone number',
    phone_hint: 'As you dial it in the country chosen above, or starting with + and the country code.',
    invalid_phone_format: 'Choose your country, or enter your number starting with + and the country code.',
    invalid_phone: 'This phone number is not valid. Check it and try again.',
    country_not_allowed: 'Phone numbers from this country cannot be used to sign in here.',
    too_many_codes: 'Too many codes were requested. Please try again later.',
    too_many_codes_wait: 'Too many codes were requested. Please try again in {minutes} min.',
    sms_failed: 'We could not send the text message. Please try again.',
    resend_too_soon_sms: 'A new code can be sent 30 seconds after the previous one.',
    code_intro_sms: 'We sent a code by text message to {phone}. Enter it below to continue.',
    missing_code_sms: 'Enter the code from the text message.',
    wrong_code_sms: 'That code is not right. Check the latest text message, or send a new code.',
    other_phone: 'Use a different phone number',
  },
  fr: {
    sign_in: 'Connexion',
    intro_code: 'Saisissez votre adresse e-mail : nous vous enverrons un code pour vous connecter à {app}.',
    intro_link: 'Saisissez votre adresse e-mail : nous vous enverrons un lien pour vous connecter à {app}.',
    intro_both: 'Saisissez votre adresse e-mail : nous vous enverrons un code ou un lien pour vous connecter à {app}.',
    email_label: 'Adresse e-mail',
    method_legend: 'Comment souhaitez-vous vous connecter ?',
    method_code: 'Recevoir un code par e-mail',
    method_link: 'Recevoir un lien par e-mail',
    continue: 'Continuer',
    invalid_email: 'Saisissez une adresse e-mail valide.',
    invalid_send: 'Choisissez comment vous connecter.',
    code_title: 'Saisissez votre code',
    code_intro: 'Nous avons envoyé un code à {email}. Saisissez-le ci-dessous pour continuer.',
    code_label: 'Code de vérification',
    code_submit: 'Se connecter',
    missing_code: 'Saisissez le code reçu par e-mail.',
    wrong_code: 'Ce code n’est pas le bon. Vérifiez le dernier e-mail reçu, ou envoyez un nouveau code.',
    exhausted: 'Vous avez atteint le nombre maximal de tentatives. Veuillez recommencer la connexion.',
    expired_code: 'Le code de vérification a expiré. Veuillez recommencer la connexion.',
    blocked: 'Votre compte a été bloqué après plusieurs tentatives de connexion consécutives. Contactez le support de l’application pour le débloquer.',
    resend_code: 'Envoyer un nouveau code',
    resend_link: 'Envoyer un nouveau lien',
    resent_code: 'Nous vous avons envoyé un nouveau code.',
    resent_link: 'Nous vous avons envoyé un nouveau lien.',
    other_email: 'Utiliser une autre adresse e-mail',
    link_title: 'Consultez votre boîte de réception',
    link_intro: 'Nous avons envoyé un lien de connexion à {email}. Ouvrez-le sur cet appareil et dans ce navigateur : cette page indiquera quand vous serez connecté.',
    link_noscript: 'Vous avez déjà ouvert le lien ? Rechargez cette page pour vérifier.',
    check_again: 'Vérifier à nouveau',
    relay_title: 'Vous avez ouvert le lien sur un autre appareil ?',
    relay_intro: 'Cet appareil affiche un code de 6 caractères. Saisissez-le ici pour terminer la connexion sur cet appareil.',
    relay_label: 'Code affiché sur l’autre appareil',
    relay_submit: 'Continuer ici',
    done_title: 'Connexion réussie',
    done: 'Connexion réussie — vous pouvez fermer cet onglet.',
    intro_phone: 'Saisissez votre numéro de téléphone : nous vous enverrons un code par SMS pour vous connecter à {app}.',
    phone_label: 'Numéro de téléphone',
    phone_hint: 'Tel que vous le composez dans le pays choisi ci-dessus, ou en commençant par + et l’indicatif du pays.',
    invalid_phone_format: 'Choisissez votre pays, ou saisissez votre numéro en commençant par + et l’indicatif du pays.',
    invalid_phone: 'Ce numéro de téléphone n’est pas valide. Vérifiez-le et réessayez.',
    country_not_allowed: 'Les numéros de téléphone de ce pays ne peuvent pas être utilisés pour se connecter ici.',
    too_many_codes: 'Trop de codes ont été demandés. Veuillez réessayer plus tard.',
    too_many_codes_wait: 'Trop de codes ont été demandés. Veuillez réessayer dans {minutes} min.',
    sms_failed: 'Nous n’avons pas pu envoyer le SMS. Veuillez réessayer.',
    resend_too_soon_sms: 'Un nouveau code peut être envoyé 30 secondes après le précédent.',
    code_intro_sms: 'Nous avons envoyé un code par SMS au {phone}. Saisissez-le ci-dessous pour continuer.',
    missing_code_sms: 'Saisissez le code reçu par SMS.',
    wrong_code_sms: 'Ce code n’est pas le bon. Vérifiez le dernier SMS reçu, ou envoyez un nouveau code.',
    other_phone: 'Utiliser un autre numéro de téléphone',
  },
});

export type LoginMessage = Parameters<typeof base>[1];

/** A string of the page: the tenant's custom text for the screen when set (custom-text.ts), else Sesame's. */
function t(w: Words, key: LoginMessage, vars: Record<string, string | number> = {}): string {
  const custom = w.custom?.[key];
  return custom !== undefined ? fillCustom(custom, vars, w.companyName) : base(w.lang, key, vars);
}
/** Which methods the connection offers (`options.authentication_method`). */
export type Methods = 'code' | 'link' | 'both';

export interface View {
  title: string;
  body: string;
  script?: string;
}

/** The transaction's state and CSRF token, carried by every form. */
interface FormAuth {
  state: string;
  csrf: string;
}

const e = escapeHtml;
const hidden = (f: FormAuth) => `<input type="hidden" name="state" value="${e(f.state)}"><input type="hidden" name="_csrf" value="${e(f.csrf)}">`;
/** A message key, or a key with its values (a wait in minutes). */
export type Message = LoginMessage | { key: LoginMessage; vars: Record<string, string | number> };
const text = (w: Words, m: Message) => (typeof m === 'string' ? t(w, m) : t(w, m.key, m.vars));
const alert = (w: Words, m: Message | undefined, id: string) => (m ? `<div class="alert" role="alert" id="${id}">${e(text(w, m))}</div>` : '');
const notice = (w: Words, key: LoginMessage | undefined) => (key ? `<p class="notice" role="status">${e(t(w, key))}</p>` : '');
/** Marks the field invalid and ties it to its message for screen readers (WCAG 3.3.1). */
const invalid = (key: Message | undefined, id: string) => (key ? ` aria-invalid="true" aria-describedby="${id}"` : '');
/**
 * A message naming the email address. The address is one box (`.address`, an inline-block) that
 * moves to the next line whole when it fits there; only an address wider than the card wraps
 * inside, and then between its parts, after `@` or before a dot ("browser3@" / "example" / ".com"),
 * each part an inline-block of its own, so never at a hyphen or inside a label (a single part wider
 * than the card still wraps rather than scrolling the page sideways). Punctuation right after the
 * address goes into its box, so a full-width address never leaves a lone "." on the next line.
 */
function withEmail(w: Words, key: LoginMessage, email: string): string {
  const parts = email.split(/(?<=@)|(?=\.)/).map((part) => `<span>${e(part)}</span>`).join('');
  const said = t(w, key, { email: '\u0000' });
  // A custom text without ${email} still names the address, after it (as Auth0 shows it under the text).
  const [before = '', after = ''] = said.includes('\u0000') ? said.split('\u0000') : [`${said} `, ''];
  const punctuation = /^[.,;:!?)]*/.exec(after)![0];
  return `${e(before)}<span class="address"><strong data-testid="address">${parts}</strong>${e(punctuation)}</span>${e(after.slice(punctuation.length))}`;
}
/**
 * A message naming the number it was sent to, all digits but the last four hidden (as the logs mask
 * it): the page can be seen over a shoulder or in a screenshot, and the person knows their number.
 */
function withPhone(w: Words, key: LoginMessage, e164: string): string {
  const masked = maskPhone(e164).replace(/\*/g, '•');
  const said = t(w, key, { phone: '\u0000' });
  return e(said.includes('\u0000') ? said : `${said} \u0000`).replace('\u0000', `<strong data-testid="phone-masked">${e(masked)}</strong>`);
}
export const loginUrl = (page: '' | '/code' | '/link' | '/status', state: string, extra: Record<string, string> = {}) =>
  `/login${page}?${new URLSearchParams({ state, ...extra }).toString()}`;

export function emailView(w: Words, f: FormAuth & { app: string; methods: Methods; send: 'code' | 'link'; email?: string; error?: LoginMessage }): View {
  const choice = (v: 'code' | 'link') =>
    `<div class="choice"><input type="radio" id="send-${v}" name="send" value="${v}"${f.send === v ? ' checked' : ''}><label for="send-${v}">${e(t(w, v === 'code' ? 'method_code' : 'method_link'))}</label></div>`;
  const methods = f.methods === 'both'
    ? `<fieldset><legend>${e(t(w, 'method_legend'))}</legend>${choice('code')}${choice('link')}</fieldset>`
    : `<input type="hidden" name="send" value="${f.methods}">`;
  return {
    title: t(w, 'sign_in'),
    body: `<h1>${e(t(w, 'sign_in'))}</h1>
<p>${e(t(w, f.methods === 'both' ? 'intro_both' : f.methods === 'link' ? 'intro_link' : 'intro_code', { app: f.app }))}</p>
${alert(w, f.error, 'email-error')}<form method="post" action="/login/email">${hidden(f)}
<label for="email">${e(t(w, 'email_label'))}</label>
<input type="email" id="email" name="email" autocomplete="email" data-testid="email" required maxlength="254" autofocus value="${e(f.email ?? '')}"${invalid(f.error, 'email-error')}>
${methods}
<button type="submit" data-testid="submit">${e(t(w, 'continue'))}</button>
</form>`,
  };
}

/**
 * The phone-number step of an sms connection (issue 5 follow-up; issue 11): a country from the list
 * (phone-step.ts) and the number as people dial it there, or any number with + and its country code
 * (spec §1.4: `^\+[0-9]{1,15}$` once spaces, dashes, dots and parentheses are stripped). The field is
 * tied to both hint and error; with JavaScript the number shows in international form before sending.
 */
export function phoneView(
  w: Words,
  f: FormAuth & { app: string; countries: readonly string[]; country: string | undefined; previewUrl: string; phone?: string; error?: Message },
): View {
  const described = f.error ? 'phone-error phone-hint' : 'phone-hint';
  return {
    title: t(w, 'sign_in'),
    body: `<h1>${e(t(w, 'sign_in'))}</h1>
<p>${e(t(w, 'intro_phone', { app: f.app }))}</p>
${alert(w, f.error, 'phone-error')}<form method="post" action="/login/phone">${hidden(f)}
${countryField(w.lang, f.countries, f.country)}
<label for="phone_number">${e(t(w, 'phone_label'))}</label>
<p class="hint muted" id="phone-hint">${e(t(w, 'phone_hint'))}</p>
<input type="tel" id="phone_number" name="phone_number" autocomplete="tel" inputmode="tel" data-testid="phone-input" required maxlength="32" autofocus value="${e(f.phone ?? '')}"${f.error ? ' aria-invalid="true"' : ''} aria-describedby="${described}">
${previewRegion(w.lang, f.previewUrl)}
<button type="submit" data-testid="submit">${e(t(w, 'continue'))}</button>
</form>`,
    script: PHONE_STEP_SCRIPT,
  };
}

/** The code step, for a code sent by email (`email`) or by text message (`phone`, E.164). */
export function codeView(w: Words, f: FormAuth & ({ email: string } | { phone: string }) & { error?: Message; resent?: boolean }): View {
  const sms = 'phone' in f;
  return {
    title: t(w, 'code_title'),
    body: `<h1>${e(t(w, 'code_title'))}</h1>
<p>${sms ? withPhone(w, 'code_intro_sms', f.phone) : withEmail(w, 'code_intro', f.email)}</p>
${notice(w, f.resent ? 'resent_code' : undefined)}${alert(w, f.error, 'code-error')}<form method="post" action="/login/code">${hidden(f)}
<label for="code">${e(t(w, 'code_label'))}</label>
<input id="code" name="code" autocomplete="one-time-code" inputmode="numeric" data-testid="code" required maxlength="64" autofocus${invalid(f.error, 'code-error')}>
<button type="submit" data-testid="submit">${e(t(w, 'code_submit'))}</button>
</form>
<form method="post" action="/login/code">${hidden(f)}<button type="submit" name="action" value="resend" class="secondary">${e(t(w, 'resend_code'))}</button></form>
<p class="muted"><a href="${e(loginUrl('', f.state))}">${e(t(w, sms ? 'other_phone' : 'other_email'))}</a></p>`,
    ...(sms ? { script: WEB_OTP_SCRIPT } : {}),
  };
}

/**
 * WebOTP (WICG "WebOTP API"): Chrome on Android hands the page the code of an incoming text whose
 * last line binds it to this origin (`@<host> #<code>`, Sesame's default SMS template), once the
 * person agrees; the page fills the field and submits. Without the API, or if the person types
 * first, nothing happens: the form works as it is.
 */
const WEB_OTP_SCRIPT = `(function(){
  if (!('OTPCredential' in window) || !navigator.credentials) return;
  var input = document.getElementById('code');
  var form = input && input.form;
  if (!form) return;
  var ac = new AbortController();
  form.addEventListener('submit', function(){ ac.abort(); });
  navigator.credentials.get({ otp: { transport: ['sms'] }, signal: ac.signal }).then(function(otp){
    if (!otp || !otp.code || input.value) return;
    input.value = otp.code;
    if (form.requestSubmit) form.requestSubmit(); else form.submit();
  }).catch(function(){});
})();`;

/**
 * "Check your inbox" after a magic link was sent. Its script asks /login/status whether the link
 * tab finished, and then says so; without JavaScript a link reloads the page, which shows the same.
 * The relay form finishes a sign-in whose link was opened on another device (POST /login/relay).
 */
export function linkSentView(w: Words, f: FormAuth & { email: string; error?: LoginMessage; resent?: boolean }): View {
  return {
    title: t(w, 'link_title'),
    body: `<h1>${e(t(w, 'link_title'))}</h1>
<div id="status" role="status" aria-live="polite" data-status-url="${e(loginUrl('/status', f.state))}" data-done="${e(t(w, 'done'))}" data-done-title="${e(t(w, 'done_title'))}">
<p>${withEmail(w, 'link_intro', f.email)}</p>
${notice(w, f.resent ? 'resent_link' : undefined)}</div>
<noscript><p class="muted">${e(t(w, 'link_noscript'))} <a href="${e(loginUrl('/link', f.state))}">${e(t(w, 'check_again'))}</a></p></noscript>
<div data-pending>
<h2>${e(t(w, 'relay_title'))}</h2>
<p>${e(t(w, 'relay_intro'))}</p>
${alert(w, f.error, 'relay-error')}<form method="post" action="/login/relay">${hidden(f)}
<label for="relay_code">${e(t(w, 'relay_label'))}</label>
<input id="relay_code" name="relay_code" data-testid="relay-input" autocomplete="off" autocapitalize="characters" spellcheck="false" required maxlength="16"${invalid(f.error, 'relay-error')}>
<button type="submit" data-testid="submit">${e(t(w, 'relay_submit'))}</button>
</form>
<form method="post" action="/login/code">${hidden(f)}<button type="submit" name="action" value="resend" class="secondary">${e(t(w, 'resend_link'))}</button></form>
<p class="muted"><a href="${e(loginUrl('', f.state))}">${e(t(w, 'other_email'))}</a></p>
</div>`,
    script: STATUS_SCRIPT,
  };
}

/**
 * Polls every 2 s (and at once when the tab becomes visible again) until the sign-in is done or the
 * transaction is gone; reads everything from data attributes, so no value is ever put into code.
 */
const STATUS_SCRIPT = `(function(){
var el=document.getElementById('status');if(!el||!window.fetch)return;
var url=el.getAttribute('data-status-url'),timer=null,over=false;
function done(){over=true;var p=document.createElement('p');p.className='notice';p.textContent=el.getAttribute('data-done');el.textContent='';el.appendChild(p);
document.title=el.getAttribute('data-done-title')+document.title.slice(document.title.indexOf(' · '));
var h=document.querySelector('h1');if(h)h.textContent=el.getAttribute('data-done-title');
document.querySelectorAll('[data-pending]').forEach(function(n){n.hidden=true;});}
function poll(){if(over)return;clearTimeout(timer);
fetch(url,{credentials:'same-origin',cache:'no-store'}).then(function(r){return r.ok?r.json():{status:'gone'};}).then(function(j){
if(j.status==='done')done();else if(j.status==='gone'){over=true;location.reload();}else timer=setTimeout(poll,2000);
},function(){timer=setTimeout(poll,5000);});}
document.addEventListener('visibilitychange',function(){if(!document.hidden)poll();});
timer=setTimeout(poll,2000);})();`;

export function doneView(w: Words): View {
  return { title: t(w, 'done_title'), body: `<h1>${e(t(w, 'done_title'))}</h1><p class="notice" role="status">${e(t(w, 'done'))}</p>` };
}
