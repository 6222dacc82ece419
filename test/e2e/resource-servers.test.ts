import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManagementApiError, ManagementClient } from 'auth0';
import { decodeJwt } from 'jose';
import { PASSWORDLESS_OTP_GRANT } from '../../src/core/model.ts';
import { backendMatrix } from '../helpers/backends.ts';
import { MGMT } from '../helpers/boot.ts';
import { createClient, uniqueEmail } from '../helpers/fixtures.ts';
import { useMailServer } from '../helpers/mail-server.ts';
import { type SinkMessage, extractCode } from '../helpers/smtp-sink.ts';
import { makeTestCert, trustedFetch } from '../helpers/tls.ts';

type Json = Record<string, any>;
let n = 0;
const unique = (tag: string) => `https://${tag}-${Date.now().toString(36)}-${++n}.example/`;

/**
 * Issue 4 §4: `/api/v2/resource-servers` (over HTTP and through the official ManagementClient), and
 * the audience rule at /authorize and the token endpoint: an audience must name an API ("Service not
 * found: <aud>" otherwise) and the API's `token_lifetime` is exactly the access token's lifetime.
 * Over HTTPS, because the SDK only speaks https; every request trusts the test certificate.
 */
const cert = await makeTestCert();
const tlsEnv = { SESAME_TLS_CERT: cert.certPath, SESAME_TLS_KEY: cert.keyPath };
const tfetch = trustedFetch(cert.ca);

