import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sanitizeClient, sanitizeConnection, sanitizeDocument, sanitizeGrant, sanitizeResourceServer, sanitizeTenant } from '../../src/tenant-io/sanitize.ts';

/** GET /api/v2/clients/{id} as Auth0 answers it for a regular web application (all fields Auth0 returns). */
const AUTH0_CLIENT = {
  tenant: 'acme-prod',
  global: false,
  is_token_endpoint_ip_header_trusted: false,
  name: 'Storefront',
  description: 'The shop',
  client_id: 'Xr2k9J3mQp0sN4bV7cY1zL8wE5tH6gD2',
  client_secret: 'q8w7e6r5t4y3u2i1o0p9a8s7d6f5g4h3j2k1l0z9x8c7v6b5n4m3',
  app_type: 'regular_web',
  logo_uri: 'https://shop.example/logo.png',
  is_first_party: true,
  oidc_conformant: true,
  callbacks: ['https://shop.example/callback'],
  allowed_origins: null,
  web_origins: ['https://shop.example'],
  client_aliases: [],
  allowed_clients: null,
  allowed_logout_urls: ['https://shop.example/'],
  callback_url_template: false,
  owners: ['mr|samlp|okta|will@acme.example'],
  signing_keys: [{ cert: '-----BEGIN CERTIFICATE-----\nMIIDDTCCAfWgAwIBAgIJ…\n-----END CERTIFICATE-----\n', pkcs7: '-----BEGIN PKCS7-----\n…', subject: 'deprecated' }],
  jwt_configuration: { alg: 'RS256', lifetime_in_seconds: 36000, secret_encoded: false },
  token_endpoint_auth_method: 'client_secret_post',
  client_authentication_methods: null,
  sso_disabled: false,
  cross_origin_auth: true,
  custom_login_page_on: true,
  grant_types: ['authorization_code', 'implicit', 'refresh_token', 'client_credentials', 'http://auth0.com/oauth/grant-type/passwordless/otp'],
  refresh_token: { expiration_type: 'non-expiring', leeway: 0, infinite_token_lifetime: true, infinite_idle_token_lifetime: true, token_lifetime: 31557600, idle_token_lifetime: 2592000, rotation_type: 'non-rotating' },
  native_social_login: { apple: { enabled: false }, facebook: { enabled: false } },
  organization_usage: 'deny',
  organization_require_behavior: 'no_prompt',
  oidc_backchannel_logout: { backchannel_logout_urls: ['https://shop.example/bcl'] },
  require_pushed_authorization_requests: false,
  client_metadata: { team: 'web' },
};

/** What the document keeps of it. */
const EXPECTED_CLIENT = {
  is_token_endpoint_ip_header_trusted: false,
  name: 'Storefront',
  description: 'The shop',
  app_type: 'regular_web',
  logo_uri: 'https://shop.example/logo.png',
  is_first_party: true,
  oidc_conformant: true,
  callbacks: ['https://shop.example/callback'],
  allowed_origins: [],
  web_origins: ['https://shop.example'],
  client_aliases: [],
  allowed_clients: [],
  allowed_logout_urls: ['https://shop.example/'],
  jwt_configuration: { alg: 'RS256', lifetime_in_seconds: 36000 },
  token_endpoint_auth_method: 'client_secret_post',
  sso_disabled: false,
  custom_login_page_on: true,
  grant_types: AUTH0_CLIENT.grant_types,
  refresh_token: AUTH0_CLIENT.refresh_token,
  native_social_login: AUTH0_CLIENT.native_social_login,
  organization_usage: 'deny',
  organization_require_behavior: 'no_prompt',
  require_pushed_authorization_requests: false,
  client_metadata: { team: 'web' },
  cross_origin_authentication: true,
  oidc_logout: { backchannel_logout_urls: ['https://shop.example/bcl'] },
};

