import { OAuthError } from '../errors/oauth-error.ts';
import type { Services } from '../services.ts';
import type { ResourceServer } from '../store/types.ts';
import { MANAGEMENT_SCOPES, managementAudience } from './scopes.ts';

/** Auth0's default `token_lifetime` for an API, in seconds. */
export const DEFAULT_TOKEN_LIFETIME_S = 86_400;

/** A resource server as the Management API shows it: stored ones, and the system Management API. */
export type ResourceServerView = ResourceServer & { is_system: boolean };

/** A fixed id: the Management API is not stored and its identifier follows the issuer. */
export const SYSTEM_RESOURCE_SERVER_ID = 'sesame-management-api';

/** `read:client_grants` → "Read Client Grants", the wording Auth0 lists the Management API's scopes with. */
const describeScope = (value: string) =>
  value.split(/[:_]/).map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join(' ');

/**
 * The Management API (`<issuer>api/v2/`) exists implicitly on every tenant (spec §5), as on Auth0
 * where GET /resource-servers lists it with `is_system: true`. It cannot be changed or deleted.
 */
export function systemResourceServer(issuer: string): ResourceServerView {
  return {
    id: SYSTEM_RESOURCE_SERVER_ID,
    name: 'Auth0 Management API',
    identifier: managementAudience(issuer),
    scopes: MANAGEMENT_SCOPES.map((value) => ({ value, description: describeScope(value) })),
    token_lifetime: DEFAULT_TOKEN_LIFETIME_S,
    signing_alg: 'RS256',
    allow_offline_access: false,
    skip_consent_for_verifiable_first_party_clients: false,
    enforce_policies: false,
    token_dialect: 'access_token',
    is_system: true,
  };
}

/** The resource server an audience names (the system one included), or undefined. One cached read. */
export async function findResourceServer(s: Services, audience: string): Promise<ResourceServer | undefined> {
  if (audience === managementAudience(s.issuer)) return systemResourceServer(s.issuer);
  return s.store.getResourceServer(audience);
}

/**
 * Issue 4 §4: an `audience` at the token endpoint must name an API, else Auth0's
 * `403 {"error":"access_denied","error_description":"Service not found: <aud>"}`.
 */
export async function requireResourceServer(s: Services, audience: string): Promise<ResourceServer> {
  const found = await findResourceServer(s, audience);
  if (!found) throw serviceNotFound(audience);
  return found;
}

export const serviceNotFoundText = (audience: string) => `Service not found: ${audience.slice(0, 300)}`;
export const serviceNotFound = (audience: string) => new OAuthError(403, 'access_denied', serviceNotFoundText(audience));
