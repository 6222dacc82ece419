import type { FastifyInstance } from 'fastify';
import { dashboardClientId } from '../../core/admins.ts';
import { managementAudience } from '../../core/scopes.ts';
import { isDevMode } from '../../mail/dev-mode.ts';
import type { Services } from '../../services.ts';
import { adminHeaders } from './headers.ts';

/**
 * GET /admin/config.json (issue 12): what the dashboard needs to sign in with auth0-spa-js, public
 * by nature (an SPA's client_id and domain are in every page it serves). No secrets. `domain` is
 * the issuer's host[:port], as Auth0 SDKs take it; `issuer` is the full URL (an http issuer in
 * development needs it: the SDKs assume https for a bare domain).
 */
export function registerConfigJson(app: FastifyInstance, s: Services): void {
  app.get('/admin/config.json', async (_req, reply) => {
    const clientId = await dashboardClientId(s);
    const issuer = s.issuer;
    const body = {
      domain: new URL(issuer).host,
      issuer,
      clientId: clientId ?? '',
      audience: managementAudience(issuer),
      devMode: await isDevMode(s),
    };
    return adminHeaders(reply, 'no-store').type('application/json; charset=utf-8').send(body);
  });
}
