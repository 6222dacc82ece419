import assert from 'node:assert/strict';
import { Agent } from 'node:https';
import { after, before, describe, it } from 'node:test';
import { AuthenticationClient } from 'auth0';
import type { Client } from '../../src/core/model.ts';
import { backendMatrix } from '../helpers/backends.ts';
import { type TestServer, bootServer } from '../helpers/boot.ts';
import { authorizationCode, authorizeRedirect, loginSession, managementCall, tlsSetup, tokenRequest } from '../helpers/code-flow.ts';
import { createClient } from '../helpers/fixtures.ts';

const REUSED = '{"error":"invalid_grant","error_description":"Unknown or invalid refresh token."}';
type App = { client: Client; secret: string };

/**
 * POST /oauth/revoke (RFC 7009) and GET /v2/logout (Auth0), over HTTPS against the real server:
 * revocation kills the token's family, logout ends the login session so that prompt=none answers
 * login_required, and returnTo only ever goes to an allowed logout URL.
 */
for (const { backend, skip } of await backendMatrix()) {
  describe(`revocation and logout [${backend}]`, { skip }, () => {
    let srv: TestServer;
    let f: typeof fetch;
    let ca: string;
    let web: App;
    let spa: App;
    before(async () => {
      const tls = await tlsSetup();
      ({ fetch: f, ca } = tls);
      srv = await bootServer({ backend, env: tls.env });
      const grant_types = ['authorization_code', 'refresh_token'];
      web = await createClient(srv, {
        app_type: 'regular_web', callbacks: ['https://app.example.com/cb'], grant_types,
        allowed_logout_urls: ['https://app.example.com/bye', 'https://app.example.com/'],
      });
      spa = await createClient(srv, { app_type: 'spa', callbacks: ['https://spa.example.com/'], grant_types });
    });
    after(() => srv?.close());

    const creds = (a: App) => ({ client_id: a.client.client_id, ...(a.client.app_type === 'spa' ? {} : { client_secret: a.secret }) });
    async function offline(a: App): Promise<string> {
      const c = await authorizationCode(srv, f, a.client, { scope: 'openid offline_access', pkce: true });
      const res = await tokenRequest(srv, f, { grant_type: 'authorization_code', ...creds(a), code: c.code, code_verifier: c.verifier! });
      assert.equal(res.status, 200, res.text);
      return String(res.body.refresh_token);
    }
    const refresh = (a: App, token: string) => tokenRequest(srv, f, { grant_type: 'refresh_token', ...creds(a), refresh_token: token });
    const revoke = (body: unknown, type = 'application/json') =>
      f(`${srv.baseUrl}/oauth/revoke`, { method: 'POST', headers: { 'content-type': type }, body: type === 'application/json' ? JSON.stringify(body) : new URLSearchParams(body as Record<string, string>).toString() });
    const logs = async (type: string) => (await srv.services.store.logsAfter(null, 100_000)).filter((l) => l.type === type);

    describe('POST /oauth/revoke', () => {
      it('a public client revokes its token: 200, empty body, and the whole family is gone', async () => {
        const rt1 = await offline(spa);
        const rotated = await refresh(spa, rt1);
        const rt2 = String(rotated.body.refresh_token);
        const res = await revoke({ client_id: spa.client.client_id, token: rt1 }); // an old one still names the family
        assert.deepEqual([res.status, await res.text(), res.headers.get('cache-control')], [200, '', 'no-store']);
        assert.equal((await refresh(spa, rt2)).text, REUSED);
        const log = (await logs('srrt')).at(-1);
        assert.deepEqual([log?.client_id, log?.description], [spa.client.client_id, 'Successfully revoked a refresh token']);
      });

      it('a confidential client authenticates (form body, or the official SDK)', async () => {
        const rt = await offline(web);
        const res = await revoke({ client_id: web.client.client_id, client_secret: web.secret, token: rt }, 'application/x-www-form-urlencoded');
        assert.equal(res.status, 200);
        assert.equal((await refresh(web, rt)).text, REUSED);

        const viaSdk = await offline(web);
        const auth0 = new AuthenticationClient({ domain: new URL(srv.issuer).host, clientId: web.client.client_id, clientSecret: web.secret, fetch: f, agent: new Agent({ ca }) as never });
        const { status } = await auth0.oauth.revokeRefreshToken({ token: viaSdk });
        assert.equal(status, 200);
        assert.equal((await refresh(web, viaSdk)).text, REUSED);
      });

      it("unknown tokens and another client's token answer 200, and the other client's token survives", async () => {
        assert.equal((await revoke({ client_id: spa.client.client_id, token: 'nope' })).status, 200);
        const rt = await offline(web);
        assert.equal((await revoke({ client_id: spa.client.client_id, token: rt })).status, 200);
        assert.equal((await refresh(web, rt)).status, 200);
      });

      it('errors: missing token, missing or wrong client credentials, unknown client', async () => {
        const body = async (res: Response) => [res.status, await res.json()];
        assert.deepEqual(await body(await revoke({ client_id: spa.client.client_id })), [400, { error: 'invalid_request', error_description: 'Missing required parameter: token' }]);
        assert.deepEqual((await body(await revoke({ token: 'x' })))[0], 400);
        const denied = [401, { error: 'invalid_client', error_description: 'Client authentication failed' }];
        assert.deepEqual(await body(await revoke({ client_id: web.client.client_id, token: 'x' })), denied);
        assert.deepEqual(await body(await revoke({ client_id: web.client.client_id, client_secret: 'wrong', token: 'x' })), denied);
        assert.deepEqual(await body(await revoke({ client_id: 'no-such-client', token: 'x' })), denied);
        for (const bad of [{ client_id: spa.client.client_id, token: 42 }, { client_id: spa.client.client_id, token: ['a'] }, [1]]) {
          const res = await revoke(bad);
          assert.ok(res.status >= 400 && res.status < 500, `${res.status}`);
        }
      });
    });

    describe('GET /v2/logout', () => {
      const logout = (query: Record<string, string>, cookie?: string, headers: Record<string, string> = {}) =>
        f(`${srv.baseUrl}/v2/logout?${new URLSearchParams(query)}`, { redirect: 'manual', headers: { ...(cookie ? { cookie: `sesame_session=${cookie}` } : {}), ...headers } });
      const silent = (session: string) =>
        authorizeRedirect(srv, f, session, { client_id: web.client.client_id, response_type: 'code', redirect_uri: 'https://app.example.com/cb', prompt: 'none', scope: 'openid' });

      it("ends the session and returns to an allowed URL; prompt=none then answers login_required", async () => {
        const session = await loginSession(srv, web.client);
        assert.ok((await silent(session.token)).searchParams.get('code'), 'SSO works before logout');
        const res = await logout({ client_id: web.client.client_id, returnTo: 'https://app.example.com/bye' }, session.token);
        assert.equal(res.status, 302);
        assert.equal(res.headers.get('location'), 'https://app.example.com/bye');
        assert.match(res.headers.get('set-cookie') ?? '', /^sesame_session=;.*Expires=Thu, 01 Jan 1970/);
        const after = await silent(session.token);
        assert.deepEqual([after.searchParams.get('error'), after.searchParams.get('code')], ['login_required', null]);
        const log = (await logs('slo')).find((l) => l.user_id === session.userId);
        assert.deepEqual([log?.client_id, log?.user_name, (log?.details as { return_to?: string }).return_to], [web.client.client_id, session.email, 'https://app.example.com/bye']);
      });

      it('a returnTo not listed exactly is a 400 page, and the session is untouched', async () => {
        const session = await loginSession(srv, web.client);
        for (const returnTo of ['https://evil.example.com/', 'https://app.example.com/bye/', 'https://app.example.com/bye?x=1']) {
          const res = await logout({ client_id: web.client.client_id, returnTo }, session.token);
          assert.equal(res.status, 400, returnTo);
          assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
          assert.equal(res.headers.get('location'), null);
          assert.match(await res.text(), /is not defined as a valid URL/);
        }
        assert.ok((await silent(session.token)).searchParams.get('code'), 'still signed in');
        assert.ok((await logs('flo')).length >= 3);
        const unknown = await logout({ client_id: 'no-such-client', returnTo: 'https://app.example.com/bye' });
        assert.equal(unknown.status, 400);
      });

      it("without client_id, returnTo must be in the tenant's allowed_logout_urls", async () => {
        const session = await loginSession(srv, web.client);
        // The client's list does not count without client_id.
        assert.equal((await logout({ returnTo: 'https://app.example.com/bye' }, session.token)).status, 400);
        const set = await managementCall(srv, f, 'PATCH', '/tenants/settings', { allowed_logout_urls: ['https://portal.example.com/signed-out'] });
        assert.equal(set.status, 200, JSON.stringify(set.body));
        const res = await logout({ returnTo: 'https://portal.example.com/signed-out' }, session.token);
        assert.deepEqual([res.status, res.headers.get('location')], [302, 'https://portal.example.com/signed-out']);
        assert.equal((await silent(session.token)).searchParams.get('error'), 'login_required');
      });

      it('OIDC RP-initiated logout: id_token_hint names the client, post_logout_redirect_uri + state', async () => {
        const c = await authorizationCode(srv, f, web.client);
        const tokens = await tokenRequest(srv, f, { grant_type: 'authorization_code', ...creds(web), code: c.code });
        const idToken = String(tokens.body.id_token);
        const res = await logout({ id_token_hint: idToken, post_logout_redirect_uri: 'https://app.example.com/', state: 'xyz' }, c.session.token);
        assert.deepEqual([res.status, res.headers.get('location')], [302, 'https://app.example.com/?state=xyz']);
        assert.equal((await silent(c.session.token)).searchParams.get('error'), 'login_required');
        const forged = `${idToken.slice(0, idToken.lastIndexOf('.'))}.${'A'.repeat(342)}`;
        assert.equal((await logout({ id_token_hint: forged, post_logout_redirect_uri: 'https://app.example.com/' })).status, 400);
      });

      it('without returnTo: a signed-out page (English or French), never cached', async () => {
        const session = await loginSession(srv, web.client);
        const res = await logout({ client_id: web.client.client_id }, session.token);
        assert.equal(res.status, 200);
        assert.equal(res.headers.get('cache-control'), 'no-store');
        assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'none'/);
        const html = await res.text();
        assert.match(html, /<html lang="en">/);
        assert.match(html, /You are signed out/);
        assert.equal((await silent(session.token)).searchParams.get('error'), 'login_required');

        const fr = await logout({}, undefined, { 'accept-language': 'fr-FR,fr;q=0.9' });
        const frHtml = await fr.text();
        assert.match(frHtml, /<html lang="fr">/);
        assert.match(frHtml, /Vous êtes déconnecté/);
      });
    });
  });
}