describe('tenant-io sanitize: what an export leaves out (auth0-deploy-cli facts)', () => {
  it('strips an Auth0 client of ids, tenant-specific and read-only fields, and its secret', () => {
    const input = structuredClone(AUTH0_CLIENT);
    assert.deepEqual(sanitizeClient(input, { keepSecret: false }), EXPECTED_CLIENT);
    assert.deepEqual(input, AUTH0_CLIENT, 'the answer is not changed in place');
  });

  it('keeps the secret only when asked, and never the other read-only fields', () => {
    const out = sanitizeClient(AUTH0_CLIENT, { keepSecret: true });
    assert.equal(out.client_secret, AUTH0_CLIENT.client_secret);
    assert.deepEqual(Object.keys(out).sort(), [...Object.keys(EXPECTED_CLIENT), 'client_secret'].sort());
  });

  it('keeps the current name when a client has both the deprecated and the current one', () => {
    const out = sanitizeClient({ name: 'A', cross_origin_auth: true, cross_origin_authentication: false }, { keepSecret: false });
    assert.deepEqual(out, { name: 'A', cross_origin_authentication: false });
  });

  it('strips a connection of its id, refers to clients by name, drops clients it does not know', () => {
    const names = new Map([['Xr2k9J3mQp0sN4bV7cY1zL8wE5tH6gD2', 'Storefront'], ['a1', 'Admin']]);
    const connection = {
      id: 'con_0000000000000001',
      options: { email: { syntax: 'liquid', from: 'no-reply@acme.example' }, idpinitiated: { client_id: 'a1', enabled: true } },
      strategy: 'email',
      name: 'email',
      is_domain_connection: false,
      enabled_clients: ['Xr2k9J3mQp0sN4bV7cY1zL8wE5tH6gD2', 'mgmt-api-explorer', 'a1'],
      realms: ['email'],
      provisioning_ticket_url: 'https://acme-prod.auth0.com/p/ad/Xr2k9J3m',
    };
    assert.deepEqual(sanitizeConnection(connection, (id) => names.get(id)), {
      options: { email: { syntax: 'liquid', from: 'no-reply@acme.example' }, idpinitiated: { client_id: 'Admin', enabled: true } },
      strategy: 'email',
      name: 'email',
      is_domain_connection: false,
      enabled_clients: ['Admin', 'Storefront'],
      realms: ['email'],
    });
  });

  it('strips a resource server and a client grant of ids and system markers', () => {
    assert.deepEqual(
      sanitizeResourceServer({ id: '5f1e', name: 'Orders', identifier: 'https://orders.acme.example/', is_system: false, client_id: 'rs-client', token_lifetime: 600, signing_alg: 'RS256', scopes: [] }),
      { name: 'Orders', identifier: 'https://orders.acme.example/', token_lifetime: 600, signing_alg: 'RS256', scopes: [] },
    );
    assert.deepEqual(sanitizeGrant({ id: 'cgr_1', client_id: 'Storefront', audience: 'https://orders.acme.example/', scope: ['read:orders'], is_system: false }), {
      client_id: 'Storefront',
      audience: 'https://orders.acme.example/',
      scope: ['read:orders'],
    });
  });

  it('keeps only writable tenant flags, and no page or read-only runtime list', () => {
    const tenant = {
      friendly_name: 'Acme',
      support_email: 'help@acme.example',
      flags: { enforce_client_authentication_on_passwordless_start: true, enable_sso: true, universal_login: true, new_universal_login_experience_enabled: true },
      change_password: { enabled: false, html: '<html></html>' },
      guardian_mfa_page: { enabled: false, html: '' },
      error_page: { html: '', show_log_link: false, url: '' },
      sandbox_version: '18',
      sandbox_versions_available: ['18', '16', '12'],
      session_lifetime: 168,
    };
    assert.deepEqual(sanitizeTenant(tenant), {
      friendly_name: 'Acme',
      support_email: 'help@acme.example',
      flags: { enforce_client_authentication_on_passwordless_start: true, enable_sso: true },
      sandbox_version: '18',
      session_lifetime: 168,
    });
    assert.deepEqual(sanitizeTenant({ friendly_name: 'A', flags: { some_internal_flag: true } }), { friendly_name: 'A' });
  });

  it('applies the same to a file at import, keeping its secrets and names', () => {
    const doc = sanitizeDocument({
      tenant: { friendly_name: 'Acme', sandbox_versions_available: ['18'] },
      clients: [AUTH0_CLIENT],
      databases: [{ id: 'con_2', name: 'Username-Password-Authentication', strategy: 'auth0', enabled_clients: ['Storefront'] }],
      clientGrants: [{ id: 'cgr_1', client_id: 'Storefront', audience: 'https://orders.acme.example/', scope: [] }],
    });
    assert.deepEqual(doc.tenant, { friendly_name: 'Acme' });
    assert.deepEqual(doc.clients, [{ ...EXPECTED_CLIENT, client_secret: AUTH0_CLIENT.client_secret }]);
    assert.deepEqual(doc.databases, [{ name: 'Username-Password-Authentication', strategy: 'auth0', enabled_clients: ['Storefront'] }]);
    assert.deepEqual(doc.clientGrants, [{ client_id: 'Storefront', audience: 'https://orders.acme.example/', scope: [] }]);
  });
});
