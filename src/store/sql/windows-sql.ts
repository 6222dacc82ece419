import type { CompiledQuery, Kysely } from 'kysely';
import { sql } from './kysely.ts';
import type { WindowLimit, WindowReservation } from '../types.ts';
import type { Op } from './executor.ts';
import type { Database } from './schema.ts';
import { p, template } from './template.ts';

/**
 * PostgreSQL: the same reservation in one round trip, through the function of migration
 * 2026-12-07T02-00-reserve-windows-fn (one statement, so its own transaction and lock scope).
 */
export function reserveWindowsCall(db: Kysely<Database>) {
  const call = template<'keys' | 'maxes' | 'windows' | 'now' | 'ref'>(
    sql`select ok, idx, n, reset_at from sesame_reserve_windows(${p('keys')}::text[], ${p('maxes')}::bigint[], ${p('windows')}::bigint[], ${p('now')}::bigint, ${p('ref')})`.compile(db),
  );
  return (limits: WindowLimit[], now: number, ref: string) => {
    const q = call({ keys: limits.map((l) => l.key), maxes: limits.map((l) => l.max), windows: limits.map((l) => l.windowMs), now, ref });
    return function* (): Generator<CompiledQuery, WindowReservation, { rows: Record<string, any>[] }> {
      const row = (yield q).rows[0]!;
      if (row.ok) return { ok: true };
      const limit = limits[Number(row.idx)]!;
      return { ok: false, limit, count: Number(row.n), resetAt: Number(row.reset_at) };
    };
  };
}

/**
 * SQLite: `Store.reserveWindows` as one transactional op (sliding-window log: exact, no boundary
 * burst). The op runs inside the executor's BEGIN IMMEDIATE, which already excludes every other
 * writer. PostgreSQL runs the same algorithm server-side (reserveWindowsCall).
 */
export function reserveWindowsOp(db: Kysely<Database>, limits: WindowLimit[], now: number, ref: string): Op<WindowReservation> {
  const counts = limits.map((l) =>
    db.selectFrom('window_events').select((eb) => eb.fn.countAll<number>().as('n')).where('key', '=', l.key).where('at', '>', now - l.windowMs).compile(),
  );
  const insert = limits.length
    // One event per key: limits may share a key (an hourly and a daily cap on the same starts).
    ? db.insertInto('window_events').values([...new Set(limits.map((l) => l.key))].map((key) => ({ key, at: now, ref }))).compile()
    : undefined;
  return function* () {
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
