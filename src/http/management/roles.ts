import type { FastifyInstance } from 'fastify';
import { randomId } from '../../core/crypto.ts';
import type { User } from '../../core/model.ts';
import { conflict, invalidQuery, notFound } from '../../errors/api-error.ts';
import type { Services } from '../../services.ts';
import type { PermissionRef, Role } from '../../store/types.ts';
import { requireScopes } from './auth.ts';
import { DEFAULT_PER_PAGE, MAX_PER_PAGE, type PagingInput, listBody, listSchema, paging, pagingQuery } from './paging.ts';
import { MAX_ITEMS, checkPermissions, describePermission, permissionView, permissionsBody, roleNotFound, roleView } from './permissions.ts';
import { idParams } from './schemas.ts';

const roleFields = { name: { type: 'string', minLength: 1, maxLength: 256 }, description: { type: 'string', maxLength: 1024 } } as const;
const roleCreateBody = { type: 'object', additionalProperties: false, required: ['name'], properties: roleFields } as const;
const rolePatchBody = { type: 'object', additionalProperties: false, properties: roleFields } as const;
const roleUsersBody = {
  type: 'object',
  additionalProperties: false,
  required: ['users'],
  properties: { users: { type: 'array', minItems: 1, maxItems: MAX_ITEMS, items: { type: 'string', minLength: 1, maxLength: 256 } } },
} as const;
/** A role's member as Auth0 lists it. */
const memberView = { type: 'object', properties: { user_id: { type: 'string' }, email: { type: 'string' }, picture: { type: 'string' }, name: { type: 'string' } } } as const;
const pagingOnly = { type: 'object', additionalProperties: false, properties: pagingQuery } as const;
/** A checkpoint page with a `next` (the serialiser picks the first matching schema; the last page, without `next`, fits the totals one). */
/** The checkpoint is the last user_id seen, opaque to the caller (as Auth0's `next` is). */
const toCursor = (userId: string) => Buffer.from(userId).toString('base64url');
function fromCursor(cursor: string): string {
  const userId = Buffer.from(cursor, 'base64url').toString();
  if (toCursor(userId) !== cursor) throw invalidQuery('from is not a checkpoint this API returned as next');
  return userId;
}

const nameTaken = () => conflict('A role with the same name already exists', 'conflict');

/**
 * `/api/v2/roles` (issue 10 §1, Auth0's "API Authorization Core"): roles, their permissions and
 * their users. A role's permissions become a user's scopes on APIs with `enforce_policies`
 * (core/token-scopes.ts). Scopes as on Auth0: read/create/update/delete:roles, and
 * read/create:role_members for membership.
 */
