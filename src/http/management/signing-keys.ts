import type { FastifyInstance } from 'fastify';
import type { SigningKeyView } from '../../core/keys.ts';
import { ApiError, notFound } from '../../errors/api-error.ts';
import type { Services } from '../../services.ts';
import { requireScopes } from './auth.ts';

const DATE = { type: 'string' } as const;
const keyView = {
  type: 'object',
  properties: {
    kid: { type: 'string' },
    cert: { type: 'string' },
    pkcs7: { type: 'string' },
    fingerprint: { type: 'string' },
    thumbprint: { type: 'string' },
    current: { type: 'boolean' },
    next: { type: 'boolean' },
    previous: { type: 'boolean' },
    current_since: DATE,
    current_until: DATE,
    revoked: { type: 'boolean' },
    revoked_at: DATE,
  },
} as const;
const certView = { type: 'object', properties: { cert: { type: 'string' }, kid: { type: 'string' } } } as const;
const kidParams = {
  type: 'object',
  additionalProperties: false,
  required: ['kid'],
  properties: { kid: { type: 'string', minLength: 1, maxLength: 64 } },
} as const;

/**
 * `/api/v2/keys/signing` (Auth0's Application Signing Keys): list and read keys with their
 * self-signed certificate, rotate (next → current → previous, a new next; tokens signed before keep
 * verifying), revoke a previous key (it leaves the JWKS and tokens it signed stop verifying). Auth0
 * refuses to revoke the current or the next key.
 */
export function registerSigningKeys(api: FastifyInstance, s: Services): void {
  const describe = () => s.keys.describe(new URL(s.issuer).host);
  const find = async (kid: string): Promise<SigningKeyView> => {
    const key = (await describe()).find((k) => k.kid === kid);
    if (!key) throw notFound('The key does not exist.');
    return key;
  };

  api.get('/keys/signing', { onRequest: requireScopes(s, 'read:signing_keys'), schema: { response: { 200: { type: 'array', items: keyView } } } }, describe);

  api.get<{ Params: { kid: string } }>(
    '/keys/signing/:kid',
    { onRequest: requireScopes(s, 'read:signing_keys'), schema: { params: kidParams, response: { 200: keyView } } },
    async (req) => find(req.params.kid),
  );

  api.post(
    '/keys/signing/rotate',
    { onRequest: requireScopes(s, 'create:signing_keys', 'update:signing_keys'), schema: { response: { 201: certView } }, config: { audit: 'Rotate the Application Signing Key' } },
    async (_req, reply) => {
      const kid = await s.keys.rotate();
      const { cert } = await find(kid);
      reply.code(201);
      return { cert, kid };
    },
  );

  api.put<{ Params: { kid: string } }>(
    '/keys/signing/:kid/revoke',
    { onRequest: requireScopes(s, 'update:signing_keys'), schema: { params: kidParams, response: { 200: certView } }, config: { audit: 'Revoke an Application Signing Key' } },
    async (req) => {
      const key = await find(req.params.kid);
      if (key.current || key.next) {
        throw new ApiError(400, `The ${key.current ? 'current' : 'next'} signing key cannot be revoked; rotate first, then revoke the previous key.`, 'invalid_key');
      }
      // Revoking a revoked key changes nothing and answers the same (idempotent PUT).
      if (!key.revoked && !(await s.keys.revoke(key.kid))) {
        // Rotated concurrently (no longer a previous key): answer from its new state.
        const now = await find(key.kid);
        if (!now.revoked) throw new ApiError(400, 'Only a previous signing key can be revoked.', 'invalid_key');
      }
      return { cert: key.cert, kid: key.kid };
    },
  );
}
