import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services.ts';
import { WELL_KNOWN_CACHE } from './discovery.ts';

/**
 * GET /.well-known/jwks.json (spec §8.4): the public halves of the current, next and previous keys
 * (Auth0 publishes the next key ahead of a rotation; revoked keys are gone), each with `kid`, `alg`,
 * `n`, `e` (auth0-js/idtoken-verifier match on `kid`). A short cache keeps rotation visible; the key
 * set is re-checked against the store first (at most once per KEY_FRESHNESS_MS, core/keys.ts), so a
 * rotation made through another process shows here too.
 */
export function registerJwks(app: FastifyInstance, s: Services): void {
  app.get('/.well-known/jwks.json', async (_req, reply) => {
    reply.header('cache-control', WELL_KNOWN_CACHE);
    await s.keys.refresh();
    return s.keys.jwks();
  });
}
