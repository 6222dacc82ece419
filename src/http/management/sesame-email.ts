import type { FastifyInstance } from 'fastify';
import { renderSample } from '../../core/email-preview.ts';
import type { Connection } from '../../core/model.ts';
import { invalidBody, notFound } from '../../errors/api-error.ts';
import { TemplateError, createTemplateEngine } from '../../mail/templates.ts';
import type { Services } from '../../services.ts';
import { requireScopes } from './auth.ts';

const emailFields = {
  type: 'object',
  additionalProperties: false,
  properties: { from: { type: 'string', maxLength: 1024 }, subject: { type: 'string', maxLength: 1024 }, body: { type: 'string', maxLength: 100_000 }, syntax: { enum: ['liquid'] } },
} as const;
const renderedView = { type: 'object', properties: { from: { type: 'string' }, subject: { type: 'string' }, html: { type: 'string' }, text: { type: 'string' } } } as const;
const EMAIL = { type: 'string', minLength: 3, maxLength: 320, pattern: '^[^\\s@]+@[^\\s@]+$' } as const;

interface PreviewBody {
  connection: string;
  email?: { from?: string; subject?: string; body?: string; syntax?: string };
  send?: 'code' | 'link';
  application?: string;
  language?: string;
}

/**
 * Sesame extensions (issue 12, Connections and Settings pages); Auth0 has neither:
 * - `POST /api/v2/sesame/preview-email` renders a connection's passwordless email, or unsaved
 *   template fields, with sample values (scope `read:connections`): `{from, subject, html, text}`;
 * - `POST /api/v2/sesame/test-email {to, connection?}` sends that sample through the outbox, so it
 *   travels the real path (the provider, or the development outbox) — scope `update:email_provider`.
 * A template Liquid cannot use is a 400 naming the field, as on PATCH /connections.
 */
/** The connection of this strategy named `name`, or a 404 (the previews and tests address connections by name). */
export async function connectionNamed(s: Services, name: string, strategy: 'email' | 'sms'): Promise<Connection> {
  const conn = await s.store.getConnectionByName(name);
  if (!conn || conn.strategy !== strategy) throw notFound(`No ${strategy} connection is named ${name.slice(0, 64)}`, 'inexistent_connection');
  return conn;
}

export function registerSesameEmail(api: FastifyInstance, s: Services): void {
  const engine = createTemplateEngine();

  const emailConnection = (name: string) => connectionNamed(s, name, 'email');
  async function render(conn: Connection, input: Parameters<typeof renderSample>[3]) {
    try {
      return await renderSample(s, engine, conn, input);
    } catch (err) {
      if (err instanceof TemplateError) throw invalidBody(err.message);
      throw err;
    }
  }

  api.post<{ Body: PreviewBody }>(
    '/sesame/preview-email',
    {
      onRequest: requireScopes(s, 'read:connections'),
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['connection'],
          properties: {
            connection: { type: 'string', minLength: 1, maxLength: 128 },
            email: emailFields,
            send: { enum: ['code', 'link'] },
            application: { type: 'string', maxLength: 256 },
            language: { type: 'string', maxLength: 64 },
          },
        },
        response: { 200: renderedView },
      },
    },
    async (req) => render(await emailConnection(req.body.connection), req.body as Parameters<typeof renderSample>[3]),
  );

  api.post<{ Body: { to: string; connection?: string } }>(
    '/sesame/test-email',
    {
      onRequest: requireScopes(s, 'update:email_provider'),
      schema: {
        body: { type: 'object', additionalProperties: false, required: ['to'], properties: { to: EMAIL, connection: { type: 'string', minLength: 1, maxLength: 128 } } },
        response: { 202: { type: 'object', properties: { to: { type: 'string' }, subject: { type: 'string' } } } },
      },
      config: { audit: 'Send a test email' },
    },
    async (req, reply) => {
      const conn = await emailConnection(req.body.connection ?? 'email');
      const mail = await render(conn, { connection: conn.name, to: req.body.to, application: 'Sesame test message' });
      const message = { ...mail, subject: `[Test] ${mail.subject}` };
      await s.store.enqueue({ channel: 'email', recipient: req.body.to, payload: JSON.stringify(message), meta: { connection: conn.name, email_type: 'test' } });
      s.mail.wake();
      return reply.code(202).send({ to: req.body.to, subject: message.subject });
    },
  );
}
