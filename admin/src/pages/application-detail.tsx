import { type FormEvent, useState } from 'react';
import { useNavigate, useParams } from 'react-router';
import { type Client, type Connection, mgmt, ok } from '../api/client';
import { CheckList, Field, SaveRow, splitError, useSave } from '../components/form';
import { SecretShown } from '../components/secret';
import { Confirm, ErrorText, Show, lines, useLoad } from '../components/ui';
import { useI18n } from '../i18n';

const GRANTS = ['authorization_code', 'implicit', 'refresh_token', 'client_credentials', 'http://auth0.com/oauth/grant-type/passwordless/otp'] as const;
type Grant = (typeof GRANTS)[number];
const METHODS = ['client_secret_post', 'client_secret_basic', 'none', 'private_key_jwt'] as const;
const CREDENTIALS = 'client_authentication_methods.private_key_jwt.credentials';
/** The fields a 400 can name (`callbacks[0] is not a valid URL`, `… on property name.`): its error goes under that field. */
const PATHS = ['name', 'callbacks', 'allowed_logout_urls', 'web_origins', 'grant_types', 'token_endpoint_auth_method', CREDENTIALS];

export function ApplicationDetail() {
  const { id = '' } = useParams();
  const app = useLoad(() => ok(mgmt.GET('/api/v2/clients/{id}', { params: { path: { id } } })), [id]);
  const conns = useLoad(() => ok(mgmt.GET('/api/v2/connections', { params: { query: { per_page: 100 } } })), []);
  return (
    <section>
      <Show state={app}>{(c) => <Show state={conns}>{(cs) => <AppForm key={c.client_id} app={c} connections={cs as Connection[]} reload={app.reload} />}</Show>}</Show>
    </section>
  );
}

