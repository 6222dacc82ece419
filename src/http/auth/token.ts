import type { FastifyInstance } from 'fastify';
import { authenticateClient } from '../../core/client-auth.ts';
import { isConfidential } from '../../core/model.ts';
import { accessDenied, badRequest, grantNotAllowed, invalidClient } from '../../errors/oauth-error.ts';
import { GRANTS } from '../../grants/index.ts';
import type { Services } from '../../services.ts';
import { endUserIp } from '../end-user-ip.ts';
import { requestContext } from '../request-context.ts';

/**
 * POST /oauth/token, JSON or form-encoded (spec §3.1: the SDKs send forms). The endpoint only
 * parses, authenticates the client and dispatches to the grant (STYLE.md §10.1).
 */
export function registerToken(app: FastifyInstance, s: Services): void {
  app.post('/oauth/token', async (req, reply) => {
    const body = req.body;
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw badRequest('invalid_request', 'The request body must be a JSON object or form-encoded.');
    const b = body as Record<string, unknown>;
    const grantType = b.grant_type;
    if (grantType === undefined || grantType === '') throw badRequest('invalid_request', 'Missing required parameter: grant_type');
    const grant = typeof grantType === 'string' ? GRANTS.get(grantType) : undefined;
    if (!grant) throw badRequest('unsupported_grant_type', `Unsupported grant type: ${String(grantType)}`);
    if (b.client_id === undefined && !req.headers.authorization) throw badRequest('invalid_request', 'missing client_id parameter');

    const auth = await authenticateClient(s, { ...b, authorization: req.headers.authorization });
    if (!auth) throw invalidClient();
    const { client, method } = auth;
    // Confidential clients always authenticate at the token endpoint (spec §3.3, node-auth0#582).
    if (method === null && (isConfidential(client) || !grant.allowPublic)) throw accessDenied();
    if (!client.grant_types.includes(grant.grantType)) throw grantNotAllowed(grant.grantType);

    // Issue 10 §2: the same decision as /passwordless/start, so a trusted backend relaying its users'
    // guesses gets each user's brute-force count, not one shared by all of them.
    const ctx = requestContext(req);
    ctx.ip = endUserIp(client, method, req);
    const result = await grant.handle({ s, client, method, body: b, req: ctx });
    reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
    return result;
  });
}

