import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { DEFAULT_TOKEN_LIFETIME_S, type ResourceServerView, SYSTEM_RESOURCE_SERVER_ID, systemResourceServer } from '../../core/resource-servers.ts';
import { managementAudience } from '../../core/scopes.ts';
import { userinfoAudience } from '../../core/tokens.ts';
import { ApiError, conflict, invalidBody, notFound } from '../../errors/api-error.ts';
import type { Services } from '../../services.ts';
import type { ResourceServer, TokenDialect } from '../../store/types.ts';
import { requireScopes } from './auth.ts';
import { MAX_PER_PAGE, type PagingInput, listBody, listSchema, paging, pagingQuery } from './paging.ts';
import { idParams } from './schemas.ts';

/** Auth0 caps `token_lifetime` at 30 days. */
const MAX_TOKEN_LIFETIME_S = 2_592_000;

const scopes = {
  type: 'array',
  maxItems: 500,
  items: {
    type: 'object',
    additionalProperties: false,
    required: ['value'],
    properties: { value: { type: 'string', minLength: 1, maxLength: 280, pattern: '^\\S+$' }, description: { type: 'string', maxLength: 500 } },
  },
} as const;
/** Fields both create and update accept; `identifier` is create-only (immutable, as on Auth0). */
const editable = {
  name: { type: 'string', minLength: 1, maxLength: 200 },
  scopes,
  token_lifetime: { type: 'integer', minimum: 1, maximum: MAX_TOKEN_LIFETIME_S },
  signing_alg: { type: 'string', maxLength: 20 },
  allow_offline_access: { type: 'boolean' },
  skip_consent_for_verifiable_first_party_clients: { type: 'boolean' },
  enforce_policies: { type: 'boolean' },
  // Auth0's four dialects are valid input; checkEdits refuses the two RFC 9068 profiles.
  token_dialect: { type: 'string', enum: ['access_token', 'access_token_authz', 'rfc9068_profile', 'rfc9068_profile_authz'] },
} as const;
const createBody = {
  type: 'object',
  additionalProperties: false,
  required: ['identifier'],
  properties: { identifier: { type: 'string', minLength: 1, maxLength: 600 }, ...editable },
} as const;
const patchBody = { type: 'object', additionalProperties: false, properties: editable } as const;

/** The serialiser writes only these fields. */
const view = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    identifier: { type: 'string' },
    is_system: { type: 'boolean' },
    scopes: { type: 'array', items: { type: 'object', properties: { value: { type: 'string' }, description: { type: 'string' } } } },
    token_lifetime: { type: 'integer' },
    signing_alg: { type: 'string' },
    allow_offline_access: { type: 'boolean' },
    skip_consent_for_verifiable_first_party_clients: { type: 'boolean' },
    enforce_policies: { type: 'boolean' },
    token_dialect: { type: 'string' },
  },
} as const;

type Editable = Partial<Pick<ResourceServer, 'name' | 'scopes' | 'token_lifetime' | 'allow_offline_access' | 'skip_consent_for_verifiable_first_party_clients' | 'enforce_policies'>> & {
  signing_alg?: string;
  token_dialect?: string;
};

/** Auth0's dialects; the RFC 9068 profiles are refused, not ignored (docs/auth0-compat.md). */
const TOKEN_DIALECTS: readonly string[] = ['access_token', 'access_token_authz'] satisfies TokenDialect[];

const rsNotFound = () => notFound('The resource server does not exist', 'inexistent_resource_server');
const systemReadOnly = () => new ApiError(400, 'The Management API is a system resource server and cannot be changed or deleted', 'operation_not_supported');
/** Documents stored before RBAC existed have neither field: Auth0's defaults. */
const stored = (rs: ResourceServer): ResourceServerView => ({ enforce_policies: false, token_dialect: 'access_token', ...rs, is_system: false });

/** Only RS256 (Sesame signs every token with its RSA keys); HS256 and PS256 are refused, not ignored. */
function checkEdits(body: Editable): void {
  if (body.signing_alg !== undefined && body.signing_alg !== 'RS256') {
    throw invalidBody(`signing_alg ${body.signing_alg.slice(0, 20)} is not supported: only RS256 is`);
  }
  if (body.token_dialect !== undefined && !TOKEN_DIALECTS.includes(body.token_dialect)) {
    throw invalidBody(`token_dialect ${body.token_dialect} is not supported: only access_token and access_token_authz are`);
  }
  if (body.scopes) {
    const seen = new Set<string>();
    for (const sc of body.scopes) {
      if (seen.has(sc.value)) throw invalidBody(`Duplicate scope value: ${sc.value.slice(0, 100)}`);
      seen.add(sc.value);
    }
  }
}

/**
 * `/api/v2/resource-servers` (issue 4 §4): the APIs an `audience` may name at the token endpoint and
 * how their access tokens are made. The Management API is listed too, implicitly and read-only
 * (`is_system: true`, core/resource-servers.ts). `{id}` is the id or the identifier, as on Auth0.
 */