function AppForm({ app, connections, reload }: { app: Client; connections: Connection[]; reload(): void }) {
  const { t } = useI18n();
  const navigate = useNavigate();
  const id = app.client_id ?? '';
  const creds = app.client_authentication_methods?.private_key_jwt?.credentials ?? [];
  const [name, setName] = useState(app.name ?? '');
  const [callbacks, setCallbacks] = useState((app.callbacks ?? []).join('\n'));
  const [logout, setLogout] = useState((app.allowed_logout_urls ?? []).join('\n'));
  const [origins, setOrigins] = useState((app.web_origins ?? []).join('\n'));
  const [grants, setGrants] = useState<string[]>(app.grant_types ?? []);
  const [method, setMethod] = useState<string>(app.token_endpoint_auth_method ?? (creds.length ? 'private_key_jwt' : 'none'));
  const [pem, setPem] = useState('');
  const [enabled, setEnabled] = useState(() => new Set(connections.filter((c) => c.enabled_clients?.includes(id)).map((c) => c.id ?? '')));
  const { error: saveError, saved, save } = useSave();
  const [secret, setSecret] = useState<string>();
  const [asking, setAsking] = useState<'rotate' | 'delete'>();
  const [actionError, setActionError] = useState<unknown>();

  function submit(e: FormEvent) {
    e.preventDefault();
    void save(async () => {
      const pkjwt = method === 'private_key_jwt';
      const credentials = [...creds.map((c) => ({ id: c.id })), ...(pem.trim() ? [{ credential_type: 'public_key' as const, name: `key ${creds.length + 1}`, pem: pem.trim() }] : [])];
      await ok(
        mgmt.PATCH('/api/v2/clients/{id}', {
          params: { path: { id } },
          body: {
            name,
            callbacks: lines(callbacks),
            allowed_logout_urls: lines(logout),
            web_origins: lines(origins),
            grant_types: grants as Grant[],
            token_endpoint_auth_method: pkjwt ? null : (method as 'none' | 'client_secret_post' | 'client_secret_basic'),
            ...(pkjwt ? { client_authentication_methods: { private_key_jwt: { credentials } } } : {}),
          },
        }),
      );
      for (const c of connections) {
        const want = enabled.has(c.id ?? '');
        if (want === Boolean(c.enabled_clients?.includes(id))) continue;
        await ok(mgmt.PATCH('/api/v2/connections/{id}/clients', { params: { path: { id: c.id ?? '' } }, body: [{ client_id: id, status: want }] }));
      }
      setPem('');
      reload();
    });
  }

  async function act() {
    const what = asking;
    setAsking(undefined);
    setActionError(undefined);
    try {
      if (what === 'rotate') {
        const rotated = await ok(mgmt.POST('/api/v2/clients/{id}/rotate-secret', { params: { path: { id } } }));
        setSecret(rotated.client_secret);
      } else if (what === 'delete') {
        await ok(mgmt.DELETE('/api/v2/clients/{id}', { params: { path: { id } } }));
        navigate('/applications');
      }
    } catch (err) {
      setActionError(err);
    }
  }

  const errs = splitError(saveError, PATHS);
  const confidential = app.app_type === 'regular_web' || app.app_type === 'non_interactive';
  return (
    <>
      <h1>{app.name}</h1>
      <p className="muted">
        {app.app_type} · client_id <code>{id}</code>
      </p>
      <form onSubmit={submit} className="stack">
        <Field label={t('apps.name')} error={errs.on('name')}>
          <input required value={name} onChange={(e) => setName(e.target.value)} />
        </Field>
        <Field label={t('apps.callbacks')} error={errs.on('callbacks')}>
          <textarea rows={3} value={callbacks} onChange={(e) => setCallbacks(e.target.value)} />
        </Field>
        <Field label={t('apps.logoutUrls')} error={errs.on('allowed_logout_urls')}>
          <textarea rows={2} value={logout} onChange={(e) => setLogout(e.target.value)} />
        </Field>
        <Field label={t('apps.webOrigins')} error={errs.on('web_origins')}>
          <textarea rows={2} value={origins} onChange={(e) => setOrigins(e.target.value)} />
        </Field>
        <CheckList
          legend={t('apps.grants')}
          items={GRANTS.map((g) => ({ id: g, label: <code>{g}</code> }))}
          checked={new Set(grants)}
          onChange={(next) => setGrants([...grants.filter((g) => !(GRANTS as readonly string[]).includes(g)), ...GRANTS.filter((g) => next.has(g))])}
          error={errs.on('grant_types')}
        />
        <Field label={t('apps.authMethod')} error={errs.on('token_endpoint_auth_method')}>
          <select value={method} onChange={(e) => setMethod(e.target.value)}>
            {METHODS.map((m) => (
              <option key={m} value={m}>
                {m}
              </option>
            ))}
          </select>
        </Field>
        {method === 'private_key_jwt' && (
          <fieldset>
            <legend>{t('apps.credentials')}</legend>
            <ul>
              {creds.map((c) => (
                <li key={c.id}>
                  {c.name} <code>{c.kid ?? c.id}</code> {c.alg}
                </li>
              ))}
            </ul>
            <Field label={t('apps.addPem')} error={errs.on(CREDENTIALS)}>
              <textarea rows={4} value={pem} onChange={(e) => setPem(e.target.value)} placeholder="-----BEGIN PUBLIC KEY-----" spellCheck={false} />
            </Field>
          </fieldset>
        )}
        <CheckList
          legend={t('apps.connections')}
          items={connections.map((c) => ({ id: c.id ?? '', label: `${c.name} (${c.strategy})` }))}
          checked={enabled}
          onChange={setEnabled}
        />
        <SaveRow error={errs.form} saved={saved} />
      </form>
      <h2>{t('apps.dangerZone')}</h2>
      <div className="actions start">
        {confidential && (
          <button type="button" onClick={() => setAsking('rotate')}>
            {t('apps.rotate')}
          </button>
        )}
        <button type="button" className="danger" onClick={() => setAsking('delete')}>
          {t('apps.delete')}
        </button>
      </div>
      <ErrorText error={actionError} />
      <Confirm
        open={asking !== undefined}
        title={asking === 'delete' ? t('apps.deleteTitle', { name: app.name ?? id }) : t('apps.rotateTitle', { name: app.name ?? id })}
        accept={asking === 'delete' ? t('apps.delete') : t('apps.rotate')}
        danger
        onAccept={act}
        onCancel={() => setAsking(undefined)}
      >
        <p>{asking === 'delete' ? t('apps.deleteBody') : t('apps.rotateBody')}</p>
      </Confirm>
      <SecretShown secret={secret} onDone={() => setSecret(undefined)} />
    </>
  );
}
