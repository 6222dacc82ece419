import { type FormEvent, useState } from 'react';
import { mgmt, ok, sesame } from '../api/client';
import { AddForm } from '../components/form';
import { Cards, Confirm, ErrorText, Show, fmtDate, useLoad } from '../components/ui';
import { useI18n } from '../i18n';

/** Runs an action, keeping its error for display next to the control. */
function useAction(after: () => void) {
  const [error, setError] = useState<unknown>();
  async function run(action: () => Promise<unknown>) {
    setError(undefined);
    try {
      await action();
      after();
    } catch (err) {
      setError(err);
    }
  }
  return { error, run };
}

export function SigningKeys() {
  const { t, lang } = useI18n();
  const keys = useLoad(() => ok(mgmt.GET('/api/v2/keys/signing', {})), []);
  const { error, run } = useAction(keys.reload);
  const [asking, setAsking] = useState<string>();
  return (
    <>
      <div className="actions start">
        <button type="button" onClick={() => run(() => ok(mgmt.POST('/api/v2/keys/signing/rotate', {})))}>
          {t('keys.rotate')}
        </button>
      </div>
      <ErrorText error={error} />
      <Show state={keys}>
        {(ks) => (
          <ul className="plain">
            {ks.map((k) => (
              <li key={k.kid} className="card">
                <code>{k.kid}</code> {k.current && <span className="badge">{t('keys.current')}</span>}
                {k.next && <span className="badge">{t('keys.next')}</span>}
                {k.previous && <span className="badge">{t('keys.previous')}</span>}
                {k.revoked && <span className="badge bad">{t('keys.revoked')}</span>}
                <span className="muted"> {fmtDate(k.current_since, lang)}</span>
                {k.previous && !k.revoked && (
                  <button type="button" className="danger" onClick={() => setAsking(k.kid)}>
                    {t('keys.revoke')}
                  </button>
                )}
              </li>
            ))}
          </ul>
        )}
      </Show>
      <Confirm
        open={asking !== undefined}
        title={t('keys.revokeTitle', { kid: asking ?? '' })}
        accept={t('keys.revoke')}
        danger
        onCancel={() => setAsking(undefined)}
        onAccept={() => {
          const kid = asking ?? '';
          setAsking(undefined);
          void run(() => ok(mgmt.PUT('/api/v2/keys/signing/{kid}/revoke', { params: { path: { kid } } })));
        }}
      >
        <p>{t('keys.revokeBody')}</p>
      </Confirm>
    </>
  );
}

export function LogStreams() {
  const { t } = useI18n();
  const streams = useLoad(() => ok(mgmt.GET('/api/v2/log-streams', {})), []);
  const { error, run } = useAction(streams.reload);
  return (
    <>
      <Show state={streams}>
        {(ss) => (
          <Cards items={ss} empty={t('streams.empty')} keyOf={(x) => x.id ?? ''}>
            {(x) => (
              <>
                <strong>{x.name}</strong> {x.type} <span className="badge">{x.status}</span>{' '}
                <button type="button" className="danger" onClick={() => run(() => ok(mgmt.DELETE('/api/v2/log-streams/{id}', { params: { path: { id: x.id ?? '' } } })))}>
                  {t('delete')}
                </button>
              </>
            )}
          </Cards>
        )}
      </Show>
      <AddForm
        title={t('streams.add')}
        second={{ label: t('streams.url'), type: 'url', placeholder: 'https://…' }}
        error={error}
        onAdd={(name, url) => run(() => ok(mgmt.POST('/api/v2/log-streams', { body: { name, type: 'http', sink: { httpEndpoint: url } as never } })))}
      />
    </>
  );
}

export function Apis() {
  const { t } = useI18n();
  const apis = useLoad(() => ok(mgmt.GET('/api/v2/resource-servers', {})), []);
  const { error, run } = useAction(apis.reload);
  return (
    <>
      <Show state={apis}>
        {(as) => (
          <Cards items={Array.isArray(as) ? as : []} empty={t('apis.empty')} keyOf={(a) => a.id ?? ''}>
            {(a) => (
              <>
                <strong>{a.name}</strong> <code>{a.identifier}</code> {a.is_system && <span className="badge">{t('apis.system')}</span>}
                <span className="muted"> {(a.scopes ?? []).map((x) => x.value).join(' ')}</span>
                {!a.is_system && (
                  <button type="button" className="danger" onClick={() => run(() => ok(mgmt.DELETE('/api/v2/resource-servers/{id}', { params: { path: { id: a.id ?? '' } } })))}>
                    {t('delete')}
                  </button>
                )}
              </>
            )}
          </Cards>
        )}
      </Show>
      <AddForm
        title={t('apis.add')}
        second={{ label: t('apis.identifier'), placeholder: 'https://api.example.com/' }}
        error={error}
        onAdd={(name, identifier) => run(() => ok(mgmt.POST('/api/v2/resource-servers', { body: { name, identifier } })))}
      />
    </>
  );
}

export function Admins() {
  const { t, lang } = useI18n();
  const admins = useLoad(() => sesame.admins(), []);
  const { error, run } = useAction(admins.reload);
  const [email, setEmail] = useState('');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void run(() => sesame.addAdmin(email)).then(() => setEmail(''));
  };
  return (
    <>
      <p className="muted">{t('admins.help')}</p>
      <Show state={admins}>
        {(as) => (
          <ul className="plain">
            {as.map((a) => (
              <li key={a.email} className="card">
                {a.email} <span className="badge">{a.source === 'env' ? 'SESAME_ADMIN_EMAILS' : t('admins.database')}</span>
                <span className="muted"> {fmtDate(a.created_at, lang)}</span>
                {a.source === 'database' && (
                  <button type="button" className="danger" onClick={() => run(() => sesame.removeAdmin(a.email))}>
                    {t('admins.remove')}
                  </button>
                )}
              </li>
            ))}
          </ul>
        )}
      </Show>
      <form onSubmit={submit} className="row">
        <label htmlFor="admin-email" className="sr-only">
          {t('admins.email')}
        </label>
        <input id="admin-email" type="email" required value={email} onChange={(e) => setEmail(e.target.value)} placeholder={t('admins.email')} />
        <button type="submit" className="primary">
          {t('admins.add')}
        </button>
      </form>
      <ErrorText error={error} />
    </>
  );
}
