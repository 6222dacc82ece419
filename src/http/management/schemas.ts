/**
 * JSON schemas of the Management API (spec §5).
 *
 * Requests: `additionalProperties: false` wherever Auth0 rejects unknown fields, so a field Sesame
 * does not implement is an error rather than silently dropped configuration. Bodies are validated
 * without type coercion (validation.ts).
 *
 * Responses: every route serialises through one of the *View schemas, which list the fields that
 * may leave the server. Anything else on the object (a secret hash, a PEM, `smtp_pass`) is dropped
 * by the serialiser (STYLE.md §7), so a handler cannot leak it by accident.
 */

const str = (maxLength: number, extra: object = {}) => ({ type: 'string', maxLength, ...extra });
const bool = { type: 'boolean' } as const;
const int = { type: 'integer' } as const;
const text = { type: 'string' } as const;
const nullableText = { type: ['string', 'null'] } as const;
const textList = { type: 'array', items: text } as const;
/** `{a: text, b: text…}`: most view fields are plain strings. */
const texts = (...names: string[]) => Object.fromEntries(names.map((n) => [n, text]));
/** Free-form JSON objects (metadata, connection options, log details) pass through whole. */
const anyObject = { type: 'object', additionalProperties: true } as const;
/** Auth0's metadata maps: at most 10 string values of ≤ 255 characters. */
const stringMap = { type: 'object', maxProperties: 10, propertyNames: { maxLength: 255 }, additionalProperties: str(255) } as const;

export const idParams = {
  type: 'object',
  properties: { id: str(256, { minLength: 1 }) },
  required: ['id'],
} as const;

// clients ------------------------------------------------------------------------------------------

export const APP_TYPES = ['spa', 'native', 'regular_web', 'non_interactive'] as const;
export const AUTH_METHODS = ['none', 'client_secret_post', 'client_secret_basic'] as const;
export const CREDENTIAL_ALGS = ['RS256', 'RS384', 'PS256'] as const;
/** Auth0's grant type names (GRANTS); a typo is an error rather than a client that cannot log in. */
export const GRANT_TYPES = [
  'authorization_code', 'implicit', 'refresh_token', 'client_credentials', 'password',
  'http://auth0.com/oauth/grant-type/password-realm', 'http://auth0.com/oauth/grant-type/passwordless/otp',
  'http://auth0.com/oauth/grant-type/mfa-oob', 'http://auth0.com/oauth/grant-type/mfa-otp',
  'http://auth0.com/oauth/grant-type/mfa-recovery-code', 'urn:ietf:params:oauth:grant-type:device_code',
] as const;

const urlList = { type: 'array', maxItems: 100, items: str(1024, { minLength: 1 }) } as const;

/** A private_key_jwt credential: new (`credential_type` + `pem`) or, on PATCH, an existing `{id}`. */
const credentialInput = {
  type: 'object',
  additionalProperties: false,
  properties: {
    id: str(64),
    credential_type: { enum: ['public_key'] },
    name: str(128),
    pem: str(16_384),
    alg: { enum: CREDENTIAL_ALGS },
    kid: str(64, { minLength: 1 }),
    expires_at: str(40),
  },
} as const;

/** Auth0's `ClientRefreshTokenConfiguration`: lifetimes in seconds, at most 5 years as on Auth0. */
const lifetime = { type: 'integer', minimum: 1, maximum: 157_788_000 } as const;
const REFRESH_TOKEN_FIELDS = {
  rotation_type: { enum: ['rotating', 'non-rotating'] },
  expiration_type: { enum: ['expiring', 'non-expiring'] },
  leeway: { type: 'integer', minimum: 0, maximum: 157_788_000 },
  token_lifetime: lifetime,
  infinite_token_lifetime: bool,
  idle_token_lifetime: lifetime,
  infinite_idle_token_lifetime: bool,
} as const;
/** Auth0 requires both types on every write; null resets to Sesame's default (client-fields.ts). */
const refreshTokenInput = { type: ['object', 'null'], additionalProperties: false, required: ['rotation_type', 'expiration_type'], properties: REFRESH_TOKEN_FIELDS } as const;
/** Auth0's limit on the classic custom login page (characters here; client-fields.ts checks UTF-8 bytes). */
export const CUSTOM_LOGIN_PAGE_MAX = 102_400;
/** POST/PATCH /clients bodies may carry that page, JSON-escaped: above the server's default 64 KB limit. */
export const CLIENT_BODY_LIMIT = 1024 * 1024;

