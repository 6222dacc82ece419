import { ApiFailure, type ManagementApi } from './api.ts';
import type { Window } from './window.ts';

/** The feature id the passwordless depnote carries (spec §2.3); `/oauth/ro` notices name another. */
export const FEATURE_ID = 'enforce_client_authentication_on_passwordless_start';
/** Auth0's maximum `take` for checkpoint paging. */
const TAKE = 100;

/** The log fields the report reads (Auth0's log event schema, LOGSCHEMA). */
export interface Notice {
  log_id: string;
  date: string;
  type: string;
  client_id?: string;
  client_name?: string;
  ip?: string;
  user_agent?: string;
  auth0_client?: { name?: string; version?: string };
  details?: { feature?: { id?: string } };
}

/** A deprecation notice of passwordless client authentication (not, say, one about `/oauth/ro`). */
export const isPasswordlessNotice = (log: Pick<Notice, 'type' | 'details'>) => log.type === 'depnote' && log.details?.feature?.id === FEATURE_ID;

/**
 * How far before `since` the first checkpoint is taken. Auth0 orders checkpoint pages by log_id,
 * not by date, "to prevent skipping past records due to Auth0 system delays" (LOGAPI): a log dated
 * just inside the window may carry an id a little below the first one found by date. Logs read
 * in this margin are only filtered out by date.
 */
export const SKEW_MS = 5 * 60_000;

/**
 * Every passwordless depnote in the window, in two steps:
 * 1. one search-mode request finds the first log dated at or after `since − SKEW_MS`
 *    (`q=date:[… TO *]`, `sort=date:1`, `per_page=1`). Checkpoint paging cannot be used for that:
 *    without `from`, Auth0 does not promise to start at the oldest log (it may answer the most
 *    recent ones), and starting at the oldest would read the whole retention period first;
 * 2. checkpoint paging (`from`/`take`) from that log on: on Auth0 it ignores `q` and is not capped
 *    at the first 1,000 results like search paging (spec §5), so the filtering happens here.
 *    `from` is exclusive ("logs newer than a given log_id", LOGAPI; Sesame's logsAfter is too), so
 *    the first log itself is taken from the search answer. The next `from` is taken from the
 *    `Link: rel="next"` header, as Auth0 asks, else the last log_id of the page.
 * Reading stops at the first log dated after `until + SKEW_MS`, an empty page or a short page.
 * `progress` gets the fraction of the window read.
 */
export async function readNotices(api: ManagementApi, window: Window, progress: (fraction: number, read: number) => void = () => {}): Promise<Notice[]> {
  const out: Notice[] = [];
  let read = 0;
  /** Takes one log; false once the logs are past the window. */
  const take = (log: Notice): boolean => {
    read++;
    const t = Date.parse(log.date);
    if (t > window.until + SKEW_MS) return false;
    if (t >= window.since && t <= window.until && isPasswordlessNotice(log)) out.push(log);
    return true;
  };
  const done = () => {
    progress(1, read);
    return out;
  };

  const start = new Date(Math.max(0, window.since - SKEW_MS)).toISOString();
  const first = await api.get<Notice[]>('logs', { q: `date:[${start} TO *]`, sort: 'date:1', per_page: '1', page: '0' });
  if (!Array.isArray(first)) throw new ApiFailure('GET /api/v2/logs did not answer a list: is this an Auth0-compatible Management API?');
  const anchor = first[0];
  if (!anchor || !take(anchor)) return done();

  let from = anchor.log_id;
  for (;;) {
    const { body: page, next } = await api.getPage<Notice[]>('logs', { from, take: String(TAKE) });
    if (!Array.isArray(page)) throw new ApiFailure('GET /api/v2/logs did not answer a list: is this an Auth0-compatible Management API?');
    for (const log of page) if (!take(log)) return done();
    const last = page.at(-1);
    if (!last || page.length < TAKE) return done();
    progress(Math.max(0, Math.min(1, (Date.parse(last.date) - window.since) / Math.max(1, window.until - window.since))), read);
    const following = next?.searchParams.get('from') ?? last.log_id;
    // A server that repeats the same checkpoint would loop forever.
    if (following === from) return done();
    from = following;
  }
}
