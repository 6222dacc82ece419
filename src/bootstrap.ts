import { DEFAULT_APP_GRANTS, newClient } from './core/clients.ts';
import { randomId } from './core/crypto.ts';
import type { Connection } from './core/model.ts';
import { MANAGEMENT_SCOPES, managementAudience } from './core/scopes.ts';
import { syncDashboardClient } from './dashboard-client.ts';
import type { Services } from './services.ts';
import { DEFAULT_TENANT } from './store/sql/sql-store.ts';

export interface BootstrapReport {
  /** True on the very first start of this database. */
  firstStart: boolean;
  /** Generated management client, shown once (only when SESAME_BOOTSTRAP_CLIENT_* are unset). */
  managementClient?: { client_id: string; client_secret: string };
  /** The "Default App" created on first start, with its secret (shown once). */
  defaultApp?: { client_id: string; client_secret: string };
}

const BOOTSTRAPPED = 'bootstrapped_at';
const MGMT_CLIENT = 'management_client_id';

/** The default passwordless connection: Auth0's defaults (spec §4). */
export function defaultEmailConnection(): Connection {
  const now = new Date().toISOString();
  return {
    id: `con_${randomId(16)}`,
    name: 'email',
    strategy: 'email',
    options: { name: 'email', disable_signup: false, brute_force_protection: true, totp: { time_step: 180, length: 6 } },
    realms: ['email'],
    is_domain_connection: false,
    created_at: now,
    updated_at: now,
  };
}

/**
 * Seeds a new database (tenant settings, `email` connection, management client, Default App) and, at
 * every start, applies SESAME_BOOTSTRAP_CLIENT_* and keeps management grants on the current issuer.
 */
export async function bootstrap(s: Services): Promise<BootstrapReport> {
  const { store, keyring, config } = s;
  const report: BootstrapReport = { firstStart: false };
  const first = (await store.getSetting<string>(BOOTSTRAPPED)) === undefined;

  if (first) {
    report.firstStart = true;
    if ((await store.getSetting('tenant')) === undefined) await store.putSetting('tenant', DEFAULT_TENANT);
    const conn = (await store.getConnectionByName('email')) ?? defaultEmailConnection();
    if (!(await store.getConnection(conn.id))) await store.insertConnection(conn);
    const app = newClient(keyring, { name: 'Default App', app_type: 'regular_web', grant_types: DEFAULT_APP_GRANTS, callbacks: [`${s.issuer}callback`] });
    await store.insertClient(app.client, app.secretHash);
    await store.setEnabledClients(conn.id, [{ client_id: app.client.client_id, status: true }]);
    report.defaultApp = { client_id: app.client.client_id, client_secret: app.secret };
  }

  if (config.bootstrapClientId && config.bootstrapClientSecret) {
    const existing = await store.getClient(config.bootstrapClientId);
    const fields = { name: 'Sesame Management Client', app_type: 'non_interactive' as const, grant_types: ['client_credentials'] };
    const made = newClient(keyring, fields, config.bootstrapClientId, config.bootstrapClientSecret);
    if (existing) await store.updateClient({ ...existing.client, ...fields, token_endpoint_auth_method: 'client_secret_post', updated_at: made.client.updated_at }, made.secretHash);
    else await store.insertClient(made.client, made.secretHash);
    await store.putSetting(MGMT_CLIENT, config.bootstrapClientId);
  } else if (first) {
    const made = newClient(keyring, { name: 'Sesame Management Client', app_type: 'non_interactive', grant_types: ['client_credentials'] });
    await store.insertClient(made.client, made.secretHash);
    await store.putSetting(MGMT_CLIENT, made.client.client_id);
    report.managementClient = { client_id: made.client.client_id, client_secret: made.secret };
  }
  await syncManagementGrants(s);
  await syncDashboardClient(s);
  if (first) await store.putSetting(BOOTSTRAPPED, new Date().toISOString());
  return report;
}

/**
 * Management grants are stored under `<issuer>api/v2/`. The bootstrap client holds every scope on the
 * current issuer's audience. Grants on another issuer's audience are kept, never moved: a second
 * start with another port or SESAME_ISSUER on the same database (a one-off command, a test run) must
 * not take the Management API away from a server already running as the first (issue 11).
 */
export async function syncManagementGrants(s: Services): Promise<void> {
  const audience = managementAudience(s.issuer);
  const mgmt = await s.store.getSetting<string>(MGMT_CLIENT);
  if (!mgmt || !(await s.store.getClient(mgmt))) return;
  const [existing] = await s.store.listClientGrants({ clientId: mgmt, audience });
  // One grant per (client, audience): the first keeps its historical id, later ones get their own.
  const id = existing?.id ?? ((await s.store.listClientGrants({ clientId: mgmt })).length === 0 ? `cgr_mgmt_${mgmt.slice(0, 24)}` : `cgr_mgmt_${randomId(16)}`);
  await s.store.putClientGrant({ id, client_id: mgmt, audience, scope: [...MANAGEMENT_SCOPES] });
}