const clientFields = {
  name: str(255, { minLength: 1, pattern: '^[^<>]+$' }),
  description: str(140),
  app_type: { enum: APP_TYPES },
  token_endpoint_auth_method: { enum: [...AUTH_METHODS, null] },
  client_authentication_methods: {
    type: ['object', 'null'],
    additionalProperties: false,
    properties: {
      private_key_jwt: {
        type: 'object',
        additionalProperties: false,
        required: ['credentials'],
        // PKJWT: at most two credentials per client, so keys can be rotated without downtime.
        properties: { credentials: { type: 'array', minItems: 1, maxItems: 2, items: credentialInput } },
      },
    },
  },
  grant_types: { type: 'array', maxItems: GRANT_TYPES.length, uniqueItems: true, items: { enum: GRANT_TYPES } },
  callbacks: urlList,
  allowed_origins: urlList,
  web_origins: urlList,
  allowed_logout_urls: urlList,
  is_token_endpoint_ip_header_trusted: bool,
  is_first_party: bool,
  oidc_conformant: bool,
  cross_origin_authentication: bool,
  jwt_configuration: {
    type: 'object',
    additionalProperties: false,
    properties: { alg: { enum: ['RS256'] }, lifetime_in_seconds: { type: 'integer', minimum: 1, maximum: 2_592_000 } },
  },
  client_metadata: stringMap,
  refresh_token: refreshTokenInput,
  custom_login_page_on: bool,
  custom_login_page: str(CUSTOM_LOGIN_PAGE_MAX),
  cross_origin_loc: str(2048),
  initiate_login_uri: str(2048),
} as const;

export const clientCreateBody = { type: 'object', additionalProperties: false, required: ['name'], properties: clientFields } as const;
export const clientPatchBody = { type: 'object', additionalProperties: false, properties: clientFields } as const;

export const credentialView = {
  type: 'object',
  properties: { ...texts('id', 'name', 'credential_type', 'kid', 'alg', 'created_at', 'updated_at'), expires_at: nullableText },
} as const;

export const clientView = {
  type: 'object',
  properties: {
    ...texts('client_id', 'tenant', 'name', 'description', 'app_type'),
    token_endpoint_auth_method: nullableText,
    client_authentication_methods: {
      type: ['object', 'null'],
      properties: { private_key_jwt: { type: 'object', properties: { credentials: { type: 'array', items: credentialView } } } },
    },
    grant_types: textList,
    callbacks: textList,
    allowed_origins: textList,
    web_origins: textList,
    allowed_logout_urls: textList,
    is_token_endpoint_ip_header_trusted: bool,
    is_first_party: bool,
    /** Only on the global client (http/management/global-client.ts). */
    global: bool,
    oidc_conformant: bool,
    cross_origin_authentication: bool,
    jwt_configuration: { type: 'object', properties: { alg: text, lifetime_in_seconds: int } },
    client_metadata: { type: 'object', additionalProperties: text },
    refresh_token: { type: 'object', properties: { ...texts('rotation_type', 'expiration_type'), leeway: int, token_lifetime: int, infinite_token_lifetime: bool, idle_token_lifetime: int, infinite_idle_token_lifetime: bool } },
    custom_login_page_on: bool,
    ...texts('custom_login_page', 'cross_origin_loc', 'initiate_login_uri'),
  },
} as const;

/** Only POST /clients and POST /clients/{id}/rotate-secret answer with the secret (spec §5). */
export const clientWithSecretView = { ...clientView, properties: { ...clientView.properties, client_secret: text } } as const;

// client grants ------------------------------------------------------------------------------------

