import type { Store } from '../store/types.ts';

const HOUR = 3_600_000;

export interface LimitState {
  limit: number;
  remaining: number;
  /** Unix seconds when the window resets (Auth0's X-RateLimit-Reset). */
  reset: number;
  exceeded: boolean;
  /** True only for the first refused call of a window, so one `api_limit` log is written, not thousands. */
  firstExceeded: boolean;
}

/** Fixed one-hour window per key, counted atomically in the store (spec §7: 50/h per IP on start). */
export async function hitHourly(store: Store, key: string, limit: number, now: number): Promise<LimitState> {
  const windowStart = Math.floor(now / HOUR) * HOUR;
  const count = await store.hitRateLimit(key, windowStart, HOUR);
  return {
    limit,
    remaining: Math.max(0, limit - count),
    reset: Math.ceil((windowStart + HOUR) / 1000),
    exceeded: count > limit,
    firstExceeded: count === limit + 1,
  };
}
