import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services.ts';
import { WELL_KNOWN_CACHE } from './discovery.ts';

/**
 * GET /.well-known/jwks.json (spec §8.4): the public halves of every non-revoked key, each with `kid`,
 * `alg`, `n`, `e` (auth0-js/idtoken-verifier match on `kid`). A short cache keeps rotation visible.
 */
export function registerJwks(app: FastifyInstance, s: Services): void {
  app.get('/.well-known/jwks.json', async (_req, reply) => {
    reply.header('cache-control', WELL_KNOWN_CACHE);
    return s.keys.jwks();
  });
}
