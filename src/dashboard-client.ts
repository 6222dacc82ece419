import { DASHBOARD_CLIENT_SETTING } from './core/admins.ts';
import { newClient } from './core/clients.ts';
import type { Client } from './core/model.ts';
import type { Services } from './services.ts';

/**
 * The dashboard's own application (issue 12): a public SPA signing in with code + PKCE through the
 * hosted login page, like any customer SPA. Created on the first start and brought back to these
 * settings at every start (and when listen() fixes the issuer), under a client_id kept in the
 * store so a signed-in browser survives restarts.
 */
export const DASHBOARD_NAME = 'Sesame Dashboard';

/** Rotation on, and shorter than the default: an administrator's session idles out within a day. */
const REFRESH_TOKEN = {
  rotation_type: 'rotating',
  expiration_type: 'expiring',
  leeway: 0,
  token_lifetime: 7 * 86_400,
  infinite_token_lifetime: false,
  idle_token_lifetime: 86_400,
  infinite_idle_token_lifetime: false,
} as const;

export const dashboardUrl = (issuer: string) => `${issuer}admin/`;

function dashboardFields(issuer: string) {
  const url = dashboardUrl(issuer);
  return {
    name: DASHBOARD_NAME,
    description: 'The administration dashboard served at /admin (managed by Sesame: changes are reset at start)',
    app_type: 'spa' as const,
    token_endpoint_auth_method: 'none' as const,
    grant_types: ['authorization_code', 'refresh_token'],
    // The SDK's redirect_uri is the page's own URL: /admin/ (or /admin, or an explicit callback route).
    callbacks: [url, url.slice(0, -1), `${url}callback`],
    allowed_logout_urls: [url, url.slice(0, -1)],
    // Origins are scheme://host[:port] only (the Management API refuses a path there, and a
    // deploy-cli export/import round trip sends these fields back).
    web_origins: [new URL(url).origin],
    allowed_origins: [new URL(url).origin],
    is_first_party: true,
    // Marks the application as Sesame's own: `sesame export` leaves it out (tenant-io/document.ts).
    client_metadata: { sesame_system: 'dashboard' },
    refresh_token: { ...REFRESH_TOKEN },
  };
}

/** Creates or updates the dashboard application and enables the `email` connection for it. */
export async function syncDashboardClient(s: Services): Promise<Client> {
  const { store } = s;
  const id = await store.getSetting<string>(DASHBOARD_CLIENT_SETTING);
  const existing = id ? await store.getClient(id) : undefined;
  const fields = dashboardFields(s.issuer);
  let client: Client;
  if (existing) {
    client = { ...existing.client, ...fields, client_authentication_methods: null, updated_at: new Date().toISOString() };
    await store.updateClient(client, null);
  } else {
    client = newClient(s.keyring, fields, id).client;
    await store.insertClient(client, null);
    if (!id) await store.putSetting(DASHBOARD_CLIENT_SETTING, client.client_id);
  }
  const email = await store.getConnectionByName('email');
  if (email && !(await store.isConnectionEnabled(email.id, client.client_id))) {
    await store.setEnabledClients(email.id, [{ client_id: client.client_id, status: true }]);
  }
  return client;
}
