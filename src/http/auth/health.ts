import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services.ts';
import { OutageLog } from '../../store/db-errors.ts';

/** Liveness and readiness in one: 200 when the database answers, 503 when it does not. */
export function registerHealth(app: FastifyInstance, s: Services): void {
  // Probes come every few seconds from each load balancer: an outage is one line when it starts
  // and one when it ends (issue 11), not one per probe.
  const outage = new OutageLog(s.log, 'health check');
  app.get('/health', async (_req, reply) => {
    try {
      await s.store.ping();
      outage.ok();
      return { status: 'ok', database: 'ok' };
    } catch (err) {
      outage.failed(err);
      return reply.code(503).send({ status: 'unavailable', database: 'unreachable' });
    }
  });
}
