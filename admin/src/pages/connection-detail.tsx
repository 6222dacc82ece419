import { type FormEvent, useEffect, useState } from 'react';
import { useParams } from 'react-router';
import { type Client, type Connection, mgmt, ok, sesame } from '../api/client';
import { ErrorText, Show, Toggle, useLoad } from '../components/ui';
import { useI18n } from '../i18n';
import { useSession } from '../session';

type Options = Record<string, unknown> & {
  totp?: { length?: number; time_step?: number };
  authentication_method?: string;
  disable_signup?: boolean;
  brute_force_protection?: boolean;
  email?: { from?: string; subject?: string; body?: string; syntax?: string };
  fraud_guards?: unknown;
};
/** Provider secrets are write-only here: shown as "set", sent only when typed anew. */
const SMS_SECRETS = ['twilio_token', 'gateway_token', 'gateway_secret'];

export function ConnectionDetail() {
  const { id = '' } = useParams();
  const conn = useLoad(() => ok(mgmt.GET('/api/v2/connections/{id}', { params: { path: { id } } })), [id]);
  const clients = useLoad(() => ok(mgmt.GET('/api/v2/clients', { params: { query: { per_page: 100 } } })), []);
  return (
    <section>
      <Show state={conn}>
        {(c) => <Show state={clients}>{(cl) => <ConnForm key={c.id} conn={c} clients={cl as Client[]} reload={conn.reload} />}</Show>}
      </Show>
    </section>
  );
}

function ConnForm({ conn, clients, reload }: { conn: Connection; clients: Client[]; reload(): void }) {
  const { t } = useI18n();
  const id = conn.id ?? '';
  const sms = conn.strategy === 'sms';
  const opts = (conn.options ?? {}) as Options;
  const [length, setLength] = useState(opts.totp?.length ?? 6);
  const [lifetime, setLifetime] = useState(opts.totp?.time_step ?? 300);
  const [method, setMethod] = useState(opts.authentication_method ?? 'code');
  const [noSignup, setNoSignup] = useState(opts.disable_signup === true);
  const [bfp, setBfp] = useState(opts.brute_force_protection !== false);
  const [enabled, setEnabled] = useState(new Set(conn.enabled_clients ?? []));
  const [from, setFrom] = useState(String((sms ? opts.from : opts.email?.from) ?? ''));
  const [subject, setSubject] = useState(opts.email?.subject ?? '');
  const [body, setBody] = useState(String((sms ? opts.template : opts.email?.body) ?? ''));
  const [provider, setProvider] = useState(String(opts.provider ?? 'twilio'));
  const [plain, setPlain] = useState<Record<string, string>>(() =>
    Object.fromEntries(['twilio_sid', 'messaging_service_sid', 'gateway_url'].map((k) => [k, typeof opts[k] === 'string' ? (opts[k] as string) : ''])),
  );
  const [secrets, setSecrets] = useState<Record<string, string>>({});
  const [guards, setGuards] = useState(opts.fraud_guards === undefined ? '' : JSON.stringify(opts.fraud_guards, null, 2));
  const [error, setError] = useState<unknown>();
  const [saved, setSaved] = useState(false);

  async function save(e: FormEvent) {
    e.preventDefault();
    setError(undefined);
    setSaved(false);
    try {
      const options: Options = { ...opts, totp: { ...opts.totp, length, time_step: lifetime }, disable_signup: noSignup, brute_force_protection: bfp };
      if (sms) {
        Object.assign(options, { provider, from: from || null, template: body || undefined });
        for (const [k, v] of Object.entries(plain)) if (v) options[k] = v;
        for (const k of SMS_SECRETS) if (secrets[k]) options[k] = secrets[k];
        if (guards.trim()) options.fraud_guards = JSON.parse(guards) as unknown;
      } else {
        options.authentication_method = method;
        options.email = { ...opts.email, from: from || undefined, subject: subject || undefined, body: body || undefined };
      }
      await ok(mgmt.PATCH('/api/v2/connections/{id}', { params: { path: { id } }, body: { options, enabled_clients: [...enabled] } }));
      setSaved(true);
      reload();
    } catch (err) {
      setError(err);
    }
  }

  return (
    <>
      <h1>
        {conn.name} <span className="badge">{conn.strategy}</span>
      </h1>
      <form onSubmit={save} className="stack">
        <fieldset>
          <legend>{t('conns.code')}</legend>
          <label>
            {t('conns.length')}
            <input type="number" min={6} max={10} value={length} onChange={(e) => setLength(Number(e.target.value))} data-testid="code-length" />
          </label>
          <label>
            {t('conns.lifetime')}
            <input type="number" min={1} max={600} value={lifetime} onChange={(e) => setLifetime(Number(e.target.value))} />
          </label>
          {!sms && (
            <label>
              {t('conns.method')}
              <select value={method} onChange={(e) => setMethod(e.target.value)}>
                <option value="code">{t('conns.method.code')}</option>
                <option value="link">{t('conns.method.link')}</option>
                <option value="both">{t('conns.method.both')}</option>
              </select>
            </label>
          )}
          <Toggle id="no-signup" label={t('conns.disableSignup')} checked={noSignup} onChange={setNoSignup} />
          <Toggle id="bfp" label={t('conns.bruteForce')} checked={bfp} onChange={setBfp} />
        </fieldset>
        <fieldset>
          <legend>{t('conns.enabledApps')}</legend>
          {clients.map((c) => (
            <label key={c.client_id} className="check">
              <input
                type="checkbox"
                checked={enabled.has(c.client_id ?? '')}
                onChange={(e) => {
                  const next = new Set(enabled);
                  if (e.target.checked) next.add(c.client_id ?? '');
                  else next.delete(c.client_id ?? '');
                  setEnabled(next);
                }}
              />
              {c.name}
            </label>
          ))}
        </fieldset>
        <fieldset>
          <legend>{t('conns.template')}</legend>
          <label>
            {sms ? t('conns.sender') : t('conns.from')}
            <input value={from} onChange={(e) => setFrom(e.target.value)} />
          </label>
          {!sms && (
            <label>
              {t('conns.subject')}
              <input value={subject} onChange={(e) => setSubject(e.target.value)} />
            </label>
          )}
          <label>
            {sms ? t('conns.smsText') : t('conns.body')}
            <textarea rows={sms ? 3 : 10} value={body} onChange={(e) => setBody(e.target.value)} spellCheck={false} />
          </label>
          {!sms && <Preview connection={conn.name ?? ''} from={from} subject={subject} body={body} />}
        </fieldset>
        {sms && (
          <fieldset>
            <legend>{t('conns.provider')}</legend>
            <label>
              {t('conns.provider')}
              <select value={provider} onChange={(e) => setProvider(e.target.value)}>
                <option value="twilio">Twilio</option>
                <option value="gateway">{t('conns.gateway')}</option>
              </select>
            </label>
            {Object.keys(plain).map((k) => (
              <label key={k}>
                <code>{k}</code>
                <input value={plain[k]} onChange={(e) => setPlain({ ...plain, [k]: e.target.value })} />
              </label>
            ))}
            {SMS_SECRETS.map((k) => (
              <label key={k}>
                <code>{k}</code>
                <input
                  type="password"
                  autoComplete="new-password"
                  value={secrets[k] ?? ''}
                  placeholder={opts[k] ? t('conns.secretSet') : t('conns.secretUnset')}
                  onChange={(e) => setSecrets({ ...secrets, [k]: e.target.value })}
                />
              </label>
            ))}
            <label>
              {t('conns.fraudGuards')}
              <textarea rows={6} value={guards} onChange={(e) => setGuards(e.target.value)} spellCheck={false} />
            </label>
          </fieldset>
        )}
        <ErrorText error={error} />
        {saved && <p role="status">{t('saved')}</p>}
        <div className="actions">
          <button type="submit" className="primary">
            {t('save')}
          </button>
        </div>
      </form>
    </>
  );
}

