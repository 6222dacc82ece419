import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services.ts';
import { registerConfigJson } from './config-json.ts';
import { registerAdminStatic } from './static.ts';

/** The dashboard at /admin (issue 12): its public bootstrap file and its built files. */
export function registerAdmin(app: FastifyInstance, s: Services): void {
  registerConfigJson(app, s);
  registerAdminStatic(app, s);
}