export function registerResourceServers(api: FastifyInstance, s: Services): void {
  const { store } = s;

  const isSystem = (id: string) => id === SYSTEM_RESOURCE_SERVER_ID || id === managementAudience(s.issuer);
  const load = async (id: string): Promise<ResourceServer> => {
    const found = (await store.getResourceServerById(id)) ?? (await store.getResourceServer(id));
    if (!found) throw rsNotFound();
    return found;
  };

  api.get<{ Querystring: PagingInput & { identifiers?: string[]; include_fields?: boolean } }>(
    '/resource-servers',
    {
      onRequest: requireScopes(s, 'read:resource_servers'),
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          // Auth0: `identifiers` (repeated) picks APIs by audience; `include_fields` comes without a
          // `fields` list there, so it has nothing to include or exclude and changes nothing.
          properties: { ...pagingQuery, identifiers: { type: 'array', maxItems: MAX_PER_PAGE, items: { type: 'string', maxLength: 600 } }, include_fields: { type: 'boolean' } },
        },
        response: { 200: listSchema('resource_servers', view) },
      },
    },
    async (req) => {
      const p = paging(req.query);
      if (req.query.identifiers) {
        // At most 100 look-ups, each cached like every read on the token path (store contract).
        const found: ResourceServerView[] = [];
        for (const id of new Set(req.query.identifiers)) {
          if (isSystem(id)) found.push(systemResourceServer(s.issuer));
          else {
            const rs = await store.getResourceServer(id);
            if (rs) found.push(stored(rs));
          }
        }
        return listBody('resource_servers', found.slice(p.page * p.perPage, p.page * p.perPage + p.perPage), found.length, p);
      }
      const page = await store.listResourceServers({ page: p.page, perPage: p.perPage });
      // The system API comes after the stored ones, so the stored pages are the store's own pages.
      const items: ResourceServerView[] = page.items.map(stored);
      const start = p.page * p.perPage;
      if (p.perPage > 0 && start <= page.total && page.total < start + p.perPage) items.push(systemResourceServer(s.issuer));
      return listBody('resource_servers', items, page.total + 1, p);
    },
  );

  api.get<{ Params: { id: string } }>(
    '/resource-servers/:id',
    { onRequest: requireScopes(s, 'read:resource_servers'), schema: { params: idParams, response: { 200: view } } },
    async (req) => (isSystem(req.params.id) ? systemResourceServer(s.issuer) : stored(await load(req.params.id))),
  );

  api.post<{ Body: Editable & { identifier: string } }>(
    '/resource-servers',
    {
      onRequest: requireScopes(s, 'create:resource_servers'),
      schema: { body: createBody, response: { 201: view } },
      config: { audit: 'Create a resource server' },
    },
    async (req, reply) => {
      const body = req.body;
      checkEdits(body);
      const taken = () => conflict('A resource server with the same identifier already exists', 'conflict');
      if (body.identifier === managementAudience(s.issuer) || body.identifier === userinfoAudience(s.issuer)) throw taken();
      const rs: ResourceServer = {
        id: randomBytes(12).toString('hex'),
        name: body.name ?? body.identifier,
        identifier: body.identifier,
        scopes: body.scopes ?? [],
        token_lifetime: body.token_lifetime ?? DEFAULT_TOKEN_LIFETIME_S,
        signing_alg: 'RS256',
        allow_offline_access: body.allow_offline_access ?? false,
        skip_consent_for_verifiable_first_party_clients: body.skip_consent_for_verifiable_first_party_clients ?? false,
        enforce_policies: body.enforce_policies ?? false,
        token_dialect: (body.token_dialect as TokenDialect | undefined) ?? 'access_token',
      };
      if (!(await store.insertResourceServer(rs))) throw taken();
      reply.code(201);
      return stored(rs);
    },
  );

  api.patch<{ Params: { id: string }; Body: Editable }>(
    '/resource-servers/:id',
    {
      onRequest: requireScopes(s, 'update:resource_servers'),
      schema: { params: idParams, body: patchBody, response: { 200: view } },
      config: { audit: 'Update a resource server' },
    },
    async (req) => {
      if (isSystem(req.params.id)) throw systemReadOnly();
      checkEdits(req.body);
      const current = await load(req.params.id);
      const { signing_alg: _alg, token_dialect, ...changes } = req.body;
      const next: ResourceServer = { ...current, ...changes, ...(token_dialect !== undefined ? { token_dialect: token_dialect as TokenDialect } : {}) };
      await store.updateResourceServer(next);
      return stored(next);
    },
  );

  api.delete<{ Params: { id: string } }>(
    '/resource-servers/:id',
    { onRequest: requireScopes(s, 'delete:resource_servers'), schema: { params: idParams }, config: { audit: 'Delete a resource server' } },
    async (req, reply) => {
      if (isSystem(req.params.id)) throw systemReadOnly();
      const current = await load(req.params.id);
      if (!(await store.deleteResourceServer(current.id))) throw rsNotFound();
      return reply.code(204).send();
    },
  );
}
