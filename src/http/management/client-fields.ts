import { createPublicKey } from 'node:crypto';
import { randomId } from '../../core/crypto.ts';
import type { AppType, Client, ClientCredential, RefreshTokenConfig, TokenEndpointAuthMethod } from '../../core/model.ts';
import { DEFAULT_REFRESH_TOKEN } from '../../core/clients.ts';
import { refreshTokenConfig } from '../../core/refresh-tokens.ts';
import { invalidBody } from '../../errors/api-error.ts';
import { CUSTOM_LOGIN_PAGE_MAX } from './schemas.ts';

/** The body of POST/PATCH /clients after schema validation (schemas.ts `clientFields`). */
export interface ClientInput {
  name?: string;
  description?: string;
  app_type?: AppType;
  token_endpoint_auth_method?: TokenEndpointAuthMethod | null;
  client_authentication_methods?: { private_key_jwt?: { credentials: CredentialInput[] } } | null;
  grant_types?: string[];
  callbacks?: string[];
  allowed_origins?: string[];
  web_origins?: string[];
  allowed_logout_urls?: string[];
  is_token_endpoint_ip_header_trusted?: boolean;
  is_first_party?: boolean;
  oidc_conformant?: boolean;
  cross_origin_authentication?: boolean;
  jwt_configuration?: { alg?: 'RS256'; lifetime_in_seconds?: number };
  client_metadata?: Record<string, string>;
  /** Auth0 sends both types on every write; the other fields keep their current values when absent. null = Sesame's default. */
  refresh_token?: (Partial<RefreshTokenConfig> & Pick<RefreshTokenConfig, 'rotation_type' | 'expiration_type'>) | null;
  custom_login_page_on?: boolean;
  custom_login_page?: string;
  /** "" clears it, as for the two below. */
  cross_origin_loc?: string;
  initiate_login_uri?: string;
}

export interface CredentialInput {
  id?: string;
  credential_type?: 'public_key';
  name?: string;
  pem?: string;
  alg?: ClientCredential['alg'];
  kid?: string;
  expires_at?: string;
}

/** PKJWT: RSA keys of at least 2048 bits (RS256, RS384, PS256). */
const MIN_RSA_BITS = 2048;
const DANGEROUS_SCHEMES = new Set(['javascript:', 'data:', 'vbscript:', 'file:']);

/**
 * Applies a validated body to a client (a new one from `newClient`, or the stored one on PATCH)
 * and checks what a schema cannot express: URL shapes, PEM keys, and that
 * `token_endpoint_auth_method: null` goes with private_key_jwt credentials and only with them
 * (spec §1.2, PKJWT).
 */
export function applyClientInput(base: Client, input: ClientInput, now: string): Client {
  for (const field of ['callbacks', 'allowed_logout_urls'] as const) input[field]?.forEach((u, i) => checkUrl(`${field}[${i}]`, u, false));
  for (const field of ['allowed_origins', 'web_origins'] as const) input[field]?.forEach((u, i) => checkUrl(`${field}[${i}]`, u, true));

  const { client_authentication_methods: methods, jwt_configuration: jwt, refresh_token: refresh, cross_origin_loc: loc, initiate_login_uri: initiate, ...plain } = input;
  const next: Client = { ...base, ...plain, updated_at: now };
  if (jwt) next.jwt_configuration = { ...base.jwt_configuration, ...jwt } as Client['jwt_configuration'];
  if (refresh !== undefined) next.refresh_token = refreshPolicy(base, refresh);
  if (plain.custom_login_page !== undefined && Buffer.byteLength(plain.custom_login_page) > CUSTOM_LOGIN_PAGE_MAX) {
    throw invalidBody(`custom_login_page must be at most ${CUSTOM_LOGIN_PAGE_MAX} bytes`);
  }
  setUrl(next, 'cross_origin_loc', loc, ['https:', 'http:']);
  // OIDC Core §4: the third-party login endpoint must be https (Auth0 refuses anything else).
  setUrl(next, 'initiate_login_uri', initiate, ['https:']);

  if (methods !== undefined) {
    const existing = base.client_authentication_methods?.private_key_jwt?.credentials ?? [];
    const creds = methods?.private_key_jwt?.credentials.map((c, i) => credential(c, i, existing, now));
    next.client_authentication_methods = creds?.length ? { private_key_jwt: { credentials: creds } } : null;
    // Sending credentials means private_key_jwt, whose method is null (PKJWT).
    if (creds?.length && input.token_endpoint_auth_method === undefined) next.token_endpoint_auth_method = null;
  }

  const hasCredentials = (next.client_authentication_methods?.private_key_jwt?.credentials.length ?? 0) > 0;
  if (next.token_endpoint_auth_method === null && !hasCredentials) {
    throw invalidBody('token_endpoint_auth_method null (private_key_jwt) requires client_authentication_methods.private_key_jwt.credentials');
  }
  if (next.token_endpoint_auth_method !== null && hasCredentials) {
    throw invalidBody('token_endpoint_auth_method and client_authentication_methods are mutually exclusive: set token_endpoint_auth_method to null to use private_key_jwt');
  }
  // RFC 6749 §4.4: the client credentials grant is for confidential clients only; Auth0 refuses it
  // on a public client with this message, whichever of the two fields the write changed.
  if (next.token_endpoint_auth_method === 'none' && next.grant_types.includes('client_credentials')) {
    throw invalidBody('Invalid grant types: client_credentials');
  }
  return next;
}

