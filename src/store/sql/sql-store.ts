import type { CompiledQuery, Kysely } from 'kysely';
import { sql } from './kysely.ts';
import type { LogEvent, User } from '../../core/model.ts';
import type { LogStreamDoc, LogStreamRecord } from '../types.ts';
import type { WindowLimit, WindowReservation } from '../types.ts';
import { type WindowRequest, reserveWindowsBatch, reserveWindowsOp } from './windows-sql.ts';
import type { Artifact, ArtifactKind, AttemptResult, CodeKey, ConsumeResult, CodeRecord, ListOptions, LogSearch, NewOutboxMessage, OutboxMessage, Page, SigningKeyRecord, Store } from '../types.ts';
import { compileLogQuery, logToRow } from './log-sql.ts';
import type { BruteForcePolicy, LoginBlockFilter, LoginFailureKey } from '../types.ts';
import { clearLoginBlocksQuery, clearLoginFailuresQuery, listLoginBlocksQuery, loginBlockBatch, loginBlockQuery, toPairState, purgeLoginFailuresQuery, recordLoginFailureOp, toLoginBlock } from './brute-force-sql.ts';
import type { Op, Result, Rows } from './executor.ts';
import { staleHashes } from './key-report-sql.ts';
import { migrateToLatest, withStartupLock } from './migrate.ts';
import { type ClaimOwner, dueRows, heartbeatQuery, retireQuery } from './outbox-sql.ts';
import { USER_COLUMNS } from './queries.ts';
import { SqlDashboard } from './dashboard-sql.ts';
import type { Database } from './schema.ts';
import { type UserRow, createUsersBatch, recordLoginBatch, toUser, userRow, usersByEmailBatch } from './users-sql.ts';
import type { TurnBatch } from './turn-batch.ts';
import { type CodeRow, consumeCodeBatch, takeAttemptBatch } from './codes-sql.ts';
import { type RateLimitHit, rateLimitBatch } from './rate-limit-sql.ts';

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
export class SqlStore extends SqlDashboard implements Store {
  migrate = () => migrateToLatest(this.db, this.dialect);
  exclusive = <T>(fn: () => Promise<T>) => withStartupLock(this.db, this.dialect, fn);
  async ping() {
    await sql`select 1`.execute(this.db);
  }
  async close() {
    this.listener?.stop();
    await this.x.flush();
    await this.db.destroy();
  }

  // one-time codes ---------------------------------------------------------------------------------
  async issueCode(code: CodeRecord, message: NewOutboxMessage | null, logs: LogEvent[]) {
    // Blind inserts: on PostgreSQL the rows of all concurrent starts share one transaction and one
    // multi-row INSERT per table (executor.ts `append`).
    const parts: Rows[] = [{ insert: this.q.codes, rows: [{ ...code, params: JSON.stringify(code.params) }] }];
    if (message) parts.push({ insert: this.q.outbox, rows: [{ ...message, meta: JSON.stringify(message.meta), now: code.created_at }] });
    if (logs.length) parts.push({ insert: this.q.logs, rows: logs.map(logToRow) as unknown as Record<string, unknown>[] });
    await this.x.append(parts);
  }