export function registerRoles(api: FastifyInstance, s: Services): void {
  const { store } = s;
  const load = async (id: string): Promise<Role> => {
    const role = await store.getRole(id);
    if (!role) throw roleNotFound();
    return role;
  };

  api.get<{ Querystring: PagingInput & { name_filter?: string; type?: string } }>(
    '/roles',
    {
      onRequest: requireScopes(s, 'read:roles'),
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          // `type` (Auth0: tenant or organization roles; auth0-deploy-cli sends type=tenant): every
          // Sesame role is a tenant role, as there are no organizations.
          properties: { ...pagingQuery, name_filter: { type: 'string', maxLength: 50 }, type: { enum: ['tenant', 'organization'] } },
        },
        response: { 200: listSchema('roles', roleView) },
      },
    },
    async (req) => {
      const p = paging(req.query);
      if (req.query.type === 'organization') return listBody('roles', [], 0, p);
      const page = await store.listRoles({ page: p.page, perPage: p.perPage, ...(req.query.name_filter ? { nameFilter: req.query.name_filter } : {}) });
      return listBody('roles', page.items, page.total, p);
    },
  );

  api.post<{ Body: { name: string; description?: string } }>(
    '/roles',
    { onRequest: requireScopes(s, 'create:roles'), schema: { body: roleCreateBody, response: { 200: roleView } }, config: { audit: 'Create a role' } },
    async (req) => {
      // Auth0 answers 200 with the role (not 201).
      const role: Role = { id: `rol_${randomId(16)}`, name: req.body.name, description: req.body.description ?? '' };
      if (!(await store.insertRole(role))) throw nameTaken();
      return role;
    },
  );

  api.get<{ Params: { id: string } }>(
    '/roles/:id',
    { onRequest: requireScopes(s, 'read:roles'), schema: { params: idParams, response: { 200: roleView } } },
    async (req) => load(req.params.id),
  );

  api.patch<{ Params: { id: string }; Body: { name?: string; description?: string } }>(
    '/roles/:id',
    { onRequest: requireScopes(s, 'update:roles'), schema: { params: idParams, body: rolePatchBody, response: { 200: roleView } }, config: { audit: 'Update a role' } },
    async (req) => {
      const next: Role = { ...(await load(req.params.id)), ...req.body };
      if (!(await store.updateRole(next))) throw nameTaken();
      return next;
    },
  );

  api.delete<{ Params: { id: string } }>(
    '/roles/:id',
    { onRequest: requireScopes(s, 'delete:roles'), schema: { params: idParams }, config: { audit: 'Delete a role' } },
    async (req, reply) => {
      if (!(await store.deleteRole(req.params.id))) throw roleNotFound();
      return reply.code(200).send();
    },
  );

  // permissions ------------------------------------------------------------------------------------
  api.get<{ Params: { id: string }; Querystring: PagingInput }>(
    '/roles/:id/permissions',
    { onRequest: requireScopes(s, 'read:roles'), schema: { params: idParams, querystring: pagingOnly, response: { 200: listSchema('permissions', permissionView) } } },
    async (req) => {
      await load(req.params.id);
      const p = paging(req.query);
      const page = await store.listRolePermissions(req.params.id, { page: p.page, perPage: p.perPage });
      return listBody('permissions', await Promise.all(page.items.map((item) => describePermission(s, item))), page.total, p);
    },
  );

  api.post<{ Params: { id: string }; Body: { permissions: PermissionRef[] } }>(
    '/roles/:id/permissions',
    { onRequest: requireScopes(s, 'update:roles'), schema: { params: idParams, body: permissionsBody }, config: { audit: 'Add permissions to a role' } },
    async (req, reply) => {
      await load(req.params.id);
      await store.addRolePermissions(req.params.id, await checkPermissions(s, req.body.permissions));
      return reply.code(201).send();
    },
  );

  api.delete<{ Params: { id: string }; Body: { permissions: PermissionRef[] } }>(
    '/roles/:id/permissions',
    { onRequest: requireScopes(s, 'update:roles'), schema: { params: idParams, body: permissionsBody }, config: { audit: 'Remove permissions from a role' } },
    async (req, reply) => {
      await load(req.params.id);
      await store.removeRolePermissions(req.params.id, req.body.permissions);
      return reply.code(200).send();
    },
  );

  // users ------------------------------------------------------------------------------------------
  api.get<{ Params: { id: string }; Querystring: PagingInput & { from?: string; take?: number } }>(
    '/roles/:id/users',
    {
      onRequest: requireScopes(s, 'read:users', 'read:roles', 'read:role_members'),
      schema: {
        params: idParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { ...pagingQuery, from: { type: 'string', maxLength: 400 }, take: { type: 'integer', minimum: 1, maximum: MAX_PER_PAGE } },
        },
        response: { 200: listSchema('users', memberView, { checkpoint: true }) },
      },
    },
    async (req) => {
      await load(req.params.id);
      const member = (u: User) => ({ user_id: u.user_id, email: u.email, picture: u.picture, name: u.name });
      // Auth0's checkpoint paging, as soon as `from` or `take` is present: `{users, next}`, where
      // `next` (absent on the last page) is the opaque `from` of the following page.
      const { from, take } = req.query;
      if (from !== undefined || take !== undefined) {
        const limit = take ?? DEFAULT_PER_PAGE;
        const users = await store.listRoleUsersAfter(req.params.id, from ? fromCursor(from) : null, limit);
        const last = users.at(-1);
        return { users: users.map(member), ...(last && users.length === limit ? { next: toCursor(last.user_id) } : {}) };
      }
      const p = paging(req.query);
      const page = await store.listRoleUsers(req.params.id, { page: p.page, perPage: p.perPage });
      return listBody('users', page.items.map(member), page.total, p);
    },
  );

  api.post<{ Params: { id: string }; Body: { users: string[] } }>(
    '/roles/:id/users',
    {
      onRequest: requireScopes(s, 'update:roles', 'create:role_members'),
      schema: { params: idParams, body: roleUsersBody },
      config: { audit: 'Assign users to a role' },
    },
    async (req, reply) => {
      await load(req.params.id);
      const users = [...new Set(req.body.users)];
      for (const id of users) if (!(await store.getUser(id))) throw notFound('The user does not exist.', 'inexistent_user');
      await store.addUserRoles(users, [req.params.id]);
      return reply.code(200).send();
    },
  );
}
