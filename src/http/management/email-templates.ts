import type { FastifyInstance } from 'fastify';
import { ApiError, conflict, invalidBody, notFound } from '../../errors/api-error.ts';
import { TemplateError, validateEmailTemplate } from '../../mail/templates.ts';
import type { Services } from '../../services.ts';
import { requireScopes } from './auth.ts';

/**
 * `/api/v2/email-templates` (issue 14), Auth0's shape, so tenants exported from Auth0 import and
 * auth0-deploy-cli round-trips `emailTemplates`.
 *
 * What Sesame sends, and from where: Sesame sends one kind of email, the passwordless code or link,
 * and renders it from the email connection's `options.email` (from, subject, body, syntax), exactly
 * where Auth0 keeps it; Auth0's email templates are for the flows of database connections (verify
 * email, reset and change password, welcome, blocked account, MFA, invitations) and Sesame has none
 * of those flows, so no template maps to a mail Sesame sends. They are stored and returned as set,
 * and validated as Auth0 does (known name, Liquid syntax), and nothing reads them for sending.
 * An unset template answers 404 "Template not found", as on Auth0 (deploy-cli then skips it).
 */

export const EMAIL_TEMPLATES_SETTING = 'email_templates';

/** Auth0's template names (Management API `templateName`). */
export const TEMPLATE_NAMES = [
  'verify_email', 'verify_email_by_code', 'reset_email', 'reset_email_by_code', 'welcome_email', 'blocked_account',
  'stolen_credentials', 'enrollment_email', 'mfa_oob_code', 'user_invitation', 'change_password', 'password_reset', 'async_approval',
] as const;

interface EmailTemplate {
  template: string;
  body?: string | null;
  from?: string | null;
  resultUrl?: string | null;
  subject?: string | null;
  syntax?: string | null;
  urlLifetimeInSeconds?: number | null;
  includeEmailInRedirect?: boolean;
  enabled?: boolean | null;
}

const nullableString = (maxLength: number) => ({ type: ['string', 'null'], maxLength }) as const;
const fields = {
  template: { type: 'string', enum: TEMPLATE_NAMES },
  body: nullableString(100_000),
  from: nullableString(1000),
  resultUrl: nullableString(2048),
  subject: nullableString(1000),
  syntax: { type: ['string', 'null'], enum: ['liquid', null] },
  urlLifetimeInSeconds: { type: ['integer', 'null'], minimum: 0, maximum: 2_592_000 },
  includeEmailInRedirect: { type: 'boolean' },
  enabled: { type: ['boolean', 'null'] },
} as const;

const createBody = { type: 'object', additionalProperties: false, required: ['template'], properties: fields } as const;
const updateBody = { type: 'object', additionalProperties: false, properties: fields } as const;
const view = {
  type: 'object',
  properties: Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, { type: 'type' in v ? v.type : 'string' }])),
} as const;
const nameParams = { type: 'object', required: ['templateName'], properties: { templateName: { type: 'string', maxLength: 100 } } } as const;

interface NameParams {
  templateName: string;
}

type Stored = Record<string, EmailTemplate>;

const notFoundTemplate = () => notFound('Template not found');

function checkName(name: string): void {
  if (!(TEMPLATE_NAMES as readonly string[]).includes(name)) {
    throw new ApiError(400, `Path validation error: 'Invalid value "${name.slice(0, 100)}"' on property templateName (Template name).`, 'invalid_uri');
  }
}

/** The template's Liquid must parse, as a connection's `options.email` must (mail/templates.ts). */
function checkTemplate(t: EmailTemplate): void {
  try {
    validateEmailTemplate({ ...(t.from ? { from: t.from } : {}), ...(t.subject ? { subject: t.subject } : {}), ...(t.body ? { body: t.body } : {}) });
  } catch (err) {
    if (err instanceof TemplateError) throw invalidBody(err.message);
    throw err;
  }
  if (typeof t.resultUrl === 'string' && t.resultUrl !== '' && !(/^https?:\/\//i.test(t.resultUrl) && URL.canParse(t.resultUrl))) {
    throw invalidBody('resultUrl must be an http(s) URL');
  }
}

export function registerEmailTemplates(api: FastifyInstance, s: Services): void {
  const load = async () => (await s.store.getSetting<Stored>(EMAIL_TEMPLATES_SETTING)) ?? {};

  api.get<{ Params: NameParams }>(
    '/email-templates/:templateName',
    { onRequest: requireScopes(s, 'read:email_templates'), schema: { params: nameParams, response: { 200: view } } },
    async (req) => {
      checkName(req.params.templateName);
      const found = (await load())[req.params.templateName];
      if (!found) throw notFoundTemplate();
      return found;
    },
  );

  api.post<{ Body: EmailTemplate }>(
    '/email-templates',
    {
      onRequest: requireScopes(s, 'create:email_templates'),
      schema: { body: createBody, response: { 201: view, 200: view } },
      config: { audit: 'Create an email template' },
    },
    async (req, reply) => {
      checkTemplate(req.body);
      const name = req.body.template;
      await s.store.updateSetting<Stored>(EMAIL_TEMPLATES_SETTING, (current) => {
        if (current?.[name]) throw conflict(`Template ${name} already exists.`);
        return { ...current, [name]: req.body };
      });
      return reply.code(201).send(req.body);
    },
  );

  /** PUT replaces (and creates), PATCH changes the fields sent of a template that exists. */
  for (const method of ['PUT', 'PATCH'] as const) {
    api.route<{ Params: NameParams; Body: Partial<EmailTemplate> }>({
      method,
      url: '/email-templates/:templateName',
      onRequest: requireScopes(s, 'update:email_templates'),
      schema: { params: nameParams, body: updateBody, response: { 200: view } },
      config: { audit: 'Update an email template' },
      handler: async (req) => {
        const name = req.params.templateName;
        checkName(name);
        if (req.body.template !== undefined && req.body.template !== name) throw invalidBody(`template must be ${name}, the template of this URL`);
        const updated = await s.store.updateSetting<Stored>(EMAIL_TEMPLATES_SETTING, (current) => {
          const was = current?.[name];
          if (method === 'PATCH' && !was) throw notFoundTemplate();
          const next: EmailTemplate = { ...(method === 'PATCH' ? was : {}), ...req.body, template: name };
          checkTemplate(next);
          return { ...current, [name]: next };
        });
        return updated[name];
      },
    });
  }
}
