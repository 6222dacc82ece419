import { type Kysely, sql } from 'kysely';
import type { Client, Connection, LogEvent, TenantSettings, User } from '../../core/model.ts';
import type {
  AttemptResult, ClientGrant, CodeKey, CodeRecord, ListOptions, LogSearch, NewOutboxMessage, OutboxMessage, Page,
  SigningKeyRecord, Store,
} from '../types.ts';
import { compileLogQuery, logToRow } from './log-sql.ts';
import { migrateToLatest } from './migrate.ts';
import type { Database } from './schema.ts';

const parse = <T>(s: string): T => JSON.parse(s) as T;

export const DEFAULT_TENANT: TenantSettings = {
  friendly_name: 'Sesame',
  flags: { enforce_client_authentication_on_passwordless_start: false },
};

/** One Kysely codebase for SQLite and PostgreSQL (STYLE.md §9). */
export class SqlStore implements Store {
  readonly dialect: 'sqlite' | 'postgres';
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>, dialect: 'sqlite' | 'postgres') {
    this.#db = db;
    this.dialect = dialect;
  }

  migrate = () => migrateToLatest(this.#db, this.dialect);
  async ping() {
    await sql`select 1`.execute(this.#db);
  }
  close = () => this.#db.destroy();

  // settings ---------------------------------------------------------------------------------------
  async getSetting<T>(key: string): Promise<T | undefined> {
    const row = await this.#db.selectFrom('settings').select('value').where('key', '=', key).executeTakeFirst();
    return row ? parse<T>(row.value) : undefined;
  }
  async putSetting(key: string, value: unknown) {
    const v = JSON.stringify(value);
    await this.#db.insertInto('settings').values({ key, value: v }).onConflict((oc) => oc.column('key').doUpdateSet({ value: v })).execute();
  }
  async deleteSetting(key: string) {
    const r = await this.#db.deleteFrom('settings').where('key', '=', key).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }
  async getTenantSettings(): Promise<TenantSettings> {
    const s = await this.getSetting<TenantSettings>('tenant');
    return s ?? structuredClone(DEFAULT_TENANT);
  }

  // clients ----------------------------------------------------------------------------------------
  async getClient(clientId: string) {
    const row = await this.#db.selectFrom('clients').select(['doc', 'secret_hash']).where('client_id', '=', clientId).executeTakeFirst();
    return row ? { client: parse<Client>(row.doc), secretHash: row.secret_hash } : undefined;
  }
  async listClients(opts: ListOptions & { appType?: string[] }): Promise<Page<Client>> {
    let q = this.#db.selectFrom('clients');
    if (opts.appType?.length) q = q.where('app_type', 'in', opts.appType);
    const [rows, total] = await Promise.all([
      q.select('doc').orderBy('created_at').orderBy('client_id').limit(opts.perPage).offset(opts.page * opts.perPage).execute(),
      q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { items: rows.map((r) => parse<Client>(r.doc)), total: Number(total.n) };
  }
  async insertClient(client: Client, secretHash: string | null) {
    await this.#db
      .insertInto('clients')
      .values({ client_id: client.client_id, name: client.name, app_type: client.app_type, secret_hash: secretHash, doc: JSON.stringify(client), created_at: Date.parse(client.created_at) })
      .execute();
  }
  async updateClient(client: Client, secretHash?: string | null) {
    await this.#db
      .updateTable('clients')
      .set({ name: client.name, app_type: client.app_type, doc: JSON.stringify(client), ...(secretHash !== undefined ? { secret_hash: secretHash } : {}) })
      .where('client_id', '=', client.client_id)
      .execute();
  }
  async deleteClient(clientId: string) {
    return this.#db.transaction().execute(async (tx) => {
      const r = await tx.deleteFrom('clients').where('client_id', '=', clientId).executeTakeFirst();
      await tx.deleteFrom('connection_clients').where('client_id', '=', clientId).execute();
      await tx.deleteFrom('client_grants').where('client_id', '=', clientId).execute();
      await tx.deleteFrom('otp_codes').where('client_id', '=', clientId).execute();
      return Number(r.numDeletedRows) > 0;
    });
  }

  // client grants ----------------------------------------------------------------------------------
  async listClientGrants(filter: { clientId?: string; audience?: string }): Promise<ClientGrant[]> {
    let q = this.#db.selectFrom('client_grants').select('doc');
    if (filter.clientId) q = q.where('client_id', '=', filter.clientId);
    if (filter.audience) q = q.where('audience', '=', filter.audience);
    return (await q.orderBy('id').execute()).map((r) => parse<ClientGrant>(r.doc));
  }
  async putClientGrant(g: ClientGrant) {
    const doc = JSON.stringify(g);
    await this.#db
      .insertInto('client_grants')
      .values({ id: g.id, client_id: g.client_id, audience: g.audience, doc })
      .onConflict((oc) => oc.columns(['client_id', 'audience']).doUpdateSet({ doc }))
      .execute();
  }
  async deleteClientGrant(id: string) {
    const r = await this.#db.deleteFrom('client_grants').where('id', '=', id).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  // connections ------------------------------------------------------------------------------------
  async getConnection(id: string) {
    const row = await this.#db.selectFrom('connections').select('doc').where('id', '=', id).executeTakeFirst();
    return row ? parse<Connection>(row.doc) : undefined;
  }
  async getConnectionByName(name: string) {
    const row = await this.#db.selectFrom('connections').select('doc').where('name', '=', name).executeTakeFirst();
    return row ? parse<Connection>(row.doc) : undefined;
  }
  async listConnections(opts: ListOptions & { strategy?: string[]; name?: string }): Promise<Page<Connection>> {
    let q = this.#db.selectFrom('connections');
    if (opts.strategy?.length) q = q.where('strategy', 'in', opts.strategy);
    if (opts.name) q = q.where('name', '=', opts.name);
    const [rows, total] = await Promise.all([
      q.select('doc').orderBy('created_at').orderBy('id').limit(opts.perPage).offset(opts.page * opts.perPage).execute(),
      q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { items: rows.map((r) => parse<Connection>(r.doc)), total: Number(total.n) };
  }
  async insertConnection(c: Connection) {
    await this.#db.insertInto('connections').values({ id: c.id, name: c.name, strategy: c.strategy, doc: JSON.stringify(c), created_at: Date.parse(c.created_at) }).execute();
  }
  async updateConnection(c: Connection) {
    await this.#db.updateTable('connections').set({ name: c.name, doc: JSON.stringify(c) }).where('id', '=', c.id).execute();
  }
  async deleteConnection(id: string) {
    return this.#db.transaction().execute(async (tx) => {
      const r = await tx.deleteFrom('connections').where('id', '=', id).executeTakeFirst();
      await tx.deleteFrom('connection_clients').where('connection_id', '=', id).execute();
      await tx.deleteFrom('otp_codes').where('connection_id', '=', id).execute();
      return Number(r.numDeletedRows) > 0;
    });
  }
  async listEnabledClients(connectionId: string) {
    const rows = await this.#db.selectFrom('connection_clients').select('client_id').where('connection_id', '=', connectionId).orderBy('client_id').execute();
    return rows.map((r) => r.client_id);
  }
  async setEnabledClients(connectionId: string, changes: { client_id: string; status: boolean }[]) {
    await this.#db.transaction().execute(async (tx) => {
      for (const ch of changes) {
        if (ch.status) {
          await tx.insertInto('connection_clients').values({ connection_id: connectionId, client_id: ch.client_id }).onConflict((oc) => oc.doNothing()).execute();
        } else {
          await tx.deleteFrom('connection_clients').where('connection_id', '=', connectionId).where('client_id', '=', ch.client_id).execute();
        }
      }
    });
  }
  async isConnectionEnabled(connectionId: string, clientId: string) {
    const row = await this.#db.selectFrom('connection_clients').select('client_id').where('connection_id', '=', connectionId).where('client_id', '=', clientId).executeTakeFirst();
    return row !== undefined;
  }

  // one-time codes ---------------------------------------------------------------------------------
  async issueCode(code: CodeRecord, message: NewOutboxMessage | null, logs: LogEvent[]) {
    const row = { ...code, params: JSON.stringify(code.params) };
    await this.#db.transaction().execute(async (tx) => {
      await tx
        .insertInto('otp_codes')
        .values(row)
        .onConflict((oc) =>
          oc.columns(['connection_id', 'identifier', 'client_id']).doUpdateSet({ code_hash: row.code_hash, expires_at: row.expires_at, attempts: 0, params: row.params, created_at: row.created_at }),
        )
        .execute();
      if (message) await tx.insertInto('outbox').values(outboxRow(message, code.created_at)).execute();
      if (logs.length) await tx.insertInto('logs').values(logs.map(logToRow)).execute();
    });
  }

  async takeAttempt(key: CodeKey, maxAttempts: number): Promise<AttemptResult> {
    // The increment and the limit check are one statement: concurrent guesses cannot overtake it.
    const row = await this.#db
      .updateTable('otp_codes')
      .set((eb) => ({ attempts: eb('attempts', '+', 1) }))
      .where('connection_id', '=', key.connection_id)
      .where('identifier', '=', key.identifier)
      .where('client_id', '=', key.client_id)
      .where('attempts', '<', maxAttempts)
      .returningAll()
      .executeTakeFirst();
    if (row) return { kind: 'attempt', record: { ...row, params: parse<Record<string, string>>(row.params) } };
    const exists = await this.#db
      .selectFrom('otp_codes')
      .select('attempts')
      .where('connection_id', '=', key.connection_id)
      .where('identifier', '=', key.identifier)
      .where('client_id', '=', key.client_id)
      .executeTakeFirst();
    return exists ? { kind: 'exhausted' } : { kind: 'missing' };
  }

  async consumeCode(key: CodeKey, codeHash: string) {
    const r = await this.#db
      .deleteFrom('otp_codes')
      .where('connection_id', '=', key.connection_id)
      .where('identifier', '=', key.identifier)
      .where('client_id', '=', key.client_id)
      .where('code_hash', '=', codeHash)
      .executeTakeFirst();
    return Number(r.numDeletedRows) === 1;
  }

  // assertion jtis ---------------------------------------------------------------------------------
  async useAssertionJti(clientId: string, jti: string, expiresAt: number) {
    const now = Date.now();
    const r = await this.#db
      .insertInto('assertion_jtis')
      .values({ client_id: clientId, jti, expires_at: expiresAt })
      .onConflict((oc) => oc.columns(['client_id', 'jti']).doNothing())
      .executeTakeFirst();
    // Purge now and then rather than on every call: expired jtis can never be replayed anyway
    // because the assertion's own exp is checked first.
    if (Math.random() < 0.01) await this.#db.deleteFrom('assertion_jtis').where('expires_at', '<', now).execute();
    return Number(r.numInsertedOrUpdatedRows ?? 0n) === 1;
  }

  // rate limits ------------------------------------------------------------------------------------
  async hitRateLimit(key: string, windowStart: number, windowMs: number) {
    const row = await this.#db
      .insertInto('rate_limits')
      .values({ key, window_start: windowStart, count: 1, expires_at: windowStart + windowMs })
      .onConflict((oc) =>
        oc.column('key').doUpdateSet((eb) => ({
          count: sql<number>`case when ${eb.ref('rate_limits.window_start')} = ${windowStart} then ${eb.ref('rate_limits.count')} + 1 else 1 end`,
          window_start: windowStart,
          expires_at: windowStart + windowMs,
        })),
      )
      .returning('count')
      .executeTakeFirstOrThrow();
    return Number(row.count);
  }

  // outbox -----------------------------------------------------------------------------------------
  async enqueue(message: NewOutboxMessage) {
    await this.#db.insertInto('outbox').values(outboxRow(message, Date.now())).execute();
  }
  async claimOutbox(now: number, limit: number, leaseMs: number): Promise<OutboxMessage[]> {
    const due = this.#db
      .selectFrom('outbox')
      .select('id')
      .where('status', '=', 'pending')
      .where('next_attempt_at', '<=', now)
      .where('leased_until', '<=', now)
      .orderBy('id')
      .limit(limit);
    const rows = await this.#db
      .updateTable('outbox')
      .set({ leased_until: now + leaseMs })
      // PostgreSQL: SKIP LOCKED lets several instances claim disjoint batches without waiting.
      .where('id', 'in', this.dialect === 'postgres' ? due.forUpdate().skipLocked() : due)
      .returning(['id', 'channel', 'recipient', 'payload', 'meta', 'attempts', 'next_attempt_at', 'created_at'])
      .execute();
    return rows
      .map((r) => ({ ...r, id: Number(r.id), channel: 'email' as const, meta: parse<Record<string, string>>(r.meta) }))
      .sort((a, b) => a.id - b.id);
  }
  async markSent(id: number) {
    await this.#db.updateTable('outbox').set({ status: 'sent', sent_at: Date.now(), payload: '', leased_until: 0 }).where('id', '=', id).execute();
  }
  async markRetry(id: number, attempts: number, nextAttemptAt: number, error: string) {
    await this.#db.updateTable('outbox').set({ attempts, next_attempt_at: nextAttemptAt, last_error: error, leased_until: 0 }).where('id', '=', id).execute();
  }
  async markFailed(id: number, attempts: number, error: string, log: LogEvent) {
    await this.#db.transaction().execute(async (tx) => {
      // The payload holds the code: drop it once it can no longer be sent.
      await tx.updateTable('outbox').set({ status: 'failed', attempts, last_error: error, payload: '', leased_until: 0 }).where('id', '=', id).execute();
      await tx.insertInto('logs').values(logToRow(log)).execute();
    });
  }
  async countOutbox(status: 'pending' | 'sent' | 'failed') {
    const r = await this.#db.selectFrom('outbox').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', status).executeTakeFirstOrThrow();
    return Number(r.n);
  }

  // users ------------------------------------------------------------------------------------------
  async getUser(userId: string) {
    const row = await this.#db.selectFrom('users').select('doc').where('user_id', '=', userId).executeTakeFirst();
    return row ? parse<User>(row.doc) : undefined;
  }
  async findUserByEmail(connection: string, email: string) {
    const row = await this.#db.selectFrom('users').select('doc').where('connection', '=', connection).where('email', '=', email).executeTakeFirst();
    return row ? parse<User>(row.doc) : undefined;
  }
  async listUsersByEmail(email: string) {
    const rows = await this.#db.selectFrom('users').select('doc').where('email', '=', email.toLowerCase()).orderBy('created_at').execute();
    return rows.map((r) => parse<User>(r.doc));
  }
  async listUsers(opts: ListOptions & { emailQuery?: string; connection?: string; sort?: 'asc' | 'desc' }): Promise<Page<User>> {
    let q = this.#db.selectFrom('users');
    if (opts.connection) q = q.where('connection', '=', opts.connection);
    if (opts.emailQuery !== undefined) {
      const wildcard = opts.emailQuery.includes('*');
      if (!wildcard) q = q.where('email', '=', opts.emailQuery);
      else {
        const like = opts.emailQuery.replace(/[\\%_]/g, (c) => `\\${c}`).replace(/\*/g, '%');
        q = q.where(sql<boolean>`email LIKE ${like} ESCAPE '\\'`);
      }
    }
    const [rows, total] = await Promise.all([
      q.select('doc').orderBy('created_at', opts.sort ?? 'desc').orderBy('user_id').limit(opts.perPage).offset(opts.page * opts.perPage).execute(),
      q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { items: rows.map((r) => parse<User>(r.doc)), total: Number(total.n) };
  }
  async createUserIfAbsent(user: User) {
    const inserted = await this.#db
      .insertInto('users')
      .values({ user_id: user.user_id, connection: user.connection, email: user.email ?? null, phone_number: user.phone_number ?? null, doc: JSON.stringify(user), created_at: Date.parse(user.created_at) })
      .onConflict((oc) => oc.doNothing())
      .returning('user_id')
      .executeTakeFirst();
    if (inserted) return { user, created: true };
    const existing = user.email !== undefined ? await this.findUserByEmail(user.connection, user.email) : undefined;
    if (!existing) throw new Error('user insert conflicted but no user was found');
    return { user: existing, created: false };
  }
  async updateUser(user: User) {
    await this.#db.updateTable('users').set({ doc: JSON.stringify(user) }).where('user_id', '=', user.user_id).execute();
  }
  async deleteUser(userId: string) {
    const r = await this.#db.deleteFrom('users').where('user_id', '=', userId).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }
  async recordLogin(userId: string, at: string, ip: string) {
    await this.#db.transaction().execute(async (tx) => {
      const row = await tx.selectFrom('users').select('doc').where('user_id', '=', userId).executeTakeFirst();
      if (!row) return;
      const u = parse<User>(row.doc);
      const next: User = { ...u, last_login: at, last_ip: ip, logins_count: (u.logins_count ?? 0) + 1, updated_at: at };
      await tx.updateTable('users').set({ doc: JSON.stringify(next) }).where('user_id', '=', userId).execute();
    });
  }

  // logs -------------------------------------------------------------------------------------------
  async appendLogs(logs: LogEvent[]) {
    if (logs.length) await this.#db.insertInto('logs').values(logs.map(logToRow)).execute();
  }
  async getLog(logId: string) {
    const row = await this.#db.selectFrom('logs').select('doc').where('log_id', '=', logId).executeTakeFirst();
    return row ? parse<LogEvent>(row.doc) : undefined;
  }
  async searchLogs(s: LogSearch): Promise<Page<LogEvent>> {
    let q = this.#db.selectFrom('logs');
    if (s.query) {
      const query = s.query;
      q = q.where((eb) => compileLogQuery(eb, query, this.dialect));
    }
    const field = s.sort.field as 'date' | 'log_id' | 'type';
    const [rows, total] = await Promise.all([
      q.select('doc').orderBy(field, s.sort.dir).orderBy('log_id', s.sort.dir).limit(s.perPage).offset(s.page * s.perPage).execute(),
      q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { items: rows.map((r) => parse<LogEvent>(r.doc)), total: Number(total.n) };
  }
  async logsAfter(from: string | null, take: number) {
    let q = this.#db.selectFrom('logs').select('doc');
    if (from) q = q.where('log_id', '>', from);
    const rows = await q.orderBy('log_id').limit(take).execute();
    return rows.map((r) => parse<LogEvent>(r.doc));
  }

  // signing keys -----------------------------------------------------------------------------------
  async listSigningKeys(): Promise<SigningKeyRecord[]> {
    const rows = await this.#db.selectFrom('signing_keys').selectAll().orderBy('created_at').execute();
    return rows.map((r) => ({ ...r, status: r.status as SigningKeyRecord['status'] }));
  }
  async insertSigningKey(k: SigningKeyRecord) {
    await this.#db.insertInto('signing_keys').values(k).execute();
  }
}

function outboxRow(m: NewOutboxMessage, now: number) {
  return {
    channel: m.channel,
    recipient: m.recipient,
    payload: m.payload,
    meta: JSON.stringify(m.meta),
    status: 'pending',
    attempts: 0,
    next_attempt_at: now,
    leased_until: 0,
    last_error: null,
    created_at: now,
    sent_at: null,
  };
}
