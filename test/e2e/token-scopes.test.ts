import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { PASSWORDLESS_OTP_GRANT } from '../../src/core/model.ts';
import { backendMatrix } from '../helpers/backends.ts';
import { MGMT } from '../helpers/boot.ts';
import { authorizationCode, authorizeRedirect, loginSession, tlsSetup, tokenRequest } from '../helpers/code-flow.ts';
import { createClient, uniqueEmail } from '../helpers/fixtures.ts';
import { useMailServer } from '../helpers/mail-server.ts';
import { type SinkMessage, extractCode } from '../helpers/smtp-sink.ts';

type Json = Record<string, any>;
let n = 0;
const unique = (tag: string) => `https://${tag}-${Date.now().toString(36)}-${++n}.example`;
const ASKED = 'openid read:orders delete:orders admin read:users';

/**
 * Issue 10 §1: a user token's scopes are the OIDC scopes plus the scopes its API defines, and with
 * the API's `enforce_policies` (Auth0 RBAC) only those the user holds as permissions, directly or
 * through a role. Every user-token path is covered: the passwordless OTP grant, /authorize (code
 * flow from a public SPA with PKCE, implicit), refresh. Unknown scopes are dropped, never an error.
 * `token_dialect: access_token_authz` adds the `permissions` claim. Client-credentials tokens still
 * need a client grant and ignore users' permissions.
 */
const tls = await tlsSetup();
const f = tls.fetch;

