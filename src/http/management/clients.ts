import type { FastifyInstance } from 'fastify';
import { SECRET_PURPOSE, newClient } from '../../core/clients.ts';
import { randomSecret } from '../../core/crypto.ts';
import type { Client } from '../../core/model.ts';
import { invalidBody, invalidQuery, notFound } from '../../errors/api-error.ts';
import type { Services } from '../../services.ts';
import { requireScopes } from './auth.ts';
import { globalClientImmutable, globalClientView, isGlobalClient, patchGlobalClient } from './global-client.ts';
import { type ClientInput, applyClientInput } from './client-fields.ts';
import { type FieldsInput, type PagingInput, allPages, commaList, fieldsQuery, listBody, listSchema, paging, pagingQuery, projection, slicePage } from './paging.ts';
import { APP_TYPES, CLIENT_BODY_LIMIT, clientCreateBody, clientPatchBody, clientView, clientWithSecretView, credentialView, idParams } from './schemas.ts';

interface ListQuery extends PagingInput, FieldsInput {
  app_type?: string[];
  is_global?: boolean;
  is_first_party?: boolean;
}

const clientNotFound = () => notFound('The client does not exist', 'inexistent_client');

/**
 * `/api/v2/clients` (spec §5). The secret is shown only by POST /clients and rotate-secret, and is
 * stored only as a keyed hash. Unlike Auth0, whose GET shows it to tokens with read:client_keys,
 * Sesame never returns it on GET or list: it cannot, since it keeps no copy.
 */
