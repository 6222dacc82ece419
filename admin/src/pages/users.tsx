import { type FormEvent, useEffect, useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { type User, mgmt, ok } from '../api/client';
import { Empty, Show, fmtDate, useLoad } from '../components/ui';
import { useI18n } from '../i18n';
import { usersQuery } from '../lib/queries';

export function Users() {
  const { t, lang } = useI18n();
  const [params, setParams] = useSearchParams();
  const search = params.get('search') ?? '';
  const [draft, setDraft] = useState(search);
  useEffect(() => setDraft(search), [search]);
  const q = usersQuery(search);
  const list = useLoad(() => ok(mgmt.GET('/api/v2/users', { params: { query: { per_page: 50, ...(q ? { q } : {}) } } })), [q]);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setParams(draft.trim() ? { search: draft.trim() } : {});
  };
  return (
    <section>
      <h1>{t('nav.users')}</h1>
      <form onSubmit={submit} role="search" className="row">
        <label htmlFor="user-search" className="sr-only">
          {t('users.search')}
        </label>
        <input id="user-search" type="search" value={draft} onChange={(e) => setDraft(e.target.value)} placeholder={t('users.search')} />
        <button type="submit" className="primary">
          {t('logs.search')}
        </button>
      </form>
      <Show state={list}>
        {(us) => {
          const users = (Array.isArray(us) ? us : []) as User[];
          if (users.length === 0) return <Empty>{t('users.empty')}</Empty>;
          return (
            <div className="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">{t('users.identity')}</th>
                    <th scope="col">{t('users.logins')}</th>
                    <th scope="col">{t('users.lastLogin')}</th>
                    <th scope="col">{t('users.status')}</th>
                  </tr>
                </thead>
                <tbody>
                  {users.map((u) => (
                    <tr key={u.user_id} data-testid="user-row">
                      <td>
                        <Link to={`/users/${encodeURIComponent(u.user_id ?? '')}`}>{u.email ?? u.phone_number ?? u.user_id}</Link>
                      </td>
                      <td>{u.logins_count ?? 0}</td>
                      <td>{fmtDate(u.last_login, lang)}</td>
                      <td>{u.blocked ? <span className="badge bad">{t('users.blocked')}</span> : t('users.active')}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          );
        }}
      </Show>
    </section>
  );
}
