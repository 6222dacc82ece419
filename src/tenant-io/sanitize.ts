/**
 * What an export leaves out of each object the Management API answers, so that the document
 * imports cleanly into another tenant, Auth0 or Sesame (issue 4 §3). The lists are the fields
 * auth0-deploy-cli strips (its handlers' `identifiers`, `stripCreateFields`/`stripUpdateFields`,
 * its tenant page keys and flag allowlist): ids, tenant-specific values and read-only fields that
 * Auth0 returns but refuses on create or update. Applied to the file at import too, so a document
 * written by another tool or by hand does not try to write them.
 */
import type { Obj, TenantDoc } from './document.ts';

/**
 * Client fields the server assigns or owns: `client_id` (matched by name instead), `tenant`,
 * `global`, `owners`, `callback_url_template` and `signing_keys` (the tenant's certificate),
 * `resource_server_identifier` (set by the API it belongs to), timestamps, and
 * `client_authentication_methods`, which carries key ids and no PEM and so cannot be re-imported.
 */
export const CLIENT_READ_ONLY = [
  'client_id',
  'tenant',
  'global',
  'owners',
  'callback_url_template',
  'signing_keys',
  'resource_server_identifier',
  'created_at',
  'updated_at',
  'client_authentication_methods',
] as const;
/** Nested read-only client fields (deploy-cli: `jwt_configuration.secret_encoded`). */
const CLIENT_READ_ONLY_NESTED: Record<string, string[]> = { jwt_configuration: ['secret_encoded'] };
/** Deprecated client field names and what Auth0 calls them now (deploy-cli renames them the same way). */
const CLIENT_RENAMED: Record<string, string> = { cross_origin_auth: 'cross_origin_authentication', oidc_backchannel_logout: 'oidc_logout' };
/** URL lists Auth0 may answer as null; deploy-cli writes them as empty lists. */
const CLIENT_LISTS = ['allowed_clients', 'allowed_logout_urls', 'allowed_origins', 'callbacks'];

/** `id` (matched by name), `provisioning_ticket_url` (AD/LDAP connector ticket, per tenant). */
export const CONNECTION_READ_ONLY = ['id', 'provisioning_ticket_url', 'created_at', 'updated_at'] as const;
/** `id` (matched by identifier), `is_system`, and `client_id`, the API's own read-only client. */
export const RESOURCE_SERVER_READ_ONLY = ['id', 'is_system', 'client_id', 'created_at', 'updated_at'] as const;
/** `id` (matched by client name and audience) and `is_system`. */
export const GRANT_READ_ONLY = ['id', 'is_system', 'created_at', 'updated_at'] as const;
/**
 * Tenant settings that are not settings of the tenant's configuration: the hosted pages (deploy-cli
 * manages them as `pages`, and refuses them in `tenant`), and `sandbox_versions_available`, the
 * list of runtimes Auth0 offers, which is read-only.
 */
export const TENANT_READ_ONLY = ['change_password', 'guardian_mfa_page', 'error_page', 'login', 'password_reset', 'guardian_multifactor', 'sandbox_versions_available'] as const;
/**
 * The tenant flags that may be written (deploy-cli's allowlist: the flags Auth0 documents for
 * PATCH /tenants/settings). Others are internal to the tenant they were read from.
 */
export const TENANT_FLAGS = [
  'change_pwd_flow_v1', 'enable_client_connections', 'enable_apis_section', 'enable_pipeline2', 'enable_dynamic_client_registration',
  'enable_custom_domain_in_emails', 'allow_legacy_tokeninfo_endpoint', 'enable_legacy_profile', 'enable_idtoken_api2',
  'enable_public_signup_user_exists_error', 'allow_legacy_delegation_grant_types', 'allow_legacy_ro_grant_types', 'enable_sso',
  'disable_clickjack_protection_headers', 'no_disclose_enterprise_connections', 'disable_management_api_sms_obfuscation',
  'enforce_client_authentication_on_passwordless_start', 'trust_azure_adfs_email_verified_connection_property',
  'enable_adfs_waad_email_verification', 'revoke_refresh_token_grant', 'dashboard_log_streams_next', 'dashboard_insights_view',
  'disable_fields_map_fix', 'require_pushed_authorization_requests', 'mfa_show_factor_list_on_enrollment',
];

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const omit = (o: Obj, keys: readonly string[]): Obj => Object.fromEntries(Object.entries(o).filter(([k]) => !keys.includes(k)));

