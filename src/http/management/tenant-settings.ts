import type { FastifyInstance } from 'fastify';
import { DEFAULT_SMS_DAILY_BUDGET } from '../../core/fraud-guards.ts';
import { isPhoneCountry } from '../../core/phone.ts';
import type { TenantSettings } from '../../core/model.ts';
import { DEFAULT_TENANT } from '../../store/sql/sql-store.ts';
import { invalidBody } from '../../errors/api-error.ts';
import type { Services } from '../../services.ts';
import { LOCALES, enabledLocales, isLocale } from '../pages/i18n.ts';
import { requireScopes } from './auth.ts';
import { type FieldsInput, fieldsQuery, projection } from './paging.ts';
import { tenantPatchBody, tenantView } from './schemas.ts';

/** THE migration flag (spec §2.2): reject unauthenticated /passwordless/start from confidential apps. */
export const ENFORCE_FLAG = 'enforce_client_authentication_on_passwordless_start';

interface TenantPatch {
  friendly_name?: string;
  support_email?: string;
  support_url?: string;
  picture_url?: string;
  default_audience?: string;
  flags?: Record<string, boolean>;
  allowed_logout_urls?: string[];
  custom_login_page_on?: boolean;
  custom_login_page?: string;
  sms_daily_budget?: number;
  default_phone_country?: string | null;
  enabled_locales?: string[];
  universal_login?: { passwordless?: { allow_magiclink_verify_without_session?: boolean } };
}

type UniversalLogin = NonNullable<TenantPatch['universal_login']>;

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
/** A logout return URL is a redirect target: never a scheme that runs or embeds content. */
const DANGEROUS_SCHEMES = new Set(['javascript:', 'data:', 'vbscript:', 'file:', 'blob:']);

/**
 * `/api/v2/tenants/settings` (spec §2.2, §5). Settings live in the store and every request reads
 * them there (the start endpoint does too), through the reference cache (store/sql/ref-cache.ts): a
 * change applies from the very next request in this process, and in every other instance from the
 * next request on SQLite, within 1 s (milliseconds in practice) on PostgreSQL.
 */
export function registerTenantSettings(api: FastifyInstance, s: Services): void {
  /**
   * GET shows the migration flag as false until it was set, as Auth0 does for new flags, and the
   * effective magic-link rule (issue 3 §4: links complete only in the browser that asked for them
   * unless this is turned on), and the SMS budget in force (issue 5 §4).
   */
  const view = (t: TenantSettings) => {
    const ul = (t.universal_login ?? {}) as UniversalLogin;
    return {
      ...t,
      flags: { [ENFORCE_FLAG]: false, ...t.flags },
      enabled_locales: [...enabledLocales(t.enabled_locales)],
      sms_daily_budget: typeof t.sms_daily_budget === 'number' ? t.sms_daily_budget : DEFAULT_SMS_DAILY_BUDGET,
      universal_login: { ...ul, passwordless: { allow_magiclink_verify_without_session: false, ...ul.passwordless } },
    };
  };

  api.get<{ Querystring: FieldsInput }>(
    '/tenants/settings',
    {
      onRequest: requireScopes(s, 'read:tenant_settings'),
      schema: { querystring: { type: 'object', additionalProperties: false, properties: fieldsQuery }, response: { 200: tenantView } },
    },
    async (req) => projection(req.query)(view(await s.store.getTenantSettings())),
  );

  api.patch<{ Body: TenantPatch }>(
    '/tenants/settings',
    {
      onRequest: requireScopes(s, 'update:tenant_settings'),
      schema: { body: tenantPatchBody, response: { 200: tenantView } },
      config: { audit: 'Update tenant settings' },
    },
    async (req) => {
      const { flags, universal_login: ul, ...fields } = req.body;
      if (fields.support_email && !EMAIL.test(fields.support_email)) throw invalidBody('support_email must be an email address');
      for (const key of ['support_url', 'picture_url'] as const) {
        const url = fields[key];
        if (url && !/^https?:\/\//i.test(url)) throw invalidBody(`${key} must be an http(s) URL`);
        if (url && !URL.canParse(url)) throw invalidBody(`${key} is not a valid URL`);
      }
      const country = fields.default_phone_country;
      if (typeof country === 'string' && !isPhoneCountry(country)) {
        throw invalidBody(`default_phone_country must be an ISO 3166-1 alpha-2 region with a calling code (e.g. "FR"), or null; got "${country}"`);
      }
      // Custom text is exported per enabled locale (auth0-deploy-cli reads this list), so it names
      // only languages the hosted pages can show.
      const unknownLocale = fields.enabled_locales?.find((l) => !isLocale(l));
      if (unknownLocale !== undefined) {
        throw invalidBody(`enabled_locales: Sesame's hosted pages speak ${LOCALES.join(', ')}; "${unknownLocale.slice(0, 35)}" is not available`);
      }
      fields.allowed_logout_urls?.forEach((url, i) => checkReturnUrl(`allowed_logout_urls[${i}]`, url));
      // `cannot_change_*` flags are read-only markers on Auth0 (spec §2.2).
      const readOnly = Object.keys(flags ?? {}).find((f) => f.startsWith('cannot_change_'));
      if (readOnly) throw invalidBody(`flags.${readOnly} is read-only`);

      // Flags and universal_login.passwordless merge key by key (Auth0); other fields replace.
      // Unknown flag names are kept as sent. One locked read-modify-write: two PATCHes of different
      // fields at once (an operator and `sesame enforce`, say) both apply.
      const next = await s.store.updateSetting<TenantSettings>('tenant', (stored) => {
        const current = stored ?? structuredClone(DEFAULT_TENANT);
        const merged: TenantSettings = { ...current, ...fields, flags: { ...current.flags, ...flags } };
        // null clears it: the page then starts from the browser's language.
        if (merged.default_phone_country === null) delete merged.default_phone_country;
        if (ul) {
          const was = (current.universal_login ?? {}) as UniversalLogin;
          merged.universal_login = { ...was, ...ul, passwordless: { ...was.passwordless, ...ul.passwordless } };
        }
        return merged;
      });
      return view(next);
    },
  );
}

/** An absolute URL (a native app's custom scheme is fine, as on Auth0), but nothing that runs script. */
function checkReturnUrl(where: string, value: string): void {
  if (!URL.canParse(value)) throw invalidBody(`${where} is not a valid URL: ${value.slice(0, 100)}`);
  const { protocol } = new URL(value);
  if (DANGEROUS_SCHEMES.has(protocol)) throw invalidBody(`${where} uses a forbidden scheme: ${protocol}`);
}
