import type { FastifyInstance } from 'fastify';
import { listAdmins, normaliseEmail } from '../../core/admins.ts';
import { ApiError, notFound } from '../../errors/api-error.ts';
import type { Services } from '../../services.ts';
import { requireScopes } from './auth.ts';

const adminView = {
  type: 'object',
  properties: { email: { type: 'string' }, source: { type: 'string', enum: ['env', 'database'] }, created_at: { type: ['string', 'null'] } },
  required: ['email', 'source'],
} as const;
const emailSchema = { type: 'string', minLength: 3, maxLength: 320, pattern: '^[^\\s@]+@[^\\s@]+$' } as const;

/**
 * Sesame extension (issue 12): the dashboard's administrators. `GET` lists SESAME_ADMIN_EMAILS
 * (`source: env`, managed in the environment) and those added here or with `sesame admin add`
 * (`source: database`). Adding an email needs no user yet: whoever signs in with it later is one.
 */
export function registerSesameAdmins(api: FastifyInstance, s: Services): void {
  api.get(
    '/sesame/admins',
    { onRequest: requireScopes(s, 'read:admins'), schema: { response: { 200: { type: 'array', items: adminView } } } },
    async () => listAdmins(s),
  );

  api.post<{ Body: { email: string } }>(
    '/sesame/admins',
    {
      onRequest: requireScopes(s, 'update:admins'),
      schema: {
        body: { type: 'object', additionalProperties: false, required: ['email'], properties: { email: emailSchema } },
        response: { 200: adminView, 201: adminView },
      },
      config: { audit: 'Add a dashboard administrator' },
    },
    async (req, reply) => {
      const email = normaliseEmail(req.body.email);
      const created = s.config.adminEmails.includes(email) ? false : await s.store.addAdmin(email, s.now());
      const view = (await listAdmins(s)).find((a) => a.email === email);
      return reply.code(created ? 201 : 200).send(view);
    },
  );

  api.delete<{ Params: { email: string } }>(
    '/sesame/admins/:email',
    {
      onRequest: requireScopes(s, 'update:admins'),
      schema: { params: { type: 'object', required: ['email'], properties: { email: emailSchema } } },
      config: { audit: 'Remove a dashboard administrator' },
    },
    async (req, reply) => {
      const email = normaliseEmail(req.params.email);
      if (s.config.adminEmails.includes(email)) {
        throw new ApiError(400, `${email} is an administrator through SESAME_ADMIN_EMAILS: remove it from that variable and restart`, 'operation_not_supported');
      }
      if (!(await s.store.removeAdmin(email))) throw notFound('The administrator does not exist', 'inexistent_admin');
      return reply.code(204).send();
    },
  );
}
