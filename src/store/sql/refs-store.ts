import type { CompiledQuery, Kysely } from 'kysely';
import { sql } from './kysely.ts';
import type { Client, Connection, TenantSettings } from '../../core/model.ts';
import type { ClientGrant, ListOptions, Page } from '../types.ts';
import type { Pool } from 'pg';
import { type Executor, type Op, SqliteExecutor } from './executor.ts';
import { arrayAppender } from './array-insert.ts';
import { PgExecutor } from './pg-executor.ts';
import { type RefListener, listenRefVersion } from './pg-listen.ts';
import { type HotQueries, hotQueries } from './queries.ts';
import { RefCache } from './ref-cache.ts';
import type { Database } from './schema.ts';
import type { CachedSqlite } from './stmt-cache.ts';

const parse = <T>(s: string): T => JSON.parse(s) as T;

function deepFreeze<T>(v: T): T {
  if (v && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const child of Object.values(v)) deepFreeze(child);
  }
  return v;
}

/**
 * Cached rows are parsed once and handed out deep-frozen: every request reads the client, the
 * connection and two settings, and re-parsing them was a visible share of a start's CPU. Freezing
 * keeps the promise that callers cannot change what is cached (they copy, as every writer does).
 */
const parsedRows = new WeakMap<object, unknown>();
function frozen<T>(row: object, text: string): T {
  let out = parsedRows.get(row) as T | undefined;
  if (out === undefined) {
    out = deepFreeze(parse<T>(text));
    parsedRows.set(row, out);
  }
  return out;
}

export const DEFAULT_TENANT: TenantSettings = {
  friendly_name: 'Sesame',
  flags: { enforce_client_authentication_on_passwordless_start: false },
};

/**
 * Reference data: settings, clients, client grants, connections and their enablement. Point reads
 * go through the version-checked RefCache (ref-cache.ts); every write bumps `ref_version` in its own
 * transaction. The rest of the store (sql-store.ts) extends this class.
 */
export abstract class SqlRefs {
  readonly dialect: 'sqlite' | 'postgres';
  protected readonly db: Kysely<Database>;
  protected readonly x: Executor;
  protected readonly q: HotQueries;
  protected readonly refs: RefCache;

  constructor(db: Kysely<Database>, dialect: 'sqlite' | 'postgres', driver: { sqlite?: CachedSqlite; pgPool?: Pool }) {
    this.db = db;
    this.dialect = dialect;
    if (driver.sqlite) this.x = new SqliteExecutor(driver.sqlite);
    else if (driver.pgPool) this.x = new PgExecutor(driver.pgPool, arrayAppender(db));
    else throw new Error(`no driver handle for the ${dialect} store`);
    this.q = hotQueries(db, dialect);
    const version = this.q.version({});
    this.refs = new RefCache(async () => Number((await this.x.one(version)).rows[0]?.version ?? 0));
    const refs = this.refs;
    if (driver.pgPool) this.listener = listenRefVersion(driver.pgPool, (v) => refs.notified(v), (on) => refs.setPushed(on));
  }
  /** PostgreSQL: the LISTEN connection that keeps the reference cache fresh without a query per request. */
  protected readonly listener: RefListener | undefined;

  /** A write to reference data and the version bump commit together; then this process forgets its cache. */
  protected async refWrite<T>(op: Op<T>): Promise<T> {
    const bump = this.q.bumpVersion({});
    try {
      return await this.x.write(function* () {
        const out = yield* op();
        yield bump;
        return out;
      });
    } finally {
      this.refs.invalidate();
    }
  }

  /** One statement on reference data, with its version bump. */
  protected async refWriteOne(q: CompiledQuery): Promise<void> {
    await this.refWrite(function* () {
      yield q;
    });
  }

