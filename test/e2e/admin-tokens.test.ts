import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import type { Client } from '../../src/core/model.ts';
import { backendMatrix } from '../helpers/backends.ts';
import { MGMT, type TestServer, bootServer } from '../helpers/boot.ts';
import { cli } from '../helpers/cli.ts';
import { authorizeRedirect, loginSession, pkcePair, tokenRequest } from '../helpers/code-flow.ts';
import { createClient, uniqueEmail } from '../helpers/fixtures.ts';
import { mgmt, mgmtCall } from '../helpers/management.ts';

const NOT_ADMIN = 'You are not an administrator of this Sesame';
const DASHBOARD_ONLY = 'User tokens for the Management API are only issued to the Sesame Dashboard';
const ENV_ADMIN = 'env-admin@example.com';
const SCOPE = 'openid profile email offline_access';

/**
 * Issue 12 / issue 10 §1: Management API user tokens go only to administrators (SESAME_ADMIN_EMAILS,
 * `sesame admin add`) signing in to the dashboard's own application with code + PKCE, over HTTP
 * against the real server; the Management API accepts them while the user is still an administrator.
 */
for (const { backend, skip } of await backendMatrix()) {
  describe(`Management API tokens for administrators [${backend}]`, { skip }, () => {
    let srv: TestServer;
    let dashboard: Client;
    before(async () => {
      srv = await bootServer({ backend, env: { SESAME_ADMIN_EMAILS: `Other@Example.com, ${ENV_ADMIN.toUpperCase()}` } });
      const config = (await (await fetch(`${srv.baseUrl}/admin/config.json`)).json()) as Record<string, unknown>;
      dashboard = (await srv.services.store.getClient(String(config.clientId)))!.client;
    });
    after(() => srv?.close());

    const audience = () => `${srv.issuer}api/v2/`;
    /** The dashboard's sign-in as auth0-spa-js does it: /authorize (code, PKCE, audience), then the exchange. */
    async function signIn(email: string, client: Client = dashboard, extra: Record<string, string> = {}) {
      const session = await loginSession(srv, client, email);
      const pair = pkcePair();
      const state = randomBytes(8).toString('hex');
      const loc = await authorizeRedirect(srv, fetch, session.token, {
        client_id: client.client_id, response_type: 'code', redirect_uri: client.callbacks[0]!, scope: SCOPE,
        audience: audience(), state, code_challenge: pair.challenge, code_challenge_method: 'S256', ...extra,
      });
      assert.equal(loc.searchParams.get('state'), state, loc.href);
      return { loc, pair, session };
    }
    async function adminTokens(email: string) {
      const { loc, pair } = await signIn(email);
      const code = loc.searchParams.get('code');
      assert.ok(code, `no code: ${loc.href}`);
      const tok = await tokenRequest(srv, fetch, { grant_type: 'authorization_code', client_id: dashboard.client_id, code, code_verifier: pair.verifier, redirect_uri: dashboard.callbacks[0]! });
      return { tok, code, verifier: pair.verifier };
    }
    /** A Management API call with the bootstrap client's token, for answers without a body too. */
    const asManager = async (method: string, path: string) => (await api(await srv.mgmtToken(), path, { method })).status;
    const api = (token: string, path: string, init: RequestInit = {}) =>
      fetch(`${srv.baseUrl}/api/v2${path}`, { ...init, headers: { authorization: `Bearer ${token}`, ...(init.body ? { 'content-type': 'application/json' } : {}) } });

    it('an administrator of SESAME_ADMIN_EMAILS gets every Management scope, and the API accepts the token', async () => {
      const { tok } = await adminTokens(ENV_ADMIN);
      assert.equal(tok.status, 200, tok.text);
      const claims = decodeJwt(String(tok.body.access_token));
      assert.deepEqual(claims.aud, [audience(), `${srv.issuer}userinfo`]);
      assert.equal(claims.azp, dashboard.client_id);
      const scopes = String(claims.scope).split(' ');
      for (const sc of ['openid', 'read:clients', 'update:tenant_settings', 'read:logs', 'read:admins', 'update:admins']) assert.ok(scopes.includes(sc), sc);
      assert.equal(typeof tok.body.refresh_token, 'string', 'offline_access earns a refresh token');
      const res = await api(String(tok.body.access_token), '/clients');
      assert.equal(res.status, 200);
      const admins = (await (await api(String(tok.body.access_token), '/sesame/admins')).json()) as { email: string; source: string }[];
      assert.deepEqual(admins.filter((a) => a.source === 'env').map((a) => a.email), ['other@example.com', ENV_ADMIN]);
    });

    it('Management scopes asked for narrow the token; unknown ones are dropped', async () => {
      const { loc, pair } = await signIn(ENV_ADMIN, dashboard, { scope: 'openid read:logs read:users made:up' });
      const tok = await tokenRequest(srv, fetch, { grant_type: 'authorization_code', client_id: dashboard.client_id, code: loc.searchParams.get('code')!, code_verifier: pair.verifier });
      assert.equal(tok.status, 200, tok.text);
      assert.equal(tok.body.scope, 'openid read:logs read:users');
      assert.equal((await api(String(tok.body.access_token), '/clients')).status, 403, 'read:clients was not granted');
    });

    it('a non-administrator is sent back with access_denied, and their own user token is refused by the API', async () => {
      const email = uniqueEmail('nobody');
      const { loc } = await signIn(email);
      assert.equal(`${loc.origin}${loc.pathname}`, dashboard.callbacks[0]);
      assert.equal(loc.searchParams.get('code'), null);
      assert.equal(loc.searchParams.get('error'), 'access_denied');
      assert.equal(loc.searchParams.get('error_description'), NOT_ADMIN);
      const f = (await srv.services.store.logsAfter(null, 100_000)).find((l) => l.type === 'f' && l.user_name === email);
      assert.equal(f?.description, NOT_ADMIN);

      // The same user through an ordinary app (no audience): their token works at /userinfo only.
      const app = await createClient(srv, { app_type: 'spa', callbacks: ['https://spa.example.com/'], grant_types: ['authorization_code'] });
      const session = await loginSession(srv, app.client, email);
      const pair = pkcePair();
      const back = await authorizeRedirect(srv, fetch, session.token, { client_id: app.client.client_id, response_type: 'code', scope: 'openid', code_challenge: pair.challenge, code_challenge_method: 'S256' });
      const tok = await tokenRequest(srv, fetch, { grant_type: 'authorization_code', client_id: app.client.client_id, code: back.searchParams.get('code')!, code_verifier: pair.verifier });
      assert.equal(tok.status, 200, tok.text);
      const res = await api(String(tok.body.access_token), '/clients');
      assert.equal(res.status, 401);
      const body = (await res.json()) as Record<string, unknown>;
      assert.equal(body.statusCode, 401);
      assert.match(String(body.message), /^Bad audience/);
    });

    it('another application, even an administrator in it, cannot ask for the Management audience; nor can the implicit flow', async () => {
      const app = await createClient(srv, { app_type: 'spa', callbacks: ['https://spa.example.com/'], grant_types: ['authorization_code', 'implicit'] });
      const { loc } = await signIn(ENV_ADMIN, app.client);
      assert.deepEqual([loc.searchParams.get('error'), loc.searchParams.get('error_description')], ['access_denied', DASHBOARD_ONLY]);
      const session = await loginSession(srv, app.client, ENV_ADMIN);
      const implicit = await authorizeRedirect(srv, fetch, session.token, {
        client_id: app.client.client_id, response_type: 'token', redirect_uri: 'https://spa.example.com/', audience: audience(), scope: 'openid', nonce: 'n',
      });
      const hash = new URLSearchParams(implicit.hash.slice(1));
      assert.equal(hash.get('access_token'), null);
      assert.deepEqual([hash.get('error'), hash.get('error_description')], ['access_denied', DASHBOARD_ONLY]);
    });

    it('refresh keeps working for an administrator (rotation), and removing the administrator revokes API access, refresh and pending codes', async () => {
      const email = uniqueEmail('admin');
      const added = await mgmtCall(srv, 'POST', '/sesame/admins', { email: email.toUpperCase() });
      assert.equal(added.status, 201);
      assert.deepEqual([added.json.email, added.json.source], [email, 'database']);
      assert.equal((await mgmtCall(srv, 'POST', '/sesame/admins', { email })).status, 200, 'adding twice is idempotent');

      const { tok } = await adminTokens(email);
      assert.equal(tok.status, 200, tok.text);
      const refreshed = await tokenRequest(srv, fetch, { grant_type: 'refresh_token', client_id: dashboard.client_id, refresh_token: String(tok.body.refresh_token) });
      assert.equal(refreshed.status, 200, refreshed.text);
      assert.notEqual(refreshed.body.refresh_token, tok.body.refresh_token, 'rotated');
      assert.equal((await api(String(refreshed.body.access_token), '/clients')).status, 200);

      // A code issued while still an administrator, redeemed after the removal.
      const pending = await signIn(email);
      assert.equal(await asManager('DELETE', `/sesame/admins/${encodeURIComponent(email)}`), 204);
      const res = await api(String(refreshed.body.access_token), '/clients');
      assert.equal(res.status, 403);
      assert.deepEqual(await res.json(), { statusCode: 403, error: 'Forbidden', message: NOT_ADMIN, errorCode: 'access_denied' });
      const again = await tokenRequest(srv, fetch, { grant_type: 'refresh_token', client_id: dashboard.client_id, refresh_token: String(refreshed.body.refresh_token) });
      assert.deepEqual([again.status, again.body.error, again.body.error_description], [403, 'access_denied', NOT_ADMIN]);
      const late = await tokenRequest(srv, fetch, { grant_type: 'authorization_code', client_id: dashboard.client_id, code: pending.loc.searchParams.get('code')!, code_verifier: pending.pair.verifier });
      assert.deepEqual([late.status, late.body.error, late.body.error_description], [403, 'access_denied', NOT_ADMIN]);
      assert.equal(await asManager('DELETE', `/sesame/admins/${encodeURIComponent(email)}`), 404);
    });

    it('an administrator of SESAME_ADMIN_EMAILS cannot be removed through the API; bad emails are 400', async () => {
      const res = await mgmtCall(srv, 'DELETE', `/sesame/admins/${encodeURIComponent(ENV_ADMIN)}`);
      assert.equal(res.status, 400);
      assert.match(res.json.message, /SESAME_ADMIN_EMAILS/);
      assert.equal((await mgmtCall(srv, 'POST', '/sesame/admins', { email: 'not an email' })).status, 400);
      assert.equal((await mgmtCall(srv, 'POST', '/sesame/admins', { email: 'a@b.c', role: 'x' })).status, 400);
    });

    it('`sesame admin add/list/remove` go through the Management API; an added email signs in as administrator', { skip: backend !== 'sqlite' && 'the CLI speaks HTTP only: once is enough' }, async () => {
      const email = uniqueEmail('cli');
      const env = { PATH: process.env.PATH ?? '', SESAME_ISSUER: srv.issuer, SESAME_BOOTSTRAP_CLIENT_ID: MGMT.client_id, SESAME_BOOTSTRAP_CLIENT_SECRET: MGMT.client_secret };
      const add = await cli(['admin', 'add', email], env);
      assert.equal(add.code, 0, add.stderr);
      assert.match(add.stdout, new RegExp(`${email.replace(/\./g, '\\.')} is an administrator \\(database\\)`));
      const list = await cli(['admin', 'list'], env);
      assert.equal(list.code, 0, list.stderr);
      assert.match(list.stdout, new RegExp(`^${ENV_ADMIN}\tenv$`, 'm'));
      assert.match(list.stdout, new RegExp(`^${email.replace(/\./g, '\\.')}\tdatabase\t`, 'm'));
      const { tok } = await adminTokens(email);
      assert.equal(tok.status, 200, tok.text);
      const remove = await cli(['admin', 'remove', email], env);
      assert.equal(remove.code, 0, remove.stderr);
      assert.equal((await api(String(tok.body.access_token), '/clients')).status, 403);
      const bad = await cli(['admin', 'remove', email], env);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /is not an administrator/);
      assert.equal((await cli(['admin', 'promote', email], env)).code, 2);
    });

    it('the dashboard application is a public SPA kept at every start under the same client_id', async () => {
      assert.deepEqual(
        [dashboard.name, dashboard.app_type, dashboard.token_endpoint_auth_method, dashboard.grant_types, dashboard.refresh_token?.rotation_type],
        ['Sesame Dashboard', 'spa', 'none', ['authorization_code', 'refresh_token'], 'rotating'],
      );
      assert.ok(dashboard.callbacks.includes(`${srv.issuer}admin/`));
      assert.deepEqual(dashboard.allowed_logout_urls.includes(`${srv.issuer}admin/`), true);
      const conns = await mgmt(srv, 'GET', '/connections?name=email');
      assert.ok(conns[0].enabled_clients.includes(dashboard.client_id), 'the email connection is enabled for it');
      const config = (await (await fetch(`${srv.baseUrl}/admin/config.json`)).json()) as Record<string, unknown>;
      assert.deepEqual(config, { domain: new URL(srv.issuer).host, issuer: srv.issuer, clientId: dashboard.client_id, audience: audience(), devMode: true });
    });
  });
}