  async takeAttempt(key: CodeKey, maxAttempts: number): Promise<AttemptResult> {
    // The increment and the limit check are one statement: concurrent guesses cannot overtake it.
    // A single statement, so atomic on its own; on SQLite it shares the group COMMIT of its turn
    // (the caller learns the outcome only once it is durable).
    // On PostgreSQL the guesses of one event-loop turn share a statement (codes-sql.ts).
    const row = this.dialect === 'postgres'
      ? await (this.#attempts ??= takeAttemptBatch(this.db, this.x)).get({ ...key, max: maxAttempts })
      : (await this.#single(this.q.takeAttempt({ ...key, max: maxAttempts }))).rows[0] as CodeRow | undefined;
    if (row) return { kind: 'attempt', record: { ...row, params: parse<Record<string, string>>(row.params) } };
    const exists = await this.x.one(this.q.codeExists(key));
    return exists.rows.length ? { kind: 'exhausted' } : { kind: 'missing' };
  }

  #attempts: TurnBatch<CodeKey & { max: number }, CodeRow> | undefined;

  async consumeCode(key: CodeKey, codeHash: string) {
    if (this.dialect === 'postgres') return (await (this.#consumptions ??= consumeCodeBatch(this.db, this.x)).get({ ...key, code_hash: codeHash })) === true;
    return (await this.#single(this.q.consumeCode({ ...key, code_hash: codeHash }))).changes === 1;
  }
  #consumptions: TurnBatch<CodeKey & { code_hash: string }, true> | undefined;

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
    const { rows } = await this.#single(this.#consumeQuery(kind, id, now, leewayMs));
    if (rows[0]) return { status: 'ok', artifact: toArtifact<T>(rows[0] as Database['artifacts']) };
    const existing = await this.getArtifact<T>(kind, id, now);
    return existing?.consumed_at != null ? { status: 'reused', artifact: existing } : { status: 'missing' };
  }
  /** One statement decides: unconsumed → consumed now; consumed within the leeway → still ok. */
  #consumeQuery(kind: ArtifactKind, id: string, now: number, leewayMs: number): CompiledQuery {
    return this.db.updateTable('artifacts')
      .set({ consumed_at: sql<number>`coalesce(consumed_at, ${now})` })
      .where('kind', '=', kind).where('id', '=', id).where('expires_at', '>', now)
      // Without a leeway only an unconsumed row qualifies: comparing times would let a concurrent
      // caller whose `now` was taken a millisecond earlier than the winner's pass as "within" it.
      .where((eb) => (leewayMs > 0 ? eb.or([eb('consumed_at', 'is', null), eb('consumed_at', '>', now - leewayMs)]) : eb('consumed_at', 'is', null)))
      .returningAll().compile();
  }
  async rotateArtifact<T>(
    kind: ArtifactKind, id: string, now: number, leewayMs: number,
    next: { kind: ArtifactKind; id: string; family: string | null; doc: unknown; expires_at: number },
  ): Promise<ConsumeResult<T>> {
    const consume = this.#consumeQuery(kind, id, now, leewayMs);
    const insert = this.db.insertInto('artifacts')
      .values({ kind: next.kind, id: next.id, family: next.family, doc: JSON.stringify(next.doc), expires_at: next.expires_at, consumed_at: null, attempts: 0 })
      .compile();
    const row = await this.x.write(function* () {
      const consumed = (yield consume).rows[0];
      if (consumed) yield insert;
      return consumed;
    });
    if (row) return { status: 'ok', artifact: toArtifact<T>(row as Database['artifacts']) };
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

  // sliding windows ---------------------------------------------------------------------------------
  async reserveWindows(limits: WindowLimit[], now: number, ref: string): Promise<WindowReservation> {
    if (this.dialect !== 'postgres') return this.x.write(reserveWindowsOp(this.db, limits, now, ref));
    if (!limits.length) return { ok: true };
    // Every start reserves its identifier's windows: the reservations of one event-loop turn share a call.
    return (await (this.#pgReserve ??= reserveWindowsBatch(this.db, this.x)).get({ limits, now, ref }))!;
  }
  #pgReserve: TurnBatch<WindowRequest, WindowReservation> | undefined;
  async releaseWindows(ref: string) {
    await this.#single(this.db.deleteFrom('window_events').where('ref', '=', ref).compile());
  }
  async purgeWindows(before: number) {
    return (await this.#single(this.db.deleteFrom('window_events').where('at', '<', before).compile())).changes;
  }

  // brute-force protection (brute-force-sql.ts) -----------------------------------------------------
  async recordLoginFailure(key: LoginFailureKey, now: number, policy: BruteForcePolicy, blockLog?: LogEvent) {
    const out = await this.x.write(recordLoginFailureOp(this.db, key, now, policy, (rows) => this.q.insertLogs(rows), blockLog), blockLog !== undefined);
    // Now and then, as for assertion jtis: rows past their window or block count for nothing.
    if (Math.random() < 0.01) await this.#single(purgeLoginFailuresQuery(this.db, now, policy.windowMs));
    return out;
  }
  async clearLoginFailures(key: LoginFailureKey, now: number) {
    await this.#single(clearLoginFailuresQuery(this.db, key, now));
  }
  async getLoginBlock(key: LoginFailureKey) {
    // Every guess reads its pair's state first: on PostgreSQL the reads of one event-loop turn share a query.
    if (this.dialect === 'postgres') return (this.#loginBlocks ??= loginBlockBatch(this.db, this.x)).get(key);
    const row = (await this.x.one(loginBlockQuery(this.db, key))).rows[0];
    return row ? toPairState(row as Parameters<typeof toPairState>[0]) : undefined;
  }
  #loginBlocks: TurnBatch<LoginFailureKey, { failures: number; blocked_until: number | null }> | undefined;
  async listLoginBlocks(filter: LoginBlockFilter, now: number) {
    if (!filter.identifiers.length) return [];
    return (await this.x.one(listLoginBlocksQuery(this.db, filter, now))).rows.map(toLoginBlock);
  }
  async clearLoginBlocks(filter: LoginBlockFilter) {
    if (!filter.identifiers.length) return 0;
    return (await this.#single(clearLoginBlocksQuery(this.db, filter))).changes;
  }

  // rate limits ------------------------------------------------------------------------------------
  async hitRateLimit(key: string, windowStart: number, windowMs: number) {
    // Every start hits its IP's budget: on PostgreSQL the hits of one event-loop turn share an upsert.
    if (this.dialect === 'postgres') return (await (this.#rateLimits ??= rateLimitBatch(this.db, this.x)).get({ key, windowStart, windowMs }))!;
    const q = this.q.hitRateLimit({ key, start: windowStart, expires: windowStart + windowMs });
    return this.x.write(function* () {
      return Number((yield q).rows[0]!.count);
    }, false);
  }

  #rateLimits: TurnBatch<RateLimitHit, number> | undefined;

  // outbox -----------------------------------------------------------------------------------------
  async enqueue(message: NewOutboxMessage) {
    await this.x.append([{ insert: this.q.outbox, rows: [{ ...message, meta: JSON.stringify(message.meta), now: Date.now() }] }]);
  }
  async claimOutbox(now: number, limit: number, leaseMs: number, owner?: ClaimOwner): Promise<OutboxMessage[]> {
    const due = dueRows(this.db, now, limit, owner);
    const rows = await this.db
      .updateTable('outbox')
      .set({ leased_until: now + leaseMs, lease_owner: owner?.id ?? null })
      // PostgreSQL: SKIP LOCKED lets several instances claim disjoint batches without waiting.
      .where('id', 'in', this.dialect === 'postgres' ? due.forUpdate().skipLocked() : due)
      .returning(['id', 'channel', 'recipient', 'payload', 'meta', 'attempts', 'next_attempt_at', 'created_at'])
      .execute();
    return rows
      .map((r) => ({ ...r, id: Number(r.id), channel: 'email' as const, meta: parse<Record<string, string>>(r.meta) }))
      .sort((a, b) => a.id - b.id);
  }
  async heartbeatWorker(id: string, now: number) {
    await this.#single(heartbeatQuery(this.db, id, now));
  }
  async retireWorker(id: string, now: number) {
    await this.#single(retireQuery(this.db, id, now));
  }
  async markSent(id: number) {
    const q = this.q.markSent({ id, now: Date.now() });
    await this.#single(q);
  }
  /** One UPDATE for a whole delivered batch. */
  async markSentMany(ids: number[], keepPayload = false) {
    if (ids.length === 0) return;
    const q = this.db.updateTable('outbox').set({ status: 'sent', sent_at: Date.now(), ...(keepPayload ? {} : { payload: '' }), leased_until: 0 }).where('id', 'in', ids).compile();
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

  async outboxBacklog() {
    const r = await this.db.selectFrom('outbox')
      .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.min('created_at').as('oldest')])
      .where('status', '=', 'pending').executeTakeFirstOrThrow();
    return { pending: Number(r.n), oldestCreatedAt: r.oldest === null ? null : Number(r.oldest) };
  }

  // users ------------------------------------------------------------------------------------------
  async getUser(userId: string) {
    const row = (await this.x.one(this.q.userById({ id: userId }))).rows[0];
    return row ? toUser(row as UserRow) : undefined;
  }
  async findUserByPhone(connection: string, phoneNumber: string) {
    const row = (await this.x.one(this.q.userByPhone({ connection, phone: phoneNumber }))).rows[0];
    return row ? toUser(row as UserRow) : undefined;
  }
  async findUserByEmail(connection: string, email: string) {
    // Every start looks its user up: on PostgreSQL the lookups of one event-loop turn share a query.
    if (this.dialect === 'postgres') return (this.#usersByEmail ??= usersByEmailBatch(this.db, this.x)).get({ connection, email });
    const row = (await this.x.one(this.q.userByEmail({ connection, email }))).rows[0];
    return row ? toUser(row as UserRow) : undefined;
  }
  #usersByEmail: TurnBatch<{ connection: string; email: string }, User> | undefined;
  async listUsersByEmail(email: string) {
    const rows = await this.db.selectFrom('users').select(USER_COLUMNS).where('email', '=', email.toLowerCase()).orderBy('created_at').execute();
    return rows.map(toUser);
  }
  async listUsers(opts: ListOptions & { emailQuery?: string; phoneQuery?: string; connection?: string; sort?: 'asc' | 'desc' }): Promise<Page<User>> {
    let q = this.db.selectFrom('users');
    if (opts.connection) q = q.where('connection', '=', opts.connection);
    // `q=email:…` / `q=phone_number:…` (management/users.ts): exact, or `*` wildcards as LIKE.
    for (const [column, value] of [['email', opts.emailQuery], ['phone_number', opts.phoneQuery]] as const) {
      if (value === undefined) continue;
      if (!value.includes('*')) q = q.where(column, '=', value);
      else {
        const like = value.replace(/[\\%_]/g, (c) => `\\${c}`).replace(/\*/g, '%');
        q = q.where(sql<boolean>`${sql.ref(column)} LIKE ${like} ESCAPE '\\'`);
      }
    }
    const [rows, total] = await Promise.all([
      q.select(USER_COLUMNS).orderBy('created_at', opts.sort ?? 'desc').orderBy('user_id').limit(opts.perPage).offset(opts.page * opts.perPage).execute(),
      q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { items: rows.map(toUser), total: Number(total.n) };
  }
  async createUserIfAbsent(user: User, logsIfCreated: LogEvent[] = []) {
    const find =
      user.email !== undefined ? this.q.userByEmail({ connection: user.connection, email: user.email })
      : user.phone_number !== undefined ? this.q.userByPhone({ connection: user.connection, phone: user.phone_number })
      : undefined;
    if (this.dialect === 'postgres') {
      // The first sign-ins of one event-loop turn share one atomic statement (users-sql.ts).
      const created = await (this.#userInserts ??= createUsersBatch(this.db, this.x)).get({ user: userRow(user), logs: logsIfCreated.map(logToRow) });
      if (created) return { user, created: true };
      // ON CONFLICT waited for the winner's commit, so the read sees its row.
      const existing = find ? (await this.x.one(find)).rows[0] : undefined;
      if (!existing) throw new Error('user insert conflicted but no user was found');
      return { user: toUser(existing as UserRow), created: false };
    }
    const insert = this.q.insertUser(userRow(user));
    const logs = logsIfCreated.length ? this.q.insertLogs(logsIfCreated.map(logToRow)) : undefined;
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
    const db = this.db;
    // The user's roles and direct permissions go with it (issue 10 §1), in the same transaction.
    return this.x.write(function* () {
      const r = yield db.deleteFrom('users').where('user_id', '=', userId).compile();
      yield db.deleteFrom('user_roles').where('user_id', '=', userId).compile();
      yield db.deleteFrom('user_permissions').where('user_id', '=', userId).compile();
      return r.changes > 0;
    });
  }
  /** One UPDATE of the login columns: no read-modify-write, so no lock upgrade to lose (users-sql.ts). */
  async recordLogin(userId: string, at: string, ip: string) {
    if (this.dialect === 'postgres') {
      await (this.#logins ??= recordLoginBatch(this.db, this.x)).get({ id: userId, at, ip });
      return;
    }
    await this.#single(this.q.recordLogin({ id: userId, at, ip }));
  }
  #userInserts: TurnBatch<{ user: ReturnType<typeof userRow>; logs: Database['logs'][] }, true> | undefined;
  #logins: TurnBatch<{ id: string; at: string; ip: string }, true> | undefined;

  // logs -------------------------------------------------------------------------------------------
  async appendLogs(logs: LogEvent[]) {
    if (!logs.length) return;
    // Blind inserts: group-committed with the other appends of the turn (executor.ts `append`).
    await this.x.append([{ insert: this.q.logs, rows: logs.map(logToRow) as unknown as Record<string, unknown>[] }]);
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
  async logsAfter(from: string | null, take: number, before?: string) {
    let q = this.db.selectFrom('logs').select('doc');
    if (from) q = q.where('log_id', '>', from);
    if (before) q = q.where('log_id', '<', before);
    const rows = await q.orderBy('log_id').limit(take).execute();
    return rows.map((r) => parse<LogEvent>(r.doc));
  }
  async pruneLogs(before: string, limit: number) {
    // A bounded batch (oldest first, through the logs_date index) keeps each write short: the
    // retention job never holds SQLite's single writer lock for long.
    const batch = this.db.selectFrom('logs').select('log_id').where('date', '<', before).orderBy('date').limit(limit);
    return (await this.#single(this.db.deleteFrom('logs').where('log_id', 'in', batch).compile())).changes;
  }

  // log streams ------------------------------------------------------------------------------------
  get #streams() {
    return this.db as unknown as Kysely<{ log_streams: LogStreamRow }>;
  }
  async listLogStreams() {
    const rows = await this.#streams.selectFrom('log_streams').selectAll().orderBy('created_at').orderBy('id').execute();
    return rows.map(toLogStream);
  }
  async getLogStream(id: string) {
    const row = await this.#streams.selectFrom('log_streams').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toLogStream(row) : undefined;
  }
  async insertLogStream(r: LogStreamRecord) {
    const row = { id: r.id, doc: JSON.stringify(r.doc), checkpoint: r.checkpoint, lease_owner: null, leased_until: 0, created_at: r.created_at };
    await this.#single(this.#streams.insertInto('log_streams').values(row).compile());
  }
  async updateLogStream(r: LogStreamRecord) {
    const q = this.#streams.updateTable('log_streams').set({ doc: JSON.stringify(r.doc) }).where('id', '=', r.id).compile();
    return (await this.#single(q)).changes === 1;
  }
  async deleteLogStream(id: string) {
    return (await this.#single(this.#streams.deleteFrom('log_streams').where('id', '=', id).compile())).changes === 1;
  }
  async claimLogStream(id: string, owner: string, now: number, leaseMs: number) {
    // Free, expired or already ours: the condition and the write are one statement.
    const q = this.#streams.updateTable('log_streams').set({ lease_owner: owner, leased_until: now + leaseMs })
      .where('id', '=', id)
      .where((eb) => eb.or([eb('lease_owner', '=', owner), eb('lease_owner', 'is', null), eb('leased_until', '<=', now)]))
      .returningAll().compile();
    const row = (await this.#single(q)).rows[0] as LogStreamRow | undefined;
    return row ? toLogStream(row) : undefined;
  }
  async advanceLogStream(id: string, owner: string, checkpoint: string, now: number, leaseMs: number) {
    const q = this.#streams.updateTable('log_streams').set({ checkpoint, leased_until: now + leaseMs })
      .where('id', '=', id).where('lease_owner', '=', owner).compile();
    return (await this.#single(q)).changes === 1;
  }
  async releaseLogStream(id: string, owner: string) {
    const q = this.#streams.updateTable('log_streams').set({ lease_owner: null, leased_until: 0 }).where('id', '=', id).where('lease_owner', '=', owner).compile();
    await this.#single(q);
  }

  // signing keys -----------------------------------------------------------------------------------
  async listSigningKeys(): Promise<SigningKeyRecord[]> {
    const rows = await this.db.selectFrom('signing_keys').selectAll().orderBy('created_at').execute();
    return rows.map((r) => ({ ...r, status: r.status as SigningKeyRecord['status'] }));
  }
  async insertSigningKey(k: SigningKeyRecord) {
    const db = this.#keysDb();
    const exists = db.selectFrom('signing_keys').select('kid').where('status', '=', k.status).limit(1).compile();
    const insert = db.insertInto('signing_keys').values(keyRow(k)).compile();
    const single = k.status !== 'current' && k.status !== 'next';
    await this.#keysWrite(function* () {
      if (!single && (yield exists).rows.length) return;
      yield insert;
    });
  }
  async signingKeysVersion() {
    return Number((await this.x.one(this.q.version({}))).rows[0]?.version ?? 0);
  }
  async rotateSigningKeys(next: SigningKeyRecord, now: number) {
    const db = this.#keysDb();
    const hasNext = db.selectFrom('signing_keys').select('kid').where('status', '=', 'next').limit(1).compile();
    const demote = db.updateTable('signing_keys').set({ status: 'previous', current_until: now }).where('status', '=', 'current').compile();
    const promote = db.updateTable('signing_keys').set({ status: 'current', current_since: now }).where('status', '=', 'next').compile();
    const insert = db.insertInto('signing_keys').values(keyRow(next)).compile();
    return this.#keysWrite(function* () {
      if (!(yield hasNext).rows.length) return false;
      yield demote;
      yield promote;
      yield insert;
      return true;
    });
  }
  async revokeSigningKey(kid: string, now: number) {
    const revoke = this.#keysDb()
      .updateTable('signing_keys')
      .set({ status: 'revoked', revoked_at: now })
      .where('kid', '=', kid)
      .where('status', '=', 'previous')
      .compile();
    return this.#keysWrite(function* () {
      return (yield revoke).changes > 0;
    });
  }
  async resealSigningKey(kid: string, sealed: string) {
    const q = this.#keysDb().updateTable('signing_keys').set({ private_jwk_enc: sealed }).where('kid', '=', kid).compile();
    return this.#keysWrite(function* () {
      return (yield q).changes > 0;
    });
  }
  hashesNotUnder(keyId: string, now: number) {
    return staleHashes(this.db, keyId, now);
  }
  /** The key table with the lifecycle dates (migration 2026-11-28T02-00-signing-key-next). */
  #keysDb() {
    return this.db as unknown as Kysely<{ signing_keys: KeyRow }>;
  }
  /**
   * A key-set change: the `ref_version` bump comes FIRST, so its row lock serialises concurrent
   * rotations on PostgreSQL (each later statement, READ COMMITTED, then sees the other's commit;
   * SQLite write transactions are serial anyway), and every process's KeyManager sees the new
   * version. Reference-data caches re-read once, which a rare key change can afford.
   */
  async #keysWrite<T>(op: Op<T>): Promise<T> {
    const bump = this.q.bumpVersion({});
    try {
      return await this.x.write(function* () {
        yield bump;
        return yield* op();
      });
    } finally {
      this.refs.invalidate();
    }
  }
}

type KeyRow = Database['signing_keys'] & { current_since: number | null; current_until: number | null; revoked_at: number | null };

function keyRow(k: SigningKeyRecord): KeyRow {
  return {
    kid: k.kid, alg: k.alg, private_jwk_enc: k.private_jwk_enc, public_jwk: k.public_jwk, created_at: k.created_at, status: k.status,
    current_since: k.current_since ?? null, current_until: k.current_until ?? null, revoked_at: k.revoked_at ?? null,
  };
}

/** The `log_streams` table (migration 2026-11-28T03-00-log-streams). */
interface LogStreamRow {
  id: string;
  doc: string;
  checkpoint: string | null;
  lease_owner: string | null;
  leased_until: number;
  created_at: number;
}

function toLogStream(r: LogStreamRow): LogStreamRecord {
  return { id: r.id, doc: parse<LogStreamDoc>(r.doc), checkpoint: r.checkpoint, created_at: Number(r.created_at) };
}
