import type { FastifyInstance } from 'fastify';
import { conflict, invalidBody, notFound } from '../../errors/api-error.ts';
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

/** Auth0 knows sendgrid, ses, mailgun… (spec §5); Sesame delivers over SMTP only (mail/transport.ts). */
const SUPPORTED = ['smtp'];
const SMTP_CREDENTIALS: Record<string, (v: unknown) => boolean> = {
  smtp_host: (v) => typeof v === 'string' && /^[A-Za-z0-9.-]{1,253}$|^\[[0-9A-Fa-f:.]{2,45}\]$/.test(v),
  smtp_port: (v) => Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 65535,
  smtp_user: (v) => typeof v === 'string' && v.length <= 255,
  smtp_pass: (v) => typeof v === 'string' && v.length <= 1024,
};
const REQUIRED = ['smtp_host', 'smtp_port'];
/** `addr@host` or `Name <addr@host>`. */
const FROM = /^(?:[^<>\r\n]*<[^\s@<>]+@[^\s@<>]+>|[^\s@<>]+@[^\s@<>]+)$/;

const notConfigured = () => notFound('The email provider has not been configured', 'inexistent_email_provider');

/**
 * `/api/v2/emails/provider` (spec §5), stored as the `email_provider` setting that the mail
 * transport reads for every batch. GET never shows `smtp_pass`: emailProviderView does not list it.
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
      const provider = checked({ enabled: true, ...req.body } as EmailProvider);
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
      const { smtp_pass_enc: previousPass, ...current } = await load();
      const { credentials, ...fields } = req.body;
      // Credentials merge key by key: GET never returns smtp_pass, so replacing the whole object
      // would force every caller that changes the host to re-send the password.
      const provider = checked({ ...current, ...fields, credentials: { ...current.credentials, ...credentials } });
      await store.putSetting(EMAIL_PROVIDER_SETTING, sealed(s, provider, previousPass));
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
 * The stored form: `smtp_pass` leaves `credentials` and is kept only encrypted with SESAME_SECRET's
 * key (mail/transport.ts decrypts it to log in). Without a new password the previous one is kept.
 */
function sealed(s: Services, p: EmailProvider, previousPass: string | undefined): EmailProvider {
  const { smtp_pass: pass, ...credentials } = p.credentials;
  const enc = typeof pass === 'string' ? s.keyring.seal(SMTP_CONTEXT, pass) : previousPass;
  return { ...p, credentials, ...(enc !== undefined ? { smtp_pass_enc: enc } : {}) };
}

function checked(p: EmailProvider): EmailProvider {
  if (!SUPPORTED.includes(p.name)) {
    throw invalidBody(`Sesame can only send email with these providers: ${SUPPORTED.join(', ')} (got "${p.name.slice(0, 64)}")`);
  }
  for (const [key, value] of Object.entries(p.credentials)) {
    const valid = SMTP_CREDENTIALS[key];
    if (!valid) throw invalidBody(`credentials.${key.slice(0, 64)} is not an SMTP credential (expected ${Object.keys(SMTP_CREDENTIALS).join(', ')})`);
    if (!valid(value)) throw invalidBody(`credentials.${key} is invalid`);
  }
  const missing = REQUIRED.find((k) => p.credentials[k] === undefined);
  if (missing) throw invalidBody(`Missing required property: credentials.${missing}`);
  if (p.default_from_address !== undefined && !FROM.test(p.default_from_address)) {
    throw invalidBody('default_from_address must be an email address, optionally with a display name: Name <addr@example.com>');
  }
  return p;
}
