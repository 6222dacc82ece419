import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PASSWORDLESS_OTP_GRANT } from '../../src/core/model.ts';
import { backendMatrix } from '../helpers/backends.ts';
import { CookieJar } from '../helpers/cookie-jar.ts';
import { createClient, uniqueEmail } from '../helpers/fixtures.ts';
import { useMailServer } from '../helpers/mail-server.ts';
import { mgmt } from '../helpers/management.ts';

/** @see issue 3 §3, spec §2.1: Auth0's classic custom login page and its `config.internalOptions`. */

const CALLBACK = 'https://web.example.com/callback';
const FLAG = 'enforce_client_authentication_on_passwordless_start';
/** The decoding line of Auth0's templates, verbatim, so the test decodes exactly as the page would. */
const template = (marker: string) =>
  `<!doctype html><html><head><meta charset="utf-8"><title>${marker}</title></head><body>` +
  `<script>var config = JSON.parse(decodeURIComponent(escape(window.atob('@@config@@'))));</script></body></html>`;

/** What a browser would compute from the served page. */
function decodeConfig(html: string): Record<string, any> {
  const b64 = /window\.atob\('([^']*)'\)/.exec(html)?.[1];
  assert.ok(b64 && b64 !== '@@config@@', 'the page carries the config');
  return JSON.parse(decodeURIComponent(escape(atob(b64)))) as Record<string, any>;
}

