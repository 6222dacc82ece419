import { adminTokenScope, isAdminUser } from './admins.ts';
import type { Services } from '../services.ts';
import type { ResourceServer } from '../store/types.ts';
import type { User } from './model.ts';
import { findResourceServer } from './resource-servers.ts';
import { managementAudience } from './scopes.ts';

/**
 * Scopes of OpenID Connect itself (OIDC Core §5.4, §11): they ask for claims or a refresh token,
 * not for access to an API, so they pass whatever the audience and whatever the user holds.
 */
export const OIDC_SCOPES: ReadonlySet<string> = new Set(['openid', 'profile', 'email', 'phone', 'address', 'offline_access']);

export interface UserScopeRequest {
  user: Pick<User, 'user_id'>;
  /** The API the token is for; undefined or the `/userinfo` audience = no API. */
  audience?: string | undefined;
  /** What the application asked for, space-separated. */
  requested: string;
}

export interface GrantedUserScope {
  /** Space-separated, de-duplicated, in the order asked for. */
  scope: string;
  /** Auth0's `permissions` claim (`token_dialect: access_token_authz` with RBAC on); absent otherwise. */
  permissions?: string[];
}

/**
 * Issue 10 §1: the one place a user token's scopes are decided, called for every user token
 * (passwordless OTP grant, /authorize implicit and code flows, refresh). As on Auth0:
 * - OIDC scopes always pass;
 * - an API scope passes only if the API defines it; without an API no API scope passes;
 * - with the API's `enforce_policies` (RBAC) only if the user also holds it as a permission,
 *   directly or through a role: what was asked for, intersected with what the user holds (Auth0
 *   docs, "Enable Role-Based Access Control for APIs");
 * - anything else is dropped silently, never an error.
 * Client-credentials tokens do not come here: they get what their client grant allows.
 * The Management API's audience is refused to users before this is reached (grants, /authorize),
 * and grants no API scope here either.
 */
export async function grantUserScopes(s: Services, req: UserScopeRequest): Promise<GrantedUserScope> {
  const asked = [...new Set(req.requested.split(/\s+/).filter(Boolean))];
  const oidcOnly = () => ({ scope: asked.filter((sc) => OIDC_SCOPES.has(sc)).join(' ') });
  // The Management API trusts its scopes: a user token gets none of them here (defence in depth
  // behind the grants' refusal). Issue 10's administrator rule for the dashboard plugs in here.
  // Issue 12: an administrator's dashboard token (the grants and /authorize checked the client).
  if (req.audience === managementAudience(s.issuer)) {
    const user = await s.store.getUser(req.user.user_id);
    return user && (await isAdminUser(s, user)) ? { scope: adminTokenScope(req.requested) } : oidcOnly();
  }
  const api = req.audience ? await findResourceServer(s, req.audience) : undefined;
  if (!api) return oidcOnly();

  const allowed = await allowedApiScopes(s, api, req.user.user_id);
  const scope = asked.filter((sc) => OIDC_SCOPES.has(sc) || allowed.has(sc)).join(' ');
  // Auth0 lists every permission the user holds on the API, asked for or not.
  if (api.enforce_policies && api.token_dialect === 'access_token_authz') return { scope, permissions: [...allowed] };
  return { scope };
}

/** The API scopes this user may be given: all the API defines, or with RBAC those the user holds. */
async function allowedApiScopes(s: Services, api: ResourceServer, userId: string): Promise<Set<string>> {
  const defined = api.scopes.map((sc) => sc.value);
  if (!api.enforce_policies) return new Set(defined);
  const held = new Set(await s.store.userPermissionNames(userId, api.identifier));
  return new Set(defined.filter((name) => held.has(name)));
}
