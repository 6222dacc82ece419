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

/**
 * Every passwordless depnote in the window, read with checkpoint paging (`from`/`take`): on Auth0 it
 * ignores `q` and is not capped at the first 1,000 results like search paging (spec §5), so the
 * filtering happens here. Pages come in ascending log_id (time) order; reading stops at the first
 * log after `until`, an empty page or a short page. `progress` gets the fraction of the window read.
 */
export async function readNotices(api: ManagementApi, window: Window, progress: (fraction: number, read: number) => void = () => {}): Promise<Notice[]> {
  const out: Notice[] = [];
  let from: string | undefined;
  let read = 0;
  for (;;) {
    const page = await api.get<Notice[]>('logs', { ...(from !== undefined ? { from } : {}), take: String(TAKE) });
    if (!Array.isArray(page)) throw new ApiFailure('GET /api/v2/logs did not answer a list: is this an Auth0-compatible Management API?');
    for (const log of page) {
      read++;
      const t = Date.parse(log.date);
      if (t > window.until) {
        progress(1, read);
        return out;
      }
      if (t >= window.since && log.type === 'depnote' && log.details?.feature?.id === FEATURE_ID) out.push(log);
    }
    const last = page.at(-1);
    if (last) progress(Math.max(0, Math.min(1, (Date.parse(last.date) - window.since) / Math.max(1, window.until - window.since))), read);
    if (!last || page.length < TAKE || last.log_id === from) break;
    from = last.log_id;
  }
  progress(1, read);
  return out;
}
