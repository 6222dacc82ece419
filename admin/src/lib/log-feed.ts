// The Logs page's data, paged by log_id (a checkpoint) rather than by page number: Auth0 stops page
// numbers at the first 1,000 results of a search (LOGAPI), a log_id bound does not.
import { useEffect, useRef, useState } from 'react';
import { type Log, mgmt, ok } from '../api/client';

/** Auth0's largest per_page. */
export const PER_PAGE = 100;
const TAIL_MS = 3000;
const TAKE = 100;

/** The query AND a log_id bound (`log_id:<X`, `log_id:[a TO b]`); log_ids are fixed-width decimal strings. */
export const bounded = (query: string, bound: string) => (query ? `(${query}) AND ${bound}` : bound);

/** One page of matching logs, newest first; `before` is the oldest log_id already shown. */
async function searchPage(query: string, before?: string, perPage = PER_PAGE): Promise<Log[]> {
  const q = before ? bounded(query, `log_id:<${before}`) : query;
  return ok(mgmt.GET('/api/v2/logs', { params: { query: { ...(q ? { q } : {}), per_page: perPage, sort: 'log_id:-1' } } })) as Promise<Log[]>;
}

/**
 * Auth0's checkpoint read (`from`/`take`, ascending log_id): the logs newer than `from`, and the
 * `from` of the next read taken from the `Link: <…>; rel="next"` header, as Auth0 asks callers to.
 */
export async function checkpoint(from: string | undefined): Promise<{ logs: Log[]; next: string | undefined }> {
  const r = await mgmt.GET('/api/v2/logs', { params: { query: { ...(from ? { from } : {}), take: TAKE } } });
  const logs = (await ok(Promise.resolve(r))) as Log[];
  const link = /<([^>]+)>;\s*rel="next"/.exec(r.response.headers.get('link') ?? '')?.[1];
  const next = link ? (new URL(link).searchParams.get('from') ?? undefined) : logs.at(-1)?.log_id;
  return { logs, next: next ?? from };
}

export interface LogFeed {
  logs: Log[];
  error: unknown;
  loading: boolean;
  /** No older log matches. */
  end: boolean;
  more(): void;
}

/**
 * The newest PER_PAGE logs matching `query`; `more()` appends the next PER_PAGE older ones (a
 * `log_id:<oldest` bound). With `tail`, new logs are read by checkpoint from the newest log_id of
 * the whole tenant and those matching the query are put on top.
 */
export function useLogFeed(query: string, tail: boolean): LogFeed {
  const [state, setState] = useState<Omit<LogFeed, 'more'>>({ logs: [], error: undefined, loading: true, end: false });
  const generation = useRef(0);
  /** The tenant's newest log_id when the table was loaded: the tail starts there, so nothing in between is missed. */
  const loadedAt = useRef<Promise<string>>(Promise.resolve('0'));

  useEffect(() => {
    const gen = ++generation.current;
    setState({ logs: [], error: undefined, loading: true, end: false });
    const first = searchPage(query);
    const newest = query ? searchPage('', undefined, 1) : first;
    loadedAt.current = newest.then((l) => l[0]?.log_id ?? '0', () => '0');
    first.then(
      (logs) => gen === generation.current && setState({ logs, error: undefined, loading: false, end: logs.length < PER_PAGE }),
      (error: unknown) => gen === generation.current && setState({ logs: [], error, loading: false, end: true }),
    );
  }, [query]);

  useEffect(() => {
    if (!tail) return;
    let live = true;
    let cursor: string | undefined;
    let busy = false;
    const tick = async () => {
      if (busy) return;
      busy = true;
      try {
        // Start after the newest log of the tenant when the table was loaded, whatever the query.
        cursor ??= await loadedAt.current;
        const { logs, next } = await checkpoint(cursor);
        if (!live || logs.length === 0) return;
        const first = logs[0]!.log_id;
        cursor = next;
        const fresh = query ? await searchPage(bounded(query, `log_id:[${first} TO ${logs.at(-1)!.log_id}]`), undefined, TAKE) : [...logs].reverse();
        if (live && fresh.length) setState((s) => ({ ...s, logs: [...fresh.filter((l) => !s.logs.some((o) => o.log_id === l.log_id)), ...s.logs] }));
      } catch {
        // A failed poll is retried at the next tick; the table keeps what it has.
      } finally {
        busy = false;
      }
    };
    void tick();
    const id = setInterval(() => void tick(), TAIL_MS);
    return () => {
      live = false;
      clearInterval(id);
    };
  }, [tail, query]);

  const more = () => {
    const gen = generation.current;
    const oldest = state.logs.at(-1)?.log_id;
    setState((s) => ({ ...s, loading: true }));
    searchPage(query, oldest).then(
      (older) => gen === generation.current && setState((s) => ({ ...s, logs: [...s.logs, ...older], loading: false, end: older.length < PER_PAGE })),
      (error: unknown) => gen === generation.current && setState((s) => ({ ...s, error, loading: false })),
    );
  };
  return { ...state, more };
}
