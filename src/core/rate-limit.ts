import type { Store } from '../store/types.ts';

export interface LimitState {
  limit: number;
  remaining: number;
  /** Unix seconds when the window resets (Auth0's X-RateLimit-Reset). */
  reset: number;
  exceeded: boolean;
  /** True only for the first refused call of a window, so one `api_limit` log is written, not thousands. */
  firstExceeded: boolean;
}

/**
 * Fixed window of `windowMs` per key (windows aligned on the epoch), counted atomically in the store
 * (spec §7: 50 per hour per IP on start by default; core/attack-protection.ts sets the budget).
 */
export async function hitWindow(store: Store, key: string, limit: number, windowMs: number, now: number): Promise<LimitState> {
  const windowStart = Math.floor(now / windowMs) * windowMs;
  const count = await store.hitRateLimit(key, windowStart, windowMs);
  return {
    limit,
    remaining: Math.max(0, limit - count),
    reset: Math.ceil((windowStart + windowMs) / 1000),
    exceeded: count > limit,
    firstExceeded: count === limit + 1,
  };
}
