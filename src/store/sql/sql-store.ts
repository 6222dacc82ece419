import { type CompiledQuery, sql } from 'kysely';
import type { LogEvent, User } from '../../core/model.ts';
import type { Artifact, ArtifactKind, AttemptResult, CodeKey, ConsumeResult, CodeRecord, ListOptions, LogSearch, NewOutboxMessage, OutboxMessage, Page, SigningKeyRecord, Store } from '../types.ts';
import { compileLogQuery, logToRow } from './log-sql.ts';
import type { Result } from './executor.ts';
import { migrateToLatest } from './migrate.ts';
import { USER_COLUMNS } from './queries.ts';
import { SqlRefs } from './refs-store.ts';
import type { Database } from './schema.ts';
import { type UserRow, toUser, userRow } from './users-sql.ts';

export { DEFAULT_TENANT } from './refs-store.ts';

const parse = <T>(s: string): T => JSON.parse(s) as T;

function toArtifact<T>(r: Database['artifacts']): Artifact<T> {
  return {
    kind: r.kind as ArtifactKind, id: r.id, family: r.family, doc: parse<T>(r.doc), expires_at: Number(r.expires_at),
    consumed_at: r.consumed_at === null ? null : Number(r.consumed_at), attempts: Number(r.attempts),
  };
}

/**
 * One Kysely codebase for SQLite and PostgreSQL (STYLE.md §9). Hot statements are compiled once
 * (queries.ts) and run through the executor (executor.ts): on SQLite synchronously on the raw handle,
 * writes group-committed per event-loop turn. Multi-statement writes are generator ops so that one
 * definition runs in a synchronous SQLite transaction and in an async PostgreSQL one.
 */
export class SqlStore extends SqlRefs implements Store {
  migrate = () => migrateToLatest(this.db, this.dialect);
  async ping() {
    await sql`select 1`.execute(this.db);
  }
  async close() {
    this.x.flush();
    await this.db.destroy();
  }

  // one-time codes ---------------------------------------------------------------------------------
  async issueCode(code: CodeRecord, message: NewOutboxMessage | null, logs: LogEvent[]) {
    const stmts = [this.q.upsertCode({ ...code, params: JSON.stringify(code.params) })];
    if (message) stmts.push(this.q.insertOutbox({ ...message, meta: JSON.stringify(message.meta), now: code.created_at }));
    if (logs.length) stmts.push(this.q.insertLogs(logs.map(logToRow)));
    await this.x.write(function* () {
      for (const s of stmts) yield s;
    });
  }

  async takeAttempt(key: CodeKey, maxAttempts: number): Promise<AttemptResult> {
    // The increment and the limit check are one statement: concurrent guesses cannot overtake it.
    // A single statement, so atomic on its own; on SQLite it shares the group COMMIT of its turn
    // (the caller learns the outcome only once it is durable).
    const { rows } = await this.#single(this.q.takeAttempt({ ...key, max: maxAttempts }));
    const row = rows[0] as (Omit<CodeRecord, 'params'> & { params: string }) | undefined;
    if (row) return { kind: 'attempt', record: { ...row, params: parse<Record<string, string>>(row.params) } };
    const exists = await this.x.one(this.q.codeExists(key));
    return exists.rows.length ? { kind: 'exhausted' } : { kind: 'missing' };
  }