  #cachedRow<T>(key: string, q: ReturnType<HotQueries['getClient']>): Promise<T | undefined> {
    return this.refs.get(key, async () => (await this.x.one(q)).rows[0] as T | undefined);
  }

  // settings ---------------------------------------------------------------------------------------
  async getSetting<T>(key: string): Promise<T | undefined> {
    const row = await this.#cachedRow<{ value: string }>(`s\0${key}`, this.q.getSetting({ key }));
    return row ? frozen<T>(row, row.value) : undefined;
  }
  async putSetting(key: string, value: unknown) {
    const v = JSON.stringify(value);
    const q = this.db.insertInto('settings').values({ key, value: v }).onConflict((oc) => oc.column('key').doUpdateSet({ value: v })).compile();
    await this.refWriteOne(q);
  }
  /**
   * Read-modify-write of one setting in one transaction, serialised per key (PostgreSQL: an advisory
   * transaction lock, which also covers a row that does not exist yet; SQLite: the writer lock of
   * BEGIN IMMEDIATE), so concurrent PATCHes of different fields both apply. `change` may run twice
   * (batch retry) and must be pure.
   */
  async updateSetting<T>(key: string, change: (current: T | undefined) => T): Promise<T> {
    const lock = this.dialect === 'postgres' ? sql`select pg_advisory_xact_lock(hashtextextended(${`setting:${key}`}, 0))`.compile(this.db) : undefined;
    const read = this.db.selectFrom('settings').select('value').where('key', '=', key).compile();
    const db = this.db;
    return this.refWrite(function* () {
      if (lock) yield lock;
      const row = (yield read).rows[0] as { value: string } | undefined;
      const next = change(row ? (JSON.parse(row.value) as T) : undefined);
      const v = JSON.stringify(next);
      yield db.insertInto('settings').values({ key, value: v }).onConflict((oc) => oc.column('key').doUpdateSet({ value: v })).compile();
      return next;
    });
  }
  async deleteSetting(key: string) {
    const q = this.db.deleteFrom('settings').where('key', '=', key).compile();
    return this.refWrite(function* () {
      return (yield q).changes > 0;
    });
  }
  async getTenantSettings(): Promise<TenantSettings> {
    return (await this.getSetting<TenantSettings>('tenant')) ?? structuredClone(DEFAULT_TENANT);
  }

  // clients ----------------------------------------------------------------------------------------
  async getClient(clientId: string) {
    const row = await this.#cachedRow<{ doc: string; secret_hash: string | null }>(`c\0${clientId}`, this.q.getClient({ id: clientId }));
    return row ? { client: frozen<Client>(row, row.doc), secretHash: row.secret_hash } : undefined;
  }
  async listClients(opts: ListOptions & { appType?: string[] }): Promise<Page<Client>> {
    let q = this.db.selectFrom('clients');
    if (opts.appType?.length) q = q.where('app_type', 'in', opts.appType);
    const [rows, total] = await Promise.all([
      q.select('doc').orderBy('created_at').orderBy('client_id').limit(opts.perPage).offset(opts.page * opts.perPage).execute(),
      q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { items: rows.map((r) => parse<Client>(r.doc)), total: Number(total.n) };
  }
  async insertClient(client: Client, secretHash: string | null) {
    const q = this.db
      .insertInto('clients')
      .values({ client_id: client.client_id, name: client.name, app_type: client.app_type, secret_hash: secretHash, doc: JSON.stringify(client), created_at: Date.parse(client.created_at) })
      .compile();
    await this.refWriteOne(q);
  }
  async updateClient(client: Client, secretHash?: string | null) {
    const q = this.db
      .updateTable('clients')
      .set({ name: client.name, app_type: client.app_type, doc: JSON.stringify(client), ...(secretHash !== undefined ? { secret_hash: secretHash } : {}) })
      .where('client_id', '=', client.client_id)
      .compile();
    await this.refWriteOne(q);
  }
  async rehashClientSecret(clientId: string, from: string, to: string) {
    const q = this.db.updateTable('clients').set({ secret_hash: to }).where('client_id', '=', clientId).where('secret_hash', '=', from).compile();
    return this.refWrite(function* () {
      return (yield q).changes > 0;
    });
  }
  async deleteClient(clientId: string) {
    const db = this.db;
    return this.refWrite(function* () {
      const r = yield db.deleteFrom('clients').where('client_id', '=', clientId).compile();
      yield db.deleteFrom('connection_clients').where('client_id', '=', clientId).compile();
      yield db.deleteFrom('client_grants').where('client_id', '=', clientId).compile();
      yield db.deleteFrom('otp_codes').where('client_id', '=', clientId).compile();
      return r.changes > 0;
    });
  }

  // client grants ----------------------------------------------------------------------------------
  async listClientGrants(filter: { clientId?: string; audience?: string }): Promise<ClientGrant[]> {
    let q = this.db.selectFrom('client_grants').select('doc');
    if (filter.clientId) q = q.where('client_id', '=', filter.clientId);
    if (filter.audience) q = q.where('audience', '=', filter.audience);
    return (await q.orderBy('id').execute()).map((r) => parse<ClientGrant>(r.doc));
  }
  async putClientGrant(g: ClientGrant) {
    const doc = JSON.stringify(g);
    const q = this.db
      .insertInto('client_grants')
      .values({ id: g.id, client_id: g.client_id, audience: g.audience, doc })
      .onConflict((oc) => oc.columns(['client_id', 'audience']).doUpdateSet({ doc }))
      .compile();
    await this.refWriteOne(q);
  }
  async deleteClientGrant(id: string) {
    const q = this.db.deleteFrom('client_grants').where('id', '=', id).compile();
    return this.refWrite(function* () {
      return (yield q).changes > 0;
    });
  }

  // connections ------------------------------------------------------------------------------------
  async getConnection(id: string) {
    const row = await this.#cachedRow<{ doc: string }>(`n\0${id}`, this.q.getConnection({ id }));
    return row ? frozen<Connection>(row, row.doc) : undefined;
  }
  async getConnectionByName(name: string) {
    const row = await this.#cachedRow<{ doc: string }>(`N\0${name}`, this.q.getConnectionByName({ name }));
    return row ? frozen<Connection>(row, row.doc) : undefined;
  }
  async listConnections(opts: ListOptions & { strategy?: string[]; name?: string }): Promise<Page<Connection>> {
    let q = this.db.selectFrom('connections');
    if (opts.strategy?.length) q = q.where('strategy', 'in', opts.strategy);
    if (opts.name) q = q.where('name', '=', opts.name);
    const [rows, total] = await Promise.all([
      q.select('doc').orderBy('created_at').orderBy('id').limit(opts.perPage).offset(opts.page * opts.perPage).execute(),
      q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { items: rows.map((r) => parse<Connection>(r.doc)), total: Number(total.n) };
  }
  async insertConnection(c: Connection) {
    const q = this.db.insertInto('connections').values({ id: c.id, name: c.name, strategy: c.strategy, doc: JSON.stringify(c), created_at: Date.parse(c.created_at) }).compile();
    await this.refWriteOne(q);
  }
  async updateConnection(c: Connection) {
    const q = this.db.updateTable('connections').set({ name: c.name, doc: JSON.stringify(c) }).where('id', '=', c.id).compile();
    await this.refWriteOne(q);
  }
  async deleteConnection(id: string) {
    const db = this.db;
    return this.refWrite(function* () {
      const r = yield db.deleteFrom('connections').where('id', '=', id).compile();
      yield db.deleteFrom('connection_clients').where('connection_id', '=', id).compile();
      yield db.deleteFrom('otp_codes').where('connection_id', '=', id).compile();
      return r.changes > 0;
    });
  }
  async listEnabledClients(connectionId: string) {
    const rows = await this.db.selectFrom('connection_clients').select('client_id').where('connection_id', '=', connectionId).orderBy('client_id').execute();
    return rows.map((r) => r.client_id);
  }
  async setEnabledClients(connectionId: string, changes: { client_id: string; status: boolean }[]) {
    const qs = changes.map((ch) =>
      ch.status
        ? this.db.insertInto('connection_clients').values({ connection_id: connectionId, client_id: ch.client_id }).onConflict((oc) => oc.doNothing()).compile()
        : this.db.deleteFrom('connection_clients').where('connection_id', '=', connectionId).where('client_id', '=', ch.client_id).compile(),
    );
    await this.refWrite(function* () {
      for (const q of qs) yield q;
    });
  }
  async isConnectionEnabled(connectionId: string, clientId: string) {
    const row = await this.#cachedRow<{ client_id: string }>(`e\0${connectionId}\0${clientId}`, this.q.isEnabled({ connection: connectionId, client: clientId }));
    return row !== undefined;
  }
}
