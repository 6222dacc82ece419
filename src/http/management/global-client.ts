import type { TenantSettings } from '../../core/model.ts';
import { ApiError, invalidBody } from '../../errors/api-error.ts';
import type { Services } from '../../services.ts';
import { DEFAULT_TENANT } from '../../store/sql/sql-store.ts';

/**
 * Auth0's "global client" (`global: true`, named "All Applications"): every Auth0 tenant has one,
 * and it is where the tenant-level custom login page lives. auth0-deploy-cli reads and writes the
 * login page through it (`GET /clients?is_global=true`, `PATCH /clients/{id}`). Sesame keeps that
 * page in its tenant settings, so its global client is a view of those two settings: it has no
 * secret, cannot sign anyone in, and accepts changes to the login page only.
 */
export const GLOBAL_CLIENT_ID = 'sesame-global-client';

export const isGlobalClient = (id: string) => id === GLOBAL_CLIENT_ID;

export function globalClientView(t: TenantSettings) {
  return {
    client_id: GLOBAL_CLIENT_ID,
    name: 'All Applications',
    global: true,
    is_first_party: true,
    callbacks: [],
    custom_login_page_on: t.custom_login_page_on === true,
    ...(t.custom_login_page !== undefined ? { custom_login_page: t.custom_login_page } : {}),
  };
}

const PAGE_FIELDS = new Set(['custom_login_page_on', 'custom_login_page']);

/** PATCH of the global client: the login page fields go to the tenant settings; anything else is a 400. */
export async function patchGlobalClient(s: Services, body: Record<string, unknown>) {
  const other = Object.keys(body).filter((k) => !PAGE_FIELDS.has(k));
  if (other.length) {
    throw invalidBody(`The global client holds only the tenant's login page (custom_login_page, custom_login_page_on); it cannot take ${other.slice(0, 5).join(', ')}`);
  }
  const next = await s.store.updateSetting<TenantSettings>('tenant', (stored) => ({ ...(stored ?? structuredClone(DEFAULT_TENANT)), ...body }));
  return globalClientView(next);
}

export const globalClientImmutable = () => new ApiError(400, 'The global client cannot be deleted and has no secret', 'operation_not_supported');
