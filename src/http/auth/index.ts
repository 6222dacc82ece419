import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services.ts';
import { installCors } from '../cors.ts';
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
