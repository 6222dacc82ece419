import type { CompiledQuery, Kysely, RawBuilder } from 'kysely';
import { sql } from './kysely.ts';
import type { LogEvent } from '../../core/model.ts';
import type { BackoffPolicy, GuessAdmission, IdentifierBlock, IdentifierFailureOutcome, IdentifierKey } from '../identifier-limits.ts';
import type { LoginBlockFilter } from '../types.ts';
import type { Executor, Result } from './executor.ts';
import { logToRow } from './log-sql.ts';
import { SqlRbac } from './rbac-sql.ts';
import type { Database } from './schema.ts';
import { p as param, template } from './template.ts';
import { type TurnBatch, lookupByPosition } from './turn-batch.ts';

const FAILURES = 'failures';
const STARTS = 'starts';
const t = (col: string) => sql.ref(`identifier_limits.${col}`);

/** The next wait once in back-off: the base at first, then double the last, at most the maximum. */
const nextDelay = (p: BackoffPolicy): RawBuilder<number> =>
  sql<number>`case when ${t('delay_ms')} = 0 then ${p.baseMs} when ${t('delay_ms')} * 2 > ${p.maxMs} then ${p.maxMs} else ${t('delay_ms')} * 2 end`;

type FailureRow = { failures: number | string; last_at: number | string; blocked_until: number | string | null };

/** PostgreSQL: the failure rows of one turn's identifiers in one query (turn-batch.ts). */
function failuresBatch(db: Kysely<Database>, x: Executor): TurnBatch<IdentifierKey, FailureRow> {
  const query = template<'identifiers' | 'connections'>(
    sql`select k.i, f.failures, f.last_at, f.blocked_until
      from unnest(${param('identifiers')}::text[], ${param('connections')}::text[]) with ordinality as k(identifier, connection, i)
      join identifier_limits f on f.identifier = k.identifier and f.connection = k.connection and f.kind = ${FAILURES}`.compile(db),
  );
  return lookupByPosition(x, (keys) => query({ identifiers: keys.map((k) => k.identifier), connections: keys.map((k) => k.connection) }), (row: FailureRow) => row);
}

/**
 * Limits per identifier across every IP (issue 10 §2; src/store/identifier-limits.ts). Each counter
 * is decided by one statement on the row as it is under that statement's lock (PostgreSQL's row
 * lock, SQLite's single writer): racing guesses see the count move one by one, exactly one reaches
 * the threshold, and in back-off exactly one guess passes per wait.
 */
