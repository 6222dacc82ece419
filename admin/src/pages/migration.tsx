import { useSearchParams } from 'react-router';
import { sesame } from '../api/client';
import { EnforceSwitch } from '../components/enforce-switch';
import { Empty, Show, fmtDate, useLoad } from '../components/ui';
import { useI18n } from '../i18n';

const WINDOWS = [1, 7, 30, 90];

/** Auth0's "Verifying your migration", from the same data as `sesame migration-report`. */
export function Migration() {
  const { t, lang } = useI18n();
  const [params, setParams] = useSearchParams();
  const days = Number(params.get('days') ?? '30') || 30;
  const report = useLoad(() => sesame.migration(days), [days]);
  return (
    <section>
      <h1>{t('nav.migration')}</h1>
      <p className="muted">{t('migration.intro')}</p>
      <label className="inline">
        {t('migration.window')}{' '}
        <select value={days} onChange={(e) => setParams({ days: e.target.value })}>
          {WINDOWS.map((d) => (
            <option key={d} value={d}>
              {t('migration.days', { n: d })}
            </option>
          ))}
        </select>
      </label>
      <Show state={report}>
        {(r) => (
          <>
            <p data-testid="migration-status" className={r.ready ? 'status ready' : 'status waiting'} role="status">
              {r.ready ? t('migration.ready') : t('migration.left', { n: r.callers_left ?? r.applications.length, total: r.total })}
            </p>
            <h2>{t('enforce.label')}</h2>
            <EnforceSwitch callers={r.applications} onChange={report.reload} />
            <h2>{t('migration.callers')}</h2>
            {r.applications.length === 0 && <Empty>{t('migration.none', { n: days })}</Empty>}
            {r.applications.map((c) => (
              <article key={`${c.client_id}-${c.classification}`} className="card caller" data-testid="migration-caller" data-kind={c.classification}>
                <h3>
                  {c.client_name || c.client_id} <span className="badge">{t(`kind.${c.classification}`)}</span>
                </h3>
                <dl>
                  <dt>client_id</dt>
                  <dd>
                    <code>{c.client_id}</code> {c.app_type && <span className="muted">({c.app_type})</span>}
                  </dd>
                  <dt>{t('migration.count')}</dt>
                  <dd>{c.count}</dd>
                  <dt>{t('migration.seen')}</dt>
                  <dd>
                    {fmtDate(c.first_seen, lang)} → {fmtDate(c.last_seen, lang)}
                  </dd>
                  <dt>SDK</dt>
                  <dd>{c.sdks.length ? c.sdks.map((s) => `${s.name}${s.version ? ` ${s.version}` : ''}`).join(', ') : '—'}</dd>
                  <dt>User-Agent</dt>
                  <dd>{c.user_agents.join(' · ') || '—'}</dd>
                  <dt>IP</dt>
                  <dd>{c.ips.join(', ') || '—'}</dd>
                </dl>
                <p className="fix">
                  <strong>{t('migration.fix')}</strong> <span data-testid="migration-fix">{c.fix}</span>
                </p>
              </article>
            ))}
          </>
        )}
      </Show>
    </section>
  );
}