/** The email as it will be sent (rendered by the server with liquidjs, the same way real mails are), and a test send. */
function Preview(props: { connection: string; from: string; subject: string; body: string }) {
  const { t } = useI18n();
  const { user } = useSession();
  const [shown, setShown] = useState<{ subject: string; html?: string; text?: string }>();
  const [error, setError] = useState<unknown>();
  const [sent, setSent] = useState<string>();
  useEffect(() => {
    const timer = setTimeout(() => {
      const email = { ...(props.from ? { from: props.from } : {}), ...(props.subject ? { subject: props.subject } : {}), ...(props.body ? { body: props.body, syntax: 'liquid' } : {}) };
      sesame
        .previewEmail({ connection: props.connection, ...(Object.keys(email).length ? { email } : {}) })
        .then((p) => {
          setShown(p);
          setError(undefined);
        }, setError);
    }, 400);
    return () => clearTimeout(timer);
  }, [props.connection, props.from, props.subject, props.body]);
  async function sendTest() {
    setSent(undefined);
    try {
      await sesame.testEmail(user?.email ?? '', props.connection);
      setSent(t('conns.testSent', { to: user?.email ?? '' }));
    } catch (err) {
      setError(err);
    }
  }
  return (
    <div className="preview">
      <h3>{t('conns.preview')}</h3>
      <ErrorText error={error} />
      {shown && (
        <>
          <p>
            <strong>{shown.subject}</strong>
          </p>
          {shown.html ? <iframe title={t('conns.preview')} sandbox="" srcDoc={shown.html} /> : <pre>{shown.text}</pre>}
        </>
      )}
      <button type="button" onClick={sendTest}>
        {t('conns.sendTest')}
      </button>
      {sent && <p role="status">{sent}</p>}
    </div>
  );
}
