import { type TemplateEngine, TemplateError, createTemplateEngine } from '../mail/templates.ts';

/**
 * SMS message templates (spec §4, issue 5 §1): `options.template` with `options.syntax`
 * `md_with_macros` (Auth0's default: `@@password@@` is replaced by the code) or `liquid`.
 */

export const SMS_SYNTAXES = ['md_with_macros', 'liquid'] as const;
export type SmsSyntax = (typeof SMS_SYNTAXES)[number];

/** Twilio refuses longer bodies (error 21617); a template that long cannot produce a deliverable SMS. */
export const MAX_TEMPLATE_LENGTH = 1600;

/** Liquid variables of the SMS template (spec §4): `code` and `password` are the same value. */
export interface SmsVars {
  code: string;
  phone_number: string;
  application: { name: string };
  request_language?: string | null;
  /** The tenant's friendly name: Auth0's phone templates use `{{ friendly_name }}` (issue 14). */
  friendly_name?: string | null;
}

/** The SMS fields of a connection's options this module reads; the rest of the options is ignored. */
export interface SmsTemplateOptions {
  template?: unknown;
  syntax?: unknown;
}

/**
 * A connection's SMS template cannot be used. `message` starts with the option's name
 * (`template: …`, `syntax: …`), so the Management API can answer `options.<message>`, as it does
 * for the email template's TemplateError; `code` is the same discriminant.
 */
export class SmsTemplateError extends Error {
  readonly code = 'TEMPLATE_ERROR';
  readonly field: 'template' | 'syntax';
  constructor(field: 'template' | 'syntax', message: string, options?: ErrorOptions) {
    super(`${field}: ${message}`, options);
    this.name = 'SmsTemplateError';
    this.field = field;
  }
}

let shared: TemplateEngine | undefined;
const sharedEngine = () => (shared ??= createTemplateEngine());

const syntaxOf = (options: SmsTemplateOptions): SmsSyntax =>
  options.syntax === 'liquid' ? 'liquid' : 'md_with_macros';

/** The Liquid cause of the engine's (email-prefixed) TemplateError, for an SMS-prefixed message. */
const liquidReason = (err: unknown): string => {
  const cause = err instanceof TemplateError ? err.cause : err;
  return cause instanceof Error ? cause.message : String(cause);
};

/**
 * Checks `syntax` and `template` and parses a Liquid template (without rendering it), so a broken
 * template is refused when the connection is written rather than at the next sign-in. Absent or
 * null fields are fine (the defaults apply). Throws SmsTemplateError.
 */
export function validateSmsTemplate(options: SmsTemplateOptions, engine: TemplateEngine = sharedEngine()): void {
  const { syntax, template } = options;
  if (syntax !== undefined && syntax !== null && !(SMS_SYNTAXES as readonly unknown[]).includes(syntax)) {
    throw new SmsTemplateError('syntax', `must be one of ${SMS_SYNTAXES.join(', ')}`);
  }
  if (template === undefined || template === null) return;
  if (typeof template !== 'string') throw new SmsTemplateError('template', 'must be a string');
  if (template.length > MAX_TEMPLATE_LENGTH) {
    throw new SmsTemplateError('template', `must be at most ${MAX_TEMPLATE_LENGTH} characters (got ${template.length})`);
  }
  if (syntaxOf(options) !== 'liquid') return;
  try {
    // Plain (unescaped) Liquid: an SMS is text, HTML escaping would garble `&` or `<`.
    engine.parse('body', template, false);
  } catch (err) {
    throw new SmsTemplateError('template', `invalid Liquid: ${liquidReason(err)}`, { cause: err });
  }
}

/**
 * The built-in message (no `template` set). Its last line is the origin-bound one-time code
 * (WICG "Origin-bound one-time codes delivered via SMS"): `@<host> #<code>`, which the WebOTP API
 * and iOS/Android autofill read to offer the code only on the issuer's site. The host is the
 * issuer's hostname without port, as that format has no port. Short enough for one GSM-7 segment
 * (160 characters) with any ordinary hostname.
 */
export function defaultSmsBody(code: string, issuer: string): string {
  return `Your verification code is: ${code}\n\n@${new URL(issuer).hostname} #${code}`;
}

/** `@@password@@` (Auth0's macro) and `@@code@@` (tolerated) become the code; nothing else changes. */
const replaceMacros = (template: string, code: string) => template.split('@@password@@').join(code).split('@@code@@').join(code);

/**
 * Renders the SMS body for one code. The connection's `template` wins when set; otherwise the
 * built-in message. Throws SmsTemplateError when a Liquid template cannot be parsed or rendered
 * (e.g. it exceeds the engine's render limits).
 */
export async function renderSms(engine: TemplateEngine, options: SmsTemplateOptions, vars: SmsVars, issuer: string): Promise<string> {
  const template = options.template;
  if (template === undefined || template === null || template === '') return defaultSmsBody(vars.code, issuer);
  validateSmsTemplate(options, engine);
  const source = template as string;
  if (syntaxOf(options) === 'md_with_macros') return replaceMacros(source, vars.code);
  const scope = {
    code: vars.code,
    password: vars.code,
    phone_number: vars.phone_number,
    application: { name: vars.application.name },
    request_language: vars.request_language ?? null,
    friendly_name: vars.friendly_name ?? null,
    tenant: { friendly_name: vars.friendly_name ?? null },
  };
  try {
    return await engine.render('body', source, scope, false);
  } catch (err) {
    throw new SmsTemplateError('template', `cannot be rendered: ${liquidReason(err)}`, { cause: err });
  }
}
