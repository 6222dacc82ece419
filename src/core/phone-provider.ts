import type { Services } from '../services.ts';
import { hasOwnProvider } from '../sms/options.ts';

/**
 * Auth0's tenant-level phone provider and phone templates (`/api/v2/branding/phone/*`, issue 14),
 * mapped onto Sesame's SMS delivery. Both are tenant settings (cached reference data, like every
 * setting): an sms connection with no provider of its own (no `twilio_sid`, no gateway) sends through
 * the tenant's Twilio account, and the enabled `otp_verify` template gives the text of a connection
 * with no `template` of its own. The Auth Token is stored sealed (core/keyring.ts) and never shown.
 */

export const PHONE_PROVIDER_SETTING = 'phone_provider';
export const PHONE_TEMPLATES_SETTING = 'phone_templates';
/** The keyring purpose the provider's Auth Token is sealed under (bound to this one use). */
export const PHONE_PROVIDER_SEAL = 'phone-provider:twilio';

export interface PhoneProviderConfiguration {
  sid: string;
  delivery_methods: string[];
  default_from?: string;
  mssid?: string;
}

/** As stored: Auth0's fields plus the sealed Auth Token (`auth_token_enc`), never returned. */
export interface StoredPhoneProvider {
  id: string;
  name: 'twilio';
  channel: 'phone';
  disabled: boolean;
  configuration: PhoneProviderConfiguration;
  auth_token_enc?: string;
  created_at: string;
  updated_at: string;
}

export const PHONE_TEMPLATE_TYPES = ['otp_verify', 'otp_enroll', 'change_password', 'blocked_account', 'password_breach'] as const;
export type PhoneTemplateType = (typeof PHONE_TEMPLATE_TYPES)[number];

export interface PhoneTemplate {
  id: string;
  channel: 'phone';
  customizable: boolean;
  tenant?: string;
  type: PhoneTemplateType;
  disabled: boolean;
  content: { syntax?: string; from?: string; body: { text?: string; voice?: string } };
}

/** The provider's fields without its secret, as the Management API answers them. */
export function providerView(p: StoredPhoneProvider): Omit<StoredPhoneProvider, 'auth_token_enc'> {
  const { auth_token_enc: _secret, ...view } = p;
  return view;
}

/**
 * The options an SMS is sent with (`opened`: the connection's options, secrets opened): the tenant's
 * provider fills in when the connection has none, and the `otp_verify` template when it has no text.
 * A template's `from` applies to sends through the tenant's provider only (Auth0: the template's
 * From overrides the provider's default_from; Twilio's Messaging Service, when set, picks the sender).
 */
export async function withTenantPhone(s: Services, opened: Record<string, unknown>): Promise<Record<string, unknown>> {
  const template = (await s.store.getSetting<PhoneTemplate[]>(PHONE_TEMPLATES_SETTING))?.find((t) => t.type === 'otp_verify' && !t.disabled && t.content.body.text);
  let out = opened;
  if (!hasOwnProvider(opened)) {
    const provider = await s.store.getSetting<StoredPhoneProvider>(PHONE_PROVIDER_SETTING);
    if (provider && !provider.disabled) {
      const { sid, mssid, default_from } = provider.configuration;
      out = {
        ...out,
        provider: 'twilio',
        twilio_sid: sid,
        twilio_token: openToken(s, provider),
        messaging_service_sid: mssid ?? null,
        from: template?.content.from ?? out.from ?? default_from ?? null,
      };
    }
  }
  if (template && (out.template === undefined || out.template === null || out.template === '')) {
    out = { ...out, template: template.content.body.text, syntax: 'liquid' };
  }
  return out;
}

/** A token that no longer opens (SESAME_SECRET changed) reads as missing: the send then says Twilio is not configured. */
function openToken(s: Services, p: StoredPhoneProvider): string | null {
  if (!p.auth_token_enc) return null;
  try {
    return s.keyring.open(PHONE_PROVIDER_SEAL, p.auth_token_enc);
  } catch {
    return null;
  }
}