for (const { backend, skip } of await backendMatrix()) {
  describe(`user token scopes and RBAC [${backend}]`, { skip }, () => {
    const ctx = useMailServer(backend, { env: tls.env });
    const taken = new Set<SinkMessage>();

    async function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
      const tok = await tokenRequest(ctx.server, f, { grant_type: 'client_credentials', ...MGMT, audience: `${ctx.server.issuer}api/v2/` });
      const res = await f(`${ctx.server.baseUrl}/api/v2${path}`, {
        method,
        headers: { authorization: `Bearer ${String(tok.body.access_token)}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const text = await res.text();
      return { status: res.status, json: text ? JSON.parse(text) : undefined };
    }
    async function ok(method: string, path: string, body?: unknown): Promise<any> {
      const r = await call(method, path, body);
      assert.ok(r.status >= 200 && r.status < 300, `${method} ${path}: ${r.status} ${JSON.stringify(r.json)}`);
      return r.json;
    }
    /** The API: it defines read:orders (and here write:orders, for the RBAC cases). */
    const ordersApi = (extra: Json = {}) =>
      ok('POST', '/resource-servers', { identifier: unique('orders'), name: 'Orders', scopes: [{ value: 'read:orders', description: 'Read orders' }, { value: 'write:orders' }], ...extra });
    const newUser = async (email = uniqueEmail()) => ({ email, id: (await ok('POST', '/users', { connection: 'email', email, email_verified: true })).user_id as string });

    /** /passwordless/start + the mailed code + the OTP grant, as the reproduction does it. */
    async function otpToken(email: string, extra: Json, app: { client_id: string; client_secret?: string } = ctx.server.defaultApp): Promise<Json> {
      const start = await f(`${ctx.server.baseUrl}/passwordless/start`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...app, connection: 'email', email, send: 'code' }),
      });
      assert.equal(start.status, 200, await start.clone().text());
      const mail = await ctx.sink.waitFor((m) => m.to === email && !taken.has(m), 20_000); // generous: the CI machine is shared
      taken.add(mail);
      const res = await tokenRequest(ctx.server, f, { grant_type: PASSWORDLESS_OTP_GRANT, ...app, username: email, otp: extractCode(mail), realm: 'email', ...extra });
      assert.equal(res.status, 200, res.text);
      return res.body;
    }
    const claims = (t: Json) => decodeJwt(String(t.access_token));

    it('the issue: the OTP grant drops scopes the API does not define (only openid + read:orders)', async () => {
      const api = await ordersApi();
      const t = await otpToken(uniqueEmail(), { audience: api.identifier, scope: ASKED });
      assert.equal(t.scope, 'openid read:orders');
      assert.equal(claims(t).scope, 'openid read:orders');
      assert.equal(claims(t).permissions, undefined, 'no permissions claim with the access_token dialect');
      // Without an audience the token is only good for /userinfo: no API scope at all.
      const bare = await otpToken(uniqueEmail(), { scope: 'openid email read:orders offline_access profile' });
      assert.equal(claims(bare).scope, 'openid email offline_access profile');
    });

    it('/authorize from a public SPA: the code flow (PKCE) and the implicit flow grant the same filtered scopes', async () => {
      const api = await ordersApi();
      const spa = await createClient(ctx.server, { app_type: 'spa', callbacks: ['https://spa.example.com/'], grant_types: ['authorization_code', 'implicit'] });
      const a = await authorizationCode(ctx.server, f, spa.client, { pkce: true, audience: api.identifier, scope: ASKED });
      const redeemed = await tokenRequest(ctx.server, f, { grant_type: 'authorization_code', client_id: spa.client.client_id, code: a.code, code_verifier: a.verifier!, redirect_uri: a.redirectUri });
      assert.equal(redeemed.status, 200, redeemed.text);
      assert.equal(redeemed.body.scope, 'openid read:orders');
      assert.equal(claims(redeemed.body).scope, 'openid read:orders');

      const session = await loginSession(ctx.server, spa.client);
      const loc = await authorizeRedirect(ctx.server, f, session.token, {
        client_id: spa.client.client_id, response_type: 'token', redirect_uri: 'https://spa.example.com/', scope: ASKED, audience: api.identifier, state: 's1', nonce: 'n1',
      });
      const frag = new URLSearchParams(loc.hash.slice(1));
      assert.equal(frag.get('scope'), 'openid read:orders', loc.href);
      assert.equal(decodeJwt(frag.get('access_token')!).scope, 'openid read:orders');
    });

    it('enforce_policies: the scopes are the request ∩ the user’s permissions (direct and through roles)', async () => {
      const api = await ordersApi({ enforce_policies: true });
      assert.equal(api.enforce_policies, true);
      const user = await newUser();
      const asked = { audience: api.identifier, scope: `${ASKED} write:orders` };
      assert.equal((await otpToken(user.email, asked)).scope, 'openid', 'no permission, no API scope');

      const role = await ok('POST', '/roles', { name: `orders-reader-${++n}`, description: 'Reads orders' });
      await ok('POST', `/roles/${role.id}/permissions`, { permissions: [{ resource_server_identifier: api.identifier, permission_name: 'read:orders' }] });
      await ok('POST', `/users/${encodeURIComponent(user.id)}/roles`, { roles: [role.id] });
      assert.equal((await otpToken(user.email, asked)).scope, 'openid read:orders');

      await ok('POST', `/users/${encodeURIComponent(user.id)}/permissions`, { permissions: [{ resource_server_identifier: api.identifier, permission_name: 'write:orders' }] });
      assert.equal((await otpToken(user.email, asked)).scope, 'openid read:orders write:orders');
      // Asking for less gets less: a permission is not a scope until it is asked for.
      assert.equal((await otpToken(user.email, { audience: api.identifier, scope: 'openid write:orders' })).scope, 'openid write:orders');

      await ok('DELETE', `/users/${encodeURIComponent(user.id)}/roles`, { roles: [role.id] });
      assert.equal((await otpToken(user.email, asked)).scope, 'openid write:orders');
      // Another user holds nothing: the role's and the first user's permissions are theirs alone.
      assert.equal((await otpToken(uniqueEmail(), asked)).scope, 'openid');
    });

    it('token_dialect access_token_authz adds every permission the user holds as the `permissions` claim', async () => {
      const api = await ordersApi({ enforce_policies: true, token_dialect: 'access_token_authz' });
      const user = await newUser();
      await ok('POST', `/users/${encodeURIComponent(user.id)}/permissions`, { permissions: [
        { resource_server_identifier: api.identifier, permission_name: 'read:orders' },
        { resource_server_identifier: api.identifier, permission_name: 'write:orders' },
      ] });
      const t = await otpToken(user.email, { audience: api.identifier, scope: 'openid read:orders admin' });
      assert.equal(t.scope, 'openid read:orders');
      assert.deepEqual((claims(t).permissions as string[]).sort(), ['read:orders', 'write:orders']);
      // Back to the plain dialect: the claim goes.
      await ok('PATCH', `/resource-servers/${api.id}`, { token_dialect: 'access_token' });
      assert.equal(claims(await otpToken(user.email, { audience: api.identifier, scope: 'openid read:orders' })).permissions, undefined);
      // The RFC 9068 profiles are refused, not silently ignored.
      const refused = await call('PATCH', `/resource-servers/${api.id}`, { token_dialect: 'rfc9068_profile' });
      assert.deepEqual([refused.status, refused.json.errorCode], [400, 'invalid_body']);
      assert.equal((await call('PATCH', `/resource-servers/${api.id}`, { token_dialect: 'nope' })).status, 400);
    });

    it('refresh keeps the scopes granted at sign-in (never the dropped ones) and loses a revoked permission', async () => {
      const api = await ordersApi({ enforce_policies: true, allow_offline_access: true });
      const app = await createClient(ctx.server, { app_type: 'native', grant_types: [PASSWORDLESS_OTP_GRANT, 'refresh_token'] });
      const user = await newUser();
      const perm = { resource_server_identifier: api.identifier, permission_name: 'read:orders' };
      await ok('POST', `/users/${encodeURIComponent(user.id)}/permissions`, { permissions: [perm] });
      const t = await otpToken(user.email, { audience: api.identifier, scope: `${ASKED} offline_access` }, { client_id: app.client.client_id });
      assert.equal(t.scope, 'openid read:orders offline_access');
      assert.ok(t.refresh_token);

      let current = String(t.refresh_token);
      const refresh = async (extra: Json = {}) => {
        const r = await tokenRequest(ctx.server, f, { grant_type: 'refresh_token', client_id: app.client.client_id, refresh_token: current, ...extra });
        if (typeof r.body.refresh_token === 'string') current = r.body.refresh_token; // rotation
        return r;
      };
      const again = await refresh();
      assert.equal(again.status, 200, again.text);
      assert.equal(again.body.scope, 'openid read:orders offline_access');
      // A scope dropped at sign-in is not in the grant, so asking for it now widens it (RFC 6749 §6).
      const wider = await refresh({ scope: 'openid delete:orders' });
      assert.deepEqual([wider.status, wider.body.error], [403, 'invalid_scope']);

      await ok('DELETE', `/users/${encodeURIComponent(user.id)}/permissions`, { permissions: [perm] });
      const revoked = await refresh();
      assert.equal(revoked.status, 200, revoked.text);
      assert.equal(revoked.body.scope, 'openid offline_access');
    });

    it('client credentials still need a client grant, and get its scopes whatever users hold', async () => {
      const api = await ordersApi({ enforce_policies: true });
      const m2m = await createClient(ctx.server, { app_type: 'non_interactive', grant_types: ['client_credentials'] }, { enableOn: null });
      const cc = () => tokenRequest(ctx.server, f, { grant_type: 'client_credentials', client_id: m2m.client.client_id, client_secret: m2m.secret, audience: api.identifier });
      const refused = await cc();
      assert.deepEqual([refused.status, refused.body.error], [403, 'access_denied']);
      await ok('POST', '/client-grants', { client_id: m2m.client.client_id, audience: api.identifier, scope: ['read:orders'] });
      const granted = await cc();
      assert.equal(granted.status, 200, granted.text);
      assert.equal(claims(granted.body).scope, 'read:orders');
    });

    it('a deleted role, a removed API scope and a deleted API take their permissions with them', async () => {
      const api = await ordersApi({ enforce_policies: true });
      const user = await newUser();
      const role = await ok('POST', '/roles', { name: `orders-admin-${++n}` });
      await ok('POST', `/roles/${role.id}/permissions`, { permissions: [{ resource_server_identifier: api.identifier, permission_name: 'write:orders' }] });
      await ok('POST', `/roles/${role.id}/users`, { users: [user.id] });
      await ok('POST', `/users/${encodeURIComponent(user.id)}/permissions`, { permissions: [{ resource_server_identifier: api.identifier, permission_name: 'read:orders' }] });
      const asked = { audience: api.identifier, scope: 'openid read:orders write:orders' };
      assert.equal((await otpToken(user.email, asked)).scope, 'openid read:orders write:orders');

      await ok('DELETE', `/roles/${role.id}`);
      assert.equal((await otpToken(user.email, asked)).scope, 'openid read:orders');
      // Removing read:orders from the API removes it as a permission; adding it back does not restore it.
      await ok('PATCH', `/resource-servers/${api.id}`, { scopes: [{ value: 'write:orders' }] });
      await ok('PATCH', `/resource-servers/${api.id}`, { scopes: [{ value: 'write:orders' }, { value: 'read:orders' }] });
      assert.deepEqual(await ok('GET', `/users/${encodeURIComponent(user.id)}/permissions`), []);
      assert.equal((await otpToken(user.email, asked)).scope, 'openid');
    });
  });
}
