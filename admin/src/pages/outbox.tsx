import { Fragment } from 'react';
import { sesame } from '../api/client';
import { Empty, Show, fmtDate, useLoad } from '../components/ui';
import { useI18n } from '../i18n';

const LINK = /https?:\/\/[^\s<>"']+/g;

/** Plain text with its URLs made clickable (the magic links of development mode). */
function Linked({ text }: { text: string }) {
  const parts: (string | { url: string })[] = [];
  let last = 0;
  for (const m of text.matchAll(LINK)) {
    parts.push(text.slice(last, m.index), { url: m[0] });
    last = (m.index ?? 0) + m[0].length;
  }
  parts.push(text.slice(last));
  return (
    <>
      {parts.map((p, i) =>
        typeof p === 'string' ? (
          <Fragment key={i}>{p}</Fragment>
        ) : (
          <a key={i} href={p.url} target="_blank" rel="noreferrer">
            {p.url}
          </a>
        ),
      )}
    </>
  );
}

/** Development mode (no SMTP provider): the messages Sesame "sent", so nobody reads server logs to sign in. */
export function Outbox() {
  const { t, lang } = useI18n();
  const box = useLoad(() => sesame.outbox(), []);
  return (
    <section>
      <div className="row">
        <h1>{t('nav.outbox')}</h1>
        <button type="button" onClick={box.reload}>
          {t('refresh')}
        </button>
      </div>
      <p className="muted">{t('outbox.intro')}</p>
      <Show state={box}>
        {(b) => {
          const messages = Array.isArray(b) ? b : b.messages;
          if (messages.length === 0) return <Empty>{t('outbox.empty')}</Empty>;
          return messages.map((m) => (
            <article key={m.id} className="card" data-testid="dev-outbox-message">
              <h2>{m.subject || t('outbox.sms')}</h2>
              <p className="muted">
                {t('outbox.to')} {m.to} · {fmtDate(m.created_at, lang)}
              </p>
              {m.codes && m.codes.length > 0 && (
                <p>
                  {t('outbox.code')} <code className="secret">{m.codes.join(', ')}</code>
                </p>
              )}
              {m.links?.map((l) => (
                <p key={l}>
                  <a href={l} target="_blank" rel="noreferrer">
                    {t('outbox.openLink')}
                  </a>
                </p>
              ))}
              <pre className="wrap">
                <Linked text={m.text ?? ''} />
              </pre>
            </article>
          ));
        }}
      </Show>
    </section>
  );
}
