import type { User } from '../core/model.ts';
import type { ListOptions, Page } from './types.ts';

/** An Auth0 role (`/api/v2/roles`): a named set of permissions users can be given together. */
export interface Role {
  /** `rol_` + 16 characters, as Auth0 makes them. */
  id: string;
  /** Unique in the tenant. */
  name: string;
  description: string;
}

/** A permission: one scope an API (resource server) defines, named by the API's identifier. */
export interface PermissionRef {
  resource_server_identifier: string;
  permission_name: string;
}

/** A permission a user holds, with where it comes from: directly (null) and/or the roles listed. */
export interface HeldPermission extends PermissionRef {
  /** `null` = assigned to the user directly; otherwise a role that grants it. */
  sources: (Role | null)[];
}

/**
 * Role-based access control (issue 10 §1): roles, their permissions, users' roles and direct
 * permissions. Assignments are idempotent (adding twice is one row, removing what is absent is no
 * error); deleting a role, a user or an API removes its assignments in the same transaction.
 */
export interface RbacStore {
  /** Sorted by name; `nameFilter` matches a case-insensitive part of the name. */
  listRoles(opts: ListOptions & { nameFilter?: string }): Promise<Page<Role>>;
  getRole(id: string): Promise<Role | undefined>;
  /** False if the name is taken (the unique index decides, so concurrent creates cannot both win). */
  insertRole(role: Role): Promise<boolean>;
  /** False if the new name is taken by another role. */
  updateRole(role: Role): Promise<boolean>;
  /** Deletes the role with its permissions and its users' assignments; false if it did not exist. */
  deleteRole(id: string): Promise<boolean>;

  listRolePermissions(roleId: string, opts: ListOptions): Promise<Page<PermissionRef>>;
  addRolePermissions(roleId: string, permissions: PermissionRef[]): Promise<void>;
  removeRolePermissions(roleId: string, permissions: PermissionRef[]): Promise<void>;

  /** Users holding the role (deleted users are not listed), sorted by user_id. */
  listRoleUsers(roleId: string, opts: ListOptions): Promise<Page<User>>;
  /** Checkpoint paging: at most `take` holders of the role with user_id > `after` (or from the first), by user_id. */
  listRoleUsersAfter(roleId: string, after: string | null, take: number): Promise<User[]>;
  /** Gives each user each role: one transaction. */
  addUserRoles(userIds: string[], roleIds: string[]): Promise<void>;
  removeUserRoles(userId: string, roleIds: string[]): Promise<void>;
  /** The user's roles, sorted by name. */
  listUserRoles(userId: string, opts: ListOptions): Promise<Page<Role>>;

  addUserPermissions(userId: string, permissions: PermissionRef[]): Promise<void>;
  removeUserPermissions(userId: string, permissions: PermissionRef[]): Promise<void>;
  /** Every permission the user holds, directly or through a role, with its sources; sorted by API and name. */
  listUserPermissions(userId: string): Promise<HeldPermission[]>;
  /**
   * The names of the permissions the user holds on one API, directly or through roles: one query,
   * run for every user token issued for an API that enforces RBAC.
   */
  userPermissionNames(userId: string, identifier: string): Promise<string[]>;
}
