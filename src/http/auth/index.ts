import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services.ts';
import { registerDiscovery } from './discovery.ts';
import { registerHealth } from './health.ts';
import { registerJwks } from './jwks.ts';
import { registerPasswordlessStart } from './passwordless-start.ts';
import { registerToken } from './token.ts';
import { registerUserinfo } from './userinfo.ts';

/** The Authentication API surface (spec §1, §3, §8.4). */
export function registerAuthRoutes(app: FastifyInstance, s: Services): void {
  registerHealth(app, s);
  registerPasswordlessStart(app, s);
  registerToken(app, s);
  registerDiscovery(app, s);
  registerJwks(app, s);
  registerUserinfo(app, s);
}
