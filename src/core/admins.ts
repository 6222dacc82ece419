import type { Services } from '../services.ts';
import type { Client, User } from './model.ts';
import { MANAGEMENT_SCOPES, managementAudience } from './scopes.ts';
import { normaliseScope } from './tokens.ts';

/**
 * Administrators of the dashboard (issue 12): the emails of SESAME_ADMIN_EMAILS plus those added
 * with `sesame admin add` (the `admins` table). Only they receive a user token for the Management
 * API, and only through the dashboard's own application (issue 10 §1: "an administrator signing in
 * to the dashboard"); the Management API checks again on every request (http/management/auth.ts).
 */

/** What /authorize answers a non-administrator (the dashboard shows its "not an admin" page on it). */
export const NOT_ADMIN = 'You are not an administrator of this Sesame';
/** What /authorize answers another application asking for the Management API audience. */
export const DASHBOARD_ONLY = 'User tokens for the Management API are only issued to the Sesame Dashboard';

/** Store setting holding the dashboard application's client_id (stable across restarts). */
export const DASHBOARD_CLIENT_SETTING = 'dashboard_client_id';

/** OIDC scopes a dashboard token may carry besides the Management ones. */
const OIDC_SCOPES = new Set(['openid', 'profile', 'email', 'offline_access']);

export interface AdminView {
  email: string;
  source: 'env' | 'database';
  created_at: string | null;
}

export const normaliseEmail = (email: string) => email.trim().toLowerCase();

/** Every administrator: configured ones first (they cannot be removed through the API). */
export async function listAdmins(s: Services): Promise<AdminView[]> {
  const stored = await s.store.listAdmins();
  const out: AdminView[] = s.config.adminEmails.map((email) => ({ email, source: 'env', created_at: null }));
  for (const a of stored) {
    if (!s.config.adminEmails.includes(a.email)) out.push({ email: a.email, source: 'database', created_at: new Date(a.created_at).toISOString() });
  }
  return out;
}

/** Whether the email names an administrator (configured or stored). */
export async function isAdminEmail(s: Services, email: string): Promise<boolean> {
  const e = normaliseEmail(email);
  return s.config.adminEmails.includes(e) || (await s.store.isStoredAdmin(e));
}

/**
 * Whether the user is an administrator now: not blocked, and an email that names one and is
 * verified — flagged so, or the identifier of an email connection, whose every sign-in proves it
 * (a user created through the API with `email_verified: false` still signs in by code or link).
 */
export async function isAdminUser(s: Services, user: User): Promise<boolean> {
  if (user.blocked || user.email === undefined) return false;
  if (user.email_verified !== true && (await s.store.getConnectionByName(user.connection))?.strategy !== 'email') return false;
  return isAdminEmail(s, user.email);
}

export async function dashboardClientId(s: Services): Promise<string | undefined> {
  return s.store.getSetting<string>(DASHBOARD_CLIENT_SETTING);
}

export async function isDashboardClient(s: Services, client: Pick<Client, 'client_id'>): Promise<boolean> {
  return (await dashboardClientId(s)) === client.client_id;
}

export const isManagementAudience = (s: Services, audience: string | undefined) => audience !== undefined && audience === managementAudience(s.issuer);

/**
 * The scope of an administrator's Management API token: the OIDC scopes asked for, plus the asked
 * Management scopes, or every Management scope when none was asked (auth0-spa-js asks only
 * `openid profile email offline_access`). Other scopes are dropped, as an API drops scopes it does
 * not define.
 */
export function adminTokenScope(requested: string): string {
  const asked = normaliseScope(requested).split(' ').filter(Boolean);
  const all: readonly string[] = MANAGEMENT_SCOPES;
  const management = asked.filter((sc) => all.includes(sc));
  return [...asked.filter((sc) => OIDC_SCOPES.has(sc)), ...(management.length ? management : all)].join(' ');
}

export type ManagementGrant = { ok: true; scope: string } | { ok: false; description: string };

/**
 * The one rule for a user token with the Management API audience, at /authorize, the code exchange
 * and every refresh: the dashboard application, and an administrator. Otherwise refused.
 */
export async function managementUserGrant(s: Services, client: Pick<Client, 'client_id'>, user: User, requested: string): Promise<ManagementGrant> {
  if (!(await isDashboardClient(s, client))) return { ok: false, description: DASHBOARD_ONLY };
  if (!(await isAdminUser(s, user))) return { ok: false, description: NOT_ADMIN };
  return { ok: true, scope: adminTokenScope(requested) };
}
