import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services.ts';
import { describeDbError } from '../../store/db-errors.ts';

/** Liveness and readiness in one: 200 when the database answers, 503 when it does not. */
export function registerHealth(app: FastifyInstance, s: Services): void {
  app.get('/health', async (_req, reply) => {
    try {
      await s.store.ping();
      return { status: 'ok', database: 'ok' };
    } catch (err) {
      s.log.warn({ err: describeDbError(err) }, 'health check: database unreachable');
      return reply.code(503).send({ status: 'unavailable', database: 'unreachable' });
    }
  });
}
