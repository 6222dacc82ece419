import { Suspense, lazy, useMemo } from 'react';
import { Link } from 'react-router';
import { type Activity as ActivityData, type ActivityCounts, sesame } from '../api/client';
import { Loading, Show, useLoad } from '../components/ui';
import { type Key, useI18n } from '../i18n';

// uPlot is only needed here: loaded with this page rather than with the dashboard's first screen.
const Chart = lazy(() => import('../components/chart').then((m) => ({ default: m.Chart })));

const METRICS: { key: keyof ActivityCounts; label: Key; color: string }[] = [
  { key: 'logins', label: 'activity.logins', color: '#1a7f37' },
  { key: 'failures', label: 'activity.failures', color: '#cf222e' },
  { key: 'codes_sent', label: 'activity.codes', color: '#0969da' },
  { key: 'links_sent', label: 'activity.links', color: '#8250df' },
  { key: 'depnotes', label: 'activity.depnotes', color: '#9a6700' },
];

export function Activity() {
  const { t } = useI18n();
  const day = useLoad(() => sesame.activity('24h'), []);
  const week = useLoad(() => sesame.activity('7d'), []);
  const migration = useLoad(() => sesame.migration(30), []);
  return (
    <section>
      <h1>{t('nav.activity')}</h1>
      <h2>{t('activity.today')}</h2>
      <Show state={day}>
        {(d) => (
          <ul className="tiles">
            {METRICS.map((m) => (
              <li key={m.key} className="tile">
                <span className="num">{d.today[m.key]}</span>
                <span>{t(m.label)}</span>
              </li>
            ))}
            <li className="tile">
              <Show state={migration}>
                {(r) => (
                  <Link to="/migration">
                    <span className="num">{r.ready ? '✓' : (r.callers_left ?? r.applications.length)}</span>
                    <span>{r.ready ? t('migration.ready') : t('activity.callersLeft')}</span>
                  </Link>
                )}
              </Show>
            </li>
          </ul>
        )}
      </Show>
      <h2>{t('activity.last24h')}</h2>
      <Show state={day}>{(d) => <Figures data={d} />}</Show>
      <h2>{t('activity.last7d')}</h2>
      <Show state={week}>{(d) => <Figures data={d} />}</Show>
    </section>
  );
}

function Figures({ data }: { data: ActivityData }) {
  const { t, lang } = useI18n();
  const times = useMemo(() => data.series.map((p) => Date.parse(p.t) / 1000), [data]);
  const series = useMemo(() => METRICS.map((m) => ({ label: t(m.label), color: m.color, values: data.series.map((p) => p[m.key]) })), [data, t]);
  const fmt = (iso: string) =>
    new Date(iso).toLocaleString(lang, data.bucket === 'hour' ? { hour: '2-digit', minute: '2-digit' } : { month: 'short', day: 'numeric' });
  return (
    <>
      <Suspense fallback={<Loading />}>
        <Chart times={times} series={series} title={t('activity.chart')} />
      </Suspense>
      <details>
        <summary>{t('activity.table')}</summary>
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">{data.bucket === 'hour' ? t('activity.hour') : t('activity.day')}</th>
                {METRICS.map((m) => (
                  <th key={m.key} scope="col">
                    {t(m.label)}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {data.series.map((p) => (
                <tr key={p.t}>
                  <td>{fmt(p.t)}</td>
                  {METRICS.map((m) => (
                    <td key={m.key}>{p[m.key]}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </>
  );
}