for (const { backend, skip } of await backendMatrix()) {
  describe(`resource servers and the audience rule [${backend}]`, { skip }, () => {
    const ctx = useMailServer(backend, { env: tlsEnv });
    const taken = new Set<SinkMessage>();
    let token: string | undefined;

    const post = (path: string, body: unknown) =>
      tfetch(`${ctx.server.baseUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    async function mgmtToken(): Promise<string> {
      token ??= ((await (await post('/oauth/token', { grant_type: 'client_credentials', ...MGMT, audience: `${ctx.server.issuer}api/v2/` })).json()) as Json).access_token as string;
      return token;
    }
    async function call(method: string, path: string, body?: unknown, bearer?: string): Promise<{ status: number; json: any }> {
      const res = await tfetch(`${ctx.server.baseUrl}/api/v2${path}`, {
        method,
        headers: { authorization: `Bearer ${bearer ?? (await mgmtToken())}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const text = await res.text();
      return { status: res.status, json: text ? JSON.parse(text) : undefined };
    }
    async function created(body: Json): Promise<Json> {
      const r = await call('POST', '/resource-servers', body);
      assert.equal(r.status, 201, JSON.stringify(r.json));
      return r.json;
    }
    async function startCode(email: string, authParams: Json = {}): Promise<string> {
      const res = await post('/passwordless/start', { ...ctx.server.defaultApp, connection: 'email', email, send: 'code', authParams });
      assert.equal(res.status, 200, await res.clone().text());
      const mail = await ctx.sink.waitFor((m) => m.to === email && !taken.has(m));
      taken.add(mail);
      return extractCode(mail);
    }
    const otp = (email: string, code: string, extra: Json = {}) =>
      post('/oauth/token', { grant_type: PASSWORDLESS_OTP_GRANT, ...ctx.server.defaultApp, username: email, otp: code, realm: 'email', ...extra });
    const serviceNotFound = (aud: string) => ({ error: 'access_denied', error_description: `Service not found: ${aud}` });

    it('creates, reads, lists, updates and deletes APIs in Auth0’s shape; the Management API is listed read-only', async () => {
      const identifier = unique('orders');
      const rs = await created({ identifier, name: 'Orders', scopes: [{ value: 'read:orders', description: 'Read orders' }] });
      assert.match(rs.id, /^[0-9a-f]{24}$/);
      assert.deepEqual(rs, {
        id: rs.id, name: 'Orders', identifier, is_system: false, scopes: [{ value: 'read:orders', description: 'Read orders' }],
        token_lifetime: 86400, signing_alg: 'RS256', allow_offline_access: false, skip_consent_for_verifiable_first_party_clients: false,
        enforce_policies: false, token_dialect: 'access_token',
      });
      // By id and by identifier, as on Auth0.
      assert.deepEqual((await call('GET', `/resource-servers/${rs.id}`)).json, rs);
      assert.deepEqual((await call('GET', `/resource-servers/${encodeURIComponent(identifier)}`)).json, rs);

      const list = (await call('GET', '/resource-servers?per_page=100')).json as Json[];
      assert.ok(list.some((r) => r.id === rs.id));
      const system = list.find((r) => r.is_system === true);
      assert.equal(system?.identifier, `${ctx.server.issuer}api/v2/`);
      assert.ok(system.scopes.some((sc: Json) => sc.value === 'read:resource_servers'));
      const totals = (await call('GET', '/resource-servers?per_page=1&include_totals=true')).json;
      assert.deepEqual([totals.total, totals.resource_servers.length], [list.length, 1]);
      // Every item appears exactly once across the pages.
      const paged: string[] = [];
      for (let page = 0; page < list.length; page++) paged.push(...((await call('GET', `/resource-servers?per_page=1&page=${page}`)).json as Json[]).map((r) => r.id));
      assert.deepEqual(paged.sort(), list.map((r) => r.id).sort());

      const patched = await call('PATCH', `/resource-servers/${rs.id}`, { name: 'Orders v2', token_lifetime: 600, allow_offline_access: true, signing_alg: 'RS256' });
      assert.equal(patched.status, 200);
      assert.deepEqual([patched.json.name, patched.json.token_lifetime, patched.json.allow_offline_access, patched.json.identifier], ['Orders v2', 600, true, identifier]);

      // Refusals, in Auth0's envelope.
      const expect = async (r: Promise<{ status: number; json: any }>, status: number, errorCode: string, message?: RegExp) => {
        const got = await r;
        assert.deepEqual([got.status, got.json.statusCode, got.json.errorCode], [status, status, errorCode], JSON.stringify(got.json));
        if (message) assert.match(got.json.message, message);
      };
      await expect(call('POST', '/resource-servers', { identifier, name: 'again' }), 409, 'conflict', /same identifier/);
      await expect(call('POST', '/resource-servers', { identifier: `${ctx.server.issuer}api/v2/` }), 409, 'conflict');
      await expect(call('POST', '/resource-servers', { identifier: unique('hs'), signing_alg: 'HS256' }), 400, 'invalid_body', /only RS256/);
      await expect(call('POST', '/resource-servers', { name: 'no identifier' }), 400, 'invalid_body', /Missing required property: identifier/);
      await expect(call('POST', '/resource-servers', { identifier: unique('x'), token_lifetime: 0 }), 400, 'invalid_body');
      await expect(call('POST', '/resource-servers', { identifier: unique('x'), scopes: [{ value: 'a' }, { value: 'a', description: 'twice' }] }), 400, 'invalid_body', /Duplicate scope/);
      await expect(call('PATCH', `/resource-servers/${rs.id}`, { identifier: unique('moved') }), 400, 'invalid_body', /Additional properties not allowed: identifier/);
      await expect(call('PATCH', `/resource-servers/${rs.id}`, { signing_alg: 'PS256' }), 400, 'invalid_body');
      await expect(call('PATCH', `/resource-servers/${system.id}`, { name: 'mine now' }), 400, 'operation_not_supported');
      await expect(call('DELETE', `/resource-servers/${encodeURIComponent(system.identifier)}`), 400, 'operation_not_supported');
      await expect(call('GET', '/resource-servers/nope'), 404, 'inexistent_resource_server');

      // Scopes: a token without read:resource_servers is refused.
      const { client, secret } = await createClient(ctx.server, { app_type: 'non_interactive', grant_types: ['client_credentials'] }, { enableOn: null });
      assert.equal((await call('POST', '/client-grants', { client_id: client.client_id, audience: `${ctx.server.issuer}api/v2/`, scope: ['read:clients'] })).status, 201);
      const narrow = ((await (await post('/oauth/token', { grant_type: 'client_credentials', client_id: client.client_id, client_secret: secret, audience: `${ctx.server.issuer}api/v2/` })).json()) as Json).access_token;
      await expect(call('GET', '/resource-servers', undefined, narrow), 403, 'insufficient_scope');

      assert.equal((await call('DELETE', `/resource-servers/${rs.id}`)).status, 204);
      await expect(call('GET', `/resource-servers/${rs.id}`), 404, 'inexistent_resource_server');
      await expect(call('DELETE', `/resource-servers/${rs.id}`), 404, 'inexistent_resource_server');
    });

    it('OTP exchange: an unknown audience is "Service not found" without spending the code; an API sets the token lifetime', async () => {
      const email = uniqueEmail('aud');
      const code = await startCode(email);
      const missing = unique('missing');
      const refused = await otp(email, code, { audience: missing });
      assert.deepEqual({ status: refused.status, body: await refused.json() }, { status: 403, body: serviceNotFound(missing) });

      const api = await created({ identifier: unique('short'), token_lifetime: 900 });
      const res = await otp(email, code, { audience: api.identifier, scope: 'openid' });
      assert.equal(res.status, 200, await res.clone().text());
      const body = (await res.json()) as Json;
      assert.equal(body.expires_in, 900);
      const claims = decodeJwt(body.access_token);
      assert.equal(claims.exp! - claims.iat!, 900);
      assert.deepEqual(claims.aud, [api.identifier, `${ctx.server.issuer}userinfo`]);

      // An audience remembered from start is checked at the exchange too (here: deleted in between).
      const later = uniqueEmail('aud-later');
      const gone = await created({ identifier: unique('gone') });
      const laterCode = await startCode(later, { audience: gone.identifier });
      assert.equal((await call('DELETE', `/resource-servers/${gone.id}`)).status, 204);
      const late = await otp(later, laterCode);
      assert.deepEqual({ status: late.status, body: await late.json() }, { status: 403, body: serviceNotFound(gone.identifier) });
      // No audience keeps Auth0's default lifetime.
      const plain = uniqueEmail('plain');
      const def = (await (await otp(plain, await startCode(plain))).json()) as Json;
      assert.equal(def.expires_in, 86400);
    });

    it('client_credentials: the audience must be an API (Management API included); its token_lifetime applies', async () => {
      const { client, secret } = await createClient(ctx.server, { app_type: 'non_interactive', grant_types: ['client_credentials'] }, { enableOn: null });
      const cc = (audience: string) => post('/oauth/token', { grant_type: 'client_credentials', client_id: client.client_id, client_secret: secret, audience });
      const unknown = unique('nowhere');
      // Even with a grant for it, an audience that is no API is refused.
      assert.equal((await call('POST', '/client-grants', { client_id: client.client_id, audience: unknown, scope: ['x:y'] })).status, 201);
      const refused = await cc(unknown);
      assert.deepEqual({ status: refused.status, body: await refused.json() }, { status: 403, body: serviceNotFound(unknown) });

      const api = await created({ identifier: unique('m2m'), token_lifetime: 1200, scopes: [{ value: 'read:things' }] });
      const noGrant = (await (await cc(api.identifier)).json()) as Json;
      assert.equal(noGrant.error, 'access_denied');
      assert.match(noGrant.error_description, /^Client is not authorized to access/);
      assert.equal((await call('POST', '/client-grants', { client_id: client.client_id, audience: api.identifier, scope: ['read:things'] })).status, 201);
      const ok = (await (await cc(api.identifier)).json()) as Json;
      assert.equal(ok.expires_in, 1200);
      const claims = decodeJwt(ok.access_token);
      assert.deepEqual([claims.aud, claims.exp! - claims.iat!, claims.scope], [api.identifier, 1200, 'read:things']);
      // Deleting the API takes its grants with it.
      assert.equal((await call('DELETE', `/resource-servers/${api.id}`)).status, 204);
      assert.deepEqual((await call('GET', `/client-grants?audience=${encodeURIComponent(api.identifier)}`)).json, []);
    });

    it('/authorize sends an unknown audience back to the app as access_denied', async () => {
      const callback = 'https://app.example/callback';
      const { client } = await createClient(ctx.server, { app_type: 'regular_web', callbacks: [callback], grant_types: ['authorization_code'] });
      const authorize = (audience: string) =>
        tfetch(`${ctx.server.baseUrl}/authorize?${new URLSearchParams({ client_id: client.client_id, redirect_uri: callback, response_type: 'code', state: 'st', audience })}`);
      const missing = unique('spa-api');
      const res = await authorize(missing);
      assert.equal(res.status, 302);
      const to = new URL(res.headers.get('location') ?? '');
      assert.equal(`${to.origin}${to.pathname}`, callback);
      assert.deepEqual([to.searchParams.get('error'), to.searchParams.get('error_description'), to.searchParams.get('state')], ['access_denied', `Service not found: ${missing}`, 'st']);
      const api = await created({ identifier: unique('spa-api') });
      const ok = await authorize(api.identifier);
      assert.equal(ok.status, 302);
      assert.match(ok.headers.get('location') ?? '', /^\/login\?/);
    });

    it('the official ManagementClient manages resource servers', async () => {
      const domain = new URL(ctx.server.issuer).host;
      const sdk = new ManagementClient({ domain, clientId: MGMT.client_id, clientSecret: MGMT.client_secret, fetch: tfetch, retry: { enabled: false } });
      const identifier = unique('sdk');
      const { data: rs, status } = await sdk.resourceServers.create({ name: 'SDK API', identifier, scopes: [{ value: 'read:a', description: 'Read A' }], token_lifetime: 3600 });
      assert.equal(status, 201);
      assert.deepEqual([rs.identifier, rs.token_lifetime, rs.signing_alg], [identifier, 3600, 'RS256']);
      const { data: all } = await sdk.resourceServers.getAll({ per_page: 100 });
      assert.ok(all.some((r) => r.id === rs.id) && all.some((r) => r.is_system === true));
      const { data: updated } = await sdk.resourceServers.update({ id: rs.id! }, { name: 'SDK API v2', skip_consent_for_verifiable_first_party_clients: true });
      assert.deepEqual([updated.name, updated.skip_consent_for_verifiable_first_party_clients], ['SDK API v2', true]);
      await sdk.resourceServers.delete({ id: rs.id! });
      try {
        await sdk.resourceServers.get({ id: rs.id! });
        assert.fail('the deleted API was still found');
      } catch (err) {
        assert.ok(err instanceof ManagementApiError, String(err));
        assert.deepEqual([err.statusCode, err.errorCode], [404, 'inexistent_resource_server']);
      }
    });
  });
}
