/** Domain records as the Management API shows them (Auth0 field names, spec §5). */

export type AppType = 'spa' | 'native' | 'regular_web' | 'non_interactive';
export type TokenEndpointAuthMethod = 'none' | 'client_secret_post' | 'client_secret_basic';

export const PASSWORDLESS_OTP_GRANT = 'http://auth0.com/oauth/grant-type/passwordless/otp';

export interface ClientCredential {
  id: string;
  name?: string;
  credential_type: 'public_key';
  /** PEM of the registered public key (SPKI or certificate). */
  pem: string;
  alg?: 'RS256' | 'RS384' | 'PS256';
  kid?: string;
  created_at: string;
  updated_at: string;
  expires_at?: string | null;
}

export interface Client {
  client_id: string;
  tenant?: string;
  name: string;
  description: string;
  app_type: AppType;
  /** null when the client authenticates with private_key_jwt (spec §1.2, PKJWT). */
  token_endpoint_auth_method: TokenEndpointAuthMethod | null;
  client_authentication_methods: { private_key_jwt?: { credentials: ClientCredential[] } } | null;
  grant_types: string[];
  callbacks: string[];
  allowed_origins: string[];
  web_origins: string[];
  allowed_logout_urls: string[];
  is_token_endpoint_ip_header_trusted: boolean;
  is_first_party: boolean;
  oidc_conformant: boolean;
  cross_origin_authentication: boolean;
  jwt_configuration: { alg: 'RS256'; lifetime_in_seconds: number };
  client_metadata: Record<string, string>;
  /** Refresh-token policy (Auth0's shape); absent on clients stored before it existed = Sesame's default. */
  refresh_token?: RefreshTokenConfig;
  /** Auth0's classic custom login page (on the tenant's global client): the page replaces the hosted one. */
  custom_login_page_on?: boolean;
  custom_login_page?: string;
  /** Where auth0-js's cross-origin verification page lives when the app hosts it (spec §3.6). */
  cross_origin_loc?: string;
  /** OIDC third-party initiated login: the app's https URL that starts a login (OIDC Core §4). */
  initiate_login_uri?: string;
  created_at: string;
  updated_at: string;
}

/**
 * Auth0's `client.refresh_token`. Lifetimes are seconds. `leeway` is how long a rotated-out token
 * may still be exchanged (concurrent requests, lost responses) before it counts as reuse.
 */
export interface RefreshTokenConfig {
  rotation_type: 'rotating' | 'non-rotating';
  expiration_type: 'expiring' | 'non-expiring';
  leeway: number;
  /** Absolute lifetime of a token family, counted from the login. */
  token_lifetime: number;
  infinite_token_lifetime: boolean;
  /** Inactivity lifetime: a token unused for this long expires. */
  idle_token_lifetime: number;
  infinite_idle_token_lifetime: boolean;
}

export interface Connection {
  id: string;
  name: string;
  strategy: string;
  display_name?: string;
  options: Record<string, unknown>;
  realms: string[];
  is_domain_connection: boolean;
  metadata?: Record<string, string>;
  created_at: string;
  updated_at: string;
}

export interface TenantSettings {
  friendly_name: string;
  support_email?: string;
  flags: Record<string, boolean>;
  [key: string]: unknown;
}

export interface User {
  user_id: string;
  /** connection name, e.g. `email` */
  connection: string;
  email?: string;
  email_verified?: boolean;
  phone_number?: string;
  phone_verified?: boolean;
  name?: string;
  nickname?: string;
  picture?: string;
  blocked?: boolean;
  user_metadata: Record<string, unknown>;
  app_metadata: Record<string, unknown>;
  created_at: string;
  updated_at: string;
  last_login?: string;
  last_ip?: string;
  logins_count: number;
}

/** A log event, shaped as Auth0's `GET /api/v2/logs` items (spec §5, §6). */
export interface LogEvent {
  log_id: string;
  date: string;
  type: string;
  description: string;
  client_id?: string;
  client_name?: string;
  connection?: string;
  connection_id?: string;
  ip?: string;
  hostname?: string;
  user_agent?: string;
  user_id?: string;
  user_name?: string;
  audience?: string;
  scope?: string;
  strategy?: string;
  strategy_type?: string;
  isMobile?: boolean;
  auth0_client?: { name?: string; version?: string; env?: Record<string, string> };
  details?: Record<string, unknown>;
}

export const isPublicApp = (c: Pick<Client, 'app_type'>) => c.app_type === 'spa' || c.app_type === 'native';

/**
 * Confidential = regular_web / non_interactive whose authentication method is not `none`
 * (spec §1.2, APPS): a private_key_jwt client (method null) is confidential too.
 */
export const isConfidential = (c: Pick<Client, 'app_type' | 'token_endpoint_auth_method'>) =>
  !isPublicApp(c) && c.token_endpoint_auth_method !== 'none';
