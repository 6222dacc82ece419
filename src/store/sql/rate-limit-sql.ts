import type { Kysely } from 'kysely';
import type { Executor } from './executor.ts';
import { sql } from './kysely.ts';
import type { Database } from './schema.ts';
import { p, template } from './template.ts';
import { TurnBatch } from './turn-batch.ts';

export interface RateLimitHit {
  key: string;
  windowStart: number;
  windowMs: number;
}

/**
 * PostgreSQL: the rate-limit hits of one event-loop turn in one upsert (turn-batch.ts). Hits on the
 * same key are counted together (an upsert may touch a row once): the row gains their number, and
 * each caller's count is what it would have been had the hits run one after another, in call order.
 * Hits of one key straddling a window boundary count in the newer window, never fewer than asked.
 */
export function rateLimitBatch(db: Kysely<Database>, x: Executor): TurnBatch<RateLimitHit, number> {
  const query = template<'keys' | 'starts' | 'expires'>(
    sql`with hits as (
      select key, max(start) as start, max(expires) as expires, count(*)::int as n
      from unnest(${p('keys')}::text[], ${p('starts')}::bigint[], ${p('expires')}::bigint[]) as t(key, start, expires)
      group by key
    )
    insert into rate_limits as r (key, window_start, count, expires_at)
    select key, start, n, expires from hits
    on conflict (key) do update set
      count = case when r.window_start = excluded.window_start then r.count + excluded.count else excluded.count end,
      window_start = excluded.window_start,
      expires_at = excluded.expires_at
    returning r.key, r.count`.compile(db),
  );
  return new TurnBatch(async (hits) => {
    const { rows } = await x.one(query({ keys: hits.map((h) => h.key), starts: hits.map((h) => h.windowStart), expires: hits.map((h) => h.windowStart + h.windowMs) }));
    const total = new Map((rows as { key: string; count: number | string }[]).map((r) => [r.key, Number(r.count)]));
    const sameKey = new Map<string, number>();
    for (const h of hits) sameKey.set(h.key, (sameKey.get(h.key) ?? 0) + 1);
    // The n hits on a key took counts total-n+1 … total, in call order.
    const seen = new Map<string, number>();
    return hits.map((h) => {
      const i = (seen.get(h.key) ?? 0) + 1;
      seen.set(h.key, i);
      return total.get(h.key)! - sameKey.get(h.key)! + i;
    });
  });
}
