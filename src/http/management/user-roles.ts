import type { FastifyInstance } from 'fastify';
import { notFound } from '../../errors/api-error.ts';
import type { Services } from '../../services.ts';
import type { PermissionRef } from '../../store/types.ts';
import { requireScopes } from './auth.ts';
import { type PagingInput, listBody, listSchema, paging, pagingQuery, slicePage } from './paging.ts';
import { MAX_ITEMS, checkPermissions, describePermission, permissionSource, permissionsBody, roleNotFound, roleView, userPermissionView } from './permissions.ts';
import { idParams } from './schemas.ts';

const rolesBody = {
  type: 'object',
  additionalProperties: false,
  required: ['roles'],
  properties: { roles: { type: 'array', minItems: 1, maxItems: MAX_ITEMS, items: { type: 'string', minLength: 1, maxLength: 256 } } },
} as const;
const pagingOnly = { type: 'object', additionalProperties: false, properties: pagingQuery } as const;

/**
 * A user's roles and direct permissions (issue 10 §1): `/api/v2/users/{id}/roles` and
 * `/users/{id}/permissions`, in Auth0's shapes and scopes. GET permissions lists what the user
 * holds directly and through roles, each with its `sources`.
 */
export function registerUserRoles(api: FastifyInstance, s: Services): void {
  const { store } = s;
  const userExists = async (id: string) => {
    if (!(await store.getUser(id))) throw notFound('The user does not exist.', 'inexistent_user');
  };

  api.get<{ Params: { id: string }; Querystring: PagingInput }>(
    '/users/:id/roles',
    {
      onRequest: requireScopes(s, 'read:users', 'read:roles', 'read:role_members'),
      schema: { params: idParams, querystring: pagingOnly, response: { 200: listSchema('roles', roleView) } },
    },
    async (req) => {
      await userExists(req.params.id);
      const p = paging(req.query);
      const page = await store.listUserRoles(req.params.id, { page: p.page, perPage: p.perPage });
      return listBody('roles', page.items, page.total, p);
    },
  );

  api.post<{ Params: { id: string }; Body: { roles: string[] } }>(
    '/users/:id/roles',
    { onRequest: requireScopes(s, 'update:users', 'create:role_members'), schema: { params: idParams, body: rolesBody }, config: { audit: 'Assign roles to a user' } },
    async (req, reply) => {
      await userExists(req.params.id);
      const roles = [...new Set(req.body.roles)];
      for (const id of roles) if (!(await store.getRole(id))) throw roleNotFound();
      await store.addUserRoles([req.params.id], roles);
      return reply.code(204).send();
    },
  );

  api.delete<{ Params: { id: string }; Body: { roles: string[] } }>(
    '/users/:id/roles',
    { onRequest: requireScopes(s, 'update:users', 'delete:role_members'), schema: { params: idParams, body: rolesBody }, config: { audit: 'Remove roles from a user' } },
    async (req, reply) => {
      await userExists(req.params.id);
      await store.removeUserRoles(req.params.id, req.body.roles);
      return reply.code(204).send();
    },
  );

  api.get<{ Params: { id: string }; Querystring: PagingInput }>(
    '/users/:id/permissions',
    { onRequest: requireScopes(s, 'read:users'), schema: { params: idParams, querystring: pagingOnly, response: { 200: listSchema('permissions', userPermissionView) } } },
    async (req) => {
      await userExists(req.params.id);
      const p = paging(req.query);
      // A user holds few permissions: the sources are merged in memory, then paged.
      const held = await store.listUserPermissions(req.params.id);
      const items = await Promise.all(slicePage(held, p).map(async (h) => ({ ...(await describePermission(s, h)), sources: h.sources.map(permissionSource) })));
      return listBody('permissions', items, held.length, p);
    },
  );

  api.post<{ Params: { id: string }; Body: { permissions: PermissionRef[] } }>(
    '/users/:id/permissions',
    { onRequest: requireScopes(s, 'update:users'), schema: { params: idParams, body: permissionsBody }, config: { audit: 'Assign permissions to a user' } },
    async (req, reply) => {
      await userExists(req.params.id);
      await store.addUserPermissions(req.params.id, await checkPermissions(s, req.body.permissions));
      return reply.code(201).send();
    },
  );

  api.delete<{ Params: { id: string }; Body: { permissions: PermissionRef[] } }>(
    '/users/:id/permissions',
    { onRequest: requireScopes(s, 'update:users'), schema: { params: idParams, body: permissionsBody }, config: { audit: 'Remove permissions from a user' } },
    async (req, reply) => {
      await userExists(req.params.id);
      await store.removeUserPermissions(req.params.id, req.body.permissions);
      return reply.code(204).send();
    },
  );
}
