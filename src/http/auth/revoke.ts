import type { FastifyInstance } from 'fastify';
import { type ClientAuthResult, authenticateClient } from '../../core/client-auth.ts';
import { makeLog } from '../../core/logs.ts';
import { isConfidential } from '../../core/model.ts';
import { revokeRefreshToken } from '../../core/refresh-tokens.ts';
import { OAuthError, badRequest } from '../../errors/oauth-error.ts';
import type { Services } from '../../services.ts';
import { requestContext } from '../request-context.ts';

/** Auth0's revoke errors (errors/_oauth-revoke): missing or wrong client credentials are 401 `invalid_client`. */
const invalidClient = () => new OAuthError(401, 'invalid_client', 'Client authentication failed');
const SRRT = 'Successfully revoked a refresh token';

/**
 * POST /oauth/revoke (RFC 7009), JSON or form: `{client_id, client_secret?, token}`. Revokes the
 * refresh token's whole family (Auth0 with "Refresh Token Revocation Deletes Grant"). RFC 7009 §2.2:
 * 200 with an empty body also for an unknown, expired or already revoked token, and (Auth0) for
 * another client's token, which is left alone: the answer never tells whether a token exists.
 */
export function registerRevoke(app: FastifyInstance, s: Services): void {
  app.post('/oauth/revoke', async (req, reply) => {
    const body = req.body;
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw badRequest('invalid_request', 'The request body must be a JSON object or form-encoded.');
    const b = body as Record<string, unknown>;
    const token = b.token;
    if (token === undefined || token === null || token === '') throw badRequest('invalid_request', 'Missing required parameter: token');
    if (typeof token !== 'string') throw badRequest('invalid_request', 'Invalid parameter: token must be a string');
    if (b.client_id === undefined && !req.headers.authorization) throw badRequest('invalid_request', 'Missing required parameter: client_id');

    const { client } = await authenticate(s, b, req.headers.authorization);
    reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
    const revoked = await revokeRefreshToken(s, client, token);
    if (revoked) {
      const fields = { description: SRRT, client_id: client.client_id, client_name: client.name, user_id: revoked.user_id, connection: revoked.connection, ...(revoked.audience ? { audience: revoked.audience } : {}) };
      await s.store.appendLogs([makeLog('srrt', requestContext(req), fields, s.now())]);
    }
    return reply.code(200).send();
  });
}

/** RFC 7009 §2.1: confidential clients authenticate as at the token endpoint; public ones name themselves. */
async function authenticate(s: Services, b: Record<string, unknown>, authorization: string | undefined): Promise<ClientAuthResult> {
  let auth: ClientAuthResult | undefined;
  try {
    auth = await authenticateClient(s, { ...b, authorization });
  } catch (err) {
    // Wrong credentials: Auth0's revoke answers them as `invalid_client` (a malformed request stays 400).
    if (err instanceof OAuthError && err.status === 401) throw invalidClient();
    throw err;
  }
  if (!auth) throw invalidClient();
  if (auth.method === null && isConfidential(auth.client)) throw invalidClient();
  return auth;
}
