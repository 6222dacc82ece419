import type { ListOptions, Page, ResourceServer } from '../types.ts';
import { SqlRefs } from './refs-store.ts';

const parse = (s: string): ResourceServer => JSON.parse(s) as ResourceServer;

function deepFreeze<T>(v: T): T {
  if (v && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const child of Object.values(v)) deepFreeze(child);
  }
  return v;
}

/**
 * Resource servers (APIs, issue 4 §4). Reference data like clients: the token endpoint reads one
 * per request that names an audience, so reads by identifier go through the version-checked
 * RefCache (ref-cache.ts) and every write bumps `ref_version` (refs-store.ts `refWrite`). Cached
 * documents are parsed once and handed out deep-frozen, as refs-store.ts does for clients.
 */
export abstract class SqlResourceServers extends SqlRefs {
  async getResourceServer(identifier: string): Promise<ResourceServer | undefined> {
    const q = this.db.selectFrom('resource_servers').select('doc').where('identifier', '=', identifier).compile();
    return this.refs.get(`r\0${identifier}`, async () => {
      const row = (await this.x.one(q)).rows[0] as { doc: string } | undefined;
      return row ? deepFreeze(parse(row.doc)) : undefined;
    });
  }
  async getResourceServerById(id: string): Promise<ResourceServer | undefined> {
    const row = await this.db.selectFrom('resource_servers').select('doc').where('id', '=', id).executeTakeFirst();
    return row ? parse(row.doc) : undefined;
  }
  async listResourceServers(opts: ListOptions): Promise<Page<ResourceServer>> {
    const q = this.db.selectFrom('resource_servers');
    const [rows, total] = await Promise.all([
      q.select('doc').orderBy('created_at').orderBy('id').limit(opts.perPage).offset(opts.page * opts.perPage).execute(),
      q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { items: rows.map((r) => parse(r.doc)), total: Number(total.n) };
  }
  async insertResourceServer(rs: ResourceServer): Promise<boolean> {
    // ON CONFLICT DO NOTHING on the unique identifier: of two concurrent creates exactly one inserts.
    const q = this.db
      .insertInto('resource_servers')
      .values({ id: rs.id, identifier: rs.identifier, doc: JSON.stringify(rs), created_at: Date.now() })
      .onConflict((oc) => oc.doNothing())
      .compile();
    return this.refWrite(function* () {
      return (yield q).changes === 1;
    });
  }
  async updateResourceServer(rs: ResourceServer): Promise<void> {
    // The identifier never changes (it is what issued tokens carry as `aud`): only the document.
    const db = this.db;
    const names = rs.scopes.map((sc) => sc.value);
    await this.refWrite(function* () {
      yield db.updateTable('resource_servers').set({ doc: JSON.stringify(rs) }).where('id', '=', rs.id).compile();
      // A scope the API no longer defines is no longer a permission anyone holds (issue 10 §1).
      for (const table of ['role_permissions', 'user_permissions'] as const) {
        let del = db.deleteFrom(table).where('resource_server_identifier', '=', rs.identifier);
        if (names.length) del = del.where('permission_name', 'not in', names);
        yield del.compile();
      }
    });
  }
  async deleteResourceServer(id: string): Promise<boolean> {
    const found = await this.getResourceServerById(id);
    if (!found) return false;
    const db = this.db;
    return this.refWrite(function* () {
      const r = yield db.deleteFrom('resource_servers').where('id', '=', id).compile();
      // Grants for an API that no longer exists would only confuse a later API with the same identifier.
      if (r.changes > 0) yield db.deleteFrom('client_grants').where('audience', '=', found.identifier).compile();
      // Likewise the permissions on it (issue 10 §1).
      if (r.changes > 0) yield db.deleteFrom('role_permissions').where('resource_server_identifier', '=', found.identifier).compile();
      if (r.changes > 0) yield db.deleteFrom('user_permissions').where('resource_server_identifier', '=', found.identifier).compile();
      return r.changes > 0;
    });
  }
}