export abstract class SqlIdentifierLimits extends SqlRbac {
  #write(q: CompiledQuery): Promise<Result> {
    return this.x.write(function* (): Generator<CompiledQuery, Result, Result> {
      return yield q;
    }, false);
  }

  #row(k: IdentifierKey, kind: string) {
    return this.db.selectFrom('identifier_limits').where('identifier', '=', k.identifier).where('connection', '=', k.connection).where('kind', '=', kind);
  }

  /** The identifier's failure count; every guess reads it, so on PostgreSQL one turn's reads share a query. */
  async #failures(k: IdentifierKey): Promise<FailureRow | undefined> {
    if (this.dialect === 'postgres') return (this.#failureReads ??= failuresBatch(this.db, this.x)).get(k);
    return (await this.x.one(this.#row(k, FAILURES).select(['failures', 'last_at', 'blocked_until']).compile())).rows[0] as FailureRow | undefined;
  }
  #failureReads: TurnBatch<IdentifierKey, FailureRow> | undefined;

  async admitGuess(k: IdentifierKey, now: number, p: BackoffPolicy): Promise<GuessAdmission> {
    const row = await this.#failures(k);
    if (!row) return { admitted: true, charged: false, failures: 0 };
    const until = row.blocked_until === null ? null : Number(row.blocked_until);
    if (until !== null && until > now) return { admitted: false, retryAt: until };
    const failures = Number(row.failures);
    const decayed = Number(row.last_at) <= now - p.decayMs;
    if (failures < p.threshold || decayed) return { admitted: true, charged: false, failures: decayed ? 0 : failures };
    // In back-off: this guess takes the next wait, unless a racing guess took it first.
    const charge = this.db.updateTable('identifier_limits')
      .set({ failures: sql`${t('failures')} + 1`, last_at: now, delay_ms: nextDelay(p), blocked_until: sql`${now} + ${nextDelay(p)}` })
      .where('identifier', '=', k.identifier).where('connection', '=', k.connection).where('kind', '=', FAILURES)
      .where((eb) => eb.or([eb('blocked_until', 'is', null), eb('blocked_until', '<=', now)]))
      .where('failures', '>=', p.threshold)
      .returning(['failures', 'blocked_until'])
      .compile();
    if ((await this.#write(charge)).rows.length === 1) return { admitted: true, charged: true, failures };
    const again = (await this.x.one(this.#row(k, FAILURES).select('blocked_until').compile())).rows[0];
    return { admitted: false, retryAt: Number(again?.blocked_until ?? now + p.baseMs) };
  }

  async recordIdentifierFailure(k: IdentifierKey, now: number, p: BackoffPolicy, tripLog?: LogEvent): Promise<IdentifierFailureOutcome> {
    const first = p.threshold <= 1;
    const fresh = sql<boolean>`((${t('blocked_until')} is null or ${t('blocked_until')} <= ${now}) and ${t('last_at')} <= ${now - p.decayMs})`;
    const reaches = sql<boolean>`(${t('failures')} + 1 >= ${p.threshold})`;
    const upsert = this.db.insertInto('identifier_limits')
      .values({ ...k, kind: FAILURES, failures: 1, delay_ms: first ? p.baseMs : 0, last_at: now, blocked_until: first ? now + p.baseMs : null })
      .onConflict((oc) => oc.columns(['identifier', 'connection', 'kind']).doUpdateSet({
        failures: sql<number>`case when ${fresh} then 1 else ${t('failures')} + 1 end`,
        delay_ms: sql<number>`case when ${fresh} then ${first ? p.baseMs : 0} when ${reaches} then ${nextDelay(p)} else ${t('delay_ms')} end`,
        blocked_until: sql<number | null>`case when ${fresh} then ${first ? now + p.baseMs : null} when ${reaches} then ${now} + ${nextDelay(p)} else ${t('blocked_until')} end`,
        last_at: now,
      }))
      .returning(['failures', 'blocked_until'])
      .compile();
    const log = tripLog ? this.q.insertLogs([logToRow(tripLog)]) : undefined;
    const out = await this.x.write(function* () {
      const row = (yield upsert).rows[0]!;
      const failures = Number(row.failures);
      const tripped = failures === p.threshold;
      if (tripped && log) yield log;
      return { failures, blockedUntil: row.blocked_until === null ? null : Number(row.blocked_until), tripped };
    }, tripLog !== undefined);
    // Now and then, as brute-force pairs do: rows with no wait running and nothing recent count for nothing.
    if (Math.random() < 0.01) {
      await this.#write(this.db.deleteFrom('identifier_limits')
        .where((eb) => eb.or([eb('blocked_until', 'is', null), eb('blocked_until', '<=', now)]))
        .where('last_at', '<=', now - p.decayMs).compile());
    }
    return out;
  }

  async clearIdentifierFailures(k: IdentifierKey): Promise<void> {
    await this.#write(this.db.deleteFrom('identifier_limits')
      .where('identifier', '=', k.identifier).where('connection', '=', k.connection).where('kind', '=', FAILURES).compile());
  }

  async markStartsCapped(k: IdentifierKey, until: number, now: number, tripLog?: LogEvent): Promise<boolean> {
    const upsert = this.db.insertInto('identifier_limits')
      .values({ ...k, kind: STARTS, failures: 0, delay_ms: 0, last_at: now, blocked_until: until })
      .onConflict((oc) => oc.columns(['identifier', 'connection', 'kind'])
        .doUpdateSet({ blocked_until: until, last_at: now })
        .where((eb) => eb.or([eb('identifier_limits.blocked_until', 'is', null), eb('identifier_limits.blocked_until', '<=', now)])))
      .returning('blocked_until')
      .compile();
    const log = tripLog ? this.q.insertLogs([logToRow(tripLog)]) : undefined;
    return this.x.write(function* () {
      const marked = (yield upsert).rows.length === 1;
      if (marked && log) yield log;
      return marked;
    }, tripLog !== undefined);
  }

  async listIdentifierBlocks(f: LoginBlockFilter, now: number): Promise<IdentifierBlock[]> {
    if (!f.identifiers.length) return [];
    let q = this.db.selectFrom('identifier_limits').select(['identifier', 'connection', 'kind', 'blocked_until'])
      .where('identifier', 'in', f.identifiers).where('blocked_until', '>', now);
    if (f.connection !== undefined) q = q.where('connection', '=', f.connection);
    const { rows } = await this.x.one(q.orderBy('identifier').orderBy('connection').orderBy('kind').compile());
    return rows.map((r) => ({ identifier: String(r.identifier), connection: String(r.connection), kind: r.kind === STARTS ? STARTS : FAILURES, blocked_until: Number(r.blocked_until) }));
  }

  async clearIdentifierBlocks(f: LoginBlockFilter, windowKeys: (key: IdentifierKey) => string[]): Promise<number> {
    if (!f.identifiers.length) return 0;
    let q = this.db.deleteFrom('identifier_limits').where('identifier', 'in', f.identifiers);
    if (f.connection !== undefined) q = q.where('connection', '=', f.connection);
    const del = q.returning(['identifier', 'connection', 'kind']).compile();
    const db = this.db;
    return this.x.write(function* () {
      const { rows } = yield del;
      const keys = rows.filter((r) => r.kind === STARTS).flatMap((r) => windowKeys({ identifier: String(r.identifier), connection: String(r.connection) }));
      if (keys.length) yield db.deleteFrom('window_events').where('key', 'in', keys).compile();
      return rows.length;
    });
  }
}