const scopeList = { type: 'array', maxItems: 500, uniqueItems: true, items: str(280, { minLength: 1, pattern: '^\\S+$' }) } as const;

export const clientGrantCreateBody = {
  type: 'object',
  additionalProperties: false,
  required: ['client_id', 'audience', 'scope'],
  properties: { client_id: str(64, { minLength: 1 }), audience: str(600, { minLength: 1 }), scope: scopeList },
} as const;
export const clientGrantPatchBody = { type: 'object', additionalProperties: false, properties: { scope: scopeList } } as const;
export const clientGrantView = { type: 'object', properties: { id: text, client_id: text, audience: text, scope: textList } } as const;

// connections --------------------------------------------------------------------------------------

/** Auth0's rule: letters, digits and `-`, not at either end, at most 128 characters. */
const connectionName = str(128, { minLength: 1, pattern: '^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$' });

const connectionFields = {
  display_name: str(128),
  options: anyObject,
  enabled_clients: { type: 'array', maxItems: 1000, uniqueItems: true, items: str(64, { minLength: 1 }) },
  realms: { type: 'array', maxItems: 10, items: str(128, { minLength: 1 }) },
  is_domain_connection: bool,
  metadata: stringMap,
} as const;

export const connectionCreateBody = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'strategy'],
  properties: { name: connectionName, strategy: str(64, { minLength: 1 }), ...connectionFields },
} as const;
/** Auth0 refuses `name` and `strategy` on PATCH: they are not in the schema, so they are rejected. */
export const connectionPatchBody = { type: 'object', additionalProperties: false, properties: connectionFields } as const;

/** PATCH /connections/{id}/clients: at most 50 changes per call (spec §5). */
export const enabledClientsPatchBody = {
  type: 'array',
  maxItems: 50,
  items: {
    type: 'object',
    additionalProperties: false,
    required: ['client_id', 'status'],
    properties: { client_id: str(64, { minLength: 1 }), status: bool },
  },
} as const;

export const connectionView = {
  type: 'object',
  properties: {
    id: text,
    name: text,
    display_name: text,
    strategy: text,
    options: anyObject,
    enabled_clients: textList,
    realms: textList,
    is_domain_connection: bool,
    metadata: { type: 'object', additionalProperties: text },
  },
} as const;

export const enabledClientsView = {
  type: 'object',
  properties: { clients: { type: 'array', items: { type: 'object', properties: { client_id: text } } }, next: text },
} as const;

// tenant settings ----------------------------------------------------------------------------------

export const tenantPatchBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    friendly_name: str(255),
    support_email: str(254),
    support_url: str(2048),
    picture_url: str(2048),
    default_audience: str(600),
    // Unknown flag names are stored as Auth0 does; values must be booleans.
    flags: { type: 'object', maxProperties: 100, propertyNames: { maxLength: 100, pattern: '^[A-Za-z0-9_]+$' }, additionalProperties: bool },
    // Where /v2/logout may return to without a client_id (issue 3 §6); URL shapes are checked in tenant-settings.ts.
    allowed_logout_urls: urlList,
    // Auth0's classic custom login page (issue 3 §3), here as a tenant setting.
    custom_login_page_on: bool,
    custom_login_page: str(CUSTOM_LOGIN_PAGE_MAX),
    // Issue 5 §4: SMS sends per rolling 24 h for the whole tenant (0 stops every SMS).
    sms_daily_budget: { type: 'integer', minimum: 0, maximum: 1_000_000_000 },
    // Issue 11: the country the hosted page's phone step starts with (null: the browser's).
    default_phone_country: { type: ['string', 'null'], pattern: '^[A-Z]{2}$' },
    // Auth0: the languages Universal Login may use, the first being the default; checked against
    // the languages Sesame's pages speak in tenant-settings.ts.
    enabled_locales: { type: 'array', minItems: 1, maxItems: 100, uniqueItems: true, items: str(35) },
    universal_login: {
      type: 'object',
      additionalProperties: false,
      properties: { passwordless: { type: 'object', additionalProperties: false, properties: { allow_magiclink_verify_without_session: bool } } },
    },
  },
} as const;

