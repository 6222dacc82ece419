import type { CompiledQuery, Kysely } from 'kysely';
import { sql } from './kysely.ts';
import type { LogEvent } from '../../core/model.ts';
import type { BruteForcePolicy, LoginBlock, LoginBlockFilter, LoginFailureKey, LoginFailureOutcome } from '../types.ts';
import type { Executor, Op } from './executor.ts';
import { logToRow } from './log-sql.ts';
import type { Database } from './schema.ts';
import { p, template } from './template.ts';
import { type TurnBatch, lookupByPosition } from './turn-batch.ts';

type Db = Kysely<Database>;

const byKey = (db: Db, k: LoginFailureKey) =>
  db.selectFrom('login_failures').where('identifier', '=', k.identifier).where('ip', '=', k.ip).where('connection', '=', k.connection);

/**
 * `Store.recordLoginFailure` (spec §7, BFP) as one op: a single UPSERT counts the failure and, when
 * the count reaches the threshold, sets the block, all decided on the row as it is under the
 * statement's own lock (PostgreSQL's ON CONFLICT row lock, SQLite's single writer). Concurrent
 * failures therefore see 1, 2, 3, … in turn, and exactly one of them sees the threshold: that one
 * appends `blockLog` (the `limit_wc`), in the same transaction.
 *
 * A count starts over when its window has passed (and no block is running) or when its block has
 * ended; a running block is never shortened or lengthened by later failures.
 */
export function recordLoginFailureOp(
  db: Db, k: LoginFailureKey, now: number, policy: BruteForcePolicy, insertLogs: (rows: Database['logs'][]) => CompiledQuery, blockLog?: LogEvent,
): Op<LoginFailureOutcome> {
  const firstBlock = policy.threshold <= 1 ? now + policy.blockMs : null;
  const upsert = db
    .insertInto('login_failures')
    .values({ ...k, failures: 1, first_failure_at: now, blocked_until: firstBlock })
    .onConflict((oc) =>
      oc.columns(['identifier', 'ip', 'connection']).doUpdateSet((eb) => {
        const failures = eb.ref('login_failures.failures');
        const first = eb.ref('login_failures.first_failure_at');
        const until = eb.ref('login_failures.blocked_until');
        const fresh = sql<boolean>`((${until} is null and ${first} <= ${now - policy.windowMs}) or (${until} is not null and ${until} <= ${now}))`;
        return {
          failures: sql<number>`case when ${fresh} then 1 else ${failures} + 1 end`,
          first_failure_at: sql<number>`case when ${fresh} then ${now} else ${first} end`,
          blocked_until: sql<number | null>`case when ${fresh} then ${firstBlock} when ${until} is null and ${failures} + 1 >= ${policy.threshold} then ${now + policy.blockMs} else ${until} end`,
        };
      }),
    )
    .returning(['failures', 'blocked_until'])
    .compile();
  const log = blockLog ? insertLogs([logToRow(blockLog)]) : undefined;
  return function* () {
    const row = (yield upsert).rows[0]!;
    const failures = Number(row.failures);
    const blocked = row.blocked_until !== null && Number(row.blocked_until) > now;
    const newlyBlocked = blocked && failures === policy.threshold;
    if (newlyBlocked && log) yield log;
    return { failures, blocked, newlyBlocked };
  };
}

/** The pair's failure count and block end (`Store.getLoginBlock`). */
export function loginBlockQuery(db: Db, k: LoginFailureKey): CompiledQuery {
  return byKey(db, k).select(['failures', 'blocked_until']).compile();
}

/** A success forgets the pair's failures, unless a block is running (only an operator or time lifts one). */
export function clearLoginFailuresQuery(db: Db, k: LoginFailureKey, now: number): CompiledQuery {
  return db.deleteFrom('login_failures')
    .where('identifier', '=', k.identifier).where('ip', '=', k.ip).where('connection', '=', k.connection)
    .where((eb) => eb.or([eb('blocked_until', 'is', null), eb('blocked_until', '<=', now)]))
    .compile();
}

export function listLoginBlocksQuery(db: Db, f: LoginBlockFilter, now: number): CompiledQuery {
  let q = db.selectFrom('login_failures').select(['identifier', 'ip', 'connection', 'blocked_until'])
    .where('identifier', 'in', f.identifiers).where('blocked_until', '>', now);
  if (f.connection !== undefined) q = q.where('connection', '=', f.connection);
  return q.orderBy('identifier').orderBy('connection').orderBy('ip').compile();
}

/** Removes every block AND failure count of the identifiers (`DELETE /api/v2/user-blocks`). */
export function clearLoginBlocksQuery(db: Db, f: LoginBlockFilter): CompiledQuery {
  let q = db.deleteFrom('login_failures').where('identifier', 'in', f.identifiers);
  if (f.connection !== undefined) q = q.where('connection', '=', f.connection);
  return q.compile();
}

/** Rows that no longer count for anything: an ended block, or failures older than the window. */
export function purgeLoginFailuresQuery(db: Db, now: number, windowMs: number): CompiledQuery {
  return db.deleteFrom('login_failures')
    .where((eb) => eb.or([
      eb.and([eb('blocked_until', 'is', null), eb('first_failure_at', '<=', now - windowMs)]),
      eb('blocked_until', '<=', now),
    ]))
    .compile();
}

export const toLoginBlock = (r: Record<string, unknown>): LoginBlock => ({
  identifier: String(r.identifier), ip: String(r.ip), connection: String(r.connection), blocked_until: Number(r.blocked_until),
});

type PairState = { failures: number; blocked_until: number | null };

/**
 * PostgreSQL: the pair states of one event-loop turn's guesses in one query (turn-batch.ts), each
 * caller's row (or none) found by its position in the arrays.
 */
export function loginBlockBatch(db: Db, x: Executor): TurnBatch<LoginFailureKey, PairState> {
  const query = template<'identifiers' | 'ips' | 'connections'>(
    sql`select k.i, f.failures, f.blocked_until from unnest(${p('identifiers')}::text[], ${p('ips')}::text[], ${p('connections')}::text[]) with ordinality as k(identifier, ip, connection, i)
      join login_failures f on f.identifier = k.identifier and f.ip = k.ip and f.connection = k.connection`.compile(db),
  );
  return lookupByPosition(x, (keys) => query({ identifiers: keys.map((k) => k.identifier), ips: keys.map((k) => k.ip), connections: keys.map((k) => k.connection) }), toPairState);
}

/** A pair's row as `Store.getLoginBlock` returns it (the drivers give bigints as strings). */
export function toPairState(row: { failures: string | number; blocked_until: string | number | null }): PairState {
  return { failures: Number(row.failures), blocked_until: row.blocked_until === null ? null : Number(row.blocked_until) };
}
