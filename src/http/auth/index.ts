import type { FastifyInstance } from 'fastify';
import { badRequest } from '../../errors/oauth-error.ts';
import type { Services } from '../../services.ts';
import { installCors } from '../cors.ts';
import { nulPath } from '../nul.ts';
import { registerAuthorize } from './authorize.ts';
import { registerCoAuthenticate } from './co-authenticate.ts';
import { registerDiscovery } from './discovery.ts';
import { registerGeoloc } from './geoloc.ts';
import { registerHealth } from './health.ts';
import { registerJwks } from './jwks.ts';
import { registerLockScripts } from './lock-scripts.ts';
import { registerLoginPageProbes } from './login-page-probes.ts';
import { registerLogout } from './logout.ts';
import { registerPasswordlessStart } from './passwordless-start.ts';
import { registerPasswordlessVerify } from './passwordless-verify.ts';
import { registerRevoke } from './revoke.ts';
import { registerToken } from './token.ts';
import { registerUserinfo } from './userinfo.ts';
import { registerVerifyRedirect } from './verify-redirect.ts';

/** The Authentication API surface (spec §1, §3, §8.4). */
export function registerAuthRoutes(app: FastifyInstance, s: Services): void {
  app.addHook('preHandler', async (req) => {
    if (req.url.startsWith('/api/v2')) return; // the Management API validates with its own schemas
    const at = nulPath(req.body) ?? nulPath(req.query);
    if (at !== undefined) throw badRequest('invalid_request', `Strings must not contain NUL characters (at ${at})`);
  });
  installCors(app, s);
  registerHealth(app, s);
  registerCoAuthenticate(app, s);
  registerLockScripts(app, s);
  registerLoginPageProbes(app);
  registerGeoloc(app);
  registerPasswordlessStart(app, s);
  registerPasswordlessVerify(app, s);
  registerVerifyRedirect(app, s);
  registerToken(app, s);
  registerRevoke(app, s);
  registerLogout(app, s);
  registerAuthorize(app, s);
  registerDiscovery(app, s);
  registerJwks(app, s);
  registerUserinfo(app, s);
}
