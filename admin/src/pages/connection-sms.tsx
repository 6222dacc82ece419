// The SMS half of a connection's page: provider (secrets write-only), the text with a live preview
// rendered by the server, and a test message to a number the administrator types.
import { useEffect, useState } from 'react';
import { sesame } from '../api/client';
import { Field } from '../components/form';
import { ErrorText } from '../components/ui';
import { useI18n } from '../i18n';
import type { FieldErrors } from './fraud-guards';

/** The provider fields as typed; the two secrets are sent only when typed anew. */
export interface SmsDraft {
  provider: 'twilio' | 'sms_gateway';
  from: string;
  twilio_sid: string;
  messaging_service_sid: string;
  twilio_token: string;
  gateway_url: string;
  subject: string;
  audience: string;
  secret: string;
  template: string;
  syntax: 'md_with_macros' | 'liquid';
}

type Options = Record<string, unknown>;
const str = (v: unknown) => (typeof v === 'string' ? v : '');
const auth = (o: Options) => (o.gateway_authentication ?? {}) as Options;

export function smsDraft(o: Options): SmsDraft {
  return {
    provider: o.provider === 'sms_gateway' ? 'sms_gateway' : 'twilio',
    from: str(o.from),
    twilio_sid: str(o.twilio_sid),
    messaging_service_sid: str(o.messaging_service_sid),
    twilio_token: '',
    gateway_url: str(o.gateway_url),
    subject: str(auth(o).subject),
    audience: str(auth(o).audience),
    secret: '',
    template: str(o.template),
    syntax: o.syntax === 'liquid' ? 'liquid' : 'md_with_macros',
  };
}

/** The connection's options with the draft applied (a PATCH replaces options whole; Sesame keeps the sealed secrets). */
export function smsOptions(o: Options, d: SmsDraft): Options {
  const out: Options = { ...o, provider: d.provider, from: d.from || null, template: d.template || null, syntax: d.syntax };
  if (d.provider === 'twilio') {
    Object.assign(out, { twilio_sid: d.twilio_sid, messaging_service_sid: d.messaging_service_sid || null });
    if (d.twilio_token) out.twilio_token = d.twilio_token;
  } else {
    out.gateway_url = d.gateway_url;
    out.gateway_authentication = d.subject || d.audience || d.secret
      ? { ...auth(o), method: 'bearer', subject: d.subject, audience: d.audience, ...(d.secret ? { secret: d.secret } : {}) }
      : null;
  }
  return out;
}

export function SmsFields({ conn, draft, onChange, errors }: { conn: string; draft: SmsDraft; onChange(d: SmsDraft): void; errors: FieldErrors }) {
  const { t } = useI18n();
  const set = (patch: Partial<SmsDraft>) => onChange({ ...draft, ...patch });
  const text = (k: keyof SmsDraft, label: string, path = `options.${k}`) => (
    <Field label={label} error={errors[path]}>
      <input value={draft[k]} onChange={(e) => set({ [k]: e.target.value })} autoComplete="off" spellCheck={false} />
    </Field>
  );
  // Write-only: the API never shows a provider secret (src/sms/secrets.ts); empty keeps the stored one.
  const secret = (k: 'twilio_token' | 'secret', label: string, path: string) => (
    <Field label={label} error={errors[path]}>
      <input type="password" autoComplete="new-password" value={draft[k]} placeholder={t('conns.secretWriteOnly')} onChange={(e) => set({ [k]: e.target.value })} />
    </Field>
  );
  return (
    <>
      <fieldset>
        <legend>{t('conns.provider')}</legend>
        <Field label={t('conns.provider')} error={errors['options.provider']}>
          <select value={draft.provider} onChange={(e) => set({ provider: e.target.value as SmsDraft['provider'] })}>
            <option value="twilio">Twilio</option>
            <option value="sms_gateway">{t('conns.gateway')}</option>
          </select>
        </Field>
        {text('from', t('conns.sender'))}
        {draft.provider === 'twilio' ? (
          <>
            {text('twilio_sid', 'Account SID')}
            {text('messaging_service_sid', 'Messaging Service SID')}
            {secret('twilio_token', 'Auth Token', 'options.twilio_token')}
          </>
        ) : (
          <>
            {text('gateway_url', t('conns.gatewayUrl'))}
            {text('subject', t('conns.gatewaySubject'), 'options.gateway_authentication.subject')}
            {text('audience', t('conns.gatewayAudience'), 'options.gateway_authentication.audience')}
            {secret('secret', t('conns.gatewaySecret'), 'options.gateway_authentication.secret')}
          </>
        )}
      </fieldset>
      <fieldset>
        <legend>{t('conns.template')}</legend>
        <Field label={t('conns.syntax')} error={errors['options.syntax']}>
          <select value={draft.syntax} onChange={(e) => set({ syntax: e.target.value as SmsDraft['syntax'] })}>
            <option value="md_with_macros">{t('conns.syntax.macros')}</option>
            <option value="liquid">Liquid</option>
          </select>
        </Field>
        <Field label={t('conns.smsText')} hint={t('conns.smsHelp')} error={errors['options.template']}>
          <textarea rows={3} value={draft.template} onChange={(e) => set({ template: e.target.value })} spellCheck={false} data-testid="sms-template" />
        </Field>
        <SmsPreview connection={conn} template={draft.template} syntax={draft.syntax} />
      </fieldset>
    </>
  );
}

/** The text as it will be sent (rendered by the server, the same way real texts are), and a test message. */
function SmsPreview(props: { connection: string; template: string; syntax: string }) {
  const { t } = useI18n();
  const [shown, setShown] = useState<{ text: string; characters: number; segments: number }>();
  const [error, setError] = useState<unknown>();
  const [to, setTo] = useState('');
  const [sent, setSent] = useState<string>();
  const [sendError, setSendError] = useState<unknown>();
  useEffect(() => {
    const timer = setTimeout(() => {
      sesame.previewSms({ connection: props.connection, template: props.template || null, syntax: props.syntax }).then((p) => {
        setShown(p);
        setError(undefined);
      }, setError);
    }, 300);
    return () => clearTimeout(timer);
  }, [props.connection, props.template, props.syntax]);
  async function sendTest() {
    setSent(undefined);
    setSendError(undefined);
    try {
      const r = await sesame.testSms(to, props.connection);
      setSent(t('conns.testSent', { to: r.to }));
    } catch (err) {
      setSendError(err);
    }
  }
  return (
    <div className="preview" data-testid="sms-preview">
      <h3>{t('conns.preview')}</h3>
      <ErrorText error={error} />
      {shown && (
        <>
          <pre className="wrap sms-text">{shown.text}</pre>
          <p className="muted">{t('conns.smsCount', { n: shown.characters, s: shown.segments })}</p>
        </>
      )}
      <p className="muted">{t('conns.savedOnly')}</p>
      <div className="row start">
        <Field label={t('conns.testTo')}>
          <input type="tel" value={to} onChange={(e) => setTo(e.target.value)} placeholder="+33 6 12 34 56 78" autoComplete="tel" />
        </Field>
        <button type="button" onClick={sendTest} disabled={!to.trim()}>
          {t('conns.sendTestSms')}
        </button>
      </div>
      <ErrorText error={sendError} />
      {sent && <p role="status">{sent}</p>}
    </div>
  );
}
