import { type Kysely, sql } from 'kysely';
import type { WindowLimit, WindowReservation } from '../types.ts';
import type { Op } from './executor.ts';
import type { Database } from './schema.ts';

/**
 * `Store.reserveWindows` as one transactional op (sliding-window log: exact, no boundary burst).
 * PostgreSQL: every key's advisory transaction lock is taken first, in sorted order (no deadlock
 * between two reservations sharing keys), so the counts below cannot change until COMMIT. SQLite:
 * the op runs inside the executor's BEGIN IMMEDIATE, which already excludes every other writer.
 */
export function reserveWindowsOp(db: Kysely<Database>, dialect: 'sqlite' | 'postgres', limits: WindowLimit[], now: number, ref: string): Op<WindowReservation> {
  const locks = dialect === 'postgres'
    ? [...new Set(limits.map((l) => l.key))].sort().map((key) => sql`select pg_advisory_xact_lock(hashtextextended(${key}, 0))`.compile(db))
    : [];
  const counts = limits.map((l) =>
    db.selectFrom('window_events').select((eb) => eb.fn.countAll<number>().as('n')).where('key', '=', l.key).where('at', '>', now - l.windowMs).compile(),
  );
  const insert = limits.length
    // One event per key: limits may share a key (an hourly and a daily cap on the same starts).
    ? db.insertInto('window_events').values([...new Set(limits.map((l) => l.key))].map((key) => ({ key, at: now, ref }))).compile()
    : undefined;
  return function* () {
    for (const lock of locks) yield lock;
    for (const [i, limit] of limits.entries()) {
      const count = Number((yield counts[i]!).rows[0]!.n);
      if (count < limit.max) continue;
      // Room comes back when the event that keeps the window full leaves it: with `count` events in
      // the window and room for `max`, that is the (count - max + 1)-th oldest.
      const oldest = yield db
        .selectFrom('window_events').select('at').where('key', '=', limit.key).where('at', '>', now - limit.windowMs)
        .orderBy('at').limit(1).offset(count - limit.max).compile();
      const at = Number(oldest.rows[0]?.at ?? now);
      return { ok: false, limit, count, resetAt: at + limit.windowMs };
    }
    if (insert) yield insert;
    return { ok: true };
  };
}
