import type { FastifyInstance } from 'fastify';
import { sampleCode } from '../../core/email-preview.ts';
import type { Connection } from '../../core/model.ts';
import { otpSettings } from '../../core/otp.ts';
import { maskPhone, normalizePhone } from '../../core/phone.ts';
import { ApiError, invalidBody } from '../../errors/api-error.ts';
import { createTemplateEngine } from '../../mail/templates.ts';
import type { Services } from '../../services.ts';
import { openSmsSecrets } from '../../sms/secrets.ts';
import { sendSms } from '../../sms/send.ts';
import { MAX_TEMPLATE_LENGTH, SMS_SYNTAXES, SmsTemplateError, renderSms } from '../../sms/template.ts';
import { SmsProviderError } from '../../sms/types.ts';
import { requireScopes } from './auth.ts';
import { connectionNamed } from './sesame-email.ts';

interface PreviewBody {
  connection: string;
  template?: string | null;
  syntax?: string;
  application?: string;
  language?: string;
}

const SAMPLE_PHONE = '+15555550100';

const renderedView = {
  type: 'object',
  properties: { text: { type: 'string' }, characters: { type: 'integer' }, segments: { type: 'integer' } },
  required: ['text', 'characters', 'segments'],
} as const;
const previewProps = {
  connection: { type: 'string', minLength: 1, maxLength: 128 },
  // Longer than the template limit, so an over-long one gets the template's own 400 naming the field.
  template: { type: ['string', 'null'], maxLength: MAX_TEMPLATE_LENGTH * 4 },
  syntax: { enum: [...SMS_SYNTAXES] },
  application: { type: 'string', maxLength: 256 },
  language: { type: 'string', maxLength: 64 },
} as const;

/**
 * SMS segments, as a carrier bills them: GSM-7 text fits 160 characters (153 per part when split),
 * anything else is UCS-2 with 70 (67). An estimate: GSM-7's escaped characters count as one here.
 */
const GSM7 = /^[@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&'()*+,\-./0-9:;<=>?¡A-ZÄÖÑÜ§¿a-zäöñüà^{}\\[~\]|€]*$/;
function segments(text: string): number {
  const [one, part] = GSM7.test(text) ? [160, 153] : [70, 67];
  const n = [...text].length;
  return n <= one ? 1 : Math.ceil(n / part);
}

/**
 * Sesame extensions for the Connections page (issue 12), the SMS counterparts of sesame-email.ts:
 * - `POST /api/v2/sesame/preview-sms` renders an sms connection's text, or an unsaved `template`
 *   and `syntax`, with sample values (scope `read:connections`): `{text, characters, segments}`;
 * - `POST /api/v2/sesame/test-sms {to, connection}` sends that sample through the connection's
 *   provider (scope `update:connections`: it spends the tenant's SMS money), answering 202, or 400
 *   with the provider's refusal in words. Neither the number nor the text is logged.
 * A template Liquid cannot use is a 400 naming the field, as on PATCH /connections.
 */
export function registerSesameSms(api: FastifyInstance, s: Services): void {
  const engine = createTemplateEngine();

  const smsConnection = (name: string) => connectionNamed(s, name, 'sms');
  async function render(conn: Connection, options: Record<string, unknown>, body: PreviewBody, to: string): Promise<string> {
    try {
      return await renderSms(engine, options, { code: sampleCode(otpSettings(conn).length), phone_number: to, application: { name: body.application ?? 'My App' }, request_language: body.language ?? null }, s.issuer);
    } catch (err) {
      if (err instanceof SmsTemplateError) throw invalidBody(`options.${err.message}`);
      throw err;
    }
  }

  api.post<{ Body: PreviewBody }>(
    '/sesame/preview-sms',
    {
      onRequest: requireScopes(s, 'read:connections'),
      schema: { body: { type: 'object', additionalProperties: false, required: ['connection'], properties: previewProps }, response: { 200: renderedView } },
    },
    async (req) => {
      const conn = await smsConnection(req.body.connection);
      // Unsaved fields replace the saved ones; `template: null` previews the built-in message.
      const options = req.body.template === undefined ? conn.options : { ...conn.options, template: req.body.template, syntax: req.body.syntax ?? conn.options.syntax };
      const text = await render(conn, options, req.body, SAMPLE_PHONE);
      return { text, characters: [...text].length, segments: segments(text) };
    },
  );

  api.post<{ Body: { to: string; connection: string } }>(
    '/sesame/test-sms',
    {
      onRequest: requireScopes(s, 'update:connections'),
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['to', 'connection'],
          properties: { to: { type: 'string', minLength: 1, maxLength: 64 }, connection: previewProps.connection },
        },
        response: { 202: { type: 'object', properties: { to: { type: 'string' } } } },
      },
      config: { audit: 'Send a test text message' },
    },
    async (req, reply) => {
      const phone = normalizePhone(req.body.to);
      if (!phone.ok) throw invalidBody(`to: ${phone.description}`);
      const conn = await smsConnection(req.body.connection);
      const options = openSmsSecrets(s.keyring, conn.options, conn.id);
      const text = await render(conn, options, { connection: conn.name, application: 'Sesame test message' }, phone.e164);
      try {
        await sendSms(s, options, { to: phone.e164, body: text }, { ip: req.ip, userAgent: req.headers['user-agent'] });
      } catch (err) {
        if (!(err instanceof SmsProviderError)) throw err;
        // The provider's refusal, as /passwordless/start reports it (spec §1.4), with the number masked.
        throw new ApiError(400, err.description.split(phone.e164).join(maskPhone(phone.e164)), err.error);
      }
      return reply.code(202).send({ to: maskPhone(phone.e164) });
    },
  );
}
