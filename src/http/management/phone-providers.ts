import type { FastifyInstance } from 'fastify';
import { randomId } from '../../core/crypto.ts';
import { PHONE_PROVIDER_SEAL, PHONE_PROVIDER_SETTING, type PhoneProviderConfiguration, type StoredPhoneProvider, providerView } from '../../core/phone-provider.ts';
import { conflict, invalidBody, notFound } from '../../errors/api-error.ts';
import type { Services } from '../../services.ts';
import { featureNotEnabled } from './absent-features.ts';
import { requireScopes } from './auth.ts';
import { idParams } from './schemas.ts';

/**
 * `/api/v2/branding/phone/providers` (issue 14): Auth0's tenant-level phone provider, one per tenant,
 * used by every sms connection without a provider of its own (core/phone-provider.ts). Twilio only:
 * Auth0's `custom` provider runs a send-phone-message Action, which Sesame does not have (an sms
 * connection's `sms_gateway` provider is Sesame's way to send through one's own service). The Auth
 * Token (`credentials.auth_token`) is sealed at rest and write-only.
 */

interface ProviderInput {
  name?: 'twilio' | 'custom';
  disabled?: boolean;
  configuration?: Partial<PhoneProviderConfiguration>;
  credentials?: { auth_token?: string };
}

const SID = { type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9]+$' } as const;
const configuration = {
  type: 'object',
  additionalProperties: false,
  properties: {
    sid: SID,
    mssid: SID,
    default_from: { type: 'string', minLength: 1, maxLength: 64 },
    delivery_methods: { type: 'array', minItems: 1, uniqueItems: true, items: { type: 'string', enum: ['text', 'voice'] } },
  },
} as const;
const properties = {
  name: { type: 'string', enum: ['twilio', 'custom'] },
  disabled: { type: 'boolean' },
  configuration,
  credentials: { type: 'object', additionalProperties: false, properties: { auth_token: { type: 'string', minLength: 1, maxLength: 255 } } },
} as const;
const createBody = { type: 'object', additionalProperties: false, required: ['name', 'credentials'], properties } as const;
const patchBody = { type: 'object', additionalProperties: false, minProperties: 1, properties } as const;

export const providerSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    channel: { type: 'string' },
    disabled: { type: 'boolean' },
    configuration: {
      type: 'object',
      properties: { sid: { type: 'string' }, mssid: { type: 'string' }, default_from: { type: 'string' }, delivery_methods: { type: 'array', items: { type: 'string' } } },
    },
    created_at: { type: 'string' },
    updated_at: { type: 'string' },
  },
} as const;
/** Both phone lists filter on `disabled` only (Auth0's reference). */
export const disabledQuery = { type: 'object', additionalProperties: false, properties: { disabled: { type: 'boolean' } } } as const;

const notFoundError = () => notFound('Phone provider not found', 'inexistent_phone_provider');

/** What Sesame can send with: Twilio, by text (Auth0's `voice` is kept, Sesame places no calls). */
function checked(input: ProviderInput, current?: StoredPhoneProvider): PhoneProviderConfiguration {
  if (input.name === 'custom') {
    throw featureNotEnabled('custom phone providers (Auth0 runs them as a send-phone-message Action): use twilio here, or provider sms_gateway on the sms connection');
  }
  const config = { ...current?.configuration, ...input.configuration } as Partial<PhoneProviderConfiguration>;
  if (!config.sid) throw invalidBody("Payload validation error: 'Missing required property: sid' on property configuration.");
  if (!config.delivery_methods) throw invalidBody("Payload validation error: 'Missing required property: delivery_methods' on property configuration.");
  if (!config.delivery_methods.includes('text')) throw invalidBody('configuration.delivery_methods must include "text": Sesame sends one-time codes by text message');
  if (!config.mssid && !config.default_from) throw invalidBody('configuration.default_from or configuration.mssid is required: Twilio needs a sender (a phone template may set its own from)');
  return config as PhoneProviderConfiguration;
}

