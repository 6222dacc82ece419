import type { Auth0Client, User } from '@auth0/auth0-spa-js';
import { createContext, useContext } from 'react';
import type { DashboardConfig } from './auth';

export interface Session {
  auth: Auth0Client;
  config: DashboardConfig;
  user: User | undefined;
}

export const SessionContext = createContext<Session | undefined>(undefined);

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside the signed-in app');
  return s;
}
