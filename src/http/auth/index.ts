import type { FastifyInstance } from 'fastify';
import { badRequest } from '../../errors/oauth-error.ts';
import type { Services } from '../../services.ts';
import { nulPath } from '../nul.ts';
import { registerAuthorize } from './authorize.ts';
import { registerDiscovery } from './discovery.ts';
import { registerHealth } from './health.ts';
import { registerJwks } from './jwks.ts';
import { registerPasswordlessStart } from './passwordless-start.ts';
import { registerToken } from './token.ts';
import { registerUserinfo } from './userinfo.ts';

/** The Authentication API surface (spec §1, §3, §8.4). */
export function registerAuthRoutes(app: FastifyInstance, s: Services): void {
  app.addHook('preHandler', async (req) => {
    if (req.url.startsWith('/api/v2')) return; // the Management API validates with its own schemas
    const at = nulPath(req.body) ?? nulPath(req.query);
    if (at !== undefined) throw badRequest('invalid_request', `Strings must not contain NUL characters (at ${at})`);
  });
  registerHealth(app, s);
  registerPasswordlessStart(app, s);
  registerToken(app, s);
  registerAuthorize(app, s);
  registerDiscovery(app, s);
  registerJwks(app, s);
  registerUserinfo(app, s);
}
