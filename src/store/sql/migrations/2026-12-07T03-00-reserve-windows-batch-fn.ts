import type { Kysely } from 'kysely';
import { sql } from '../kysely.ts';

/**
 * Frozen in time (STYLE.md §11). PostgreSQL only: the identifier-limit reservations of many starts
 * in one call (issue 13 §1), so the starts of one event-loop turn share a round trip
 * (store/sql/turn-batch.ts). Each start ("caller") has its own limits; they are decided one after
 * another in call order, with the same algorithm as `sesame_reserve_windows`: every key of the
 * batch is locked first (advisory transaction locks, sorted byte-wise, the order every caller
 * uses), then per caller its counts are read and, if every limit has room, its events inserted, so
 * a later caller of the batch counts an earlier one's reservation. One row per caller: its 0-based
 * position, ok, or its first full limit (0-based within its own limits), the count and the reset.
 */
export async function up(db: Kysely<any>, dialect: 'sqlite' | 'postgres'): Promise<void> {
  if (dialect !== 'postgres') return;
  await sql`
    create or replace function sesame_reserve_windows_batch(p_caller integer[], p_keys text[], p_maxes bigint[], p_windows bigint[], p_nows bigint[], p_refs text[])
    returns table (caller integer, ok boolean, idx integer, n bigint, reset_at bigint)
    language plpgsql volatile as $fn$
    declare
      k text;
      v_first integer := 1;
      v_last integer;
      i integer;
      c bigint;
      oldest bigint;
      total integer := coalesce(array_length(p_keys, 1), 0);
      full_at integer;
    begin
      for k in select d.u from (select distinct u from unnest(p_keys) as u) as d order by d.u collate "C" loop
        perform pg_advisory_xact_lock(hashtextextended(k, 0));
      end loop;
      -- The limits of one caller are consecutive: [v_first, v_last].
      while v_first <= total loop
        v_last := v_first;
        while v_last < total and p_caller[v_last + 1] = p_caller[v_first] loop
          v_last := v_last + 1;
        end loop;
        full_at := null;
        for i in v_first .. v_last loop
          select count(*) into c from window_events w where w.key = p_keys[i] and w.at > p_nows[i] - p_windows[i];
          if c >= p_maxes[i] then
            -- Room comes back when the event that keeps the window full leaves it: the (c - max + 1)-th oldest.
            select w.at into oldest from window_events w where w.key = p_keys[i] and w.at > p_nows[i] - p_windows[i]
              order by w.at limit 1 offset (c - p_maxes[i]);
            full_at := i;
            return query select p_caller[v_first], false, i - v_first, c, coalesce(oldest, p_nows[i]) + p_windows[i];
            exit;
          end if;
        end loop;
        if full_at is null then
          insert into window_events (key, at, ref) select distinct u, p_nows[v_first], p_refs[v_first] from unnest(p_keys[v_first:v_last]) as u;
          return query select p_caller[v_first], true, -1, 0::bigint, 0::bigint;
        end if;
        v_first := v_last + 1;
      end loop;
    end
    $fn$
  `.execute(db);
}
