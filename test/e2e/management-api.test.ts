import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { SignJWT, createRemoteJWKSet, decodeJwt, generateKeyPair, jwtVerify } from 'jose';
import { SECRET_PURPOSE } from '../../src/core/clients.ts';
import { MANAGEMENT_SCOPES } from '../../src/core/scopes.ts';
import type { EmailProvider } from '../../src/store/types.ts';
import { backendMatrix } from '../helpers/backends.ts';
import { MGMT, type TestServer, bootServer } from '../helpers/boot.ts';
import { rsaKeyPair, uniqueEmail } from '../helpers/fixtures.ts';

/** Parsed response JSON: the tests assert its shape, so it is loosely typed on purpose. */
type Json = Record<string, any>;
interface Reply {
  status: number;
  text: string;
  json: any;
  headers: Headers;
}

const DEPRECATION_FLAG = 'enforce_client_authentication_on_passwordless_start';
const CC_GRANT_HINT = 'You need to create a "client-grant" associated to this API. See: https://auth0.com/docs/api/v2#!/Client_Grants/post_client_grants';
let n = 0;
const unique = (tag: string) => `${tag}-${Date.now().toString(36)}-${++n}`;

for (const { backend, skip } of await backendMatrix()) {
  describe(`Management API /api/v2 [${backend}]`, { skip }, () => {
    let server: TestServer;
    let admin: string;
    /** Every client secret handed out in this file: none may ever appear on a GET or a list. */
    const secrets: string[] = [];
    before(async () => {
      server = await bootServer({ backend, env: { SESAME_START_LIMIT_PER_HOUR: '0' } });
      admin = await server.mgmtToken();
      secrets.push(MGMT.client_secret, server.defaultApp.client_secret);
    });
    after(async () => server?.close());

    const audience = () => `${server.issuer}api/v2/`;
    async function call(method: string, path: string, body?: unknown, token: string | null = admin, headers: Record<string, string> = {}): Promise<Reply> {
      const res = await fetch(`${server.baseUrl}/api/v2${path}`, {
        method,
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...headers,
        },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await res.text();
      let json: unknown;
      try {
        json = text ? JSON.parse(text) : undefined;
      } catch {
        json = undefined;
      }
      return { status: res.status, text, json, headers: res.headers };
    }
    /** Asserts Auth0's error envelope (spec §5) and returns the message. */
    function expectError(r: Reply, status: number, errorCode?: string): string {
      assert.equal(r.status, status, r.text);
      assert.equal(r.json.statusCode, status, r.text);
      assert.equal(typeof r.json.error, 'string');
      assert.equal(typeof r.json.message, 'string');
      if (errorCode !== undefined) assert.equal(r.json.errorCode, errorCode, r.text);
      return r.json.message as string;
    }
    const tokenRequest = (body: Json) => server.post('/oauth/token', { grant_type: 'client_credentials', ...body });
    /** A machine client created over the API, holding a grant for `scopes` on `aud` (or none). */
    async function machineClient(scopes: string[] | null, aud = audience()): Promise<{ client_id: string; client_secret: string }> {
      const created = await call('POST', '/clients', { name: unique('m2m'), app_type: 'non_interactive' });
      assert.equal(created.status, 201, created.text);
      secrets.push(created.json.client_secret);
      if (scopes) assert.equal((await call('POST', '/client-grants', { client_id: created.json.client_id, audience: aud, scope: scopes })).status, 201);
      return { client_id: created.json.client_id, client_secret: created.json.client_secret };
    }
    async function tokenWith(scopes: string[]): Promise<string> {
      const res = await tokenRequest({ ...(await machineClient(scopes)), audience: audience() });
      assert.equal(res.status, 200);
      return ((await res.json()) as Json).access_token;
    }
    const logs = async (type: string, clientId: string) => (await server.services.store.logsAfter(null, 100_000)).filter((l) => l.type === type && l.client_id === clientId);

    describe('authentication and scopes', () => {
      it('answers 401 without a valid Management API token', async () => {
        assert.equal(expectError(await call('GET', '/clients', undefined, null), 401), 'Missing authentication');
        assert.equal(expectError(await call('GET', '/clients', undefined, null, { authorization: `Basic ${btoa('a:b')}` }), 401), 'Bad HTTP authentication header format');
        assert.equal(expectError(await call('GET', '/clients', undefined, 'not-a-jwt'), 401), 'Invalid token');

        const now = Math.floor(Date.now() / 1000);
        const claims = { iss: server.issuer, sub: `${MGMT.client_id}@clients`, aud: audience(), scope: 'read:clients', gty: 'client-credentials', iat: now };
        const sign = (payload: Json) => server.services.keys.sign(payload);
        assert.equal(expectError(await call('GET', '/clients', undefined, await sign({ ...claims, iat: now - 7200, exp: now - 3600 })), 401), 'Expired token received for JSON Web Token validation');
        assert.match(expectError(await call('GET', '/clients', undefined, await sign({ ...claims, exp: now + 60, aud: `${server.issuer}userinfo` })), 401), /^Bad audience/);
        assert.equal(expectError(await call('GET', '/clients', undefined, await sign({ ...claims, exp: now + 60, iss: 'https://evil.example/' })), 401), 'Invalid token');
        // A token whose `gty` is not client-credentials (a user token) never acts on the Management API.
        const { gty: _gty, ...userish } = claims;
        assert.equal(expectError(await call('GET', '/clients', undefined, await sign({ ...userish, exp: now + 60 })), 401), 'Invalid token');
        // Signed by another key, with Sesame's kid: a forged token.
        const { privateKey } = await generateKeyPair('RS256');
        const kid = server.services.keys.jwks().keys[0]!.kid!;
        const forged = await new SignJWT({ ...claims, exp: now + 60 }).setProtectedHeader({ alg: 'RS256', kid }).sign(privateKey);
        assert.equal(expectError(await call('GET', '/clients', undefined, forged), 401), 'Invalid signature received for JSON Web Token validation');
        const unsigned = `${btoa(JSON.stringify({ alg: 'none' }))}.${btoa(JSON.stringify({ ...claims, exp: now + 60 }))}.`.replace(/=/g, '');
        expectError(await call('GET', '/clients', undefined, unsigned), 401);
      });

      it('enforces scopes: read:clients may list but not PATCH (403 insufficient_scope)', async () => {
        const reader = await tokenWith(['read:clients']);
        assert.equal((await call('GET', '/clients', undefined, reader)).status, 200);
        const denied = await call('PATCH', `/clients/${server.defaultApp.client_id}`, { description: 'x' }, reader);
        assert.equal(expectError(denied, 403, 'insufficient_scope'), 'Insufficient scope, expected any of: update:clients');
        // 401/403 come before validation: a bad body from an unauthorised caller reveals nothing.
        expectError(await call('PATCH', `/clients/${server.defaultApp.client_id}`, { bogus: true }, reader), 403, 'insufficient_scope');
        expectError(await call('PATCH', `/clients/${server.defaultApp.client_id}`, { bogus: true }, null), 401);
        expectError(await call('GET', '/logs', undefined, reader), 403, 'insufficient_scope');
        expectError(await call('GET', '/tenants/settings', undefined, reader), 403, 'insufficient_scope');
        // read:logs_users is enough for logs, as on Auth0.
        assert.equal((await call('GET', '/logs?per_page=1', undefined, await tokenWith(['read:logs_users']))).status, 200);
      });
    });

    describe('client_credentials on /oauth/token', () => {
      it('mints an RS256 token for a granted audience with the granted scopes, and logs seccft', async () => {
        const m2m = await machineClient(['read:clients', 'read:logs']);
        const res = await tokenRequest({ ...m2m, audience: audience() });
        assert.equal(res.status, 200);
        const body = (await res.json()) as Json;
        assert.deepEqual(Object.keys(body).sort(), ['access_token', 'expires_in', 'scope', 'token_type']);
        assert.deepEqual([body.expires_in, body.scope, body.token_type], [86400, 'read:clients read:logs', 'Bearer']);
        const jwks = createRemoteJWKSet(new URL(`${server.issuer}.well-known/jwks.json`));
        const { payload, protectedHeader } = await jwtVerify(body.access_token, jwks, { issuer: server.issuer, audience: audience(), algorithms: ['RS256'] });
        assert.ok(protectedHeader.kid);
        assert.equal(payload.sub, `${m2m.client_id}@clients`);
        assert.equal(payload.azp, m2m.client_id);
        assert.equal(payload.gty, 'client-credentials');
        assert.equal(payload.exp! - payload.iat!, 86400);
        const [log] = await logs('seccft', m2m.client_id);
        assert.equal(log?.audience, audience());
        assert.equal(log?.scope, 'read:clients read:logs');
        assert.deepEqual(log?.details, { access_token_jti: payload.jti });
        assert.ok(!JSON.stringify(await server.services.store.logsAfter(null, 100_000)).includes(body.access_token), 'no log holds a token');
      });

      it('narrows to the requested scopes, dropping ungranted ones', async () => {
        const m2m = await machineClient(['read:clients', 'read:logs']);
        const scopeOf = async (scope: string) => ((await (await tokenRequest({ ...m2m, audience: audience(), scope })).json()) as Json).scope;
        assert.equal(await scopeOf('read:logs'), 'read:logs');
        assert.equal(await scopeOf('read:logs delete:clients read:logs'), 'read:logs');
        assert.equal(await scopeOf('delete:clients'), '');
        const narrowed = decodeJwt(((await (await tokenRequest({ ...m2m, audience: audience(), scope: 'read:logs' })).json()) as Json).access_token);
        assert.equal(narrowed.scope, 'read:logs');
      });

      it('refuses a missing audience and an ungranted one with Auth0 errors, logging feccft', async () => {
        const m2m = await machineClient(null);
        let res = await tokenRequest(m2m);
        assert.deepEqual({ status: res.status, body: await res.json() }, {
          status: 403,
          body: { error: 'access_denied', error_description: 'No audience parameter was provided, and no default audience has been configured' },
        });
        res = await tokenRequest({ ...m2m, audience: audience() });
        assert.deepEqual({ status: res.status, body: await res.json() }, {
          status: 403,
          body: { error: 'access_denied', error_description: `Client is not authorized to access "${audience()}". ${CC_GRANT_HINT}` },
        });
        res = await tokenRequest({ ...m2m, audience: ['x'] });
        assert.equal(res.status, 400);
        res = await tokenRequest({ ...m2m, audience: 'a\u0000b' });
        assert.equal(res.status, 400);
        const failures = await logs('feccft', m2m.client_id);
        // The NUL audience is refused at the boundary, before the grant: three failures reached it.
        assert.equal(failures.length, 3);
        assert.ok(failures.some((l) => l.audience === audience() && l.description.startsWith('Client is not authorized')));
        // Wrong secrets and disallowed grant types never reach the grant: 401 / 403 from the token endpoint.
        assert.equal((await tokenRequest({ ...m2m, client_secret: 'wrong', audience: audience() })).status, 401);
        assert.equal((await tokenRequest({ ...server.defaultApp, audience: audience() })).status, 403);
      });

      it('uses the tenant default_audience when none is sent', async () => {
        const api = `https://api.${unique('x')}.example/`;
        // The audience must name a resource server (issue 4 §4).
        assert.equal((await call('POST', '/resource-servers', { identifier: api, name: unique('things') })).status, 201);
        const m2m = await machineClient(['read:things'], api);
        assert.equal((await call('PATCH', '/tenants/settings', { default_audience: api })).status, 200);
        try {
          const res = await tokenRequest(m2m);
          assert.equal(res.status, 200);
          assert.equal(decodeJwt(((await res.json()) as Json).access_token).aud, api);
        } finally {
          assert.equal((await call('PATCH', '/tenants/settings', { default_audience: '' })).status, 200);
        }
      });
    });

    describe('clients', () => {
      it('creates a client, showing its secret once; GET and lists never show it', async () => {
        const res = await call('POST', '/clients', {
          name: 'Web Shop',
          app_type: 'regular_web',
          description: 'the shop',
          callbacks: ['https://shop.example/callback', 'com.example.app://callback'],
          allowed_origins: ['https://shop.example'],
          web_origins: ['https://*.shop.example'],
          allowed_logout_urls: ['https://shop.example/'],
          grant_types: ['http://auth0.com/oauth/grant-type/passwordless/otp', 'client_credentials'],
          is_token_endpoint_ip_header_trusted: true,
          client_metadata: { tier: 'gold' },
          jwt_configuration: { lifetime_in_seconds: 600 },
        });
        assert.equal(res.status, 201, res.text);
        const c = res.json;
        assert.match(c.client_secret, /^[A-Za-z0-9_-]{43}$/);
        secrets.push(c.client_secret);
        assert.equal(c.token_endpoint_auth_method, 'client_secret_post');
        assert.deepEqual(c.jwt_configuration, { alg: 'RS256', lifetime_in_seconds: 600 });
        assert.deepEqual(c.client_metadata, { tier: 'gold' });

        const got = await call('GET', `/clients/${c.client_id}`);
        assert.equal(got.status, 200);
        assert.equal(got.json.client_secret, undefined);
        const { client_secret: _s, ...withoutSecret } = c;
        assert.deepEqual(got.json, withoutSecret);
        // The secret works: a grant for some API, then client_credentials.
        const api = `https://api.${unique('shop')}.example/`;
        assert.equal((await call('POST', '/resource-servers', { identifier: api, name: unique('orders') })).status, 201);
        assert.equal((await call('POST', '/client-grants', { client_id: c.client_id, audience: api, scope: ['read:orders'] })).status, 201);
        assert.equal((await tokenRequest({ client_id: c.client_id, client_secret: c.client_secret, audience: api })).status, 200);
      });

      it('lists with page, per_page, include_totals, app_type and fields', async () => {
        await call('POST', '/clients', { name: unique('spa'), app_type: 'spa' });
        const all = await call('GET', '/clients?per_page=100');
        assert.ok(Array.isArray(all.json) && all.json.length >= 3);
        const page = await call('GET', '/clients?include_totals=true&page=1&per_page=2');
        assert.deepEqual({ ...page.json, clients: page.json.clients.length }, { start: 2, limit: 2, length: 2, total: all.json.length, clients: 2 });
        assert.deepEqual(page.json.clients.map((c: Json) => c.client_id), all.json.slice(2, 4).map((c: Json) => c.client_id));
        const spas = await call('GET', '/clients?app_type=spa,native&per_page=100');
        assert.ok(spas.json.length >= 1 && spas.json.every((c: Json) => c.app_type === 'spa' || c.app_type === 'native'));
        const named = await call('GET', '/clients?fields=client_id,name&include_fields=true');
        assert.ok(named.json.every((c: Json) => Object.keys(c).sort().join() === 'client_id,name'));
        const without = await call('GET', `/clients/${server.defaultApp.client_id}?fields=callbacks,grant_types&include_fields=false`);
        assert.ok(without.json.name && without.json.callbacks === undefined && without.json.grant_types === undefined);
        expectError(await call('GET', '/clients?per_page=101'), 400, 'invalid_query_string');
        expectError(await call('GET', '/clients?app_type=robot'), 400, 'invalid_query_string');
        assert.deepEqual((await call('GET', '/clients?page=999')).json, []);
      });

      it('filters on is_global and is_first_party as Auth0 does (auth0-deploy-cli sends is_global=false)', async () => {
        const third = (await call('POST', '/clients', { name: unique('third'), app_type: 'regular_web', is_first_party: false })).json;
        const total = (await call('GET', '/clients?include_totals=true&per_page=1')).json.total;
        const notGlobal = await call('GET', '/clients?is_global=false&include_totals=true&per_page=1');
        assert.equal(notGlobal.status, 200, notGlobal.text);
        assert.equal(notGlobal.json.total, total);
        // The global client (the tenant's login page, global-client.ts) is listed only on request.
        const global = (await call('GET', '/clients?is_global=true')).json;
        assert.deepEqual(global.map((c: Json) => [c.client_id, c.global, c.name]), [['sesame-global-client', true, 'All Applications']]);
        assert.ok(!(await call('GET', '/clients?per_page=100')).json.some((c: Json) => c.global));
        const thirdParty = (await call('GET', '/clients?is_first_party=false&per_page=100')).json;
        assert.deepEqual(thirdParty.map((c: Json) => c.client_id), [third.client_id]);
        const firstParty = await call('GET', '/clients?is_first_party=true&include_totals=true&per_page=2&page=0');
        assert.deepEqual([firstParty.json.total, firstParty.json.clients.length], [total - 1, 2]);
        expectError(await call('GET', '/clients?is_global=maybe'), 400, 'invalid_query_string');
      });

      it('updates a client and validates what it is given', async () => {
        const { client_id } = await machineClient(null);
        const patched = await call('PATCH', `/clients/${client_id}`, { name: 'Renamed', callbacks: ['https://a.example/cb'], is_first_party: false, client_metadata: {} });
        assert.equal(patched.status, 200, patched.text);
        assert.deepEqual([patched.json.name, patched.json.callbacks, patched.json.is_first_party], ['Renamed', ['https://a.example/cb'], false]);
        assert.equal(patched.json.client_secret, undefined);
        assert.equal((await call('GET', `/clients/${client_id}`)).json.name, 'Renamed');

        const bad: [Json, RegExp][] = [
          [{ name: '' }, /too short/],
          [{ name: '<script>' }, /pattern/],
          [{ app_type: 'robot' }, /No enum match/],
          [{ grant_types: ['magic'] }, /No enum match/],
          [{ callbacks: 'https://a.example' }, /Expected type array/],
          [{ callbacks: ['not a url'] }, /callbacks\[0\] is not a valid URL/],
          [{ callbacks: ['javascript:alert(1)'] }, /forbidden scheme/],
          [{ allowed_origins: ['https://a.example/path'] }, /must be an origin/],
          [{ token_endpoint_auth_method: 'private_key_jwt' }, /No enum match/],
          [{ token_endpoint_auth_method: null }, /requires client_authentication_methods/],
          [{ is_first_party: 'true' }, /Expected type boolean but found type string/],
          [{ client_metadata: { a: 1 } }, /Expected type string/],
          [{ jwt_configuration: { lifetime_in_seconds: 0 } }, /lifetime_in_seconds/],
          [{ client_secret: 'mine' }, /Additional properties not allowed: client_secret/],
          [{ description: 'x'.repeat(141) }, /too long/],
        ];
        for (const [body, message] of bad) assert.match(expectError(await call('PATCH', `/clients/${client_id}`, body), 400, 'invalid_body'), message, JSON.stringify(body));
        expectError(await call('POST', '/clients', { app_type: 'spa' }), 400, 'invalid_body');
        // RFC 6749 §4.4: no client_credentials for a public client, in Auth0's words, whichever field changes.
        const grantRefusal = 'Invalid grant types: client_credentials';
        assert.equal(expectError(await call('POST', '/clients', { name: unique('spa'), app_type: 'spa', grant_types: ['client_credentials'] }), 400, 'invalid_body'), grantRefusal);
        const native = (await call('POST', '/clients', { name: unique('native'), app_type: 'native' })).json;
        assert.deepEqual([native.token_endpoint_auth_method, native.grant_types], ['none', ['authorization_code', 'implicit', 'refresh_token']]);
        assert.equal(expectError(await call('PATCH', `/clients/${native.client_id}`, { grant_types: ['authorization_code', 'client_credentials'] }), 400, 'invalid_body'), grantRefusal);
        assert.equal(expectError(await call('PATCH', `/clients/${client_id}`, { token_endpoint_auth_method: 'none' }), 400, 'invalid_body'), grantRefusal);
        assert.deepEqual((await call('GET', `/clients/${native.client_id}`)).json.grant_types, native.grant_types, 'nothing was saved');
        expectError(await call('PATCH', '/clients/nope', { name: 'x' }), 404, 'inexistent_client');
        expectError(await call('GET', '/clients/nope'), 404, 'inexistent_client');
      });

      it('registers private_key_jwt credentials: PEM checked, shown without the key, no secret issued', async () => {
        const { publicPem } = rsaKeyPair();
        const res = await call('POST', '/clients', {
          name: unique('pkjwt'),
          app_type: 'non_interactive',
          client_authentication_methods: { private_key_jwt: { credentials: [{ credential_type: 'public_key', name: 'k1', pem: publicPem, alg: 'PS256', kid: 'k1' }] } },
        });
        assert.equal(res.status, 201, res.text);
        assert.equal(res.json.client_secret, undefined);
        assert.equal(res.json.token_endpoint_auth_method, null);
        const [cred] = res.json.client_authentication_methods.private_key_jwt.credentials;
        assert.match(cred.id, /^cred_[A-Za-z0-9]{22}$/);
        assert.deepEqual([cred.name, cred.credential_type, cred.alg, cred.kid, typeof cred.created_at], ['k1', 'public_key', 'PS256', 'k1', 'string']);
        assert.equal(cred.pem, undefined);
        assert.ok(!(await call('GET', `/clients/${res.json.client_id}`)).text.includes('BEGIN PUBLIC KEY'));
        // A key-only client has no secret to rotate; keeping the credential by id while renaming works.
        expectError(await call('POST', `/clients/${res.json.client_id}/rotate-secret`), 400, 'invalid_body');
        const kept = await call('PATCH', `/clients/${res.json.client_id}`, { client_authentication_methods: { private_key_jwt: { credentials: [{ id: cred.id }] } } });
        assert.equal(kept.json.client_authentication_methods.private_key_jwt.credentials[0].id, cred.id);

        const weak = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
        const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
        const priv = rsaKeyPair().privatePem;
        const credential = (pem: string) => ({ name: unique('bad'), client_authentication_methods: { private_key_jwt: { credentials: [{ credential_type: 'public_key', pem }] } } });
        assert.match(expectError(await call('POST', '/clients', credential(weak)), 400), /at least 2048 bits/);
        assert.match(expectError(await call('POST', '/clients', credential(ec)), 400), /must be an RSA key/);
        assert.match(expectError(await call('POST', '/clients', credential(priv)), 400), /not a private key/);
        assert.match(expectError(await call('POST', '/clients', credential('-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----')), 400), /not a valid PEM/);
        assert.match(expectError(await call('POST', '/clients', { ...credential(publicPem), token_endpoint_auth_method: 'client_secret_post' }), 400), /mutually exclusive/);
        assert.match(expectError(await call('PATCH', `/clients/${res.json.client_id}`, { client_authentication_methods: { private_key_jwt: { credentials: [{ id: 'cred_nope' }] } } }), 400), /does not exist/);
      });

      it('rotates a secret: the old one stops working, the new one works, GET still hides it', async () => {
        const m2m = await machineClient(['read:clients']);
        const rotated = await call('POST', `/clients/${m2m.client_id}/rotate-secret`);
        assert.equal(rotated.status, 200, rotated.text);
        const fresh = rotated.json.client_secret as string;
        secrets.push(fresh);
        assert.notEqual(fresh, m2m.client_secret);
        const old = await tokenRequest({ ...m2m, audience: audience() });
        assert.deepEqual({ status: old.status, body: await old.json() }, { status: 401, body: { error: 'access_denied', error_description: 'Unauthorized' } });
        assert.equal((await tokenRequest({ client_id: m2m.client_id, client_secret: fresh, audience: audience() })).status, 200);
        assert.equal((await call('GET', `/clients/${m2m.client_id}`)).json.client_secret, undefined);
        expectError(await call('POST', '/clients/nope/rotate-secret'), 404, 'inexistent_client');
      });

      it('deletes a client with its grants and connection enablement', async () => {
        const m2m = await machineClient(['read:clients']);
        const email = (await call('GET', '/connections?name=email')).json[0];
        assert.equal((await call('PATCH', `/connections/${email.id}/clients`, [{ client_id: m2m.client_id, status: true }])).status, 204);
        assert.equal((await call('DELETE', `/clients/${m2m.client_id}`)).status, 204);
        expectError(await call('GET', `/clients/${m2m.client_id}`), 404);
        expectError(await call('DELETE', `/clients/${m2m.client_id}`), 404);
        assert.deepEqual((await call('GET', `/client-grants?client_id=${m2m.client_id}`)).json, []);
        assert.ok(!(await call('GET', `/connections/${email.id}`)).json.enabled_clients.includes(m2m.client_id));
        assert.equal((await tokenRequest({ ...m2m, audience: audience() })).status, 403);
      });
    });

    describe('client grants', () => {
      it('pages grants by checkpoint and filters them by audience and client_id', async () => {
        const api = `https://ckpt-${unique('api')}.example/`;
        await call('POST', '/resource-servers', { identifier: api, name: unique('ckpt-api') });
        const ids: string[] = [];
        for (let i = 0; i < 3; i++) {
          const { client_id } = await machineClient(null);
          ids.push((await call('POST', '/client-grants', { client_id, audience: api, scope: [] })).json.id);
        }
        const seen: string[] = [];
        let from = '';
        for (let pages = 0; pages < 10; pages++) {
          const r = await call('GET', `/client-grants?take=2&audience=${encodeURIComponent(api)}${from ? `&from=${from}` : ''}`);
          assert.equal(r.status, 200, r.text);
          seen.push(...r.json.client_grants.map((g: Json) => g.id));
          from = r.json.next ?? '';
          if (!from) break;
        }
        assert.deepEqual(seen, [...ids].sort());
        const mine = (await call('GET', `/client-grants?take=50&client_id=${MGMT.client_id}`)).json.client_grants;
        assert.ok(mine.length >= 1 && mine.every((g: Json) => g.client_id === MGMT.client_id));
      });

      it('creates, lists, updates and deletes grants, with Auth0 errors', async () => {
        const { client_id } = await machineClient(null);
        const api = `https://api.${unique('g')}.example/`;
        const created = await call('POST', '/client-grants', { client_id, audience: api, scope: ['read:a', 'write:a'] });
        assert.equal(created.status, 201);
        assert.match(created.json.id, /^cgr_[A-Za-z0-9]{16}$/);
        assert.deepEqual(created.json, { id: created.json.id, client_id, audience: api, scope: ['read:a', 'write:a'] });
        expectError(await call('POST', '/client-grants', { client_id, audience: api, scope: [] }), 409);
        expectError(await call('POST', '/client-grants', { client_id: 'nope', audience: api, scope: [] }), 404, 'inexistent_client');
        assert.match(expectError(await call('POST', '/client-grants', { client_id, audience: audience(), scope: ['read:clients', 'root:all'] }), 400), /root:all/);
        expectError(await call('POST', '/client-grants', { client_id, audience: api, scope: ['has space'] }), 400, 'invalid_body');

        const listed = await call('GET', `/client-grants?client_id=${client_id}&include_totals=true`);
        assert.deepEqual(listed.json, { start: 0, limit: 50, length: 1, total: 1, client_grants: [created.json] });
        assert.equal((await call('GET', `/client-grants?audience=${encodeURIComponent(audience())}`)).json.some((g: Json) => g.client_id === MGMT.client_id), true);
        const patched = await call('PATCH', `/client-grants/${created.json.id}`, { scope: ['read:a'] });
        assert.deepEqual(patched.json.scope, ['read:a']);
        expectError(await call('PATCH', `/client-grants/${created.json.id}`, { audience: 'x' }), 400, 'invalid_body');
        assert.equal((await call('DELETE', `/client-grants/${created.json.id}`)).status, 204);
        expectError(await call('DELETE', `/client-grants/${created.json.id}`), 404, 'inexistent_client_grant');
        expectError(await call('PATCH', `/client-grants/${created.json.id}`, { scope: [] }), 404);
      });
    });

    describe('connections', () => {
      const template = { from: 'Shop <no-reply@shop.example>', subject: 'Your code for {{ application.name }}', body: '<p>{{ code }}</p>', syntax: 'liquid' };

      it('creates, reads, replaces options, enables clients and deletes', async () => {
        const name = unique('mail');
        const created = await call('POST', '/connections', {
          name,
          strategy: 'email',
          options: { disable_signup: true, totp: { length: 8, time_step: 300 }, email: template, authentication_method: 'code', custom: { kept: true } },
          enabled_clients: [server.defaultApp.client_id],
        });
        assert.equal(created.status, 201, created.text);
        const c = created.json;
        assert.match(c.id, /^con_[A-Za-z0-9]{16}$/);
        assert.deepEqual([c.name, c.strategy, c.realms, c.enabled_clients, c.options.custom], [name, 'email', [name], [server.defaultApp.client_id], { kept: true }]);
        assert.deepEqual((await call('GET', `/connections/${c.id}`)).json, c);
        expectError(await call('POST', '/connections', { name, strategy: 'email' }), 409);
        assert.equal(expectError(await call('POST', '/connections', { name, strategy: 'email' }), 409), 'A connection with the same name already exists');

        // PATCH replaces the whole options object (spec §4).
        const patched = await call('PATCH', `/connections/${c.id}`, { options: { totp: { length: 6 } }, display_name: 'Mail' });
        assert.equal(patched.status, 200, patched.text);
        assert.deepEqual(patched.json.options, { totp: { length: 6 } });
        assert.equal(patched.json.display_name, 'Mail');
        assert.match(expectError(await call('PATCH', `/connections/${c.id}`, { name: 'other' }), 400, 'invalid_body'), /Additional properties not allowed: name/);
        assert.match(expectError(await call('PATCH', `/connections/${c.id}`, { strategy: 'sms' }), 400), /strategy/);
        // The deprecated enabled_clients is the complete set.
        const other = await machineClient(null);
        const replaced = await call('PATCH', `/connections/${c.id}`, { enabled_clients: [other.client_id] });
        assert.deepEqual(replaced.json.enabled_clients, [other.client_id]);

        assert.equal((await call('DELETE', `/connections/${c.id}`)).status, 204);
        expectError(await call('GET', `/connections/${c.id}`), 404, 'inexistent_connection');
        expectError(await call('DELETE', `/connections/${c.id}`), 404, 'inexistent_connection');
      });

      it('validates email connection options: totp, template, flags, strategy', async () => {
        const create = (options: Json, strategy = 'email') => call('POST', '/connections', { name: unique('v'), strategy, options });
        assert.match(expectError(await create({ totp: { length: 4 } }), 400, 'invalid_body'), /options.totp.length/);
        assert.match(expectError(await create({ totp: { time_step: 100000 } }), 400), /time_step/);
        assert.match(expectError(await create({ email: { ...template, body: '{% if %}' } }), 400), /options\.email\.body/);
        assert.match(expectError(await create({ email: { ...template, syntax: 'md_with_macros' } }), 400), /email\.syntax/);
        assert.match(expectError(await create({ email: 'hello' }), 400), /options.email must be an object/);
        assert.match(expectError(await create({ disable_signup: 'yes' }), 400), /disable_signup must be a boolean/);
        assert.match(expectError(await create({ authentication_method: 'magic' }), 400), /authentication_method/);
        assert.match(expectError(await create({}, 'google-oauth2'), 400), /strategies: email/);
        assert.match(expectError(await call('POST', '/connections', { name: '-bad-', strategy: 'email' }), 400), /pattern/);
        expectError(await call('POST', '/connections', { name: unique('x'), strategy: 'email', enabled_clients: ['nope'] }), 400, 'invalid_body');
        expectError(await call('POST', '/connections', { strategy: 'email' }), 400, 'invalid_body');
      });

      it('lists with strategy and name filters, paging and totals', async () => {
        const name = unique('list');
        await call('POST', '/connections', { name, strategy: 'email' });
        const byName = await call('GET', `/connections?name=${name}`);
        assert.deepEqual(byName.json.map((c: Json) => c.name), [name]);
        const emails = await call('GET', '/connections?strategy=email&strategy=sms,other&include_totals=true&per_page=1');
        assert.ok(emails.json.total >= 2);
        assert.equal(emails.json.connections.length, 1);
        assert.deepEqual((await call('GET', '/connections?strategy=sms')).json, []);
        assert.deepEqual(Object.keys((await call('GET', `/connections?name=${name}&fields=id,name`)).json[0]).sort(), ['id', 'name']);
      });

      it('pages by checkpoint (from/take/next) with strategy filters, as auth0-deploy-cli and the v5 SDKs do', async () => {
        for (let i = 0; i < 3; i++) await call('POST', '/connections', { name: unique('ckpt'), strategy: 'email' });
        const all = (await call('GET', '/connections?strategy=email&per_page=100')).json.map((c: Json) => c.id).sort();
        assert.ok(all.length >= 4);
        const seen: string[] = [];
        let from = '';
        for (let pages = 0; pages < 20; pages++) {
          const r = await call('GET', `/connections?take=2&strategy=email&strategy=auth0${from ? `&from=${from}` : ''}`);
          assert.equal(r.status, 200, r.text);
          assert.deepEqual(Object.keys(r.json).filter((k) => k !== 'next'), ['connections']);
          seen.push(...r.json.connections.map((c: Json) => c.id));
          from = r.json.next ?? '';
          if (!from) break;
        }
        assert.deepEqual(seen, all);
        const one = await call('GET', '/connections?take=1&fields=id,strategy');
        assert.deepEqual(Object.keys(one.json.connections[0]).sort(), ['id', 'strategy']);
        assert.ok(one.json.next);
        assert.deepEqual((await call('GET', '/connections?take=50&strategy=auth0')).json, { connections: [] });
        expectError(await call('GET', '/connections?take=0'), 400, 'invalid_query_string');
        expectError(await call('GET', '/connections?take=101'), 400, 'invalid_query_string');
      });

      it('pages enabled clients with take/from/next and changes them in batches of at most 50', async () => {
        const conn = (await call('POST', '/connections', { name: unique('ec'), strategy: 'email' })).json;
        const ids: string[] = [];
        for (let i = 0; i < 5; i++) ids.push((await machineClient(null)).client_id);
        const change = await call('PATCH', `/connections/${conn.id}/clients`, ids.map((client_id) => ({ client_id, status: true })));
        assert.equal(change.status, 204, change.text);
        const seen: string[] = [];
        let from: string | undefined;
        for (let pages = 0; pages < 10; pages++) {
          const r = await call('GET', `/connections/${conn.id}/clients?take=2${from ? `&from=${from}` : ''}`);
          seen.push(...r.json.clients.map((c: Json) => c.client_id));
          from = r.json.next;
          if (!from) break;
        }
        assert.deepEqual(seen, [...ids].sort());
        assert.equal((await call('PATCH', `/connections/${conn.id}/clients`, [{ client_id: ids[0], status: false }])).status, 204);
        assert.ok(!(await call('GET', `/connections/${conn.id}/clients`)).json.clients.some((c: Json) => c.client_id === ids[0]));
        assert.match(expectError(await call('PATCH', `/connections/${conn.id}/clients`, [{ client_id: 'nope', status: true }]), 400), /does not exist/);
        const tooMany = Array.from({ length: 51 }, () => ({ client_id: ids[1], status: true }));
        assert.match(expectError(await call('PATCH', `/connections/${conn.id}/clients`, tooMany), 400), /maximum 50/);
        expectError(await call('PATCH', `/connections/${conn.id}/clients`, [{ client_id: ids[1], status: 'on' }]), 400);
        expectError(await call('GET', '/connections/con_nope/clients'), 404);
      });
    });

    describe('tenant settings', () => {
      it('shows the migration flag as false, merges flag PATCHes, accepts unknown flags, rejects non-booleans', async () => {
        const initial = await call('GET', '/tenants/settings');
        assert.equal(initial.json.flags[DEPRECATION_FLAG], false);
        const a = await call('PATCH', '/tenants/settings', { flags: { some_future_flag: true }, friendly_name: 'Acme', support_email: 'help@acme.example' });
        assert.equal(a.status, 200, a.text);
        assert.deepEqual([a.json.flags.some_future_flag, a.json.flags[DEPRECATION_FLAG], a.json.friendly_name], [true, false, 'Acme']);
        const b = await call('PATCH', '/tenants/settings', { flags: { [DEPRECATION_FLAG]: true } });
        assert.deepEqual([b.json.flags.some_future_flag, b.json.flags[DEPRECATION_FLAG]], [true, true]);
        assert.equal((await call('GET', '/tenants/settings')).json.flags[DEPRECATION_FLAG], true);
        assert.equal((await call('GET', '/tenants/settings?fields=flags')).json.friendly_name, undefined);
        assert.match(expectError(await call('PATCH', '/tenants/settings', { flags: { [DEPRECATION_FLAG]: 'true' } }), 400, 'invalid_body'), /boolean/);
        assert.match(expectError(await call('PATCH', '/tenants/settings', { flags: { [`cannot_change_${DEPRECATION_FLAG}`]: false } }), 400), /read-only/);
        assert.match(expectError(await call('PATCH', '/tenants/settings', { support_email: 'nope' }), 400), /support_email/);
        expectError(await call('PATCH', '/tenants/settings', { session_lifetime: 5 }), 400, 'invalid_body');
        assert.equal((await call('PATCH', '/tenants/settings', { flags: { [DEPRECATION_FLAG]: false } })).json.flags[DEPRECATION_FLAG], false);
        // Every successful write leaves a sapi audit log naming the operation and the caller.
        const sapi = (await logs('sapi', MGMT.client_id)).filter((l) => l.description === 'Update tenant settings');
        assert.ok(sapi.length >= 3);
        assert.deepEqual(sapi.at(-1)?.details, { request: { method: 'PATCH', path: '/api/v2/tenants/settings' }, response: { statusCode: 200 } });
      });

      it('applies concurrent PATCHes of different settings, none lost', async () => {
        const flags = Array.from({ length: 16 }, (_, i) => `concurrent_flag_${i}`);
        const answers = await Promise.all(flags.map((f) => call('PATCH', '/tenants/settings', { flags: { [f]: true } })));
        assert.ok(answers.every((a) => a.status === 200));
        const after = (await call('GET', '/tenants/settings')).json.flags;
        assert.deepEqual(flags.filter((f) => after[f] !== true), []);
      });

      it('turns enforcement on for the very next /passwordless/start (spec §2.2)', async () => {
        const web = await call('POST', '/clients', { name: unique('web'), app_type: 'regular_web', grant_types: ['http://auth0.com/oauth/grant-type/passwordless/otp'] });
        secrets.push(web.json.client_secret);
        const email = (await call('GET', '/connections?name=email')).json[0];
        assert.equal((await call('PATCH', `/connections/${email.id}/clients`, [{ client_id: web.json.client_id, status: true }])).status, 204);
        const start = () => server.post('/passwordless/start', { client_id: web.json.client_id, connection: 'email', email: uniqueEmail('flag'), send: 'code' });
        try {
          assert.equal((await start()).status, 200);
          await call('PATCH', '/tenants/settings', { flags: { [DEPRECATION_FLAG]: true } });
          const refused = await start();
          assert.deepEqual({ status: refused.status, body: await refused.json() }, { status: 403, body: { error: 'unauthorized_client', error_description: 'Client authentication is required' } });
        } finally {
          await call('PATCH', '/tenants/settings', { flags: { [DEPRECATION_FLAG]: false } });
        }
        assert.equal((await start()).status, 200);
      });
    });

    describe('email provider', () => {
      it('configures SMTP; GET never shows smtp_pass; PATCH keeps it; DELETE removes it', async () => {
        expectError(await call('GET', '/emails/provider'), 404, 'inexistent_email_provider');
        assert.match(expectError(await call('POST', '/emails/provider', { name: 'azure_cs', credentials: { connectionString: 'endpoint=x' } }), 400), /does not support the email provider "azure_cs"; it can send email with: smtp, sendgrid, mailgun, ses, postmark, sparkpost/);
        const pass = 'SMTP-PASS-very-secret-0042';
        const body = { name: 'smtp', enabled: true, default_from_address: 'Acme <no-reply@acme.example>', credentials: { smtp_host: 'smtp.acme.example', smtp_port: 587, smtp_user: 'mailer', smtp_pass: pass }, settings: { headers: { 'X-Tag': 'a' } } };
        const created = await call('POST', '/emails/provider', body);
        assert.equal(created.status, 201, created.text);
        assert.ok(!created.text.includes(pass));
        expectError(await call('POST', '/emails/provider', body), 409);
        const got = await call('GET', '/emails/provider');
        assert.ok(!got.text.includes(pass) && !got.text.includes('smtp_pass'));
        assert.deepEqual(got.json, { ...body, credentials: { smtp_host: 'smtp.acme.example', smtp_port: 587, smtp_user: 'mailer' } });
        assert.deepEqual((await call('GET', '/emails/provider?fields=name,enabled')).json, { name: 'smtp', enabled: true });

        const patched = await call('PATCH', '/emails/provider', { credentials: { smtp_host: 'smtp2.acme.example' }, enabled: false });
        assert.equal(patched.status, 200, patched.text);
        assert.deepEqual([patched.json.credentials.smtp_host, patched.json.enabled], ['smtp2.acme.example', false]);
        const stored = await server.services.store.getSetting<EmailProvider>('email_provider');
        assert.ok(!JSON.stringify(stored).includes(pass), 'the password is stored only encrypted');
        assert.equal(server.services.keyring.open('smtp', stored!.smtp_pass_enc!), pass, 'a PATCH without smtp_pass keeps it');
        const rotated = await call('PATCH', '/emails/provider', { credentials: { smtp_pass: 'new-pass-0043' } });
        assert.ok(!rotated.text.includes('new-pass-0043'));
        const again = await server.services.store.getSetting<EmailProvider>('email_provider');
        assert.equal(server.services.keyring.open('smtp', again!.smtp_pass_enc!), 'new-pass-0043');

        for (const bad of [{ credentials: { smtp_port: 70000 } }, { credentials: { smtp_host: 'http://x' } }, { credentials: { api_key: 'x' } }, { default_from_address: 'not an address' }, { name: 'mailgun' }, { enabled: 'yes' }]) {
          expectError(await call('PATCH', '/emails/provider', bad), 400, 'invalid_body');
        }
        expectError(await call('POST', '/emails/provider', { name: 'smtp' }), 400);
        assert.equal((await call('DELETE', '/emails/provider')).status, 204);
        expectError(await call('GET', '/emails/provider'), 404);
        expectError(await call('DELETE', '/emails/provider'), 404);
        expectError(await call('PATCH', '/emails/provider', { enabled: true }), 404);
      });
    });

    describe('users', () => {
      it('creates passwordless users, refuses duplicates, finds them by id, email query and users-by-email', async () => {
        const address = uniqueEmail('Mixed.Case');
        const created = await call('POST', '/users', { connection: 'email', email: address, email_verified: true, user_metadata: { lang: 'fr' }, app_metadata: { plan: 'pro' } });
        assert.equal(created.status, 201, created.text);
        const u = created.json;
        assert.match(u.user_id, /^email\|[0-9a-f]{24}$/);
        assert.equal(u.email, address.toLowerCase());
        assert.deepEqual(u.identities, [{ connection: 'email', user_id: u.user_id.slice(6), provider: 'email', isSocial: false }]);
        assert.deepEqual([u.email_verified, u.logins_count, u.user_metadata, u.app_metadata], [true, 0, { lang: 'fr' }, { plan: 'pro' }]);
        const dup = await call('POST', '/users', { connection: 'email', email: address.toUpperCase() });
        assert.equal(expectError(dup, 409, 'auth0_idp_error'), 'The user already exists.');

        assert.deepEqual((await call('GET', `/users/${encodeURIComponent(u.user_id)}`)).json, u);
        assert.deepEqual((await call('GET', `/users/${u.user_id}`)).json.user_id, u.user_id);
        assert.deepEqual((await call('GET', `/users?q=${encodeURIComponent(`email:"${u.email}"`)}`)).json.map((x: Json) => x.user_id), [u.user_id]);
        const prefix = u.email.split('@')[0];
        assert.deepEqual((await call('GET', `/users?q=${encodeURIComponent(`email:${prefix}*`)}&include_totals=true`)).json.users.map((x: Json) => x.user_id), [u.user_id]);
        assert.deepEqual((await call('GET', `/users-by-email?email=${encodeURIComponent(address.toUpperCase())}`)).json.map((x: Json) => x.user_id), [u.user_id]);
        const second = (await call('POST', '/users', { connection: 'email', email: uniqueEmail('second') })).json;
        const newest = await call('GET', '/users?per_page=2&sort=created_at:-1&connection=email');
        assert.equal(newest.json[0].user_id, second.user_id);
        const oldest = await call('GET', '/users?per_page=100&sort=created_at:1');
        assert.equal(oldest.json.at(-1).user_id, second.user_id);

        expectError(await call('GET', '/users?q=name:jane'), 400, 'invalid_query_string');
        expectError(await call('GET', '/users?q=email:(a'), 400, 'invalid_query_string');
        expectError(await call('GET', '/users?sort=email:1'), 400, 'invalid_query_string');
        expectError(await call('GET', '/users-by-email'), 400, 'invalid_query_string');
        expectError(await call('POST', '/users', { connection: 'nope', email: uniqueEmail() }), 400, 'invalid_body');
        expectError(await call('POST', '/users', { connection: 'email', email: 'not-an-email' }), 400, 'invalid_body');
        expectError(await call('POST', '/users', { connection: 'email', email: uniqueEmail(), password: 'x' }), 400, 'invalid_body');
        expectError(await call('POST', '/users', { connection: 'email', email: uniqueEmail(), user_metadata: { big: 'x'.repeat(17_000) } }), 400, 'invalid_body');
      });

      it('updates flags and merges metadata (null removes a key); deletes users', async () => {
        const u = (await call('POST', '/users', { connection: 'email', email: uniqueEmail('patch'), user_metadata: { a: 1, b: { c: 2 } } })).json;
        const path = `/users/${encodeURIComponent(u.user_id)}`;
        const patched = await call('PATCH', path, { blocked: true, email_verified: true, user_metadata: { a: null, b: { d: 3 }, e: 'x' }, app_metadata: { role: 'admin' }, name: 'Jane' });
        assert.equal(patched.status, 200, patched.text);
        assert.deepEqual([patched.json.blocked, patched.json.email_verified, patched.json.name], [true, true, 'Jane']);
        assert.deepEqual(patched.json.user_metadata, { b: { d: 3 }, e: 'x' });
        assert.deepEqual(patched.json.app_metadata, { role: 'admin' });
        assert.deepEqual((await call('GET', path)).json, patched.json);
        expectError(await call('PATCH', path, { email: 'other@example.com' }), 400, 'invalid_body');
        expectError(await call('PATCH', path, { blocked: 'yes' }), 400, 'invalid_body');
        assert.equal((await call('DELETE', path)).status, 204);
        expectError(await call('GET', path), 404, 'inexistent_user');
        expectError(await call('DELETE', path), 404, 'inexistent_user');
        expectError(await call('PATCH', path, { blocked: false }), 404, 'inexistent_user');
      });
    });

    describe('robustness', () => {
      it('answers bad input of every shape with a 4xx in the Auth0 envelope, never a 5xx', async () => {
        const bodies = ['null', '[]', '"text"', '42', 'true', '{', '{"a":', '{"__proto__":{"x":1}}', '{"name":"a\\u0000b","email":"a\\u0000@b.co"}', JSON.stringify({ name: 'x'.repeat(70_000) }), JSON.stringify(nested(200))];
        const writes: [string, string][] = [
          ['POST', '/clients'], ['PATCH', `/clients/${server.defaultApp.client_id}`], ['POST', '/client-grants'], ['POST', '/connections'],
          ['PATCH', '/connections/con_x'], ['PATCH', '/connections/con_x/clients'], ['PATCH', '/tenants/settings'], ['POST', '/emails/provider'],
          ['PATCH', '/emails/provider'], ['POST', '/users'], ['PATCH', '/users/email%7Cx'],
        ];
        const replies: [string, Reply][] = [];
        for (const [method, path] of writes) {
          for (const body of bodies) replies.push([`${method} ${path} ${body.slice(0, 30)}`, await call(method, path, body)]);
          replies.push([`${method} ${path} text/plain`, await call(method, path, 'a=b', admin, { 'content-type': 'text/plain' })]);
          replies.push([`${method} ${path} no body`, await call(method, path)]);
        }
        const reads = [
          '/clients/%00', '/clients/..%2F..%2Fetc', `/clients/${'x'.repeat(300)}`, '/users/email%7C', '/users/%F0%9F%92%A9', '/logs/abc', '/logs?page=-1',
          '/logs?per_page=1e9', '/logs?sort=date', '/logs?from=abc', '/logs?take=0', '/logs?q=' + '('.repeat(30), '/clients?include_totals=maybe',
          '/connections?strategy=' + 'x,'.repeat(50), '/users?q=' + encodeURIComponent('email:"'), '/connections/con_x/clients?take=500', '/clients/%E0%A4%A',
          '/logs?q=type:a%00b', '/connections?name=a%00', '/users/email%7C%00', '/client-grants?audience=%00', '/users-by-email?email=a%00b',
        ];
        for (const path of reads) replies.push([`GET ${path.slice(0, 60)}`, await call('GET', path)]);
        replies.push(['POST /users with NUL', await call('POST', '/users', { connection: 'email', email: 'a\u0000@b.co' })]);
        replies.push(['POST /client-grants with NUL', await call('POST', '/client-grants', { client_id: MGMT.client_id, audience: 'x\u0000', scope: [] })]);
        for (const [what, r] of replies) {
          assert.ok(r.status >= 400 && r.status < 500, `${what} → ${r.status} ${r.text.slice(0, 200)}`);
          assert.equal(r.json?.statusCode, r.status, `${what}: ${r.text.slice(0, 200)}`);
          assert.equal(typeof r.json?.message, 'string', what);
        }
        // The prototype-poisoning body changed nothing.
        assert.equal(({} as Json).x, undefined);
      });

      it('never shows a client secret or its hash on any GET or list', async () => {
        const texts = [(await call('GET', '/clients?per_page=100')).text, (await call('GET', '/clients?per_page=100&include_totals=true')).text];
        for (const c of (await call('GET', '/clients?per_page=100')).json as Json[]) {
          texts.push((await call('GET', `/clients/${c.client_id}`)).text, (await call('GET', `/clients/${c.client_id}?fields=client_secret`)).text);
        }
        assert.ok(texts.every((t) => !t.includes('"client_secret"')), 'a client_secret field appears in a client response');
        texts.push((await call('GET', '/logs?per_page=100')).text);
        assert.ok(secrets.length >= 10, `only ${secrets.length} secrets collected: run the whole file`);
        for (const secret of secrets) {
          const hash = server.services.keyring.hash(SECRET_PURPOSE, secret);
          for (const t of texts) {
            assert.ok(!t.includes(secret), 'a secret leaked');
            assert.ok(!t.includes(hash), 'a secret hash leaked');
          }
        }
      });

      it('grants every implemented scope to the bootstrap client only through its grant', async () => {
        // A start keeps grants made for another issuer (issue 11): booted on port 0, the bootstrap also
        // left one for http://localhost:0/; the grant for this server's own audience is the one that counts.
        const grants = (await call('GET', `/client-grants?client_id=${MGMT.client_id}`)).json as Json[];
        const own = grants.filter((g) => g.audience === audience());
        assert.equal(own.length, 1);
        assert.deepEqual([...own[0]!.scope].sort(), [...MANAGEMENT_SCOPES].sort());
      });
    });
  });
}

function nested(depth: number): unknown {
  let v: unknown = 'leaf';
  for (let i = 0; i < depth; i++) v = { options: v };
  return v;
}
