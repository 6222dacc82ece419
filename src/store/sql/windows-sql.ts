import type { Kysely } from 'kysely';
import { sql } from './kysely.ts';
import type { WindowLimit, WindowReservation } from '../types.ts';
import type { Executor, Op } from './executor.ts';
import type { Database } from './schema.ts';
import { p, template } from './template.ts';
import { TurnBatch } from './turn-batch.ts';

/**
 * SQLite: `Store.reserveWindows` as one transactional op (sliding-window log: exact, no boundary
 * burst). The op runs inside the executor's BEGIN IMMEDIATE, which already excludes every other
 * writer. PostgreSQL runs the same algorithm server-side (reserveWindowsBatch).
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

export interface WindowRequest {
  limits: WindowLimit[];
  now: number;
  ref: string;
}

/**
 * PostgreSQL: the reservations of one event-loop turn in one call of the function of migration
 * 2026-12-07T03-00-reserve-windows-batch-fn, decided in call order (turn-batch.ts). A request
 * without limits never reaches it (the caller answers ok).
 */
export function reserveWindowsBatch(db: Kysely<Database>, x: Executor): TurnBatch<WindowRequest, WindowReservation> {
  const call = template<'callers' | 'keys' | 'maxes' | 'windows' | 'nows' | 'refs'>(
    sql`select caller, ok, idx, n, reset_at from sesame_reserve_windows_batch(${p('callers')}::int[], ${p('keys')}::text[], ${p('maxes')}::bigint[], ${p('windows')}::bigint[], ${p('nows')}::bigint[], ${p('refs')}::text[])`.compile(db),
  );
  return new TurnBatch(async (requests) => {
    const flat = requests.flatMap((r, caller) => r.limits.map((l) => ({ caller, l, now: r.now, ref: r.ref })));
    const { rows } = await x.one(call({
      callers: flat.map((f) => f.caller), keys: flat.map((f) => f.l.key), maxes: flat.map((f) => f.l.max),
      windows: flat.map((f) => f.l.windowMs), nows: flat.map((f) => f.now), refs: flat.map((f) => f.ref),
    }));
    const out: WindowReservation[] = new Array(requests.length);
    for (const row of rows as { caller: number; ok: boolean; idx: number; n: string | number; reset_at: string | number }[]) {
      const r = requests[row.caller]!;
      out[row.caller] = row.ok ? { ok: true } : { ok: false, limit: r.limits[row.idx]!, count: Number(row.n), resetAt: Number(row.reset_at) };
    }
    return out;
  });
}
