import { type Auth0Client, createAuth0Client } from '@auth0/auth0-spa-js';
// The SDK's token worker as a file of our own origin: its default is a blob: worker, which the
// dashboard's CSP (script-src 'self', no worker-src blob:) rightly refuses.
import workerUrl from '@auth0/auth0-spa-js/dist/auth0-spa-js.worker.production.js?url';

/** `GET /admin/config.json`: the public bootstrap file the server writes for the dashboard (no secrets). */
export interface DashboardConfig {
  domain: string;
  issuer: string;
  clientId: string;
  audience: string;
  devMode: boolean;
}

/** What the landing on /admin/ turned out to be. */
export type SignIn =
  | { kind: 'signed-in'; returnTo: string }
  | { kind: 'not-admin' }
  | { kind: 'signed-out' }
  | { kind: 'failed'; message: string };

const SIGNED_OUT = 'sesame-admin-signed-out';
const NOT_ADMIN = 'You are not an administrator of this Sesame';

export async function loadConfig(): Promise<DashboardConfig> {
  const res = await fetch('/admin/config.json', { cache: 'no-store' });
  if (!res.ok) throw new Error(`/admin/config.json answered ${res.status}`);
  return (await res.json()) as DashboardConfig;
}

/**
 * The dashboard is an ordinary SPA client of Sesame: auth0-spa-js unchanged, code + PKCE through the
 * hosted login page, tokens in memory only and kept alive by refresh-token rotation (issue 12).
 */
export function makeClient(config: DashboardConfig): Promise<Auth0Client> {
  const redirect = `${window.location.origin}/admin/`;
  return createAuth0Client({
    // auth0-spa-js assumes https for a bare domain; a development Sesame on http://localhost:3000 is
    // given with its scheme (the SDK then expects tokens from `${domain}/`, Sesame's issuer).
    domain: config.issuer.startsWith('http://') ? config.issuer.replace(/\/$/, '') : config.domain,
    clientId: config.clientId,
    authorizationParams: { audience: config.audience, redirect_uri: redirect },
    useRefreshTokens: true,
    cacheLocation: 'memory',
    workerUrl,
  });
}

/**
 * Finishes a redirect from /authorize if this is one; otherwise sends the browser to the login page,
 * remembering the deep link, unless the user just signed out (then a sign-in button waits).
 */
export async function landing(auth: Auth0Client): Promise<SignIn> {
  const params = new URLSearchParams(window.location.search);
  if (params.has('state') && (params.has('code') || params.has('error'))) {
    try {
      const result = await auth.handleRedirectCallback<{ returnTo?: string }>();
      return { kind: 'signed-in', returnTo: result.appState?.returnTo ?? '/' };
    } catch (err) {
      const e = err as { error?: string; error_description?: string; message?: string };
      // Sesame's /authorize answers access_denied for anyone not in SESAME_ADMIN_EMAILS or `sesame admin add`.
      if (e.error === 'access_denied' || e.error_description === NOT_ADMIN) return { kind: 'not-admin' };
      return { kind: 'failed', message: e.error_description ?? e.message ?? String(err) };
    }
  }
  if (sessionStorage.getItem(SIGNED_OUT)) {
    sessionStorage.removeItem(SIGNED_OUT);
    return { kind: 'signed-out' };
  }
  await signIn(auth);
  return new Promise(() => {}); // the page is navigating away
}

export function signIn(auth: Auth0Client): Promise<void> {
  const here = window.location.pathname.replace(/^\/admin/, '') + window.location.search;
  return auth.loginWithRedirect({ appState: { returnTo: here || '/' } });
}

/** Ends the Sesame session too (`/v2/logout`), then lands on the sign-in button rather than straight back in. */
export function signOut(auth: Auth0Client): Promise<void> {
  sessionStorage.setItem(SIGNED_OUT, '1');
  return auth.logout({ logoutParams: { returnTo: `${window.location.origin}/admin/` } });
}