  async consumeCode(key: CodeKey, codeHash: string) {
    return (await this.#single(this.q.consumeCode({ ...key, code_hash: codeHash }))).changes === 1;
  }

  async resetAttempts(key: CodeKey, codeHash: string) {
    const q = this.db.updateTable('otp_codes').set({ attempts: 0 })
      .where('connection_id', '=', key.connection_id).where('identifier', '=', key.identifier).where('client_id', '=', key.client_id)
      .where('code_hash', '=', codeHash).compile();
    await this.#single(q);
  }

  // browser sign-in artifacts ----------------------------------------------------------------------
  async putArtifact<T>(a: { kind: ArtifactKind; id: string; family?: string | null; doc: T; expires_at: number }) {
    const row = { kind: a.kind, id: a.id, family: a.family ?? null, doc: JSON.stringify(a.doc), expires_at: a.expires_at, consumed_at: null, attempts: 0 };
    const q = this.db.insertInto('artifacts').values(row)
      .onConflict((oc) => oc.columns(['kind', 'id']).doUpdateSet({ family: row.family, doc: row.doc, expires_at: row.expires_at, consumed_at: null, attempts: 0 }))
      .compile();
    await this.#single(q);
  }
  async getArtifact<T>(kind: ArtifactKind, id: string, now: number) {
    const row = await this.db.selectFrom('artifacts').selectAll().where('kind', '=', kind).where('id', '=', id).where('expires_at', '>', now).executeTakeFirst();
    return row ? toArtifact<T>(row) : undefined;
  }
  async updateArtifact<T>(kind: ArtifactKind, id: string, doc: T, now: number) {
    const q = this.db.updateTable('artifacts').set({ doc: JSON.stringify(doc) }).where('kind', '=', kind).where('id', '=', id).where('expires_at', '>', now).compile();
    return (await this.#single(q)).changes === 1;
  }
  async consumeArtifact<T>(kind: ArtifactKind, id: string, now: number, leewayMs = 0): Promise<ConsumeResult<T>> {
    // One statement decides: unconsumed → consumed now; consumed within the leeway → still ok.
    const q = this.db.updateTable('artifacts')
      .set({ consumed_at: sql<number>`coalesce(consumed_at, ${now})` })
      .where('kind', '=', kind).where('id', '=', id).where('expires_at', '>', now)
      // Without a leeway only an unconsumed row qualifies: comparing times would let a concurrent
      // caller whose `now` was taken a millisecond earlier than the winner's pass as "within" it.
      .where((eb) => (leewayMs > 0 ? eb.or([eb('consumed_at', 'is', null), eb('consumed_at', '>', now - leewayMs)]) : eb('consumed_at', 'is', null)))
      .returningAll().compile();
    const { rows } = await this.#single(q);
    if (rows[0]) return { status: 'ok', artifact: toArtifact<T>(rows[0] as Database['artifacts']) };
    const existing = await this.getArtifact<T>(kind, id, now);
    return existing?.consumed_at != null ? { status: 'reused', artifact: existing } : { status: 'missing' };
  }
  async takeArtifactAttempt<T>(kind: ArtifactKind, id: string, max: number, now: number) {
    const q = this.db.updateTable('artifacts').set((eb) => ({ attempts: eb('attempts', '+', 1) }))
      .where('kind', '=', kind).where('id', '=', id).where('expires_at', '>', now).where('consumed_at', 'is', null).where('attempts', '<', max)
      .returningAll().compile();
    const row = (await this.#single(q)).rows[0];
    return row ? toArtifact<T>(row as Database['artifacts']) : undefined;
  }
  async deleteArtifact(kind: ArtifactKind, id: string) {
    return (await this.#single(this.db.deleteFrom('artifacts').where('kind', '=', kind).where('id', '=', id).compile())).changes > 0;
  }
  async deleteArtifactFamily(family: string) {
    return (await this.#single(this.db.deleteFrom('artifacts').where('family', '=', family).compile())).changes;
  }
  async purgeArtifacts(now: number) {
    return (await this.#single(this.db.deleteFrom('artifacts').where('expires_at', '<=', now).compile())).changes;
  }

  /** One write statement through the executor's write path (group commit on SQLite). */
  #single(q: CompiledQuery): Promise<Result> {
    return this.x.write(function* (): Generator<CompiledQuery, Result, Result> {
      return yield q;
    }, false);
  }

  // assertion jtis ---------------------------------------------------------------------------------
  async useAssertionJti(clientId: string, jti: string, expiresAt: number) {
    const now = Date.now();
    const r = await this.db
      .insertInto('assertion_jtis')
      .values({ client_id: clientId, jti, expires_at: expiresAt })
      .onConflict((oc) => oc.columns(['client_id', 'jti']).doNothing())
      .executeTakeFirst();
    // Purge now and then rather than on every call: expired jtis can never be replayed anyway
    // because the assertion's own exp is checked first.
    if (Math.random() < 0.01) await this.db.deleteFrom('assertion_jtis').where('expires_at', '<', now).execute();
    return Number(r.numInsertedOrUpdatedRows ?? 0n) === 1;
  }

  // rate limits ------------------------------------------------------------------------------------
  async hitRateLimit(key: string, windowStart: number, windowMs: number) {
    const q = this.q.hitRateLimit({ key, start: windowStart, expires: windowStart + windowMs });
    return this.x.write(function* () {
      return Number((yield q).rows[0]!.count);
    }, false);
  }

  // outbox -----------------------------------------------------------------------------------------
  async enqueue(message: NewOutboxMessage) {
    const q = this.q.insertOutbox({ ...message, meta: JSON.stringify(message.meta), now: Date.now() });
    await this.#single(q);
  }
  async claimOutbox(now: number, limit: number, leaseMs: number): Promise<OutboxMessage[]> {
    const due = this.db
      .selectFrom('outbox')
      .select('id')
      .where('status', '=', 'pending')
      .where('next_attempt_at', '<=', now)
      .where('leased_until', '<=', now)
      // Oldest due first, in outbox_due's own order (status, next_attempt_at, rowid): the LIMIT stops
      // the index scan early. `ORDER BY id` sorted every due row first: O(backlog) per claim.
      .orderBy('next_attempt_at')
      .orderBy('id')
      .limit(limit);
    const rows = await this.db
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
    const q = this.q.markSent({ id, now: Date.now() });
    await this.#single(q);
  }
  /** One UPDATE for a whole delivered batch. */
  async markSentMany(ids: number[]) {
    if (ids.length === 0) return;
    const q = this.db.updateTable('outbox').set({ status: 'sent', sent_at: Date.now(), payload: '', leased_until: 0 }).where('id', 'in', ids).compile();
    await this.#single(q);
  }
  async markRetry(id: number, attempts: number, nextAttemptAt: number, error: string) {
    const q = this.db.updateTable('outbox').set({ attempts, next_attempt_at: nextAttemptAt, last_error: error, leased_until: 0 }).where('id', '=', id).compile();
    await this.#single(q);
  }
  async markFailed(id: number, attempts: number, error: string, log: LogEvent) {
    // The payload holds the code: drop it once it can no longer be sent.
    const failed = this.db.updateTable('outbox').set({ status: 'failed', attempts, last_error: error, payload: '', leased_until: 0 }).where('id', '=', id).compile();
    const logQ = this.q.insertLogs([logToRow(log)]);
    await this.x.write(function* () {
      yield failed;
      yield logQ;
    });
  }
  async countOutbox(status: 'pending' | 'sent' | 'failed') {
    const r = await this.db.selectFrom('outbox').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', status).executeTakeFirstOrThrow();
    return Number(r.n);
  }

  // users ------------------------------------------------------------------------------------------
  async getUser(userId: string) {
    const row = (await this.x.one(this.q.userById({ id: userId }))).rows[0];
    return row ? toUser(row as UserRow) : undefined;
  }
  async findUserByEmail(connection: string, email: string) {
    const row = (await this.x.one(this.q.userByEmail({ connection, email }))).rows[0];
    return row ? toUser(row as UserRow) : undefined;
  }
  async listUsersByEmail(email: string) {
    const rows = await this.db.selectFrom('users').select(USER_COLUMNS).where('email', '=', email.toLowerCase()).orderBy('created_at').execute();
    return rows.map(toUser);
  }
  async listUsers(opts: ListOptions & { emailQuery?: string; connection?: string; sort?: 'asc' | 'desc' }): Promise<Page<User>> {
    let q = this.db.selectFrom('users');
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
      q.select(USER_COLUMNS).orderBy('created_at', opts.sort ?? 'desc').orderBy('user_id').limit(opts.perPage).offset(opts.page * opts.perPage).execute(),
      q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { items: rows.map(toUser), total: Number(total.n) };
  }
  async createUserIfAbsent(user: User, logsIfCreated: LogEvent[] = []) {
    const insert = this.q.insertUser(userRow(user));
    const logs = logsIfCreated.length ? this.q.insertLogs(logsIfCreated.map(logToRow)) : undefined;
    const find = user.email !== undefined ? this.q.userByEmail({ connection: user.connection, email: user.email }) : undefined;
    // Insert-or-read. On PostgreSQL a transaction is needed only for the logs: ON CONFLICT waited
    // for the winner's commit, so the read sees its row either way.
    return this.x.write(function* () {
      if ((yield insert).rows.length) {
        if (logs) yield logs;
        return { user, created: true };
      }
      const existing = find ? (yield find).rows[0] : undefined;
      if (!existing) throw new Error('user insert conflicted but no user was found');
      return { user: toUser(existing as UserRow), created: false };
    }, logs !== undefined);
  }
  async updateUser(user: User) {
    const q = this.db.updateTable('users').set({ doc: JSON.stringify(user) }).where('user_id', '=', user.user_id).compile();
    await this.#single(q);
  }
  async deleteUser(userId: string) {
    const r = await this.db.deleteFrom('users').where('user_id', '=', userId).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }
  /** One UPDATE of the login columns: no read-modify-write, so no lock upgrade to lose (users-sql.ts). */
  async recordLogin(userId: string, at: string, ip: string) {
    const q = this.q.recordLogin({ id: userId, at, ip });
    await this.#single(q);
  }

  // logs -------------------------------------------------------------------------------------------
  async appendLogs(logs: LogEvent[]) {
    if (!logs.length) return;
    const q = this.q.insertLogs(logs.map(logToRow));
    await this.#single(q);
  }
  async getLog(logId: string) {
    const row = await this.db.selectFrom('logs').select('doc').where('log_id', '=', logId).executeTakeFirst();
    return row ? parse<LogEvent>(row.doc) : undefined;
  }
  async searchLogs(s: LogSearch): Promise<Page<LogEvent>> {
    let q = this.db.selectFrom('logs');
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
    let q = this.db.selectFrom('logs').select('doc');
    if (from) q = q.where('log_id', '>', from);
    const rows = await q.orderBy('log_id').limit(take).execute();
    return rows.map((r) => parse<LogEvent>(r.doc));
  }

  // signing keys -----------------------------------------------------------------------------------
  async listSigningKeys(): Promise<SigningKeyRecord[]> {
    const rows = await this.db.selectFrom('signing_keys').selectAll().orderBy('created_at').execute();
    return rows.map((r) => ({ ...r, status: r.status as SigningKeyRecord['status'] }));
  }
  async insertSigningKey(k: SigningKeyRecord) {
    await this.db.insertInto('signing_keys').values(k).execute();
  }
}
