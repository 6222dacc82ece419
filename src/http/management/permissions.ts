import { findResourceServer } from '../../core/resource-servers.ts';
import { invalidBody, notFound } from '../../errors/api-error.ts';
import type { Services } from '../../services.ts';
import type { PermissionRef, Role } from '../../store/types.ts';

/**
 * What roles.ts and user-roles.ts share (issue 10 §1): Auth0's shapes for roles and permissions,
 * the `{permissions: [{resource_server_identifier, permission_name}]}` body, and its check.
 */

const text = { type: 'string' } as const;

/** At most 100 items per call (Auth0 caps permission and role assignments per request). */
export const MAX_ITEMS = 100;

export const permissionsBody = {
  type: 'object',
  additionalProperties: false,
  required: ['permissions'],
  properties: {
    permissions: {
      type: 'array',
      minItems: 1,
      maxItems: MAX_ITEMS,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['resource_server_identifier', 'permission_name'],
        properties: {
          resource_server_identifier: { type: 'string', minLength: 1, maxLength: 600 },
          permission_name: { type: 'string', minLength: 1, maxLength: 280 },
        },
      },
    },
  },
} as const;

export const roleView = { type: 'object', properties: { id: text, name: text, description: text } } as const;

export const permissionView = {
  type: 'object',
  properties: { permission_name: text, description: text, resource_server_name: text, resource_server_identifier: text },
} as const;

/** GET /users/{id}/permissions adds where each permission comes from. */
export const userPermissionView = {
  type: 'object',
  properties: {
    ...permissionView.properties,
    sources: {
      type: 'array',
      items: { type: 'object', properties: { source_id: text, source_name: text, source_type: text } },
    },
  },
} as const;

export const roleNotFound = () => notFound('The role does not exist.', 'inexistent_role');

/**
 * Every permission must name an existing API and one of the scopes it defines; the whole request
 * is refused otherwise (nothing is assigned), as a permission Sesame would silently ignore at
 * token time is a mistake the caller should hear about.
 */
export async function checkPermissions(s: Services, list: PermissionRef[]): Promise<PermissionRef[]> {
  for (const p of list) {
    const api = await findResourceServer(s, p.resource_server_identifier);
    if (!api) throw invalidBody(`Resource server ${JSON.stringify(p.resource_server_identifier.slice(0, 200))} does not exist`);
    if (!api.scopes.some((sc) => sc.value === p.permission_name)) {
      throw invalidBody(`Permission ${JSON.stringify(p.permission_name.slice(0, 100))} does not exist on resource server ${JSON.stringify(api.identifier.slice(0, 200))}`);
    }
  }
  return list;
}

/** Auth0's permission object: the scope's description and the API's name come from the API. */
export async function describePermission(s: Services, p: PermissionRef) {
  const api = await findResourceServer(s, p.resource_server_identifier);
  const description = api?.scopes.find((sc) => sc.value === p.permission_name)?.description;
  return {
    permission_name: p.permission_name,
    ...(description !== undefined ? { description } : {}),
    resource_server_name: api?.name ?? p.resource_server_identifier,
    resource_server_identifier: p.resource_server_identifier,
  };
}

/** `sources` entries as Auth0 writes them: `DIRECT` with empty id and name, or the granting `ROLE`. */
export const permissionSource = (role: Role | null) =>
  role ? { source_id: role.id, source_name: role.name, source_type: 'ROLE' } : { source_id: '', source_name: '', source_type: 'DIRECT' };
