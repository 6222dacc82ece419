import type { Kysely } from 'kysely';
import { sql } from '../kysely.ts';

/**
 * Frozen in time (STYLE.md §11). PostgreSQL only: `Store.reserveWindows` as one server-side
 * function, so a start's identifier limits cost one round trip instead of six (BEGIN, one advisory
 * lock per key, one count per limit, the INSERT, COMMIT; issue 13 §1). The same algorithm as
 * windows-sql.ts: every key's advisory transaction lock first, in sorted order (byte order, as the
 * JavaScript sort of ASCII keys), so the counts cannot change until the function's transaction
 * commits; a VOLATILE function reads each statement with a fresh snapshot (READ COMMITTED), so the
 * counts see every reservation committed while this one waited for the lock. Returns one row: ok,
 * or the first full limit (0-based index), its count and the time room comes back.
 */
export async function up(db: Kysely<any>, dialect: 'sqlite' | 'postgres'): Promise<void> {
  if (dialect !== 'postgres') return;
  await sql`
    create or replace function sesame_reserve_windows(p_keys text[], p_maxes bigint[], p_windows bigint[], p_now bigint, p_ref text)
    returns table (ok boolean, idx integer, n bigint, reset_at bigint)
    language plpgsql volatile as $fn$
    declare
      k text;
      i integer;
      c bigint;
      oldest bigint;
    begin
      for k in select d.u from (select distinct u from unnest(p_keys) as u) as d order by d.u collate "C" loop
        perform pg_advisory_xact_lock(hashtextextended(k, 0));
      end loop;
      for i in 1 .. coalesce(array_length(p_keys, 1), 0) loop
        select count(*) into c from window_events w where w.key = p_keys[i] and w.at > p_now - p_windows[i];
        if c >= p_maxes[i] then
          -- Room comes back when the event that keeps the window full leaves it: the (c - max + 1)-th oldest.
          select w.at into oldest from window_events w where w.key = p_keys[i] and w.at > p_now - p_windows[i]
            order by w.at limit 1 offset (c - p_maxes[i]);
          return query select false, i - 1, c, coalesce(oldest, p_now) + p_windows[i];
          return;
        end if;
      end loop;
      insert into window_events (key, at, ref) select distinct u, p_now, p_ref from unnest(p_keys) as u;
      return query select true, -1, 0::bigint, 0::bigint;
    end
    $fn$
  `.execute(db);
}
