import type { FastifyInstance } from 'fastify';
import { conflict, invalidBody, notFound } from '../../errors/api-error.ts';
import { isProviderName, PROVIDERS, type ProviderName, SUPPORTED, UNSUPPORTED } from '../../mail/providers/catalog.ts';
import { sealApiSecrets, sealedFields } from '../../mail/providers/secrets.ts';
import { EMAIL_PROVIDER_SETTING, SMTP_CONTEXT } from '../../mail/transport.ts';
import type { Services } from '../../services.ts';
import type { EmailProvider } from '../../store/types.ts';
import { requireScopes } from './auth.ts';
import { type FieldsInput, fieldsQuery, projection } from './paging.ts';
import { emailProviderCreateBody, emailProviderPatchBody, emailProviderView } from './schemas.ts';

interface ProviderInput {
  name?: string;
  enabled?: boolean;
  default_from_address?: string;
  credentials?: Record<string, unknown>;
  settings?: Record<string, unknown>;
}

/** `addr@host` or `Name <addr@host>`. */
const FROM = /^(?:[^<>\r\n]*<[^\s@<>]+@[^\s@<>]+>|[^\s@<>]+@[^\s@<>]+)$/;

const notConfigured = () => notFound('The email provider has not been configured', 'inexistent_email_provider');

/**
 * `/api/v2/emails/provider` (spec §5), stored as the `email_provider` setting that the mail
 * transport reads for every batch: SMTP, or an email API (SendGrid, Mailgun, SES, Postmark,
 * SparkPost; issue 14). GET never shows a secret: emailProviderView does not list them, and they
 * are not stored in `credentials` anyway.
 */
export function registerEmailProvider(api: FastifyInstance, s: Services): void {
  const { store } = s;
  const load = async () => {
    const p = await store.getSetting<EmailProvider>(EMAIL_PROVIDER_SETTING);
    if (!p) throw notConfigured();
    return p;
  };

  api.get<{ Querystring: FieldsInput }>(
    '/emails/provider',
    {
      onRequest: requireScopes(s, 'read:email_provider'),
      schema: { querystring: { type: 'object', additionalProperties: false, properties: fieldsQuery }, response: { 200: emailProviderView } },
    },
    async (req) => projection(req.query)(await load()),
  );

  api.post<{ Body: ProviderInput }>(
    '/emails/provider',
    {
      onRequest: requireScopes(s, 'create:email_provider'),
      schema: { body: emailProviderCreateBody, response: { 201: emailProviderView } },
      config: { audit: 'Configure the email provider' },
    },
    async (req, reply) => {
      if (await store.getSetting<EmailProvider>(EMAIL_PROVIDER_SETTING)) {
        throw conflict('An email provider is already configured: update it with PATCH or delete it first', 'email_provider_conflict');
      }
      const provider = checked({ enabled: true, ...req.body } as EmailProvider, undefined);
      await store.putSetting(EMAIL_PROVIDER_SETTING, sealed(s, provider, undefined));
      reply.code(201);
      return provider;
    },
  );

  api.patch<{ Body: ProviderInput }>(
    '/emails/provider',
    {
      onRequest: requireScopes(s, 'update:email_provider'),
      schema: { body: emailProviderPatchBody, response: { 200: emailProviderView } },
      config: { audit: 'Update the email provider' },
    },
    async (req) => {
      const stored = await load();
      const { smtp_pass_enc: _pass, secrets_enc: _secrets, ...current } = stored;
      const { credentials, ...fields } = req.body;
      // Credentials merge key by key: GET never returns smtp_pass or an API key, so replacing the
      // whole object would force every caller that changes the host to re-send the secret. A change
      // of provider starts afresh: another provider's fields (and secrets) mean nothing to it.
      const same = fields.name === undefined || fields.name === current.name;
      const previous = same ? stored : undefined;
      const provider = checked({ ...current, ...fields, credentials: same ? { ...current.credentials, ...credentials } : { ...credentials } }, previous);
      await store.putSetting(EMAIL_PROVIDER_SETTING, sealed(s, provider, previous));
      return provider;
    },
  );

  api.delete(
    '/emails/provider',
    { onRequest: requireScopes(s, 'delete:email_provider'), config: { audit: 'Delete the email provider' } },
    async (_req, reply) => {
      await load();
      await store.deleteSetting(EMAIL_PROVIDER_SETTING);
      return reply.code(204).send();
    },
  );
}

/**
 * The stored form: secrets leave `credentials` and are kept only sealed with SESAME_SECRET's key:
 * `smtp_pass` as `smtp_pass_enc` (mail/transport.ts opens it to log in), an API provider's keys in
 * `secrets_enc` (mail/providers/secrets.ts). Without a new secret the previous one is kept.
 */
function sealed(s: Services, p: EmailProvider, previous: EmailProvider | undefined): EmailProvider {
  if (p.name !== 'smtp') return sealApiSecrets(s.keyring, p, previous);
  const { smtp_pass: pass, ...credentials } = p.credentials;
  const enc = typeof pass === 'string' ? s.keyring.seal(SMTP_CONTEXT, pass) : previous?.smtp_pass_enc;
  const { secrets_enc: _drop, smtp_pass_enc: _old, ...rest } = p;
  return { ...rest, credentials, ...(enc !== undefined ? { smtp_pass_enc: enc } : {}) };
}

/** Auth0's per-provider credential rules (catalog.ts); `previous` holds the secrets a PATCH keeps. */
function checked(p: EmailProvider, previous: EmailProvider | undefined): EmailProvider {
  const name = p.name.slice(0, 64);
  if (UNSUPPORTED.includes(p.name)) {
    throw invalidBody(`Sesame does not support the email provider "${name}"; it can send email with: ${SUPPORTED.join(', ')}`);
  }
  if (!isProviderName(p.name)) throw invalidBody(`Unknown email provider "${name}"; Sesame can send email with: ${SUPPORTED.join(', ')}`);
  const spec = PROVIDERS[p.name];
  for (const [key, value] of Object.entries(p.credentials)) {
    const field = spec.credentials[key];
    if (!field) throw invalidBody(`credentials.${key.slice(0, 64)} is not a ${p.name} credential (expected ${Object.keys(spec.credentials).join(', ')})`);
    if (!field.check(value)) throw invalidBody(`credentials.${key} is invalid: expected ${field.expect}`);
  }
  const kept = p.name === 'smtp' ? [] : sealedFields(previous);
  const missing = Object.entries(spec.credentials).find(([k, f]) => f.required && p.credentials[k] === undefined && !kept.includes(k));
  if (missing) throw invalidBody(`Missing required property: credentials.${missing[0]} (the ${p.name} provider requires ${requiredOf(p.name).join(', ')})`);
  if (p.default_from_address !== undefined && !FROM.test(p.default_from_address)) {
    throw invalidBody('default_from_address must be an email address, optionally with a display name: Name <addr@example.com>');
  }
  return p;
}

const requiredOf = (name: ProviderName) => Object.entries(PROVIDERS[name].credentials).filter(([, f]) => f.required).map(([k]) => k);