export const tenantView = {
  type: 'object',
  properties: {
    ...texts('friendly_name', 'support_email', 'support_url', 'picture_url', 'default_audience'),
    flags: { type: 'object', additionalProperties: bool },
    allowed_logout_urls: textList,
    custom_login_page_on: bool,
    custom_login_page: text,
    sms_daily_budget: { type: 'integer' },
    default_phone_country: text,
    enabled_locales: textList,
    universal_login: { type: 'object', properties: { passwordless: { type: 'object', properties: { allow_magiclink_verify_without_session: bool } } } },
  },
} as const;

// email provider -----------------------------------------------------------------------------------

const providerFields = {
  name: str(64, { minLength: 1 }),
  enabled: bool,
  default_from_address: str(320),
  // Checked per provider in email-provider.ts (mail/providers/catalog.ts), so an unsupported
  // provider is named as such rather than met with a complaint about its api_key.
  credentials: anyObject,
  settings: {
    type: 'object',
    additionalProperties: false,
    properties: {
      headers: { type: 'object', maxProperties: 20, additionalProperties: str(998) },
      // Auth0's `ses` setting (its SES configuration set), and mandrill's, accepted for imports.
      message: { type: 'object', additionalProperties: false, properties: { configuration_set_name: str(64), view_control_link: bool } },
    },
  },
} as const;

export const emailProviderCreateBody = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'credentials'],
  properties: providerFields,
} as const;
export const emailProviderPatchBody = { type: 'object', additionalProperties: false, properties: providerFields } as const;

/**
 * The secrets (`smtp_pass`, `api_key`, `secretAccessKey`, `server_token`) are not listed, so they
 * are never serialised (spec §5: GET hides them); the rest is shown as set, for exports.
 */
export const emailProviderView = {
  type: 'object',
  properties: {
    name: text,
    enabled: bool,
    default_from_address: text,
    credentials: {
      type: 'object',
      properties: { smtp_host: text, smtp_port: int, smtp_user: text, domain: text, accessKeyId: text, region: { type: ['string', 'null'] } },
    },
    settings: anyObject,
  },
} as const;

// users --------------------------------------------------------------------------------------------

const userFields = {
  email_verified: bool,
  phone_verified: bool,
  blocked: bool,
  user_metadata: anyObject,
  app_metadata: anyObject,
  name: str(300),
  nickname: str(300),
  picture: str(2048),
} as const;

export const userCreateBody = {
  type: 'object',
  additionalProperties: false,
  // `email` on an email connection, `phone_number` on an sms one (spec §4 Users, PL-LIM): users.ts checks which.
  required: ['connection'],
  properties: { connection: str(128, { minLength: 1 }), email: str(254, { minLength: 3 }), phone_number: str(32, { minLength: 2 }), ...userFields },
} as const;
export const userPatchBody = { type: 'object', additionalProperties: false, properties: userFields } as const;

export const userView = {
  type: 'object',
  properties: {
    ...texts('user_id', 'email', 'phone_number', 'name', 'nickname', 'picture', 'created_at', 'updated_at', 'last_login', 'last_ip'),
    email_verified: bool,
    phone_verified: bool,
    identities: {
      type: 'array',
      items: { type: 'object', properties: { connection: text, user_id: text, provider: text, isSocial: bool } },
    },
    logins_count: int,
    blocked: bool,
    user_metadata: anyObject,
    app_metadata: anyObject,
  },
} as const;

// logs ---------------------------------------------------------------------------------------------

export const logView = {
  type: 'object',
  properties: {
    ...texts('log_id', 'date', 'type', 'description', 'client_id', 'client_name', 'connection', 'connection_id', 'ip', 'hostname'),
    ...texts('user_agent', 'user_id', 'user_name', 'audience', 'scope', 'strategy', 'strategy_type'),
    isMobile: bool,
    auth0_client: { type: 'object', properties: { name: text, version: text, env: { type: 'object', additionalProperties: text } } },
    details: anyObject,
  },
} as const;
