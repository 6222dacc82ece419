import type { CompiledQuery } from 'kysely';
import { sql } from './kysely.ts';
import type { User } from '../../core/model.ts';
import type { HeldPermission, PermissionRef, Role } from '../rbac-types.ts';
import type { ListOptions, Page } from '../types.ts';
import type { Result } from './executor.ts';
import { USER_COLUMNS } from './queries.ts';
import { SqlResourceServers } from './resource-servers-sql.ts';
import { type UserRow, toUser } from './users-sql.ts';

type RoleRow = Role & { created_at?: number };
const toRole = (r: RoleRow): Role => ({ id: r.id, name: r.name, description: r.description });

/** PostgreSQL `unique_violation`, SQLite `SQLITE_CONSTRAINT_UNIQUE`: a concurrent write took the name. */
const isUniqueViolation = (err: unknown) => {
  const code = (err as { code?: unknown } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE';
};

/**
 * Role-based access control (issue 10 §1; contract in src/store/rbac-types.ts). Assignments are rows
 * keyed by what they assign, so adding is `ON CONFLICT DO NOTHING` and removing is a plain DELETE:
 * both idempotent, never a check-then-act. Reads join the roles (and users) tables, so an
 * assignment left behind by a delete racing an assign is never visible.
 */
export abstract class SqlRbac extends SqlResourceServers {
  /** One statement through the executor's write path (group commit on SQLite), as sql-store.ts does. */
  #run(q: CompiledQuery): Promise<Result> {
    return this.x.write(function* (): Generator<CompiledQuery, Result, Result> {
      return yield q;
    }, false);
  }
  #runAll(qs: CompiledQuery[]) {
    return this.x.write(function* () {
      for (const q of qs) yield q;
    });
  }

  // roles ------------------------------------------------------------------------------------------
  async listRoles(opts: ListOptions & { nameFilter?: string }): Promise<Page<Role>> {
    let q = this.db.selectFrom('roles');
    if (opts.nameFilter) {
      const like = `%${opts.nameFilter.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      q = q.where(sql<boolean>`lower(name) LIKE ${like} ESCAPE '\\'`);
    }
    const [rows, total] = await Promise.all([
      q.select(['id', 'name', 'description']).orderBy('name').orderBy('id').limit(opts.perPage).offset(opts.page * opts.perPage).execute(),
      q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { items: rows.map(toRole), total: Number(total.n) };
  }
  async getRole(id: string): Promise<Role | undefined> {
    const row = (await this.x.one(this.db.selectFrom('roles').select(['id', 'name', 'description']).where('id', '=', id).compile())).rows[0];
    return row ? toRole(row as Role) : undefined;
  }
  async insertRole(role: Role): Promise<boolean> {
    // ON CONFLICT DO NOTHING on the unique name: of two concurrent creates exactly one inserts.
    const q = this.db.insertInto('roles').values({ ...role, created_at: Date.now() }).onConflict((oc) => oc.doNothing()).compile();
    return (await this.#run(q)).changes === 1;
  }
  async updateRole(role: Role): Promise<boolean> {
    const q = this.db.updateTable('roles').set({ name: role.name, description: role.description }).where('id', '=', role.id).compile();
    try {
      await this.#run(q);
      return true;
    } catch (err) {
      if (isUniqueViolation(err)) return false;
      throw err;
    }
  }
  async deleteRole(id: string): Promise<boolean> {
    const db = this.db;
    return this.x.write(function* (): Generator<CompiledQuery, boolean, Result> {
      const r = yield db.deleteFrom('roles').where('id', '=', id).compile();
      yield db.deleteFrom('role_permissions').where('role_id', '=', id).compile();
      yield db.deleteFrom('user_roles').where('role_id', '=', id).compile();
      return r.changes > 0;
    });
  }

  // role permissions -------------------------------------------------------------------------------
  async listRolePermissions(roleId: string, opts: ListOptions): Promise<Page<PermissionRef>> {
    const q = this.db.selectFrom('role_permissions').where('role_id', '=', roleId);
    const [rows, total] = await Promise.all([
      q.select(['resource_server_identifier', 'permission_name']).orderBy('resource_server_identifier').orderBy('permission_name')
        .limit(opts.perPage).offset(opts.page * opts.perPage).execute(),
      q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { items: rows, total: Number(total.n) };
  }
  async addRolePermissions(roleId: string, permissions: PermissionRef[]) {
    if (!permissions.length) return;
    await this.#run(this.db.insertInto('role_permissions').values(permissions.map((p) => ({ role_id: roleId, ...pick(p) }))).onConflict((oc) => oc.doNothing()).compile());
  }
  async removeRolePermissions(roleId: string, permissions: PermissionRef[]) {
    await this.#runAll(permissions.map((p) => this.db.deleteFrom('role_permissions').where('role_id', '=', roleId)
      .where('resource_server_identifier', '=', p.resource_server_identifier).where('permission_name', '=', p.permission_name).compile()));
  }

  // users and roles --------------------------------------------------------------------------------
  async listRoleUsers(roleId: string, opts: ListOptions): Promise<Page<User>> {
    const q = this.db.selectFrom('user_roles').innerJoin('users', 'users.user_id', 'user_roles.user_id').where('user_roles.role_id', '=', roleId);
    const [rows, total] = await Promise.all([
      q.select(USER_COLUMNS.map((c) => `users.${c}` as const)).orderBy('users.user_id').limit(opts.perPage).offset(opts.page * opts.perPage).execute(),
      q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { items: rows.map((r) => toUser(r as UserRow)), total: Number(total.n) };
  }
  async listRoleUsersAfter(roleId: string, after: string | null, take: number): Promise<User[]> {
    let q = this.db.selectFrom('user_roles').innerJoin('users', 'users.user_id', 'user_roles.user_id').where('user_roles.role_id', '=', roleId);
    if (after !== null) q = q.where('users.user_id', '>', after);
    const rows = await q.select(USER_COLUMNS.map((c) => `users.${c}` as const)).orderBy('users.user_id').limit(take).execute();
    return rows.map((r) => toUser(r as UserRow));
  }
  async addUserRoles(userIds: string[], roleIds: string[]) {
    const values = userIds.flatMap((user_id) => roleIds.map((role_id) => ({ user_id, role_id })));
    if (!values.length) return;
    await this.#run(this.db.insertInto('user_roles').values(values).onConflict((oc) => oc.doNothing()).compile());
  }
  async removeUserRoles(userId: string, roleIds: string[]) {
    if (!roleIds.length) return;
    await this.#run(this.db.deleteFrom('user_roles').where('user_id', '=', userId).where('role_id', 'in', roleIds).compile());
  }
  async listUserRoles(userId: string, opts: ListOptions): Promise<Page<Role>> {
    const q = this.db.selectFrom('user_roles').innerJoin('roles', 'roles.id', 'user_roles.role_id').where('user_roles.user_id', '=', userId);
    const [rows, total] = await Promise.all([
      q.select(['roles.id', 'roles.name', 'roles.description']).orderBy('roles.name').orderBy('roles.id').limit(opts.perPage).offset(opts.page * opts.perPage).execute(),
      q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { items: rows.map(toRole), total: Number(total.n) };
  }

  // users' permissions -----------------------------------------------------------------------------
  async addUserPermissions(userId: string, permissions: PermissionRef[]) {
    if (!permissions.length) return;
    await this.#run(this.db.insertInto('user_permissions').values(permissions.map((p) => ({ user_id: userId, ...pick(p) }))).onConflict((oc) => oc.doNothing()).compile());
  }
  async removeUserPermissions(userId: string, permissions: PermissionRef[]) {
    await this.#runAll(permissions.map((p) => this.db.deleteFrom('user_permissions').where('user_id', '=', userId)
      .where('resource_server_identifier', '=', p.resource_server_identifier).where('permission_name', '=', p.permission_name).compile()));
  }
  async listUserPermissions(userId: string): Promise<HeldPermission[]> {
    const [direct, viaRoles] = await Promise.all([
      this.db.selectFrom('user_permissions').select(['resource_server_identifier', 'permission_name']).where('user_id', '=', userId).execute(),
      this.db.selectFrom('user_roles')
        .innerJoin('roles', 'roles.id', 'user_roles.role_id')
        .innerJoin('role_permissions', 'role_permissions.role_id', 'user_roles.role_id')
        .select(['role_permissions.resource_server_identifier', 'role_permissions.permission_name', 'roles.id', 'roles.name', 'roles.description'])
        .where('user_roles.user_id', '=', userId).orderBy('roles.name').execute(),
    ]);
    const held = new Map<string, HeldPermission>();
    const entry = (p: PermissionRef) => {
      const key = `${p.resource_server_identifier}\0${p.permission_name}`;
      let h = held.get(key);
      if (!h) held.set(key, (h = { ...pick(p), sources: [] }));
      return h;
    };
    for (const p of direct) entry(p).sources.push(null);
    for (const r of viaRoles) entry(r).sources.push(toRole(r));
    return [...held.values()].sort((a, b) => cmp(a.resource_server_identifier, b.resource_server_identifier) || cmp(a.permission_name, b.permission_name));
  }
  async userPermissionNames(userId: string, identifier: string): Promise<string[]> {
    const direct = this.db.selectFrom('user_permissions').select('permission_name')
      .where('user_id', '=', userId).where('resource_server_identifier', '=', identifier);
    const viaRoles = this.db.selectFrom('user_roles')
      .innerJoin('roles', 'roles.id', 'user_roles.role_id')
      .innerJoin('role_permissions', 'role_permissions.role_id', 'user_roles.role_id')
      .select('role_permissions.permission_name')
      .where('user_roles.user_id', '=', userId).where('role_permissions.resource_server_identifier', '=', identifier);
    const { rows } = await this.x.one(direct.union(viaRoles).compile());
    return rows.map((r) => r.permission_name as string);
  }
}

const pick = (p: PermissionRef): PermissionRef => ({ resource_server_identifier: p.resource_server_identifier, permission_name: p.permission_name });
const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
