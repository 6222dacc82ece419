import { NavLink, Outlet, useLocation } from 'react-router';
import { signOut } from '../auth';
import { type Key, type Lang, useI18n } from '../i18n';
import { useSession } from '../session';
import { useEffect, useRef } from 'react';

const NAV: { to: string; key: Key; testid: string; dev?: boolean }[] = [
  { to: '/activity', key: 'nav.activity', testid: 'nav-activity' },
  { to: '/logs', key: 'nav.logs', testid: 'nav-logs' },
  { to: '/migration', key: 'nav.migration', testid: 'nav-migration' },
  { to: '/applications', key: 'nav.applications', testid: 'nav-applications' },
  { to: '/connections', key: 'nav.connections', testid: 'nav-connections' },
  { to: '/users', key: 'nav.users', testid: 'nav-users' },
  { to: '/settings', key: 'nav.settings', testid: 'nav-settings' },
  { to: '/outbox', key: 'nav.outbox', testid: 'nav-outbox', dev: true },
];

export function Layout() {
  const { t, lang, setLang } = useI18n();
  const { auth, config, user } = useSession();
  const main = useRef<HTMLElement>(null);
  const { pathname } = useLocation();
  // A new page moves focus to its content, so keyboard and screen-reader users start there.
  useEffect(() => {
    main.current?.focus({ preventScroll: true });
  }, [pathname]);
  return (
    <div className="shell">
      <a className="skip" href="#main">
        {t('skip')}
      </a>
      <header className="top">
        <span className="brand">{t('app.title')}</span>
        <span className="who">{user?.email}</span>
        <label className="lang">
          <span className="sr-only">{t('language')}</span>
          <select value={lang} onChange={(e) => setLang(e.target.value as Lang)}>
            <option value="en">English</option>
            <option value="fr">Français</option>
          </select>
        </label>
        <button type="button" data-testid="sign-out" onClick={() => signOut(auth)}>
          {t('signOut')}
        </button>
      </header>
      <nav className="side" aria-label={t('nav.label')}>
        <ul>
          {NAV.filter((n) => !n.dev || config.devMode).map((n) => (
            <li key={n.to}>
              <NavLink to={n.to} data-testid={n.testid}>
                {t(n.key)}
              </NavLink>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" ref={main} tabIndex={-1}>
        <Outlet />
      </main>
    </div>
  );
}
