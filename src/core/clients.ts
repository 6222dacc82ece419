import type { Keyring } from './crypto.ts';
import { randomId, randomSecret } from './crypto.ts';
import { type AppType, type Client, PASSWORDLESS_OTP_GRANT, type RefreshTokenConfig, type TokenEndpointAuthMethod } from './model.ts';

export const SECRET_PURPOSE = 'client-secret';

/** Auth0's defaults by application type (GRANTS): public apps authenticate with `none`. */
export function defaultAuthMethod(appType: AppType): TokenEndpointAuthMethod {
  return appType === 'spa' || appType === 'native' ? 'none' : 'client_secret_post';
}

export function defaultGrantTypes(appType: AppType): string[] {
  switch (appType) {
    case 'non_interactive':
      return ['client_credentials'];
    // Public clients (token_endpoint_auth_method none) cannot hold a secret, so no client_credentials
    // (RFC 6749 §4.4; Auth0 gives public clients exactly these three).
    case 'spa':
    case 'native':
      return ['authorization_code', 'implicit', 'refresh_token'];
    default:
      return ['authorization_code', 'implicit', 'refresh_token', 'client_credentials'];
  }
}

/**
 * Sesame's refresh-token policy when a client sets none (issue 3 §6): rotation with reuse detection
 * and no leeway, and the lifetimes Auth0 applies when rotation is on (30 days absolute, 15 days
 * idle). Auth0's own default is non-rotating; Sesame starts from the safer setting.
 */
export const DEFAULT_REFRESH_TOKEN: Readonly<RefreshTokenConfig> = Object.freeze({
  rotation_type: 'rotating',
  expiration_type: 'expiring',
  leeway: 0,
  token_lifetime: 2_592_000,
  infinite_token_lifetime: false,
  idle_token_lifetime: 1_296_000,
  infinite_idle_token_lifetime: false,
});

/**
 * A new client with Auth0's defaults. The secret (256-bit) is returned once; only its keyed hash is
 * stored (spec §5: secrets returned only on create and rotate).
 */
export function newClient(
  keyring: Keyring,
  fields: Partial<Client> & { name: string; app_type: AppType },
  clientId: string = randomId(32),
  secret: string = randomSecret(),
): { client: Client; secret: string; secretHash: string } {
  const now = new Date().toISOString();
  const client: Client = {
    client_id: clientId,
    name: fields.name,
    description: fields.description ?? '',
    app_type: fields.app_type,
    token_endpoint_auth_method: fields.token_endpoint_auth_method !== undefined ? fields.token_endpoint_auth_method : defaultAuthMethod(fields.app_type),
    client_authentication_methods: fields.client_authentication_methods ?? null,
    grant_types: fields.grant_types ?? defaultGrantTypes(fields.app_type),
    callbacks: fields.callbacks ?? [],
    allowed_origins: fields.allowed_origins ?? [],
    web_origins: fields.web_origins ?? [],
    allowed_logout_urls: fields.allowed_logout_urls ?? [],
    is_token_endpoint_ip_header_trusted: fields.is_token_endpoint_ip_header_trusted ?? false,
    is_first_party: fields.is_first_party ?? true,
    oidc_conformant: fields.oidc_conformant ?? true,
    cross_origin_authentication: fields.cross_origin_authentication ?? false,
    jwt_configuration: fields.jwt_configuration ?? { alg: 'RS256', lifetime_in_seconds: 36000 },
    client_metadata: fields.client_metadata ?? {},
    refresh_token: { ...DEFAULT_REFRESH_TOKEN, ...fields.refresh_token },
    // Optional page fields: absent unless set (absent custom_login_page_on = the hosted page).
    ...pick(fields, 'custom_login_page_on', 'custom_login_page', 'cross_origin_loc', 'initiate_login_uri'),
    created_at: now,
    updated_at: now,
  };
  return { client, secret, secretHash: keyring.hash(SECRET_PURPOSE, secret) };
}

function pick<K extends keyof Client>(from: Partial<Client>, ...keys: K[]): Partial<Pick<Client, K>> {
  return Object.fromEntries(keys.filter((k) => from[k] !== undefined).map((k) => [k, from[k]])) as Partial<Pick<Client, K>>;
}

export const DEFAULT_APP_GRANTS = ['authorization_code', 'refresh_token', PASSWORDLESS_OTP_GRANT];
