import { useI18n } from '../i18n';
import { Modal } from './ui';

/**
 * A client secret, shown once (Sesame stores only a keyed hash: src/core/keyring.ts), with a copy
 * button: right after an application is created and after each rotation.
 */
export function SecretShown({ secret, title, onDone }: { secret: string | undefined; title?: string; onDone(): void }) {
  const { t } = useI18n();
  return (
    <Modal open={secret !== undefined} title={title ?? t('apps.newSecret')} onClose={onDone}>
      <p>{t('apps.secretOnce')}</p>
      <p>
        <code className="secret" data-testid="secret-value">
          {secret}
        </code>
      </p>
      <div className="actions">
        <button type="button" onClick={() => void navigator.clipboard?.writeText(secret ?? '')}>
          {t('copy')}
        </button>
        <button type="button" className="primary" onClick={onDone}>
          {t('done')}
        </button>
      </div>
    </Modal>
  );
}
