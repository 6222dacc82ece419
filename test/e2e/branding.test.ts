import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PASSWORDLESS_OTP_GRANT } from '../../src/core/model.ts';
import { backendMatrix } from '../helpers/backends.ts';
import { type TestServer, bootServer } from '../helpers/boot.ts';
import { CookieJar } from '../helpers/cookie-jar.ts';
import { createClient } from '../helpers/fixtures.ts';

/** @see issue 3 §2, §4, §6: /api/v2/branding on the hosted pages, and the tenant settings of the browser flows. */

const CALLBACK = 'https://web.example.com/callback';

for (const { backend, skip } of await backendMatrix()) {
  describe(`branding and tenant settings [${backend}]`, { skip }, () => {
    let server: TestServer;
    before(async () => {
      server = await bootServer({ backend });
    });
    after(async () => {
      await server?.close();
    });

    const api = async (method: string, path: string, body?: unknown, token?: string | null) => {
      const headers: Record<string, string> = body !== undefined ? { 'content-type': 'application/json' } : {};
      if (token !== null) headers.authorization = `Bearer ${token ?? (await server.mgmtToken())}`;
      const res = await fetch(`${server.baseUrl}/api/v2${path}`, {
        method,
        headers,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      return { status: res.status, body: (await res.json()) as any };
    };
    /** A Management API token with only these scopes (a client grant over HTTP, then client_credentials). */
    async function tokenWith(scope: string[]): Promise<string> {
      const { client, secret } = await createClient(server, { app_type: 'non_interactive', grant_types: ['client_credentials'] }, { enableOn: null });
      const audience = `${server.issuer}api/v2/`;
      assert.equal((await api('POST', '/client-grants', { client_id: client.client_id, audience, scope })).status, 201);
      const res = await server.post('/oauth/token', { grant_type: 'client_credentials', client_id: client.client_id, client_secret: secret, audience });
      return ((await res.json()) as { access_token: string }).access_token;
    }

    it('GET and PATCH /api/v2/branding in Auth0’s shape: fields replace, colours merge, null removes', async () => {
      assert.deepEqual(await api('GET', '/branding'), { status: 200, body: {} });
      const set = await api('PATCH', '/branding', {
        logo_url: 'https://cdn.example.com/logo.png',
        favicon_url: 'https://cdn.example.com/favicon.ico',
        colors: { primary: '#0059d6', page_background: '#fafafa' },
        font: { url: 'https://fonts.example.com/inter.woff2' },
      });
      assert.equal(set.status, 200);
      const full = {
        logo_url: 'https://cdn.example.com/logo.png',
        favicon_url: 'https://cdn.example.com/favicon.ico',
        colors: { primary: '#0059d6', page_background: '#fafafa' },
        font: { url: 'https://fonts.example.com/inter.woff2' },
      };
      assert.deepEqual(set.body, full);
      assert.deepEqual((await api('GET', '/branding')).body, full);
      const partial = await api('PATCH', '/branding', { colors: { page_background: null, primary: '#123' }, favicon_url: null });
      assert.deepEqual(partial.body, { logo_url: full.logo_url, colors: { primary: '#123' }, font: full.font });
      const logs = await api('GET', `/logs?q=${encodeURIComponent('type:sapi AND description:"Update branding settings"')}`);
      assert.equal(logs.body.length, 2);
    });

    it('validates the branding body (https URLs, hex colours, known fields)', async () => {
      for (const body of [
        { logo_url: 'http://cdn.example.com/logo.png' },
        { logo_url: 'javascript:alert(1)' },
        { logo_url: 'https://cdn.example.com/a b.png' },
        { colors: { primary: 'red' } },
        { colors: { primary: '#12345' } },
        { colors: { accent: '#123456' } },
        { font: {} },
        { font: { url: 'ftp://x' } },
        { theme: 'dark' },
        { logo_url: 42 },
      ]) {
        const res = await api('PATCH', '/branding', body);
        assert.equal(res.status, 400, JSON.stringify(body));
        assert.equal(res.body.errorCode, 'invalid_body', JSON.stringify(res.body));
      }
    });

    it('requires read:branding / update:branding', async () => {
      assert.equal((await api('GET', '/branding', undefined, null)).status, 401);
      const reader = await tokenWith(['read:branding']);
      assert.equal((await api('GET', '/branding', undefined, reader)).status, 200);
      const denied = await api('PATCH', '/branding', { colors: { primary: '#000000' } }, reader);
      assert.equal(denied.status, 403);
      assert.equal(denied.body.message, 'Insufficient scope, expected any of: update:branding');
      const writer = await tokenWith(['update:branding']);
      assert.equal((await api('PATCH', '/branding', { colors: { primary: '#000000' } }, writer)).status, 200);
    });

    it("shows the branding and the tenant's friendly_name on the hosted page and its error page", async () => {
      await api('PATCH', '/branding', { logo_url: 'https://cdn.example.com/brand.png', colors: { primary: '#aa3300', page_background: '#eeeeee' } });
      await api('PATCH', '/tenants/settings', { friendly_name: 'Acme <Corp>' });
      const { client } = await createClient(server, { app_type: 'regular_web', callbacks: [CALLBACK], grant_types: ['authorization_code', PASSWORDLESS_OTP_GRANT] });
      const jar = new CookieJar(server.baseUrl);
      const authz = await jar.fetch(`/authorize?${new URLSearchParams({ client_id: client.client_id, redirect_uri: CALLBACK, response_type: 'code' })}`);
      const html = await (await jar.fetch(authz.headers.get('location')!)).text();
      // The name is printed under the logo, so the logo is decorative: one that cannot load shows
      // nothing rather than its alt text repeating the name.
      assert.match(html, /<img class="logo" src="https:\/\/cdn\.example\.com\/brand\.png" alt="">/);
      assert.match(html, /--primary:#aa3300;--bg:#eeeeee/);
      assert.match(html, /<p class="tenant">Acme &lt;Corp&gt;<\/p>/);
      assert.equal(html.split('Acme &lt;Corp&gt;').length - 1, 2, 'the name appears in the title and once on the page');
      const error = await fetch(`${server.baseUrl}/login?state=${'B'.repeat(43)}`);
      assert.equal(error.status, 400);
      assert.match(await error.text(), /--primary:#aa3300[\s\S]*<p class="tenant">Acme &lt;Corp&gt;<\/p>/);
    });

    it('tenant settings: universal_login (effective default false, merged), allowed_logout_urls, custom login page fields', async () => {
      const initial = await api('GET', '/tenants/settings');
      assert.deepEqual(initial.body.universal_login, { passwordless: { allow_magiclink_verify_without_session: false } });

      const on = await api('PATCH', '/tenants/settings', { universal_login: { passwordless: { allow_magiclink_verify_without_session: true } } });
      assert.equal(on.status, 200);
      assert.equal(on.body.universal_login.passwordless.allow_magiclink_verify_without_session, true);
      // Other fields leave it alone; an empty passwordless object keeps what is set.
      await api('PATCH', '/tenants/settings', { friendly_name: 'Acme', universal_login: { passwordless: {} } });
      assert.equal((await api('GET', '/tenants/settings')).body.universal_login.passwordless.allow_magiclink_verify_without_session, true);
      await api('PATCH', '/tenants/settings', { universal_login: { passwordless: { allow_magiclink_verify_without_session: false } } });

      const urls = ['https://app.example.com/logged-out', 'com.example.app://logout'];
      const set = await api('PATCH', '/tenants/settings', { allowed_logout_urls: urls, custom_login_page_on: true, custom_login_page: '<html>@@config@@</html>' });
      assert.equal(set.status, 200);
      assert.deepEqual(set.body.allowed_logout_urls, urls);
      assert.equal(set.body.custom_login_page_on, true);
      assert.equal(set.body.custom_login_page, '<html>@@config@@</html>');
      await api('PATCH', '/tenants/settings', { custom_login_page_on: false });

      for (const body of [
        { universal_login: { passwordless: { allow_magiclink_verify_without_session: 'yes' } } },
        { universal_login: { passwordless: { unknown: true } } },
        { universal_login: { colors: {} } },
        { allowed_logout_urls: ['not a url'] },
        { allowed_logout_urls: ['javascript:alert(1)'] },
        { allowed_logout_urls: 'https://app.example.com' },
        { custom_login_page_on: 'true' },
        { custom_login_page: 42 },
      ]) {
        const res = await api('PATCH', '/tenants/settings', body);
        assert.equal(res.status, 400, JSON.stringify(body));
        assert.equal(res.body.errorCode, 'invalid_body');
      }
    });
  });
}