/**
 * The refresh-token policy after a write: the fields sent over the current ones (Auth0 requires the
 * two types each time, so a write never half-changes the rotation), then the combinations Sesame
 * cannot honour are refused.
 */
function refreshPolicy(base: Client, input: NonNullable<ClientInput['refresh_token']> | null): RefreshTokenConfig {
  if (input === null) return { ...DEFAULT_REFRESH_TOKEN };
  const next: RefreshTokenConfig = { ...refreshTokenConfig(base), ...input };
  // A rotating family that never expires would keep every rotated-out token, forever, for reuse detection.
  if (next.rotation_type === 'rotating' && next.expiration_type !== 'expiring') {
    throw invalidBody('refresh_token.expiration_type must be "expiring" when rotation_type is "rotating"');
  }
  const finite = next.expiration_type === 'expiring' && !next.infinite_token_lifetime && !next.infinite_idle_token_lifetime;
  if (finite && next.idle_token_lifetime > next.token_lifetime) {
    throw invalidBody('refresh_token.idle_token_lifetime must not be greater than token_lifetime');
  }
  return next;
}

/** An optional absolute URL field: "" removes it; otherwise one of `schemes`, without credentials or fragment. */
function setUrl(next: Client, field: 'cross_origin_loc' | 'initiate_login_uri', value: string | undefined, schemes: string[]): void {
  if (value === undefined) return;
  if (value === '') {
    delete next[field];
    return;
  }
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw invalidBody(`${field} is not a valid URL: ${value.slice(0, 100)}`);
  }
  if (!schemes.includes(u.protocol)) throw invalidBody(`${field} must be an ${schemes.map((p) => p.slice(0, -1)).join(' or ')} URL`);
  if (u.username || u.password || u.hash) throw invalidBody(`${field} must not contain credentials or a fragment`);
  next[field] = value;
}

function credential(c: CredentialInput, index: number, existing: ClientCredential[], now: string): ClientCredential {
  const where = `client_authentication_methods.private_key_jwt.credentials[${index}]`;
  if (c.id !== undefined) {
    // An existing credential is referenced by id alone, as Auth0's PATCH does.
    if (Object.keys(c).length !== 1) throw invalidBody(`${where}: reference an existing credential by id alone`);
    const found = existing.find((e) => e.id === c.id);
    if (!found) throw invalidBody(`${where}: credential ${c.id} does not exist on this client`);
    return found;
  }
  if (c.credential_type !== 'public_key' || c.pem === undefined) throw invalidBody(`${where}: credential_type "public_key" and pem are required`);
  checkPublicKey(where, c.pem);
  if (c.expires_at !== undefined) {
    const at = Date.parse(c.expires_at);
    if (Number.isNaN(at)) throw invalidBody(`${where}.expires_at must be an ISO 8601 date`);
    if (at <= Date.parse(now)) throw invalidBody(`${where}.expires_at must be in the future`);
  }
  return {
    id: `cred_${randomId(22)}`,
    credential_type: 'public_key',
    ...(c.name !== undefined ? { name: c.name } : {}),
    pem: c.pem,
    alg: c.alg ?? 'RS256',
    ...(c.kid !== undefined ? { kid: c.kid } : {}),
    created_at: now,
    updated_at: now,
    ...(c.expires_at !== undefined ? { expires_at: new Date(c.expires_at).toISOString() } : {}),
  };
}

function checkPublicKey(where: string, pem: string): void {
  // createPublicKey would happily derive a public key from a private one: refuse private keys so a
  // pasted private key is not silently accepted (and stored).
  if (/PRIVATE KEY/.test(pem)) throw invalidBody(`${where}.pem must be a public key or certificate, not a private key`);
  let key;
  try {
    key = createPublicKey(pem);
  } catch {
    throw invalidBody(`${where}.pem is not a valid PEM public key or certificate`);
  }
  if (key.asymmetricKeyType !== 'rsa' && key.asymmetricKeyType !== 'rsa-pss') throw invalidBody(`${where}.pem must be an RSA key`);
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < MIN_RSA_BITS) throw invalidBody(`${where}.pem: RSA keys must have at least ${MIN_RSA_BITS} bits (got ${bits})`);
}

/**
 * Callback and logout URLs must be absolute URLs (custom schemes allowed for native apps, a `*`
 * subdomain wildcard allowed as on Auth0); origins must be scheme://host[:port] only.
 */
function checkUrl(where: string, value: string, originOnly: boolean): void {
  let u: URL;
  try {
    u = new URL(value.replace('://*.', '://wildcard.'));
  } catch {
    throw invalidBody(`${where} is not a valid URL: ${value.slice(0, 100)}`);
  }
  if (DANGEROUS_SCHEMES.has(u.protocol)) throw invalidBody(`${where} uses a forbidden scheme: ${u.protocol}`);
  if (originOnly && (u.origin === 'null' || !/^[a-z][a-z0-9+.-]*:\/\/[^/?#]+\/?$/i.test(value))) {
    throw invalidBody(`${where} must be an origin (scheme://host[:port]) without path, query or fragment: ${value.slice(0, 100)}`);
  }
}
