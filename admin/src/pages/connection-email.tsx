// The email half of a connection's page: the template (Liquid) with a live preview rendered by the
// server and "send me a test" to the signed-in administrator.
import { useEffect, useState } from 'react';
import { sesame } from '../api/client';
import { Field } from '../components/form';
import { ErrorText } from '../components/ui';
import { useI18n } from '../i18n';
import { useSession } from '../session';
import type { FieldErrors } from './fraud-guards';

export interface EmailDraft {
  from: string;
  subject: string;
  body: string;
}

export function EmailFields({ conn, draft, onChange, errors }: { conn: string; draft: EmailDraft; onChange(d: EmailDraft): void; errors: FieldErrors }) {
  const { t } = useI18n();
  return (
    <fieldset>
      <legend>{t('conns.template')}</legend>
      <Field label={t('conns.from')} error={errors['options.email.from']}>
        <input value={draft.from} onChange={(e) => onChange({ ...draft, from: e.target.value })} />
      </Field>
      <Field label={t('conns.subject')} error={errors['options.email.subject']}>
        <input value={draft.subject} onChange={(e) => onChange({ ...draft, subject: e.target.value })} />
      </Field>
      <Field label={t('conns.body')} error={errors['options.email.body']}>
        <textarea rows={10} value={draft.body} onChange={(e) => onChange({ ...draft, body: e.target.value })} spellCheck={false} />
      </Field>
      <Preview connection={conn} {...draft} />
    </fieldset>
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
