import { type FormEvent, useState } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { mgmt, ok } from '../api/client';
import { Field } from '../components/form';
import { SecretShown } from '../components/secret';
import { Empty, ErrorText, Modal, Show, useLoad } from '../components/ui';
import { type Key, useI18n } from '../i18n';

/** Auth0's application types; the first and last are confidential (they keep a secret), the others public. */
const TYPES: { value: 'regular_web' | 'spa' | 'native' | 'non_interactive'; title: Key; help: Key }[] = [
  { value: 'regular_web', title: 'apps.type.regular_web', help: 'apps.help.regular_web' },
  { value: 'spa', title: 'apps.type.spa', help: 'apps.help.spa' },
  { value: 'native', title: 'apps.type.native', help: 'apps.help.native' },
  { value: 'non_interactive', title: 'apps.type.non_interactive', help: 'apps.help.non_interactive' },
];

export function Applications() {
  const { t } = useI18n();
  const [params, setParams] = useSearchParams();
  const search = params.get('search') ?? '';
  const list = useLoad(() => ok(mgmt.GET('/api/v2/clients', { params: { query: { per_page: 100 } } })), []);
  const [creating, setCreating] = useState(false);
  return (
    <section>
      <div className="row">
        <h1>{t('nav.applications')}</h1>
        <button type="button" className="primary" data-testid="app-create" onClick={() => setCreating(true)}>
          {t('apps.create')}
        </button>
      </div>
      <label className="inline">
        {t('apps.search')}{' '}
        <input type="search" value={search} onChange={(e) => setParams(e.target.value ? { search: e.target.value } : {}, { replace: true })} />
      </label>
      <Show state={list}>
        {(clients) => {
          const needle = search.toLowerCase();
          const shown = (Array.isArray(clients) ? clients : []).filter(
            (c) => !needle || (c.name ?? '').toLowerCase().includes(needle) || (c.client_id ?? '').includes(needle),
          );
          if (shown.length === 0) return <Empty>{t('apps.empty')}</Empty>;
          return (
            <div className="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">{t('apps.name')}</th>
                    <th scope="col">{t('apps.type')}</th>
                    <th scope="col">client_id</th>
                  </tr>
                </thead>
                <tbody>
                  {shown.map((c) => (
                    <tr key={c.client_id} data-testid="app-row">
                      <td>
                        <Link to={`/applications/${encodeURIComponent(c.client_id ?? '')}`}>{c.name}</Link>
                      </td>
                      <td>{c.app_type}</td>
                      <td>
                        <code>{c.client_id}</code>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          );
        }}
      </Show>
      <CreateApp open={creating} onClose={() => setCreating(false)} />
    </section>
  );
}

function CreateApp({ open, onClose }: { open: boolean; onClose(): void }) {
  const { t } = useI18n();
  const navigate = useNavigate();
  const [name, setName] = useState('');
  const [type, setType] = useState<(typeof TYPES)[number]['value']>('regular_web');
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const [shown, setShown] = useState<{ secret: string; path: string }>();
  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const created = await ok(mgmt.POST('/api/v2/clients', { body: { name, app_type: type } }));
      const path = `/applications/${encodeURIComponent(created.client_id ?? '')}`;
      onClose();
      // A confidential application's secret is in this answer only (Sesame keeps a keyed hash); a
      // public one (token_endpoint_auth_method none) never uses one, so there is nothing to keep.
      if (created.client_secret && created.token_endpoint_auth_method !== 'none') setShown({ secret: created.client_secret, path });
      else navigate(path);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }
  return (
    <>
    <SecretShown secret={shown?.secret} title={t('apps.createdSecret', { name })} onDone={() => navigate(shown?.path ?? '/applications')} />
    <Modal open={open} title={t('apps.create')} onClose={onClose}>
      <form onSubmit={submit} className="stack">
        <Field label={t('apps.name')}>
          <input required value={name} onChange={(e) => setName(e.target.value)} name="name" />
        </Field>
        <fieldset className="types">
          <legend>{t('apps.type')}</legend>
          {TYPES.map((ty) => (
            <label key={ty.value} className="type-card">
              <input type="radio" name="app_type" value={ty.value} checked={type === ty.value} onChange={() => setType(ty.value)} />
              <span>
                <strong>{t(ty.title)}</strong>
                <span className="muted">{t(ty.help)}</span>
              </span>
            </label>
          ))}
        </fieldset>
        <ErrorText error={error} />
        <div className="actions">
          <button type="button" onClick={onClose}>
            {t('cancel')}
          </button>
          <button type="submit" className="primary" disabled={busy}>
            {t('apps.createButton')}
          </button>
        </div>
      </form>
    </Modal>
    </>
  );
}