export function registerClients(api: FastifyInstance, s: Services): void {
  const { store } = s;

  const load = async (id: string) => {
    const found = await store.getClient(id);
    if (!found) throw clientNotFound();
    return found;
  };

  api.get<{ Querystring: ListQuery }>(
    '/clients',
    {
      onRequest: requireScopes(s, 'read:clients'),
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            ...pagingQuery,
            ...fieldsQuery,
            app_type: { type: 'array', maxItems: 10, items: { type: 'string', maxLength: 100 } },
            is_global: { type: 'boolean' },
            is_first_party: { type: 'boolean' },
          },
        },
        response: { 200: listSchema('clients', clientView) },
      },
    },
    async (req) => {
      const p = paging(req.query);
      const appType = commaList(req.query.app_type);
      const unknown = appType?.find((t) => !(APP_TYPES as readonly string[]).includes(t));
      if (unknown !== undefined) throw invalidQuery(`Query validation error: 'Invalid app_type: ${unknown.slice(0, 50)}, expected one of ${APP_TYPES.join(', ')}'.`);
      const filter = appType ? { appType } : {};
      // The global client is listed only on request (is_global=true), as on Auth0; ordinary lists,
      // which auth0-deploy-cli asks for with is_global=false, never show it.
      if (req.query.is_global === true) {
        const global = [globalClientView(await store.getTenantSettings())];
        return listBody('clients', slicePage(global, p).map(projection(req.query)), 1, p);
      }
      if (req.query.is_first_party !== undefined) {
        // is_first_party lives in the client document, not a column: filter the (small) list in memory.
        const all = (await allPages((q) => store.listClients({ ...q, ...filter }))).filter((c) => c.is_first_party === req.query.is_first_party);
        return listBody('clients', slicePage(all, p).map(projection(req.query)), all.length, p);
      }
      const { items, total } = await store.listClients({ page: p.page, perPage: p.perPage, ...filter });
      return listBody('clients', items.map(projection(req.query)), total, p);
    },
  );

  api.get<{ Params: { id: string }; Querystring: FieldsInput }>(
    '/clients/:id',
    {
      onRequest: requireScopes(s, 'read:clients'),
      schema: { params: idParams, querystring: { type: 'object', additionalProperties: false, properties: fieldsQuery }, response: { 200: clientView } },
    },
    async (req) => {
      if (isGlobalClient(req.params.id)) return projection(req.query)(globalClientView(await store.getTenantSettings()));
      return projection(req.query)((await load(req.params.id)).client);
    },
  );

  api.post<{ Body: ClientInput }>(
    '/clients',
    {
      onRequest: requireScopes(s, 'create:clients'),
      bodyLimit: CLIENT_BODY_LIMIT,
      schema: { body: clientCreateBody, response: { 201: clientWithSecretView } },
      config: { audit: 'Create a client' },
    },
    async (req, reply) => {
      const now = new Date(s.now()).toISOString();
      const made = newClient(s.keyring, { name: req.body.name!, app_type: req.body.app_type ?? 'regular_web' });
      const client = applyClientInput({ ...made.client, created_at: now }, req.body, now);
      // private_key_jwt clients get no secret: client authentication accepts any valid secret, and
      // a key-only client must not have a second, weaker way in.
      const keyOnly = client.token_endpoint_auth_method === null;
      await store.insertClient(client, keyOnly ? null : made.secretHash);
      reply.code(201);
      return keyOnly ? client : { ...client, client_secret: made.secret };
    },
  );

  api.patch<{ Params: { id: string }; Body: ClientInput }>(
    '/clients/:id',
    {
      onRequest: requireScopes(s, 'update:clients'),
      bodyLimit: CLIENT_BODY_LIMIT,
      schema: { params: idParams, body: clientPatchBody, response: { 200: clientView } },
      config: { audit: 'Update a client' },
    },
    async (req) => {
      if (isGlobalClient(req.params.id)) return patchGlobalClient(s, req.body as Record<string, unknown>);
      const { client: current } = await load(req.params.id);
      const next = applyClientInput(current, req.body, new Date(s.now()).toISOString());
      // Switching to private_key_jwt drops the secret for the same reason as on create.
      await store.updateClient(next, next.token_endpoint_auth_method === null ? null : undefined);
      return next;
    },
  );

  api.delete<{ Params: { id: string } }>(
    '/clients/:id',
    { onRequest: requireScopes(s, 'delete:clients'), schema: { params: idParams }, config: { audit: 'Delete a client' } },
    async (req, reply) => {
      if (isGlobalClient(req.params.id)) throw globalClientImmutable();
      // The store also removes the client's connection enablement, grants and pending codes.
      if (!(await store.deleteClient(req.params.id))) throw clientNotFound();
      return reply.code(204).send();
    },
  );

  api.get<{ Params: { id: string } }>(
    '/clients/:id/credentials',
    {
      // Auth0's list of a client's private_key_jwt credentials (auth0-deploy-cli reads it for every
      // client); the same objects as client_authentication_methods.private_key_jwt.credentials.
      onRequest: requireScopes(s, 'read:client_credentials', 'read:clients'),
      schema: { params: idParams, response: { 200: { type: 'array', items: credentialView } } },
    },
    async (req) => {
      if (isGlobalClient(req.params.id)) return [];
      const { client } = await load(req.params.id);
      return client.client_authentication_methods?.private_key_jwt?.credentials ?? [];
    },
  );

  api.post<{ Params: { id: string } }>(
    '/clients/:id/rotate-secret',
    {
      // Auth0 asks for update:client_keys; Sesame's management grant has update:clients, which
      // already allows replacing every other credential of a client.
      onRequest: requireScopes(s, 'update:client_keys', 'update:clients'),
      schema: { params: idParams, response: { 200: clientWithSecretView } },
      config: { audit: 'Rotate a client secret' },
    },
    async (req) => {
      if (isGlobalClient(req.params.id)) throw globalClientImmutable();
      const { client } = await load(req.params.id);
      if (client.token_endpoint_auth_method === null) {
        throw invalidBody('This client authenticates with private_key_jwt and has no secret; change token_endpoint_auth_method first');
      }
      const secret = randomSecret();
      const next: Client = { ...client, updated_at: new Date(s.now()).toISOString() };
      // The old secret stops working with this write: only the hash of the new one is kept.
      await store.updateClient(next, s.keyring.hash(SECRET_PURPOSE, secret));
      return { ...next, client_secret: secret };
    },
  );
}
