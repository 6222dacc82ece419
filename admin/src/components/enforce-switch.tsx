import { useState } from 'react';
import { FEATURE_FLAG, type MigrationCaller, mgmt, ok } from '../api/client';
import { useI18n } from '../i18n';
import { Confirm, ErrorText, Loading, Toggle, useLoad } from './ui';

/**
 * "Enforce client authentication for passwordless connections" (Auth0's Advanced tenant setting,
 * the tenant flag of spec §2). Turning it on while callers remain asks first and names them; the
 * way back (rollback) is shown once it is on.
 */
export function EnforceSwitch({ callers, onChange }: { callers: MigrationCaller[] | undefined; onChange?: () => void }) {
  const { t } = useI18n();
  const settings = useLoad(() => ok(mgmt.GET('/api/v2/tenants/settings', {})), []);
  const [asking, setAsking] = useState(false);
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const [changed, setChanged] = useState(false);
  const on = settings.data?.flags?.[FEATURE_FLAG] === true;

  async function write(value: boolean) {
    setAsking(false);
    setBusy(true);
    setError(undefined);
    try {
      await ok(mgmt.PATCH('/api/v2/tenants/settings', { body: { flags: { [FEATURE_FLAG]: value } } }));
      setChanged(true);
      settings.reload();
      onChange?.();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  if (settings.error) return <ErrorText error={settings.error} />;
  if (!settings.data) return <Loading />;
  const remaining = callers ?? [];
  return (
    <div className="enforce">
      <Toggle
        id="enforce"
        testid="enforce-toggle"
        label={t('enforce.label')}
        checked={on}
        disabled={busy}
        onChange={(v) => (v && remaining.length > 0 ? setAsking(true) : void write(v))}
      />
      <p className="muted">{on ? t('enforce.onHelp') : t('enforce.offHelp')}</p>
      <ErrorText error={error} />
      {changed && (
        <p className="notice" role="status" data-testid="enforce-rollback">
          {on ? t('enforce.rollbackOn') : t('enforce.rollbackOff')}{' '}
          <button type="button" className="link" onClick={() => write(!on)} disabled={busy}>
            {on ? t('enforce.turnOff') : t('enforce.turnOn')}
          </button>
        </p>
      )}
      <Confirm
        open={asking}
        title={t('enforce.confirmTitle', { n: remaining.length })}
        accept={t('enforce.confirmAccept')}
        danger
        onAccept={() => write(true)}
        onCancel={() => setAsking(false)}
      >
        <p>{t('enforce.confirmBody')}</p>
        <ul>
          {remaining.map((c) => (
            <li key={`${c.client_id}-${c.classification}`}>
              <strong>{c.client_name || c.client_id}</strong> ({t(`kind.${c.classification}`)}, {t('migration.calls', { n: c.count })})
            </li>
          ))}
        </ul>
      </Confirm>
    </div>
  );
}
