import { Navigate, createBrowserRouter } from 'react-router';
import { Layout } from './components/layout';
import { Activity } from './pages/activity';
import { ApplicationDetail } from './pages/application-detail';
import { Applications } from './pages/applications';
import { ConnectionDetail } from './pages/connection-detail';
import { Connections } from './pages/connections';
import { Logs } from './pages/logs';
import { Migration } from './pages/migration';
import { Outbox } from './pages/outbox';
import { Settings } from './pages/settings';
import { UserDetail } from './pages/user-detail';
import { Users } from './pages/users';

/** Every page has its own URL under /admin/ (deep links, the back button); the server answers index.html for them. */
export const makeRouter = () =>
  createBrowserRouter(
    [
      {
        element: <Layout />,
        children: [
          { index: true, element: <Navigate to="/activity" replace /> },
          { path: 'activity', element: <Activity /> },
          { path: 'logs', element: <Logs /> },
          { path: 'migration', element: <Migration /> },
          { path: 'applications', element: <Applications /> },
          { path: 'applications/:id', element: <ApplicationDetail /> },
          { path: 'connections', element: <Connections /> },
          { path: 'connections/:id', element: <ConnectionDetail /> },
          { path: 'users', element: <Users /> },
          { path: 'users/:id', element: <UserDetail /> },
          { path: 'settings', element: <Navigate to="/settings/tenant" replace /> },
          { path: 'settings/:tab', element: <Settings /> },
          { path: 'outbox', element: <Outbox /> },
          { path: '*', element: <Navigate to="/activity" replace /> },
        ],
      },
    ],
    { basename: '/admin' },
  );
