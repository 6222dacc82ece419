import type { Services } from '../../services.ts';
import { LOCALES, type Locale } from './i18n.ts';
import type { LoginMessage } from './login-views.ts';

/**
 * Auth0's Universal Login custom text (`/api/v2/prompts/{prompt}/custom-text/{language}`, issue 14)
 * for Sesame's hosted login page. Auth0 groups texts by prompt, then screen, then key:
 * `{ "<screen>": { "<key>": "text" } }`, and fills `${variable}`s. Sesame shows the screens below;
 * a key set for the page's language replaces Sesame's own string (i18n.ts), key by key.
 */

/** Auth0's prompt names (Management API `prompt` path parameter, as auth0-deploy-cli lists them). */
export const AUTH0_PROMPTS = [
  'login', 'login-id', 'login-password', 'login-passwordless', 'login-email-verification', 'signup', 'signup-id',
  'signup-password', 'phone-identifier-enrollment', 'phone-identifier-challenge', 'email-identifier-challenge',
  'reset-password', 'custom-form', 'consent', 'customized-consent', 'logout', 'mfa-push', 'mfa-otp', 'mfa-voice',
  'mfa-phone', 'mfa-webauthn', 'mfa-sms', 'mfa-email', 'mfa-recovery-code', 'mfa', 'status', 'device-flow',
  'email-verification', 'email-otp-challenge', 'organizations', 'invitation', 'common', 'captcha', 'passkeys',
  'brute-force-protection',
] as const;

/** Auth0's Universal Login languages (Management API `language` path parameter). */
export const AUTH0_LANGUAGES = [
  'am', 'ar', 'ar-EG', 'ar-SA', 'az', 'bg', 'bn', 'bs', 'ca-ES', 'cnr', 'cs', 'cy', 'da', 'de', 'el', 'en', 'en-CA', 'es',
  'es-419', 'es-AR', 'es-MX', 'et', 'eu-ES', 'fa', 'fi', 'fr', 'fr-CA', 'fr-FR', 'gl-ES', 'gu', 'he', 'hi', 'hr', 'hu', 'hy',
  'id', 'is', 'it', 'ja', 'ka', 'kk', 'kn', 'ko', 'lt', 'lv', 'mk', 'ml', 'mn', 'mr', 'ms', 'my', 'nb', 'nl', 'nn', 'no', 'pa',
  'pl', 'pt', 'pt-BR', 'pt-PT', 'ro', 'ru', 'sk', 'sl', 'so', 'sq', 'sr', 'sv', 'sw', 'ta', 'te', 'th', 'tl', 'tr', 'uk', 'ur',
  'vi', 'zgh', 'zh-CN', 'zh-HK', 'zh-TW',
] as const;

type KeyMap = Record<string, readonly LoginMessage[]>;

/** The identifier step: Auth0's `login` screen (and `login-id`, its identifier-first twin). */
const IDENTIFIER: KeyMap = {
  title: ['sign_in'],
  description: ['intro_code', 'intro_link', 'intro_both', 'intro_phone'],
  buttonText: ['continue'],
  emailPlaceholder: ['email_label'],
  phonePlaceholder: ['phone_label'],
  'invalid-email-format': ['invalid_email'],
};

/** The screens Sesame's hosted page shows, per prompt, and which of its strings each Auth0 key replaces. */
export const SHOWN_SCREENS: Record<string, Record<string, KeyMap>> = {
  login: { login: IDENTIFIER },
  'login-id': { 'login-id': IDENTIFIER },
  'login-passwordless': {
    'login-passwordless-email-code': {
      title: ['code_title'],
      description: ['code_intro'],
      placeholder: ['code_label'],
      buttonText: ['code_submit'],
      resendActionText: ['resend_code'],
      editEmailText: ['other_email'],
      'invalid-code': ['wrong_code'],
      'invalid-expired-code': ['expired_code'],
    },
    'login-passwordless-sms-otp': {
      title: ['code_title'],
      description: ['code_intro_sms'],
      placeholder: ['code_label'],
      buttonText: ['code_submit'],
      resendActionText: ['resend_code'],
      editText: ['other_phone'],
      'invalid-code': ['wrong_code_sms'],
      'invalid-expired-code': ['expired_code'],
    },
    'login-passwordless-email-link': {
      title: ['link_title'],
      description: ['link_intro'],
      resendActionText: ['resend_link'],
      editEmailText: ['other_email'],
    },
  },
};

/** What is stored, per prompt and language: Auth0's body as it was PUT. */
export type ScreenTexts = Record<string, Record<string, string>>;
export type StoredCustomText = Record<string, Partial<Record<string, ScreenTexts>>>;
export const CUSTOM_TEXT_SETTING = 'prompts_custom_text';

/** Languages the hosted pages speak: the only ones whose custom text can ever be shown. */
export const isPageLanguage = (language: string): language is Locale => (LOCALES as readonly string[]).includes(language);

/**
 * Auth0's variables a Sesame string can fill: its own `{app}`, `{email}`, `{phone}` and `{minutes}`,
 * under Auth0's names (`${clientName}`, …), and `${companyName}` (the tenant's friendly name).
 */
const AUTH0_VARIABLES: Record<string, string> = { clientName: 'app', email: 'email', phone_number: 'phone', phoneNumber: 'phone', minutes: 'minutes' };

/** The strings of one screen, in one language, with what is needed to fill their variables. */
export interface Words {
  lang: Locale;
  custom?: Partial<Record<LoginMessage, string>>;
  companyName?: string;
}

/** Fills `${name}` from a Sesame string's values; an unknown variable stays as written. */
export function fillCustom(text: string, vars: Record<string, string | number>, companyName = ''): string {
  return text.replace(/\$\{(\w+)\}/g, (m, name: string) => {
    if (name === 'companyName') return companyName;
    const v = AUTH0_VARIABLES[name] && vars[AUTH0_VARIABLES[name]];
    return v !== undefined && v !== '' ? String(v) : m;
  });
}

/** The tenant's custom text in one page language, per prompt (one settings read per page view). */
export async function loadCustomText(s: Services, lang: Locale): Promise<Record<string, ScreenTexts>> {
  const stored = (await s.store.getSetting<StoredCustomText>(CUSTOM_TEXT_SETTING)) ?? {};
  return Object.fromEntries(Object.entries(stored).flatMap(([prompt, byLang]) => (byLang?.[lang] ? [[prompt, byLang[lang]]] : [])));
}

/**
 * The page's strings for one screen: Sesame's, replaced by the custom text of that screen. The
 * identifier step reads `login-id` then `login` (the more specific `login` wins on a conflict).
 */
export function wordsFor(lang: Locale, texts: Record<string, ScreenTexts>, screen: 'login' | 'login-passwordless-email-code' | 'login-passwordless-sms-otp' | 'login-passwordless-email-link', companyName: string): Words {
  const sources: [string, string][] = screen === 'login' ? [['login-id', 'login-id'], ['login', 'login']] : [['login-passwordless', screen]];
  const custom: Partial<Record<LoginMessage, string>> = {};
  for (const [prompt, name] of sources) {
    const map = SHOWN_SCREENS[prompt]?.[name];
    const set = texts[prompt]?.[name];
    if (!map || !set) continue;
    for (const [key, text] of Object.entries(set)) {
      if (typeof text !== 'string' || text === '') continue;
      for (const message of map[key] ?? []) custom[message] = text;
    }
  }
  return { lang, custom, companyName };
}
