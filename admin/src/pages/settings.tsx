import { NavLink, useParams } from 'react-router';
import { type Key, useI18n } from '../i18n';
import { Admins, Apis, LogStreams, SigningKeys } from './settings-lists';
import { EmailProvider } from './email-provider';
import { Advanced, Branding, Tenant } from './settings-forms';

const TABS: { id: string; key: Key; page: () => React.JSX.Element }[] = [
  { id: 'tenant', key: 'settings.tenant', page: Tenant },
  { id: 'branding', key: 'settings.branding', page: Branding },
  { id: 'advanced', key: 'settings.advanced', page: Advanced },
  { id: 'email', key: 'settings.email', page: EmailProvider },
  { id: 'keys', key: 'settings.keys', page: SigningKeys },
  { id: 'log-streams', key: 'settings.logStreams', page: LogStreams },
  { id: 'apis', key: 'settings.apis', page: Apis },
  { id: 'admins', key: 'settings.admins', page: Admins },
];

export function Settings() {
  const { t } = useI18n();
  const { tab = 'tenant' } = useParams();
  const current = TABS.find((x) => x.id === tab) ?? TABS[0]!;
  const Page = current.page;
  return (
    <section>
      <h1>{t('nav.settings')}</h1>
      <nav className="tabs" aria-label={t('nav.settings')}>
        {TABS.map((x) => (
          <NavLink key={x.id} to={`/settings/${x.id}`} data-testid={`settings-${x.id}`}>
            {t(x.key)}
          </NavLink>
        ))}
      </nav>
      <h2>{t(current.key)}</h2>
      <Page />
    </section>
  );
}
