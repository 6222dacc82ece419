import type { Kysely } from 'kysely';
import { sql } from '../kysely.ts';

/**
 * Frozen in time (STYLE.md §11). PostgreSQL only: `sesame_reserve_windows_batch` (migration
 * 2026-12-07T03-00) decides a batch in a handful of statements when no key is shared by two
 * callers, which is nearly every batch of starts (one identifier each). Deciding caller by caller
 * ran four or five statements per caller inside the function, and that per-statement overhead was
 * its largest cost: 0.10 ms of PostgreSQL time per start, a third of the start's database work
 * (pg_stat_statements under bench --db postgres, issue 13 §1).
 *
 * Same signature, same rows, same decisions: with disjoint keys no caller's events enter another's
 * windows, so counting every limit once, after the locks, gives each caller the counts it would
 * have seen in its turn. A batch where two callers share a key still goes one caller at a time,
 * exactly as before. `create or replace` takes no table lock, so instances still running the
 * previous version keep calling it during an upgrade.
 */
export async function up(db: Kysely<any>, dialect: 'sqlite' | 'postgres'): Promise<void> {
  if (dialect !== 'postgres') return;
  await sql`
    create or replace function sesame_reserve_windows_batch(p_caller integer[], p_keys text[], p_maxes bigint[], p_windows bigint[], p_nows bigint[], p_refs text[])
    returns table (caller integer, ok boolean, idx integer, n bigint, reset_at bigint)
    language plpgsql volatile as $fn$
    declare
      v_first integer := 1;
      v_last integer;
      i integer;
      c bigint;
      oldest bigint;
      total integer := coalesce(array_length(p_keys, 1), 0);
      full_at integer;
    begin
      -- Every key's lock, in byte order (every caller's order, so two batches cannot deadlock), in one
      -- statement: a volatile function in the select list runs after the ORDER BY (PostgreSQL >= 9.6).
      perform pg_advisory_xact_lock(hashtextextended(d.u, 0)) from (select distinct u from unnest(p_keys) as u) as d order by d.u collate "C";
      if not exists (select 1 from unnest(p_keys, p_caller) as s(key, who) group by s.key having count(distinct s.who) > 1) then
        return query
          with lim as (
            select l.i::integer as i, l.who, l.key, l.mx, l.win, l.at, l.ref
            from unnest(p_caller, p_keys, p_maxes, p_windows, p_nows, p_refs) with ordinality as l(who, key, mx, win, at, ref, i)
          ), firsts as (
            select distinct on (lim.who) lim.who, lim.i as first_i, lim.at, lim.ref from lim order by lim.who, lim.i
          ), counted as (
            select lim.*, (select count(*) from window_events w where w.key = lim.key and w.at > lim.at - lim.win) as c from lim
          ), full_ as (
            -- Each refused caller's first limit without room, in the order it gave them.
            select distinct on (counted.who) counted.* from counted where counted.c >= counted.mx order by counted.who, counted.i
          ), ins as (
            insert into window_events (key, at, ref)
            select distinct lim.key, f.at, f.ref from lim join firsts f on f.who = lim.who
            where not exists (select 1 from full_ where full_.who = lim.who)
          )
          select f.who, false, f.i - s.first_i, f.c,
            -- Room comes back when the event that keeps the window full leaves it: the (c - max + 1)-th oldest.
            coalesce((select w.at from window_events w where w.key = f.key and w.at > f.at - f.win order by w.at limit 1 offset (f.c - f.mx)), f.at) + f.win
          from full_ f join firsts s on s.who = f.who
          union all
          select s.who, true, -1, 0::bigint, 0::bigint from firsts s where not exists (select 1 from full_ where full_.who = s.who);
        return;
      end if;
      -- Two callers share a key: one at a time, in call order. The limits of one caller are consecutive: [v_first, v_last].
      while v_first <= total loop
        v_last := v_first;
        while v_last < total and p_caller[v_last + 1] = p_caller[v_first] loop
          v_last := v_last + 1;
        end loop;
        full_at := null;
        for i in v_first .. v_last loop
          select count(*) into c from window_events w where w.key = p_keys[i] and w.at > p_nows[i] - p_windows[i];
          if c >= p_maxes[i] then
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