export function registerPhoneProviders(api: FastifyInstance, s: Services): void {
  const BASE = '/branding/phone/providers';
  const load = () => s.store.getSetting<StoredPhoneProvider>(PHONE_PROVIDER_SETTING);
  const seal = (token: string) => s.keyring.seal(PHONE_PROVIDER_SEAL, token);

  api.get<{ Querystring: { disabled?: boolean } }>(
    BASE,
    { onRequest: requireScopes(s, 'read:phone_providers'), schema: { querystring: disabledQuery, response: { 200: { type: 'object', properties: { providers: { type: 'array', items: providerSchema } } } } } },
    async (req) => {
      const p = await load();
      const shown = p && (req.query.disabled === undefined || p.disabled === req.query.disabled);
      return { providers: shown ? [providerView(p)] : [] };
    },
  );

  api.get<{ Params: { id: string } }>(
    `${BASE}/:id`,
    { onRequest: requireScopes(s, 'read:phone_providers'), schema: { params: idParams, response: { 200: providerSchema } } },
    async (req) => {
      const p = await load();
      if (!p || p.id !== req.params.id) throw notFoundError();
      return providerView(p);
    },
  );

  api.post<{ Body: ProviderInput }>(
    BASE,
    { onRequest: requireScopes(s, 'create:phone_providers'), schema: { body: createBody, response: { 201: providerSchema } }, config: { audit: 'Create the phone provider' } },
    async (req, reply) => {
      const configuration = checked(req.body);
      const token = req.body.credentials?.auth_token;
      if (!token) throw invalidBody("Payload validation error: 'Missing required property: auth_token' on property credentials.");
      const now = new Date(s.now()).toISOString();
      const created: StoredPhoneProvider = {
        id: `pro_${randomId(22)}`, name: 'twilio', channel: 'phone', disabled: req.body.disabled ?? false, configuration, auth_token_enc: seal(token), created_at: now, updated_at: now,
      };
      // One provider per tenant (Auth0): a second create is a conflict, decided under the setting's lock.
      const stored = await s.store.updateSetting<StoredPhoneProvider>(PHONE_PROVIDER_SETTING, (current) => current ?? created);
      if (stored.id !== created.id) throw conflict('A phone provider is already configured: update it with PATCH', 'phone_provider_already_exists');
      return reply.code(201).send(providerView(stored));
    },
  );

  api.patch<{ Params: { id: string }; Body: ProviderInput }>(
    `${BASE}/:id`,
    { onRequest: requireScopes(s, 'update:phone_providers'), schema: { params: idParams, body: patchBody, response: { 200: providerSchema } }, config: { audit: 'Update the phone provider' } },
    async (req) => {
      const current = await load();
      if (!current || current.id !== req.params.id) throw notFoundError();
      const configuration = checked(req.body, current);
      const token = req.body.credentials?.auth_token;
      const next: StoredPhoneProvider = {
        ...current,
        configuration,
        disabled: req.body.disabled ?? current.disabled,
        // GET never shows the token: a PATCH without credentials keeps the stored one.
        ...(token ? { auth_token_enc: seal(token) } : {}),
        updated_at: new Date(s.now()).toISOString(),
      };
      // Deleted (or replaced) meanwhile: nothing to update.
      const stored = await s.store.updateSetting<StoredPhoneProvider>(PHONE_PROVIDER_SETTING, (p) => {
        if (p?.id !== current.id) throw notFoundError();
        return next;
      });
      return providerView(stored);
    },
  );

  api.delete<{ Params: { id: string } }>(
    `${BASE}/:id`,
    { onRequest: requireScopes(s, 'delete:phone_providers'), schema: { params: idParams }, config: { audit: 'Delete the phone provider' } },
    async (req, reply) => {
      const current = await load();
      if (!current || current.id !== req.params.id) throw notFoundError();
      await s.store.deleteSetting(PHONE_PROVIDER_SETTING);
      return reply.code(204).send();
    },
  );
}
