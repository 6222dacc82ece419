// Settings → Email provider: every provider /api/v2/emails/provider takes (README "Email providers"),
// each with Auth0's credential names. Secrets are write-only: GET never returns them, so an empty
// secret field keeps the stored one (the API merges credentials key by key on PATCH).
import { type FormEvent, useState } from 'react';
import { mgmt, ok, sesame } from '../api/client';
import { Field, SaveRow, splitError, useSave } from '../components/form';
import { ErrorText, Show, useLoad } from '../components/ui';
import { type Key, useI18n } from '../i18n';
import { useSession } from '../session';

type Kind = 'text' | 'port' | 'secret' | 'euOrNull';
type CredField = { key: string; label: Key; kind: Kind; required?: boolean };

/** Auth0's credential fields per provider (src/mail/providers/catalog.ts is the server's table). */
const PROVIDERS: Record<string, { label: string; fields: CredField[] }> = {
  smtp: {
    label: 'SMTP',
    fields: [
      { key: 'smtp_host', label: 'settings.smtpHost', kind: 'text', required: true },
      { key: 'smtp_port', label: 'settings.smtpPort', kind: 'port', required: true },
      { key: 'smtp_user', label: 'settings.smtpUser', kind: 'text' },
      { key: 'smtp_pass', label: 'settings.smtpPass', kind: 'secret' },
    ],
  },
  sendgrid: { label: 'SendGrid', fields: [{ key: 'api_key', label: 'settings.apiKey', kind: 'secret', required: true }] },
  mailgun: {
    label: 'Mailgun',
    fields: [
      { key: 'api_key', label: 'settings.apiKey', kind: 'secret', required: true },
      { key: 'domain', label: 'settings.domain', kind: 'text', required: true },
      { key: 'region', label: 'settings.region', kind: 'euOrNull' },
    ],
  },
  ses: {
    label: 'Amazon SES',
    fields: [
      { key: 'accessKeyId', label: 'settings.accessKeyId', kind: 'text', required: true },
      { key: 'secretAccessKey', label: 'settings.secretAccessKey', kind: 'secret', required: true },
      { key: 'region', label: 'settings.region', kind: 'text', required: true },
    ],
  },
  postmark: { label: 'Postmark', fields: [{ key: 'server_token', label: 'settings.serverToken', kind: 'secret', required: true }] },
  sparkpost: {
    label: 'SparkPost',
    fields: [
      { key: 'api_key', label: 'settings.apiKey', kind: 'secret', required: true },
      { key: 'region', label: 'settings.region', kind: 'euOrNull' },
    ],
  },
};

type Provider = { name?: string; enabled?: boolean; default_from_address?: string; credentials?: Record<string, unknown> };

export function EmailProvider() {
  const provider = useLoad(() => ok(mgmt.GET('/api/v2/emails/provider', {})).catch((err: unknown) => ((err as { status?: number }).status === 404 ? null : Promise.reject(err))), []);
  return <Show state={provider}>{(p) => <ProviderForm p={(p as Provider | null) ?? undefined} />}</Show>;
}

/** The form's values of `name`'s fields: the stored ones for the current provider, else empty. */
function draft(name: string, p: Provider | undefined): Record<string, string> {
  const stored = p?.name === name ? (p.credentials ?? {}) : {};
  const out: Record<string, string> = {};
  for (const f of PROVIDERS[name]?.fields ?? []) {
    const v = stored[f.key];
    out[f.key] = f.kind === 'secret' || v === undefined || v === null ? (f.kind === 'port' ? '587' : '') : String(v);
  }
  return out;
}

/** The `credentials` to send: secrets only when typed (empty keeps them), `region` null for the default. */
function credentials(name: string, values: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of PROVIDERS[name]?.fields ?? []) {
    const v = values[f.key] ?? '';
    if (f.kind === 'euOrNull') out[f.key] = v === 'eu' ? 'eu' : null;
    else if (f.kind === 'port') out[f.key] = Number(v);
    else if (v !== '') out[f.key] = v;
  }
  return out;
}

function ProviderForm({ p }: { p: Provider | undefined }) {
  const { t } = useI18n();
  const { user } = useSession();
  // An unknown stored name (none today) would show as SMTP; saving then asks for SMTP's fields.
  const [name, setName] = useState(p?.name && PROVIDERS[p.name] ? p.name : 'smtp');
  const [values, setValues] = useState(() => draft(name, p));
  const [from, setFrom] = useState(p?.default_from_address ?? '');
  const { error, saved, save } = useSave();
  const test = useSave();
  const fields = PROVIDERS[name]?.fields ?? [];
  const kept = p?.name === name;
  const choose = (next: string) => {
    setName(next);
    setValues(draft(next, p));
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const body = { name, enabled: true, default_from_address: from, credentials: credentials(name, values) };
    void save(() => (p ? ok(mgmt.PATCH('/api/v2/emails/provider', { body })) : ok(mgmt.POST('/api/v2/emails/provider', { body }))));
  };
  const errs = splitError(error, [...fields.map((f) => `credentials.${f.key}`), 'default_from_address', 'name']);
  return (
    <>
      {!p && <p className="muted">{t('settings.noProvider')}</p>}
      <form onSubmit={submit} className="stack">
        <Field label={t('settings.provider')} error={errs.on('name')}>
          <select value={name} onChange={(e) => choose(e.target.value)}>
            {Object.entries(PROVIDERS).map(([id, { label }]) => (
              <option key={id} value={id}>
                {label}
              </option>
            ))}
          </select>
        </Field>
        {fields.map((f) => (
          <Field key={`${name}-${f.key}`} label={t(f.label)} error={errs.on(`credentials.${f.key}`)}>
            {f.kind === 'euOrNull' ? (
              <select value={values[f.key] ?? ''} onChange={(e) => setValues({ ...values, [f.key]: e.target.value })}>
                <option value="">{t('settings.regionDefault')}</option>
                <option value="eu">{t('settings.regionEu')}</option>
              </select>
            ) : (
              <input
                type={f.kind === 'secret' ? 'password' : f.kind === 'port' ? 'number' : 'text'}
                // A stored secret is kept when left empty; another provider's must be typed.
                required={f.required === true && !(f.kind === 'secret' && kept)}
                value={values[f.key] ?? ''}
                onChange={(e) => setValues({ ...values, [f.key]: e.target.value })}
                placeholder={f.kind === 'secret' && kept ? t('conns.secretSet') : ''}
                autoComplete={f.kind === 'secret' ? 'new-password' : 'off'}
              />
            )}
          </Field>
        ))}
        <Field label={t('settings.fromAddress')} error={errs.on('default_from_address')}>
          <input value={from} onChange={(e) => setFrom(e.target.value)} />
        </Field>
        <SaveRow error={errs.form} saved={saved} />
      </form>
      <div className="actions start">
        <button type="button" onClick={() => void test.save(() => sesame.testEmail(user?.email ?? ''))}>
          {t('settings.sendTest', { to: user?.email ?? '' })}
        </button>
      </div>
      <ErrorText error={test.error} />
      {test.saved && <p role="status">{t('conns.testSent', { to: user?.email ?? '' })}</p>}
    </>
  );
}
