import { useI18n } from '../i18n';

/** Shown when /authorize refused the Management audience: the user signed in but is not an administrator. */
export function NotAdmin({ onSignOut }: { onSignOut(): void }) {
  const { t } = useI18n();
  return (
    <main className="center card narrow" data-testid="not-admin">
      <h1>{t('notAdmin.title')}</h1>
      <p>{t('notAdmin.body')}</p>
      <button type="button" className="primary" data-testid="sign-out" onClick={onSignOut}>
        {t('signOut')}
      </button>
    </main>
  );
}
