import { type FormEvent, useEffect, useRef, useState } from 'react';
import { useSearchParams } from 'react-router';
import { mgmt, ok } from '../api/client';
import { ErrorText, Loading, Empty, Toggle, fmtDate, useLoad } from '../components/ui';
import { useI18n } from '../i18n';
import { useLogFeed } from '../lib/log-feed';
import { logsQuery } from '../lib/queries';

/** Auth0's log type codes (spec §5) that Sesame writes, most useful first. */
export const LOG_TYPES = ['depnote', 'cs', 'cls', 's', 'f', 'fepotpft', 'limit_wc', 'limit_phone', 'ss', 'fu', 'fn', 'slo', 'seccft', 'api_limit'];
const EXAMPLES = ['type:depnote AND description:*passwordless*', 'type:f OR type:fepotpft', 'type:s AND date:[now-1d TO *]'];

export function Logs() {
  const { t, lang } = useI18n();
  const [params, setParams] = useSearchParams();
  const q = params.get('q') ?? '';
  const types = (params.get('types') ?? '').split(',').filter(Boolean);
  const from = params.get('from') ?? '';
  const to = params.get('to') ?? '';
  const selected = params.get('log');
  const [draft, setDraft] = useState(q);
  const [tail, setTail] = useState(false);
  useEffect(() => setDraft(q), [q]);

  const query = logsQuery(q, types, from, to);
  const list = useLogFeed(query, tail);

  const set = (patch: Record<string, string | null>) => {
    const next = new URLSearchParams(params);
    for (const [k, v] of Object.entries(patch)) {
      if (v === null || v === '') next.delete(k);
      else next.set(k, v);
    }
    setParams(next);
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    set({ q: draft, log: null });
  };
  const toggleType = (ty: string) => {
    const next = types.includes(ty) ? types.filter((x) => x !== ty) : [...types, ty];
    set({ types: next.join(',') });
  };

  const logs = list.logs;
  return (
    <section>
      <h1>{t('nav.logs')}</h1>
      <form className="query" onSubmit={submit} role="search">
        <label htmlFor="logs-q">{t('logs.query')}</label>
        <div className="row">
          <input
            id="logs-q"
            data-testid="logs-query"
            type="search"
            value={draft}
            onChange={(e) => setDraft(e.target.value)}
            placeholder="type:depnote AND description:*passwordless*"
            spellCheck={false}
            autoComplete="off"
          />
          <button type="submit" className="primary">
            {t('logs.search')}
          </button>
        </div>
        <p className="examples">
          {t('logs.examples')}{' '}
          {EXAMPLES.map((ex) => (
            <button key={ex} type="button" className="link" onClick={() => set({ q: ex, log: null })}>
              <code>{ex}</code>
            </button>
          ))}
        </p>
        <fieldset className="chips">
          <legend>{t('logs.types')}</legend>
          {LOG_TYPES.map((ty) => (
            <button key={ty} type="button" className="chip" aria-pressed={types.includes(ty)} onClick={() => toggleType(ty)}>
              {ty}
            </button>
          ))}
        </fieldset>
        <div className="row dates">
          <label>
            {t('logs.from')} <input type="date" value={from} onChange={(e) => set({ from: e.target.value })} />
          </label>
          <label>
            {t('logs.to')} <input type="date" value={to} onChange={(e) => set({ to: e.target.value })} />
          </label>
          <Toggle id="tail" label={t('logs.tail')} checked={tail} onChange={setTail} />
        </div>
      </form>
      <ErrorText error={list.error} />
      {list.loading && logs.length === 0 && <Loading />}
      {!list.loading && !list.error && logs.length === 0 && <Empty>{t('logs.empty')}</Empty>}
      {logs.length > 0 && (
        <div className="table-wrap">
          <table>
            <caption className="sr-only">{t('nav.logs')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('logs.date')}</th>
                <th scope="col">{t('logs.type')}</th>
                <th scope="col">{t('logs.description')}</th>
                <th scope="col">{t('logs.application')}</th>
                <th scope="col">{t('logs.connection')}</th>
                <th scope="col">{t('logs.user')}</th>
                <th scope="col">IP</th>
              </tr>
            </thead>
            <tbody>
              {logs.map((l) => (
                <tr key={l.log_id} data-testid="log-row" className={l.log_id === selected ? 'selected' : undefined}>
                  <td>
                    <button type="button" className="link" onClick={() => set({ log: l.log_id ?? null })}>
                      {fmtDate(l.date, lang)}
                    </button>
                  </td>
                  <td>
                    <code>{l.type}</code>
                  </td>
                  <td>{l.description}</td>
                  <td>{l.client_name ?? l.client_id}</td>
                  <td>{l.connection}</td>
                  <td>{l.user_name ?? l.user_id}</td>
                  <td>{l.ip}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {logs.length > 0 && (
        <div className="row pager">
          <span className="muted" role="status">
            {t('logs.shown', { n: logs.length })}
            {list.end && ` · ${t('logs.end')}`}
          </span>
          {!list.end && (
            <button type="button" onClick={list.more} disabled={list.loading} data-testid="logs-more">
              {t('logs.loadMore')}
            </button>
          )}
        </div>
      )}
      {selected && <LogDetail id={selected} onClose={() => set({ log: null })} />}
    </section>
  );
}

function LogDetail({ id, onClose }: { id: string; onClose(): void }) {
  const { t } = useI18n();
  const log = useLoad(() => ok(mgmt.GET('/api/v2/logs/{id}', { params: { path: { id } } })), [id]);
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), [id]);
  return (
    <aside className="detail" data-testid="log-detail" aria-labelledby="log-detail-title">
      <div className="row">
        <h2 id="log-detail-title" ref={heading} tabIndex={-1}>
          {t('logs.detail')} <code>{id}</code>
        </h2>
        <button type="button" onClick={onClose}>
          {t('close')}
        </button>
      </div>
      <ErrorText error={log.error} />
      {log.data ? <pre tabIndex={0}>{JSON.stringify(log.data, null, 2)}</pre> : !log.error && <Loading />}
    </aside>
  );
}
