import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PASSWORDLESS_OTP_GRANT } from '../../src/core/model.ts';
import { backendMatrix } from '../helpers/backends.ts';
import { openLoginPage } from '../helpers/cookie-jar.ts';
import { createClient, uniqueEmail } from '../helpers/fixtures.ts';
import { useMailServer } from '../helpers/mail-server.ts';
import { mgmt, mgmtCall } from '../helpers/management.ts';

/** @see issue 14: /api/v2/prompts and its custom text, shown by the hosted login page in the language it is set for. */

const CALLBACK = 'https://app.example.com/callback';

for (const { backend, skip } of await backendMatrix()) {
  describe(`prompts and custom text [${backend}]`, { skip }, () => {
    const ctx = useMailServer(backend);

    const openLogin = async (clientId: string, uiLocales: string) =>
      openLoginPage(ctx.server.baseUrl, { client_id: clientId, redirect_uri: CALLBACK, response_type: 'code', scope: 'openid email', ui_locales: uiLocales });

    it('GET and PATCH /api/v2/prompts: Auth0 defaults, stored as set, validated', async () => {
      assert.deepEqual(await mgmt(ctx.server, 'GET', '/prompts'), { universal_login_experience: 'new', identifier_first: true, webauthn_platform_first_factor: false });
      const set = await mgmt(ctx.server, 'PATCH', '/prompts', { identifier_first: false });
      assert.deepEqual(set, { universal_login_experience: 'new', identifier_first: false, webauthn_platform_first_factor: false });
      assert.deepEqual(await mgmt(ctx.server, 'GET', '/prompts'), set);
      for (const body of [{ universal_login_experience: 'old' }, { identifier_first: 'yes' }, { prompt_theme: 'dark' }]) {
        const res = await mgmtCall(ctx.server, 'PATCH', '/prompts', body);
        assert.equal(res.status, 400, JSON.stringify(body));
      }
      await mgmt(ctx.server, 'PATCH', '/prompts', { identifier_first: true });
    });

    it('custom text: any Auth0 prompt and language reads {}; unknown ones are 400; texts Sesame cannot show are refused', async () => {
      assert.deepEqual(await mgmt(ctx.server, 'GET', '/prompts/mfa-otp/custom-text/de'), {});
      assert.deepEqual(await mgmt(ctx.server, 'GET', '/prompts/login-passwordless/custom-text/fr'), {});
      const badPrompt = await mgmtCall(ctx.server, 'GET', '/prompts/no-such-prompt/custom-text/en');
      assert.equal(badPrompt.status, 400);
      assert.equal(badPrompt.json.errorCode, 'invalid_uri');
      assert.match(badPrompt.json.message, /Invalid value "no-such-prompt"' on property prompt/);
      assert.equal((await mgmtCall(ctx.server, 'PUT', '/prompts/login/custom-text/xx', {})).status, 400);
      // Another prompt, or a language the pages do not speak: refused, not stored and never shown.
      const signup = await mgmtCall(ctx.server, 'PUT', '/prompts/signup/custom-text/en', { signup: { title: 'Join' } });
      assert.deepEqual([signup.status, signup.json.errorCode], [403, 'feature_not_enabled']);
      assert.match(signup.json.message, /custom text for the signup prompt/);
      const german = await mgmtCall(ctx.server, 'PUT', '/prompts/login/custom-text/de', { login: { title: 'Anmelden' } });
      assert.deepEqual([german.status, german.json.errorCode], [403, 'feature_not_enabled']);
      // …but re-applying an empty export of them is fine (auth0-deploy-cli).
      assert.deepEqual(await mgmt(ctx.server, 'PUT', '/prompts/signup/custom-text/de', {}), {});
      const screen = await mgmtCall(ctx.server, 'PUT', '/prompts/login-passwordless/custom-text/en', { 'signup-id': { title: 'x' } });
      assert.deepEqual([screen.status, screen.json.errorCode], [400, 'invalid_body']);
      for (const body of [[], { login: 'x' }, { login: { title: 42 } }, { login: { title: 'x'.repeat(4001) } }]) {
        assert.equal((await mgmtCall(ctx.server, 'PUT', '/prompts/login/custom-text/en', body)).status, 400, JSON.stringify(body));
      }
    });

    it('the hosted page shows custom text in its language only, escaped and with variables filled; {} restores Sesame’s', async () => {
      await mgmt(ctx.server, 'PATCH', '/tenants/settings', { friendly_name: 'Acme' });
      const { client } = await createClient(ctx.server, { name: 'Shop <One>', app_type: 'regular_web', callbacks: [CALLBACK], grant_types: ['authorization_code', PASSWORDLESS_OTP_GRANT] }, { enableOn: 'email' });
      const login = { login: { title: 'Welcome <back>', description: 'Sign in to ${companyName} for ${clientName}.', buttonText: 'Go', emailPlaceholder: 'Work email' } };
      assert.deepEqual(await mgmt(ctx.server, 'PUT', '/prompts/login/custom-text/en', login), login);
      const code = { 'login-passwordless-email-code': { title: 'Check your mail', description: 'A code went to ${email}, use it soon.', buttonText: 'Verify', resendActionText: 'Another code' } };
      await mgmt(ctx.server, 'PUT', '/prompts/login-passwordless/custom-text/en', code);
      assert.deepEqual(await mgmt(ctx.server, 'GET', '/prompts/login-passwordless/custom-text/en'), code);

      const en = await openLogin(client.client_id, 'en');
      assert.match(en.html, /<h1>Welcome &lt;back&gt;<\/h1>/);
      assert.match(en.html, /<title>Welcome &lt;back&gt; · Acme<\/title>/);
      assert.match(en.html, /<p>Sign in to Acme for Shop &lt;One&gt;\.<\/p>/);
      assert.match(en.html, /<label for="email">Work email<\/label>/);
      assert.match(en.html, /data-testid="submit">Go<\/button>/);
      // The French page keeps Sesame's French strings: the text was set for English only.
      const fr = await openLogin(client.client_id, 'fr');
      assert.match(fr.html, /<h1>Connexion<\/h1>/);
      assert.doesNotMatch(fr.html, /Welcome|Work email/);

      const email = uniqueEmail('custom-text');
      const sent = await en.jar.postForm('/login/email', { state: en.state, _csrf: en.csrf, email });
      assert.equal(sent.status, 303, await sent.clone().text());
      const page = await (await en.jar.fetch(sent.headers.get('location')!)).text();
      assert.match(page, /<h1>Check your mail<\/h1>/);
      assert.match(page, /A code went to <span class="address"><strong data-testid="address">/);
      assert.match(page, /,<\/span> use it soon\.<\/p>/);
      assert.match(page, /data-testid="submit">Verify<\/button>/);
      assert.match(page, /value="resend" class="secondary">Another code<\/button>/);
      await ctx.sink.waitFor((m) => m.to === email);

      await mgmt(ctx.server, 'PUT', '/prompts/login/custom-text/en', {});
      assert.deepEqual(await mgmt(ctx.server, 'GET', '/prompts/login/custom-text/en'), {});
      const plain = await openLogin(client.client_id, 'en');
      assert.match(plain.html, /<h1>Sign in<\/h1>/);
    });

    it('enabled_locales: both page languages by default; only those; the first is the default and the only ones the pages speak', async () => {
      assert.deepEqual((await mgmt(ctx.server, 'GET', '/tenants/settings')).enabled_locales, ['en', 'fr']);
      const german = await mgmtCall(ctx.server, 'PATCH', '/tenants/settings', { enabled_locales: ['en', 'de'] });
      assert.deepEqual([german.status, german.json.errorCode], [400, 'invalid_body']);
      assert.match(german.json.message, /enabled_locales: Sesame's hosted pages speak en, fr; "de" is not available/);
      for (const bad of [[], ['en', 'en'], 'en']) assert.equal((await mgmtCall(ctx.server, 'PATCH', '/tenants/settings', { enabled_locales: bad })).status, 400, JSON.stringify(bad));

      const { client } = await createClient(ctx.server, { name: 'Locales', app_type: 'regular_web', callbacks: [CALLBACK], grant_types: ['authorization_code'] }, { enableOn: 'email' });
      try {
        assert.deepEqual((await mgmt(ctx.server, 'PATCH', '/tenants/settings', { enabled_locales: ['fr'] })).enabled_locales, ['fr']);
        // English asked for, French only enabled: the tenant's default language.
        const page = await openLogin(client.client_id, 'en');
        assert.match(page.html, /<h1>Connexion<\/h1>/);
        assert.match(page.html, /<html lang="fr"/);
      } finally {
        await mgmt(ctx.server, 'PATCH', '/tenants/settings', { enabled_locales: ['en', 'fr'] });
      }
      assert.match((await openLogin(client.client_id, 'en')).html, /<h1>Sign in<\/h1>/);
    });
  });
}
