import type { FastifyInstance } from 'fastify';
import { randomId } from '../../core/crypto.ts';
import { PHONE_TEMPLATES_SETTING, PHONE_TEMPLATE_TYPES, type PhoneTemplate, type PhoneTemplateType } from '../../core/phone-provider.ts';
import { conflict, invalidBody, notFound } from '../../errors/api-error.ts';
import type { Services } from '../../services.ts';
import { SmsTemplateError, validateSmsTemplate } from '../../sms/template.ts';
import { requireScopes } from './auth.ts';
import { disabledQuery as listQuery } from './phone-providers.ts';
import { idParams } from './schemas.ts';

/**
 * `/api/v2/branding/phone/templates` (issue 14): Auth0's phone message templates (Liquid). Sesame
 * sends one kind of phone message, the sign-in code: an enabled `otp_verify` template gives its text
 * (and `from`, with the tenant's provider) to every sms connection without a `template` of its own
 * (core/phone-provider.ts). Templates of the other types are kept as written so Auth0 exports
 * round-trip; Sesame has no message they would apply to (docs/auth0-compat.md).
 */

interface TemplateInput {
  type?: PhoneTemplateType;
  disabled?: boolean;
  content?: { syntax?: string; from?: string; body?: { text?: string; voice?: string } };
}

const body = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: { text: { type: 'string', minLength: 1, maxLength: 20_000 }, voice: { type: 'string', minLength: 1, maxLength: 20_000 } },
} as const;
const content = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: { syntax: { type: 'string', enum: ['liquid'] }, from: { type: 'string', minLength: 1, maxLength: 16 }, body },
} as const;
const createBody = {
  type: 'object',
  additionalProperties: false,
  properties: { type: { type: 'string', enum: [...PHONE_TEMPLATE_TYPES] }, disabled: { type: 'boolean' }, content },
} as const;
const patchBody = { type: 'object', additionalProperties: false, properties: { disabled: { type: 'boolean' }, content } } as const;

export const templateSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    channel: { type: 'string' },
    customizable: { type: 'boolean' },
    type: { type: 'string' },
    disabled: { type: 'boolean' },
    content: {
      type: 'object',
      properties: { syntax: { type: 'string' }, from: { type: 'string' }, body: { type: 'object', properties: { text: { type: 'string' }, voice: { type: 'string' } } } },
    },
  },
} as const;

const notFoundError = () => notFound('Phone template not found', 'inexistent_phone_template');

/** The text is sent as an SMS: it must parse as Liquid and fit what Twilio accepts (sms/template.ts). */
function checkText(text: string | undefined): void {
  if (text === undefined) return;
  try {
    validateSmsTemplate({ template: text, syntax: 'liquid' });
  } catch (err) {
    if (err instanceof SmsTemplateError) throw invalidBody(`content.body.text ${err.message.replace(/^template: /, '')}`);
    throw err;
  }
}

export function registerPhoneTemplates(api: FastifyInstance, s: Services): void {
  const BASE = '/branding/phone/templates';
  const list = async () => (await s.store.getSetting<PhoneTemplate[]>(PHONE_TEMPLATES_SETTING)) ?? [];
  const find = async (id: string) => {
    const found = (await list()).find((t) => t.id === id);
    if (!found) throw notFoundError();
    return found;
  };
  /** One locked read-modify-write of the list (concurrent writes of different templates all apply). */
  const change = (fn: (templates: PhoneTemplate[]) => PhoneTemplate[]) => s.store.updateSetting<PhoneTemplate[]>(PHONE_TEMPLATES_SETTING, (t) => fn(t ?? []));

  api.get<{ Querystring: { disabled?: boolean } }>(
    BASE,
    { onRequest: requireScopes(s, 'read:phone_templates'), schema: { querystring: listQuery, response: { 200: { type: 'object', properties: { templates: { type: 'array', items: templateSchema } } } } } },
    async (req) => ({ templates: (await list()).filter((t) => req.query.disabled === undefined || t.disabled === req.query.disabled) }),
  );

  api.get<{ Params: { id: string } }>(
    `${BASE}/:id`,
    { onRequest: requireScopes(s, 'read:phone_templates'), schema: { params: idParams, response: { 200: templateSchema } } },
    async (req) => find(req.params.id),
  );

  api.post<{ Body: TemplateInput }>(
    BASE,
    { onRequest: requireScopes(s, 'create:phone_templates'), schema: { body: createBody, response: { 201: templateSchema } }, config: { audit: 'Create a phone template' } },
    async (req, reply) => {
      const { type, disabled = false, content: c } = req.body;
      if (!type) throw invalidBody("Payload validation error: 'Missing required property: type'.");
      checkText(c?.body?.text);
      const created: PhoneTemplate = {
        id: `tem_${randomId(22)}`, channel: 'phone', customizable: true, type, disabled,
        content: { syntax: 'liquid', ...(c?.from ? { from: c.from } : {}), body: { ...c?.body } },
      };
      // One template per type (Auth0 answers 409, and auth0-deploy-cli then updates the existing one).
      const stored = await change((all) => (all.some((t) => t.type === type) ? all : [...all, created]));
      if (!stored.some((t) => t.id === created.id)) throw conflict(`A phone template of type ${type} already exists`, 'phone_template_already_exists');
      return reply.code(201).send(created);
    },
  );

  api.patch<{ Params: { id: string }; Body: TemplateInput }>(
    `${BASE}/:id`,
    { onRequest: requireScopes(s, 'update:phone_templates'), schema: { params: idParams, body: patchBody, response: { 200: templateSchema } }, config: { audit: 'Update a phone template' } },
    async (req) => {
      const { disabled, content: c } = req.body;
      checkText(c?.body?.text);
      let updated: PhoneTemplate | undefined;
      await change((all) => all.map((t) => {
        if (t.id !== req.params.id) return t;
        updated = {
          ...t,
          disabled: disabled ?? t.disabled,
          content: { ...t.content, ...(c?.from !== undefined ? { from: c.from } : {}), body: { ...t.content.body, ...c?.body } },
        };
        return updated;
      }));
      if (!updated) throw notFoundError();
      return updated;
    },
  );

  api.delete<{ Params: { id: string } }>(
    `${BASE}/:id`,
    { onRequest: requireScopes(s, 'delete:phone_templates'), schema: { params: idParams }, config: { audit: 'Delete a phone template' } },
    async (req, reply) => {
      let found = false;
      await change((all) => all.filter((t) => (t.id === req.params.id ? ((found = true), false) : true)));
      if (!found) throw notFoundError();
      return reply.code(204).send();
    },
  );
}
