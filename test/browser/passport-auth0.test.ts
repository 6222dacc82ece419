import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { backendMatrix } from '../helpers/backends.ts';
import { browserUnavailable } from '../helpers/browser.ts';
import { type BrowserSuite, describePage, startBrowserSuite } from '../helpers/browser-suite.ts';
import { createClient, uniqueEmail } from '../helpers/fixtures.ts';
import { expectEmailForm, navigation, submitCode, submitEmail } from '../helpers/hosted-page.ts';
import { type PassportApp, startPassportApp } from '../helpers/passport-app.ts';
import { makeTestCert } from '../helpers/tls.ts';
import { extractCode } from '../helpers/smtp-sink.ts';

/**
 * Issue 14: an Express app on passport-auth0 (test/helpers/passport-app.ts, the strategy as its
 * README configures it) signs in against Sesame over HTTPS in Chromium: /authorize → the hosted
 * page → an emailed code from the SMTP sink → the code exchange → the profile, which the strategy
 * fetches with `GET /userinfo?access_token=…` (RFC 6750 §2.3) → logout through /v2/logout, back to the app.
 */
for (const { backend, skip } of await backendMatrix()) {
  describe(`passport-auth0 in Chromium [${backend}]`, { skip: skip || browserUnavailable() }, () => {
    let suite: BrowserSuite;
    let app: PassportApp;

    before(async () => {
      suite = await startBrowserSuite({ backend });
      const cert = await makeTestCert();
      // The app's URLs are known once it listens; the client is created first and given them after.
      const { client, secret } = await createClient(suite.srv, { name: 'Passport App', app_type: 'regular_web', grant_types: ['authorization_code'], token_endpoint_auth_method: 'client_secret_post' });
      app = await startPassportApp({ domain: suite.domain, clientId: client.client_id, clientSecret: secret, ca: cert.ca });
      const set = await suite.api('PATCH', `/clients/${client.client_id}`, { callbacks: [`${app.origin}/callback`], allowed_logout_urls: [`${app.origin}/`] });
      assert.equal(set.status, 200, JSON.stringify(set.body));
    });
    after(async () => {
      await app?.close();
      await suite?.close();
    });

    it('logs in with an emailed code, shows the /userinfo profile, and logs out through /v2/logout', async () => {
      const ctx = await suite.context();
      const page = await ctx.newPage();
      const email = uniqueEmail('passport');
      await page.goto(`${app.origin}/login`);
      await submitEmail(page, email);
      await submitCode(page, extractCode(await suite.mailTo(email)));
      await page.locator('[data-testid="profile-email"], [data-testid="error"]').first().waitFor({ timeout: 15_000 }).catch(async () => {
        assert.fail(`expected the app's profile page, got:\n${await describePage(page)}`);
      });
      assert.deepEqual(app.failures, []);
      assert.equal(new URL(page.url()).pathname, '/profile');
      assert.equal(await page.locator('[data-testid="profile-email"]').innerText(), email);
      const profile = JSON.parse(await page.locator('[data-testid="profile-json"]').innerText()) as Record<string, unknown>;
      // The profile is /userinfo's answer: the user's id and verified address.
      const [user] = (await suite.api('GET', `/users-by-email?email=${encodeURIComponent(email)}`)).body as { user_id: string }[];
      assert.deepEqual([profile.sub, profile.email, profile.email_verified], [user!.user_id, email, true]);
      assert.equal(await page.locator('[data-testid="profile-id"]').innerText(), user!.user_id);

      // Logout: the app's session, then Sesame's (/v2/logout), back to the app's allowed URL.
      await navigation(page, (u) => u.href === `${app.origin}/`, () => page.locator('[data-testid="logout"]').click(), 'logout → returnTo');
      assert.equal(await page.locator('[data-testid="home"]').innerText(), 'Signed out');
      // Sesame's session is gone too: a new login asks for the address again instead of signing in silently.
      await page.goto(`${app.origin}/login`);
      await expectEmailForm(page);
      await ctx.close();
    });
  });
}
