import { useId, useState } from 'react';
import { useNavigate, useParams } from 'react-router';
import { mgmt, ok, sesame } from '../api/client';
import { Confirm, Empty, ErrorText, Show, fmtDate, useLoad } from '../components/ui';
import { useI18n } from '../i18n';

export function UserDetail() {
  const { t, lang } = useI18n();
  const { id = '' } = useParams();
  const navigate = useNavigate();
  const user = useLoad(() => ok(mgmt.GET('/api/v2/users/{id}', { params: { path: { id } } })), [id]);
  const logs = useLoad(() => sesame.userLogs(id), [id]);
  const blocks = useLoad(() => ok(mgmt.GET('/api/v2/user-blocks/{id}', { params: { path: { id } } })), [id]);
  const [error, setError] = useState<unknown>();
  const [asking, setAsking] = useState(false);
  const [done, setDone] = useState<string>();
  // The button whose action failed points at the error (aria-describedby): these actions have no field.
  const [failed, setFailed] = useState<'block' | 'clear' | 'delete'>();
  const errorId = useId();
  const about = (which: typeof failed) => (error && failed === which ? errorId : undefined);

  async function run(which: NonNullable<typeof failed>, action: () => Promise<unknown>, message: string) {
    setError(undefined);
    setFailed(which);
    setDone(undefined);
    try {
      await action();
      setDone(message);
      user.reload();
      blocks.reload();
      return true;
    } catch (err) {
      setError(err);
      return false;
    }
  }

  return (
    <section>
      <Show state={user}>
        {(u) => (
          <>
            <h1>{u.email ?? u.phone_number ?? u.user_id}</h1>
            <dl className="facts">
              <dt>user_id</dt>
              <dd>
                <code>{u.user_id}</code>
              </dd>
              <dt>{t('users.logins')}</dt>
              <dd>{u.logins_count ?? 0}</dd>
              <dt>{t('users.lastLogin')}</dt>
              <dd>{fmtDate(u.last_login, lang)}</dd>
              <dt>{t('users.lastIp')}</dt>
              <dd>{u.last_ip ?? '—'}</dd>
              <dt>{t('users.created')}</dt>
              <dd>{fmtDate(u.created_at, lang)}</dd>
              <dt>{t('users.status')}</dt>
              <dd>{u.blocked ? <span className="badge bad">{t('users.blocked')}</span> : t('users.active')}</dd>
            </dl>
            <h2>{t('users.identities')}</h2>
            <ul>
              {(u.identities ?? []).map((i) => (
                <li key={`${i.connection}-${i.user_id}`}>
                  {i.provider} / {i.connection} <code>{i.user_id}</code>
                </li>
              ))}
            </ul>
            <div className="actions start">
              <button
                type="button"
                data-testid="user-block"
                aria-pressed={u.blocked === true}
                aria-describedby={about('block')}
                onClick={() =>
                  run('block', () => ok(mgmt.PATCH('/api/v2/users/{id}', { params: { path: { id } }, body: { blocked: !u.blocked } })), u.blocked ? t('users.unblocked') : t('users.nowBlocked'))
                }
              >
                {u.blocked ? t('users.unblock') : t('users.block')}
              </button>
              <button type="button" aria-describedby={about('clear')} onClick={() => run('clear', () => ok(mgmt.DELETE('/api/v2/user-blocks/{id}', { params: { path: { id } } })), t('users.cleared'))}>
                {t('users.clearBlocks')}
                <Show state={blocks}>{(b) => <> ({b.blocked_for?.length ?? 0})</>}</Show>
              </button>
              <button type="button" className="danger" aria-describedby={about('delete')} onClick={() => setAsking(true)}>
                {t('users.delete')}
              </button>
            </div>
            <div id={errorId}>
              <ErrorText error={error} />
            </div>
            {done && <p role="status">{done}</p>}
            <Confirm
              open={asking}
              title={t('users.deleteTitle', { name: u.email ?? u.phone_number ?? id })}
              accept={t('users.delete')}
              danger
              onCancel={() => setAsking(false)}
              onAccept={() => {
                setAsking(false);
                void run('delete', () => ok(mgmt.DELETE('/api/v2/users/{id}', { params: { path: { id } } })), '').then((gone) => gone && navigate('/users'));
              }}
            >
              <p>{t('users.deleteBody')}</p>
            </Confirm>
          </>
        )}
      </Show>
      <h2>{t('users.recentLogs')}</h2>
      <Show state={logs}>
        {(ls) =>
          ls.length === 0 ? (
            <Empty>{t('logs.empty')}</Empty>
          ) : (
            <ul className="plain">
              {ls.map((l) => (
                <li key={l.log_id}>
                  {fmtDate(l.date, lang)} <code>{l.type}</code> {l.description} {l.ip}
                </li>
              ))}
            </ul>
          )
        }
      </Show>
    </section>
  );
}