/** A client as a document holds it: read-only fields out, deprecated names renamed, null lists as []. */
export function sanitizeClient(client: Obj, opts: { keepSecret: boolean }): Obj {
  const out = omit(client, opts.keepSecret ? CLIENT_READ_ONLY : [...CLIENT_READ_ONLY, 'client_secret']);
  for (const [field, nested] of Object.entries(CLIENT_READ_ONLY_NESTED)) {
    if (isObj(out[field])) out[field] = omit(out[field], nested);
  }
  for (const [old, now] of Object.entries(CLIENT_RENAMED)) {
    if (!(old in out)) continue;
    if (!(now in out)) out[now] = out[old];
    delete out[old];
  }
  for (const list of CLIENT_LISTS) if (list in out && out[list] === null) out[list] = [];
  return out;
}

/**
 * A connection as a document holds it: read-only fields out, client ids → client names in
 * `enabled_clients` and `options.idpinitiated.client_id` (deploy-cli's references by name).
 * `name(id)` answers undefined for a client the document does not hold (the Management API client).
 */
export function sanitizeConnection(connection: Obj, name?: (clientId: string) => string | undefined): Obj {
  const out = omit(connection, CONNECTION_READ_ONLY);
  if (!name) return out;
  if (Array.isArray(out.enabled_clients)) {
    out.enabled_clients = (out.enabled_clients as unknown[]).flatMap((id) => name(String(id)) ?? []).sort();
  }
  const options = out.options;
  if (isObj(options) && isObj(options.idpinitiated) && typeof options.idpinitiated.client_id === 'string') {
    const id = options.idpinitiated.client_id;
    out.options = { ...options, idpinitiated: { ...options.idpinitiated, client_id: name(id) ?? id } };
  }
  return out;
}

/**
 * An SMS connection's provider secrets (`twilio_token`, `gateway_authentication.secret`) are
 * secrets like a client's: exported only with `--include-secrets` (issue 4 §3, issue 5 §1).
 */
export function stripConnectionSecrets(connection: Obj): Obj {
  const options = connection.options;
  if (!isObj(options)) return connection;
  const out: Obj = omit(options, ['twilio_token']);
  if (isObj(options.gateway_authentication)) out.gateway_authentication = omit(options.gateway_authentication, ['secret']);
  return { ...connection, options: out };
}

/**
 * Options for a PATCH, which replaces them whole (spec §4): secrets the file leaves out are the
 * live connection's, so importing an export made without secrets never wipes them.
 */
export function keepConnectionSecrets(options: Obj, live: unknown): Obj {
  if (!isObj(live)) return options;
  const out: Obj = { ...options };
  if (out.twilio_token === undefined && typeof live.twilio_token === 'string') out.twilio_token = live.twilio_token;
  const auth = out.gateway_authentication;
  const liveAuth = live.gateway_authentication;
  if (isObj(auth) && isObj(liveAuth) && auth.secret === undefined && typeof liveAuth.secret === 'string') {
    out.gateway_authentication = { ...auth, secret: liveAuth.secret };
  }
  return out;
}

export const sanitizeResourceServer = (rs: Obj): Obj => omit(rs, RESOURCE_SERVER_READ_ONLY);
export const sanitizeGrant = (grant: Obj): Obj => omit(grant, GRANT_READ_ONLY);

/** Tenant settings without the page keys and read-only lists, and only the writable flags. */
export function sanitizeTenant(tenant: Obj): Obj {
  const out = omit(tenant, TENANT_READ_ONLY);
  if (isObj(out.flags)) {
    const flags = Object.fromEntries(Object.entries(out.flags).filter(([k]) => TENANT_FLAGS.includes(k)));
    if (Object.keys(flags).length) out.flags = flags;
    else delete out.flags;
  }
  return out;
}

/**
 * A document read from a file, with the same fields left out as an export leaves out (a file from
 * another tool, an older export or a hand-edited one). Client secrets stay: the file may carry
 * them on purpose (`--include-secrets`). References stay names.
 */
export function sanitizeDocument(doc: TenantDoc): TenantDoc {
  const out: TenantDoc = { ...doc };
  if (doc.tenant) out.tenant = sanitizeTenant(doc.tenant);
  if (doc.clients) out.clients = doc.clients.map((c) => sanitizeClient(c, { keepSecret: true }));
  if (doc.connections) out.connections = doc.connections.map((c) => sanitizeConnection(c));
  if (doc.databases) out.databases = doc.databases.map((c) => sanitizeConnection(c));
  if (doc.resourceServers) out.resourceServers = doc.resourceServers.map(sanitizeResourceServer);
  if (doc.clientGrants) out.clientGrants = doc.clientGrants.map(sanitizeGrant);
  return out;
}