for (const { backend, skip } of await backendMatrix()) {
  describe(`custom login page [${backend}]`, { skip }, () => {
    const ctx = useMailServer(backend);

    const tenant = (patch: Record<string, unknown>) => mgmt(ctx.server, 'PATCH', '/tenants/settings', patch);
    const depnotes = async (clientId: string) =>
      (await ctx.server.services.store.searchLogs({
        query: { kind: 'and', items: [{ kind: 'term', fields: ['type'], value: 'depnote', wildcard: false }, { kind: 'term', fields: ['client_id'], value: clientId, wildcard: false }] },
        page: 0, perPage: 100, sort: { field: 'date', dir: 'desc' },
      })).items;

    async function openLogin(clientId: string, extra: Record<string, string> = {}) {
      const jar = new CookieJar(ctx.server.baseUrl);
      const q = new URLSearchParams({ client_id: clientId, redirect_uri: CALLBACK, response_type: 'code', scope: 'openid email', state: 'app-state', ...extra });
      const authz = await jar.fetch(`/authorize?${q}`);
      assert.equal(authz.status, 302);
      const url = new URL(authz.headers.get('location')!, ctx.server.baseUrl);
      const res = await jar.fetch(url.pathname + url.search);
      assert.equal(res.status, 200);
      return { res, html: await res.text(), state: url.searchParams.get('state')! };
    }
    const webApp = () => createClient(ctx.server, { app_type: 'regular_web', callbacks: [CALLBACK], grant_types: ['authorization_code', 'implicit', PASSWORDLESS_OTP_GRANT] });

    it("serves the tenant's page with Auth0's config, decodable the way its templates decode it", async () => {
      await tenant({ custom_login_page_on: true, custom_login_page: template('tenant-page'), friendly_name: 'Société Ñ' });
      const { client } = await webApp();
      const { res, html, state } = await openLogin(client.client_id, { login_hint: 'ann@example.com', ui_locales: 'fr' });
      assert.match(html, /<title>tenant-page<\/title>/);
      assert.ok(!html.includes('@@config@@'));
      // The tenant's own scripts run: no script policy, but no framing, caching or Referer either.
      assert.equal(res.headers.get('content-security-policy'), "frame-ancestors 'none'");
      assert.equal(res.headers.get('x-frame-options'), 'DENY');
      assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
      assert.equal(res.headers.get('cache-control'), 'no-store');

      const config = decodeConfig(html);
      const issuer = ctx.server.issuer;
      assert.equal(config.clientID, client.client_id);
      assert.equal(config.auth0Domain, new URL(issuer).host);
      assert.equal(config.auth0Tenant, new URL(issuer).hostname, 'the tenant name /client/{id}.js gives Lock');
      assert.equal(config.callbackURL, CALLBACK);
      assert.equal(config.callbackOnLocationHash, false);
      assert.equal(config.clientConfigurationBaseUrl, issuer);
      assert.deepEqual(config.authorizationServer, { url: issuer.replace(/\/$/, ''), issuer });
      assert.deepEqual(config.dict, { signin: { title: 'Société Ñ' } });
      assert.equal(config.connection, 'email');
      assert.deepEqual(config.extraParams, { login_hint: 'ann@example.com', ui_locales: 'fr' });
      const tx = (await ctx.server.services.store.getArtifact<{ csrf: string }>('transaction', ctx.server.services.keyring.hash('artifact:transaction', state), Date.now()))!.doc;
      assert.deepEqual(config.internalOptions, {
        state, _csrf: tx.csrf, scope: 'openid email', response_type: 'code', response_mode: 'query', protocol: 'oauth2', client_id: client.client_id, redirect_uri: CALLBACK,
      });

      const implicit = decodeConfig((await openLogin(client.client_id, { response_type: 'id_token', nonce: 'n-0S6' })).html);
      assert.equal(implicit.callbackOnLocationHash, true);
      assert.equal(implicit.internalOptions.nonce, 'n-0S6');
      assert.equal(implicit.internalOptions.response_mode, 'fragment');
    });

    it('authenticates /passwordless/start with internalOptions.state; without it, a depnote, then 403 with the flag on', async () => {
      await tenant({ custom_login_page_on: true, custom_login_page: template('tenant-page') });
      const { client } = await webApp();
      // What Lock / auth0-js on the page send: no secret, `config.internalOptions` as authParams.
      const start = async (authParams: Record<string, unknown>) =>
        ctx.server.post('/passwordless/start', { client_id: client.client_id, connection: 'email', email: uniqueEmail('custom'), send: 'code', authParams });
      try {
        for (const flag of [false, true]) {
          await tenant({ flags: { [FLAG]: flag } });
          const { internalOptions } = decodeConfig((await openLogin(client.client_id)).html);
          const res = await start(internalOptions);
          assert.equal(res.status, 200, `flag ${flag}: ${await res.clone().text()}`);
        }
        assert.equal((await depnotes(client.client_id)).length, 0, 'forwarding the state is client authentication');

        await tenant({ flags: { [FLAG]: false } });
        const { internalOptions } = decodeConfig((await openLogin(client.client_id)).html);
        const { state: _dropped, ...withoutState } = internalOptions;
        assert.equal((await start(withoutState)).status, 200);
        assert.equal((await start({ ...internalOptions, state: 'A'.repeat(43) })).status, 200);
        assert.equal((await depnotes(client.client_id)).length, 2, 'a page that drops the state (or forges one) is non-compliant');

        await tenant({ flags: { [FLAG]: true } });
        const refused = await start(withoutState);
        assert.equal(refused.status, 403);
        assert.deepEqual(await refused.json(), { error: 'unauthorized_client', error_description: 'Client authentication is required' });
      } finally {
        await tenant({ flags: { [FLAG]: false } });
      }
    });

    it("prefers the client's own page, and falls back to the hosted page when none is on", async () => {
      await tenant({ custom_login_page_on: true, custom_login_page: template('tenant-page') });
      const { client } = await webApp();
      await mgmt(ctx.server, 'PATCH', `/clients/${client.client_id}`, { custom_login_page_on: true, custom_login_page: template('client-page') });
      assert.match((await openLogin(client.client_id)).html, /<title>client-page<\/title>/);
      await mgmt(ctx.server, 'PATCH', `/clients/${client.client_id}`, { custom_login_page_on: false });
      assert.match((await openLogin(client.client_id)).html, /<title>tenant-page<\/title>/);

      await tenant({ custom_login_page_on: false });
      const hosted = await openLogin(client.client_id);
      assert.match(hosted.html, /data-testid="email"/);
      assert.match(hosted.res.headers.get('content-security-policy')!, /script-src 'nonce-/);
      await tenant({ custom_login_page_on: true, custom_login_page: '  ' });
      assert.match((await openLogin(client.client_id)).html, /data-testid="email"/, 'an empty page is no page');
      await tenant({ custom_login_page_on: false, custom_login_page: '' });
    });
  });
}
