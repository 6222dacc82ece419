import type { ComponentType } from 'react';
import { Navigate, createBrowserRouter } from 'react-router';
import { Layout } from './components/layout';
import { Activity } from './pages/activity';

/**
 * A page's code is fetched when the page is first opened (react-router's `lazy`): the first screen
 * carries the shell and the Activity page only, which keeps the bundle the browser must load first lean.
 */
const page =
  <K extends string>(load: () => Promise<Record<K, ComponentType>>, name: K) =>
  async () => ({ Component: (await load())[name] });

/** Every page has its own URL under /admin/ (deep links, the back button); the server answers index.html for them. */
export const makeRouter = () =>
  createBrowserRouter(
    [
      {
        element: <Layout />,
        children: [
          { index: true, element: <Navigate to="/activity" replace /> },
          { path: 'activity', element: <Activity /> },
          { path: 'logs', lazy: page(() => import('./pages/logs'), 'Logs') },
          { path: 'migration', lazy: page(() => import('./pages/migration'), 'Migration') },
          { path: 'applications', lazy: page(() => import('./pages/applications'), 'Applications') },
          { path: 'applications/:id', lazy: page(() => import('./pages/application-detail'), 'ApplicationDetail') },
          { path: 'connections', lazy: page(() => import('./pages/connections'), 'Connections') },
          { path: 'connections/:id', lazy: page(() => import('./pages/connection-detail'), 'ConnectionDetail') },
          { path: 'users', lazy: page(() => import('./pages/users'), 'Users') },
          { path: 'users/:id', lazy: page(() => import('./pages/user-detail'), 'UserDetail') },
          { path: 'settings', element: <Navigate to="/settings/tenant" replace /> },
          { path: 'settings/:tab', lazy: page(() => import('./pages/settings'), 'Settings') },
          { path: 'outbox', lazy: page(() => import('./pages/outbox'), 'Outbox') },
          { path: '*', element: <Navigate to="/activity" replace /> },
        ],
      },
    ],
    { basename: '/admin' },
  );
