import type { FastifyInstance } from 'fastify';
import { randomId } from '../../core/crypto.ts';
import { MANAGEMENT_SCOPES, managementAudience } from '../../core/scopes.ts';
import { conflict, invalidBody, notFound } from '../../errors/api-error.ts';
import type { Services } from '../../services.ts';
import type { ClientGrant } from '../../store/types.ts';
import { requireScopes } from './auth.ts';
import { type CheckpointInput, type PagingInput, checkpointPage, checkpointQuery, isCheckpoint, listBody, listSchema, paging, pagingQuery, slicePage } from './paging.ts';
import { clientGrantCreateBody, clientGrantPatchBody, clientGrantView, idParams } from './schemas.ts';

interface ListQuery extends PagingInput, CheckpointInput {
  client_id?: string;
  audience?: string;
  subject_type?: 'client' | 'user';
  allow_any_organization?: boolean;
  default_for?: 'third_party_clients';
}

/**
 * Auth0's other filters (issue 14 audit), answered from what Sesame's grants are: every grant is for
 * clients (`subject_type: client`), none allows organizations (Sesame has none) and none is a
 * default for third-party clients. So `subject_type=user`, `allow_any_organization=true` and any
 * `default_for` match nothing, and the others match every grant.
 */
const matchesNothing = (q: ListQuery) => q.subject_type === 'user' || q.allow_any_organization === true || q.default_for !== undefined;

const grantNotFound = () => notFound('The client grant does not exist', 'inexistent_client_grant');

/**
 * `/api/v2/client-grants`: which client may obtain client_credentials tokens for which audience,
 * with which scopes (spec §5; the grant checked by grants/client-credentials.ts). Operators use it
 * to authorise machine clients, including for the Management API itself.
 */
export function registerClientGrants(api: FastifyInstance, s: Services): void {
  const { store } = s;

  const load = async (id: string): Promise<ClientGrant> => {
    // Grants are few (one per client and API): the store lists them, there is no lookup by id.
    const found = (await store.listClientGrants({})).find((g) => g.id === id);
    if (!found) throw grantNotFound();
    return found;
  };

  /** On the Management API audience only scopes Sesame implements make sense; elsewhere any. */
  const checkScopes = (audience: string, scope: string[]) => {
    if (audience !== managementAudience(s.issuer)) return;
    const unknown = scope.filter((sc) => !(MANAGEMENT_SCOPES as readonly string[]).includes(sc));
    if (unknown.length) throw invalidBody(`These scopes are not defined for the Management API: ${unknown.slice(0, 10).join(', ')}`);
  };

  api.get<{ Querystring: ListQuery }>(
    '/client-grants',
    {
      onRequest: requireScopes(s, 'read:client_grants'),
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            ...pagingQuery, ...checkpointQuery, client_id: { type: 'string', maxLength: 64 }, audience: { type: 'string', maxLength: 600 },
            subject_type: { type: 'string', enum: ['client', 'user'] }, allow_any_organization: { type: 'boolean' }, default_for: { type: 'string', enum: ['third_party_clients'] },
          },
        },
        response: { 200: listSchema('client_grants', clientGrantView, { checkpoint: true }) },
      },
    },
    async (req) => {
      const p = paging(req.query);
      const all = matchesNothing(req.query) ? [] : await store.listClientGrants({
        ...(req.query.client_id ? { clientId: req.query.client_id } : {}),
        ...(req.query.audience ? { audience: req.query.audience } : {}),
      });
      if (isCheckpoint(req.query)) {
        // auth0-deploy-cli and the v5+ SDKs page client grants by checkpoint (from/take).
        const page = checkpointPage(all, (g) => g.id, req.query);
        return { client_grants: page.items, ...(page.next ? { next: page.next } : {}) };
      }
      return listBody('client_grants', slicePage(all, p), all.length, p);
    },
  );

  api.post<{ Body: { client_id: string; audience: string; scope: string[] } }>(
    '/client-grants',
    {
      onRequest: requireScopes(s, 'create:client_grants'),
      schema: { body: clientGrantCreateBody, response: { 201: clientGrantView } },
      config: { audit: 'Create a client grant' },
    },
    async (req, reply) => {
      const { client_id, audience, scope } = req.body;
      if (!(await store.getClient(client_id))) throw notFound('The client does not exist', 'inexistent_client');
      checkScopes(audience, scope);
      if ((await store.listClientGrants({ clientId: client_id, audience })).length) {
        throw conflict('A client grant for this client and audience already exists', 'client_grant_conflict');
      }
      const grant: ClientGrant = { id: `cgr_${randomId(16)}`, client_id, audience, scope };
      await store.putClientGrant(grant);
      reply.code(201);
      return grant;
    },
  );

  api.patch<{ Params: { id: string }; Body: { scope?: string[] } }>(
    '/client-grants/:id',
    {
      onRequest: requireScopes(s, 'update:client_grants'),
      schema: { params: idParams, body: clientGrantPatchBody, response: { 200: clientGrantView } },
      config: { audit: 'Update a client grant' },
    },
    async (req) => {
      const grant = await load(req.params.id);
      if (req.body.scope === undefined) return grant;
      checkScopes(grant.audience, req.body.scope);
      const next = { ...grant, scope: req.body.scope };
      await store.putClientGrant(next);
      return next;
    },
  );

  api.delete<{ Params: { id: string } }>(
    '/client-grants/:id',
    { onRequest: requireScopes(s, 'delete:client_grants'), schema: { params: idParams }, config: { audit: 'Delete a client grant' } },
    async (req, reply) => {
      if (!(await store.deleteClientGrant(req.params.id))) throw grantNotFound();
      return reply.code(204).send();
    },
  );
}
