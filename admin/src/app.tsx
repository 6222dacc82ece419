import type { Auth0Client } from '@auth0/auth0-spa-js';
import { useEffect, useState } from 'react';
import { RouterProvider } from 'react-router';
import { useToken } from './api/client';
import { type DashboardConfig, type SignIn, landing, loadConfig, makeClient, signIn, signOut } from './auth';
import { useI18n } from './i18n';
import { NotAdmin } from './pages/not-admin';
import { makeRouter } from './routes';
import { type Session, SessionContext } from './session';

type State = { step: 'starting' } | { step: 'failed'; message: string } | { step: 'landed'; auth: Auth0Client; config: DashboardConfig; result: SignIn; session?: Session };

export function App() {
  const { t } = useI18n();
  const [state, setState] = useState<State>({ step: 'starting' });

  useEffect(() => {
    let live = true;
    (async () => {
      const config = await loadConfig();
      const auth = await makeClient(config);
      const result = await landing(auth);
      let session: Session | undefined;
      if (result.kind === 'signed-in') {
        useToken(async (fresh) => (await auth.getTokenSilently(fresh ? { cacheMode: 'off' } : {})) as string);
        session = { auth, config, user: await auth.getUser() };
        window.history.replaceState(null, '', `/admin${result.returnTo.startsWith('/') ? result.returnTo : `/${result.returnTo}`}`);
      }
      if (live) setState({ step: 'landed', auth, config, result, session });
    })().catch((err: unknown) => live && setState({ step: 'failed', message: err instanceof Error ? err.message : String(err) }));
    return () => {
      live = false;
    };
  }, []);

  if (state.step === 'starting') return <p className="center muted">{t('loading')}</p>;
  if (state.step === 'failed') return <Problem message={state.message} />;
  const { auth, result, session } = state;
  if (result.kind === 'not-admin') return <NotAdmin onSignOut={() => signOut(auth)} />;
  if (result.kind === 'failed') return <Problem message={result.message} onRetry={() => signIn(auth)} />;
  if (result.kind === 'signed-out' || !session) {
    return (
      <main className="center card narrow">
        <h1>{t('app.title')}</h1>
        <p>{t('signin.signedOut')}</p>
        <button type="button" className="primary" onClick={() => signIn(auth)}>
          {t('signin.button')}
        </button>
      </main>
    );
  }
  return (
    <SessionContext.Provider value={session}>
      <RouterProvider router={makeRouter()} />
    </SessionContext.Provider>
  );
}

function Problem({ message, onRetry }: { message: string; onRetry?: () => void }) {
  const { t } = useI18n();
  return (
    <main className="center card narrow">
      <h1>{t('app.title')}</h1>
      <p className="error" role="alert">
        {t('signin.failed')} {message}
      </p>
      {onRetry && (
        <button type="button" className="primary" onClick={onRetry}>
          {t('signin.button')}
        </button>
      )}
    </main>
  );
}
