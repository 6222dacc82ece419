import { Link } from 'react-router';
import { mgmt, ok } from '../api/client';
import { Empty, Show, useLoad } from '../components/ui';
import { useI18n } from '../i18n';

export function Connections() {
  const { t } = useI18n();
  const list = useLoad(() => ok(mgmt.GET('/api/v2/connections', { params: { query: { per_page: 100 } } })), []);
  return (
    <section>
      <h1>{t('nav.connections')}</h1>
      <Show state={list}>
        {(cs) => {
          const conns = (Array.isArray(cs) ? cs : []).filter((c) => c.strategy === 'email' || c.strategy === 'sms');
          if (conns.length === 0) return <Empty>{t('conns.empty')}</Empty>;
          return (
            <ul className="cards">
              {conns.map((c) => (
                <li key={c.id} className="card">
                  <h2>
                    <Link to={`/connections/${encodeURIComponent(c.id ?? '')}`}>{c.name}</Link>
                  </h2>
                  <p className="muted">
                    {c.strategy} · {t('conns.apps', { n: c.enabled_clients?.length ?? 0 })}
                  </p>
                </li>
              ))}
            </ul>
          );
        }}
      </Show>
    </section>
  );
}
