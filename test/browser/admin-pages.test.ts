import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { ADMIN, dashboardMissing, go, open, signIn, signInAdmin, startAdminSuite, waitForAttribute, waitUntil } from '../helpers/admin-dashboard.ts';
import { backendMatrix } from '../helpers/backends.ts';
import { browserUnavailable } from '../helpers/browser.ts';
import type { BrowserSuite } from '../helpers/browser-suite.ts';
import { uniqueEmail } from '../helpers/fixtures.ts';
import { extractCode } from '../helpers/smtp-sink.ts';
import { type TwilioServer, startTwilioServer } from '../helpers/sms-servers.ts';
import { uniquePhone } from '../helpers/sms-tenant.ts';
import { makeLog } from '../../src/core/logs.ts';

const WAIT = 20_000;

/**
 * Issue 12 through the dashboard: create an application, rotate its secret and use the new one;
 * change a connection's code length and see it in the next mail; block a user and see start send
 * nothing; a non-administrator is refused by the UI and by the API. On each backend (issue 12's
 * tests run on SQLite and PostgreSQL), one server and one signed-in page per backend.
 */
for (const { backend, skip } of await backendMatrix()) {
  describe(`admin dashboard: applications, connections, users, non-admins [${backend}]`, { skip: skip || browserUnavailable() || dashboardMissing() }, () => {
    let suite: BrowserSuite;
    let ctx: BrowserContext;
    let page: Page;
    let app: { client_id: string; secret: string };

    let twilio: TwilioServer;

    before(async () => {
      twilio = await startTwilioServer();
      suite = await startAdminSuite(backend, { SESAME_TWILIO_API_URL: twilio.url });
      ctx = await suite.context();
      page = await ctx.newPage();
      await signInAdmin(suite, page);
    });
    after(async () => {
      await suite?.close();
      await twilio?.close();
    });

    const start = (email: string, secret = app.secret) =>
      suite.fetch(`${suite.issuer}passwordless/start`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ client_id: app.client_id, client_secret: secret, connection: 'email', email, send: 'code' }),
      });

    /** Creates an application through the dialog: its name and the type's label in the chooser. */
    async function createApp(name: string, type: string) {
      await open(page, 'applications');
      await page.locator('[data-testid="app-create"]').click();
      const dialog = page.getByRole('dialog');
      await dialog.getByLabel('Name').fill(name);
      await dialog.getByText(type).click();
      await dialog.getByRole('button', { name: 'Create' }).click();
    }

    it('creates an application, shows its secret once, rotates it (shown once) and each secret works with /passwordless/start in turn', async () => {
      await createApp('Invoices', 'Regular web application (confidential)');
      // A confidential application's secret is shown right after creation, with a copy button.
      const first = (await page.locator('[data-testid="secret-value"]').innerText({ timeout: WAIT })).trim();
      assert.match(first, /^\S{32,}$/);
      await page.getByRole('dialog').getByRole('button', { name: 'Copy' }).waitFor();
      await page.getByRole('button', { name: 'Done' }).click();
      await page.waitForURL((u) => /^\/admin\/applications\/[^/]+$/.test(u.pathname), { timeout: WAIT });
      const clientId = decodeURIComponent(new URL(page.url()).pathname.split('/').pop()!);

      // Enable the email connection and the OTP grant for it, then save.
      await page.getByLabel('email (email)').check();
      await page.getByLabel('http://auth0.com/oauth/grant-type/passwordless/otp').check();
      await page.getByRole('button', { name: 'Save', exact: true }).click();
      await page.getByText('Saved.').waitFor({ timeout: WAIT });
      app = { client_id: clientId, secret: first };
      const created = uniqueEmail('created');
      assert.equal((await start(created)).status, 200, 'the secret shown at creation works');
      await suite.mailTo(created);

      await page.getByRole('button', { name: 'Rotate secret' }).click();
      await page.locator('[data-testid="confirm-dialog"]').waitFor();
      await page.locator('[data-testid="confirm-accept"]').click();
      await waitUntil(page, `(document.querySelector('[data-testid="secret-value"]')?.textContent ?? '').trim().length >= 32`, 'the new secret');
      const secret = (await page.locator('[data-testid="secret-value"]').innerText()).trim();
      assert.notEqual(secret, first);
      app = { client_id: clientId, secret };

      const email = uniqueEmail('rotated');
      const res = await start(email);
      assert.equal(res.status, 200, await res.clone().text());
      assert.match(extractCode(await suite.mailTo(email)), /^\d{6}$/);
      assert.equal((await start(uniqueEmail('wrong'), first)).status, 401, 'the secret shown at creation no longer works');

      await page.getByRole('button', { name: 'Done' }).click();
      await open(page, 'applications');
      await page.locator('[data-testid="app-row"]', { hasText: 'Invoices' }).waitFor({ timeout: WAIT });
    });

    it('a public application (SPA) has no secret to show after creation', async () => {
      await createApp('Storefront', 'Single-page application (public)');
      await page.waitForURL((u) => /^\/admin\/applications\/[^/]+$/.test(u.pathname), { timeout: WAIT });
      await page.getByRole('heading', { name: 'Storefront' }).waitFor({ timeout: WAIT });
      assert.equal(await page.locator('[data-testid="secret-value"]').count(), 0);
    });

    it("an invalid callback URL: the server's refusal is shown under the callbacks field, and nothing is saved", async () => {
      // On the Storefront page the previous test left open.
      const clientId = decodeURIComponent(new URL(page.url()).pathname.split('/').pop()!);
      const callbacks = page.getByLabel('Allowed callback URLs');
      const before = ((await suite.api('GET', `/clients/${clientId}`)).body as { callbacks?: string[] }).callbacks;
      await callbacks.fill('https://shop.example/callback\nnot a url');
      await page.getByRole('button', { name: 'Save', exact: true }).click();
      const refused = callbacks.locator('xpath=following-sibling::p[contains(@class,"field-error")]');
      await refused.waitFor({ timeout: WAIT });
      assert.match(await refused.innerText(), /^callbacks\[1\] is not a valid URL: not a url/);
      assert.equal(await callbacks.getAttribute('aria-invalid'), 'true');
      assert.equal(await callbacks.getAttribute('aria-describedby'), await refused.getAttribute('id'));
      assert.equal(await page.locator('form [role="alert"]').count(), 0, 'not under the Save button');
      assert.deepEqual(((await suite.api('GET', `/clients/${clientId}`)).body as { callbacks?: string[] }).callbacks, before, 'nothing was saved');
      // Fixed, it saves and the error goes.
      await callbacks.fill('https://shop.example/callback');
      await page.getByRole('button', { name: 'Save', exact: true }).click();
      await page.getByText('Saved.').waitFor({ timeout: WAIT });
      assert.deepEqual(((await suite.api('GET', `/clients/${clientId}`)).body as { callbacks?: string[] }).callbacks, ['https://shop.example/callback']);
    });

    it('client_credentials on a public application: the refusal is shown under the grant types, and nothing is saved', async () => {
      // Still on the Storefront SPA (token_endpoint_auth_method none).
      const clientId = decodeURIComponent(new URL(page.url()).pathname.split('/').pop()!);
      const before = ((await suite.api('GET', `/clients/${clientId}`)).body as { grant_types?: string[] }).grant_types;
      await page.getByLabel('client_credentials', { exact: true }).check();
      await page.getByRole('button', { name: 'Save', exact: true }).click();
      const grants = page.locator('fieldset', { has: page.getByLabel('client_credentials', { exact: true }) });
      const refused = grants.locator('.field-error');
      await refused.waitFor({ timeout: WAIT });
      assert.equal(await refused.innerText(), 'Invalid grant types: client_credentials');
      assert.equal(await grants.getAttribute('aria-invalid'), 'true');
      assert.equal(await grants.getAttribute('aria-describedby'), await refused.getAttribute('id'));
      assert.equal(await page.locator('form [role="alert"]').count(), 0, 'not under the Save button');
      assert.deepEqual(((await suite.api('GET', `/clients/${clientId}`)).body as { grant_types?: string[] }).grant_types, before, 'nothing was saved');
      await page.getByLabel('client_credentials', { exact: true }).uncheck();
      await page.getByRole('button', { name: 'Save', exact: true }).click();
      await page.getByText('Saved.').waitFor({ timeout: WAIT });
      assert.equal(await refused.count(), 0);
    });

    it("changes the email connection's code length and the next mail has the longer code", async () => {
      await open(page, 'connections');
      await page.getByRole('link', { name: 'email', exact: true }).click();
      const length = page.locator('[data-testid="code-length"]');
      await length.fill('8');
      await page.getByRole('button', { name: 'Save', exact: true }).click();
      await page.getByText('Saved.').waitFor({ timeout: WAIT });
      const email = uniqueEmail('eight');
      assert.equal((await start(email)).status, 200);
      assert.match(extractCode(await suite.mailTo(email)), /^\d{8}$/);
      // The template's live preview is rendered by the server from the unsaved fields; "send me a test"
      // mails the signed-in admin the saved template.
      await page.getByLabel('Subject (Liquid)').fill('Code for {{ application.name }}');
      const preview = page.locator('.preview');
      await preview.getByText(/^Code for /).waitFor({ timeout: WAIT });
      await preview.getByRole('button', { name: 'Send me a test' }).click();
      await preview.getByText(`Test message sent to ${ADMIN}.`).waitFor({ timeout: WAIT });
      assert.match((await suite.mailTo(ADMIN)).subject, /^\[Test\] /);
      // Back to six for the sign-ins below (and to prove the field writes both ways).
      await length.fill('6');
      await page.getByRole('button', { name: 'Save', exact: true }).click();
      await page.getByText('Saved.').waitFor({ timeout: WAIT });
    });

    it("edits an sms connection's fraud guards and the SMS budget in a typed form: errors under their fields, values through the API", async () => {
      const made = await suite.api('POST', '/connections', {
        name: 'sms-form', strategy: 'sms',
        options: { provider: 'twilio', twilio_sid: twilio.accountSid, twilio_token: twilio.authToken, from: '+15005550006', template: 'Code @@password@@', syntax: 'md_with_macros' },
      });
      assert.equal(made.status, 201, JSON.stringify(made.body));
      const id = (made.body as { id: string }).id;
      const guards = async () => ((await suite.api('GET', `/connections/${id}`)).body as { options: { fraud_guards: Record<string, unknown> } }).options.fraud_guards;
      await open(page, 'connections');
      await page.getByRole('link', { name: 'sms-form', exact: true }).click();
      const form = page.locator('[data-testid="fraud-guards"]');
      await form.waitFor({ timeout: WAIT });
      assert.equal(await page.getByText('JSON').count(), 0, 'no JSON textarea');

      // Checked in the browser: nothing is sent, each error sits under its field.
      await page.locator('[data-testid="per_number-max"]').fill('0');
      await form.getByLabel('Allowed countries').fill('fr, usa');
      await page.getByRole('button', { name: 'Save', exact: true }).click();
      const maxError = page.locator('[data-testid="per_number-max"] ~ .field-error');
      await maxError.waitFor({ timeout: WAIT });
      assert.equal(await maxError.innerText(), 'Enter a whole number from 1 to 1000000000.');
      assert.equal(await page.locator('[data-testid="per_number-max"]').getAttribute('aria-invalid'), 'true');
      assert.match(await form.getByLabel('Allowed countries').locator('xpath=following-sibling::p[contains(@class,"field-error")]').innerText(), /two-letter country codes/);
      assert.deepEqual((await guards()).per_number, { max: 5, window_seconds: 3600 }, 'nothing was saved');

      await page.locator('[data-testid="per_number-max"]').fill('3');
      await page.locator('[data-testid="per_number-window"]').fill('600');
      await form.getByLabel('Allowed countries').fill('fr, US');
      await form.getByLabel('Limit per application').uncheck();
      await page.locator('[data-testid="sms-budget"]').fill('250');
      await page.getByRole('button', { name: 'Save', exact: true }).click();
      await page.getByText('Saved.').waitFor({ timeout: WAIT });
      const saved = await guards();
      assert.deepEqual([saved.per_number, saved.per_client, saved.allowed_countries], [{ max: 3, window_seconds: 600 }, null, ['FR', 'US']]);
      assert.equal(((await suite.api('GET', '/tenants/settings')).body as { sms_daily_budget: number }).sms_daily_budget, 250);

      // A refusal by the server that names an option is shown under that option's field.
      await page.getByLabel('SMS provider', { exact: true }).selectOption('sms_gateway');
      await page.getByRole('button', { name: 'Save', exact: true }).click();
      const urlError = page.getByLabel('Gateway URL').locator('xpath=following-sibling::p[contains(@class,"field-error")]');
      await urlError.waitFor({ timeout: WAIT });
      assert.match(await urlError.innerText(), /^options\.gateway_url is required/);
      await page.getByLabel('SMS provider', { exact: true }).selectOption('twilio');
    });

    it('previews the SMS text live (rendered by the server) and sends a test SMS to a typed number', async () => {
      await go(page, 'connections');
      await page.getByRole('link', { name: 'sms-form', exact: true }).click();
      const preview = page.locator('[data-testid="sms-preview"]');
      await preview.getByText('Code 012345').waitFor({ timeout: WAIT });
      await page.getByLabel('Template syntax').selectOption('liquid');
      await page.locator('[data-testid="sms-template"]').fill('{{ application.name }}: {{ code }} is your code');
      await preview.getByText('My App: 012345 is your code').waitFor({ timeout: WAIT });
      await preview.getByText('27 characters, 1 SMS part(s)').waitFor();
      await page.locator('[data-testid="sms-template"]').fill('{% if %}');
      await preview.getByText(/options\.template/).waitFor({ timeout: WAIT });

      const to = uniquePhone();
      const before = twilio.messages.length;
      await preview.getByLabel('Send a test to').fill(to);
      await preview.getByRole('button', { name: 'Send a test SMS' }).click();
      await preview.getByText(/^Test message sent to \+\*+\d{4}\.$/).waitFor({ timeout: WAIT });
      assert.equal(twilio.messages.length, before + 1);
      assert.deepEqual([twilio.messages.at(-1)!.to, twilio.messages.at(-1)!.body], [to, 'Code 012345'], 'the saved template');
    });

    it('pages the logs by log_id past the 1,000 results a page number reaches, newest first', async () => {
      const base = Date.now() - 3_600_000;
      await suite.srv.services.store.appendLogs(Array.from({ length: 1060 }, (_, i) => makeLog('fn', null, { description: `paged ${String(i).padStart(4, '0')}` }, base + i)));
      await go(page, `logs?q=${encodeURIComponent('description:paged*')}`);
      const rows = page.locator('[data-testid="log-row"]');
      await waitUntil(page, `document.querySelectorAll('[data-testid="log-row"]').length === 100`, 'the first 100 logs');
      for (let n = 200; n <= 1100; n += 100) {
        await page.locator('[data-testid="logs-more"]').click();
        const want = Math.min(n, 1060);
        await waitUntil(page, `document.querySelectorAll('[data-testid="log-row"]').length === ${want}`, `${want} logs`);
      }
      await page.getByText('No older logs.').waitFor({ timeout: WAIT });
      assert.equal(await page.locator('[data-testid="logs-more"]').count(), 0);
      const descriptions = await rows.locator('td:nth-child(3)').allInnerTexts();
      assert.deepEqual(descriptions, Array.from({ length: 1060 }, (_, i) => `paged ${String(1059 - i).padStart(4, '0')}`), 'each log once, newest first');

      // The live tail puts a new matching log on top (Auth0's checkpoint read, then the query), and only that one.
      await page.getByLabel('Live tail').click();
      await suite.srv.services.store.appendLogs([makeLog('fn', null, { description: 'unrelated' }), makeLog('fn', null, { description: 'paged 1060' })]);
      await waitUntil(page, `document.querySelectorAll('[data-testid="log-row"]').length === 1061`, 'the tailed log');
      assert.equal(await rows.first().locator('td:nth-child(3)').innerText(), 'paged 1060');
      await page.getByLabel('Live tail').click();
    });

    it('finds a user by email, blocks them, and start then sends them nothing', async () => {
      const email = uniqueEmail('blockme');
      const made = await suite.api('POST', '/users', { email, connection: 'email', email_verified: true });
      assert.equal(made.status, 201, JSON.stringify(made.body));
      await open(page, 'users');
      await page.getByPlaceholder('Email or phone number').fill(email);
      await page.getByPlaceholder('Email or phone number').press('Enter');
      const row = page.locator('[data-testid="user-row"]', { hasText: email });
      await row.waitFor({ timeout: WAIT });
      // The unfiltered list may show this user too until the search answers: wait for the search's one row.
      await waitUntil(page, `document.querySelectorAll('[data-testid="user-row"]').length === 1`, 'one user found');
      await row.getByRole('link').click();
      await page.locator('[data-testid="user-block"]').click();
      await waitForAttribute(page, '[data-testid="user-block"]', 'aria-pressed', 'true');

      const before = suite.sink.messages.length;
      assert.equal((await start(email)).status, 200, 'start answers as usual');
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(suite.sink.messages.filter((m) => m.to === email).length, 0, 'no message for a blocked user');
      assert.equal(suite.sink.messages.length, before);

      // The user's page lists the refused start among their recent logs (GET /users/{id}/logs).
      const path = new URL(page.url()).pathname.replace(/^\/admin\//, '');
      await open(page, 'users');
      await go(page, path);
      await page.getByText('user is blocked').first().waitFor({ timeout: WAIT });
    });

    it('a non-administrator sees the not-admin page and gets no Management access', async () => {
      const other = await suite.context();
      const p = await other.newPage();
      const email = uniqueEmail('notadmin');
      await signIn(suite, p, email);
      const refused = p.locator('[data-testid="not-admin"]');
      await refused.waitFor({ timeout: WAIT });
      assert.match(await refused.innerText(), /You are not an administrator of this Sesame/);
      assert.equal(await p.locator('[data-testid="nav-logs"]').count(), 0);

      // By the API: the OTP grant refuses the Management audience to a non-admin, and a user token for
      // another audience is refused by /api/v2.
      const code = async () => {
        assert.equal((await start(email)).status, 200);
        return extractCode(await suite.mailTo(email));
      };
      const token = (otp: string, audience?: string) =>
        suite.fetch(`${suite.issuer}oauth/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            grant_type: 'http://auth0.com/oauth/grant-type/passwordless/otp', client_id: app.client_id, client_secret: app.secret,
            realm: 'email', username: email, otp, scope: 'openid', ...(audience ? { audience } : {}),
          }),
        });
      const mgmt = await token(await code(), `${suite.issuer}api/v2/`);
      const refusedBody = (await mgmt.json()) as { access_token?: string; error?: string };
      assert.ok(mgmt.status >= 400 && !refusedBody.access_token, `the Management audience was not refused: ${mgmt.status} ${JSON.stringify(refusedBody)}`);
      const plain = (await (await token(await code())).json()) as { access_token: string };
      const api = await suite.fetch(`${suite.issuer}api/v2/users`, { headers: { authorization: `Bearer ${plain.access_token}` } });
      assert.ok(api.status === 401 || api.status === 403, `the API answered ${api.status}`);

      await p.locator('[data-testid="sign-out"]').click();
      await p.waitForURL((u) => u.pathname === '/admin/', { timeout: WAIT });
      await p.getByRole('button', { name: 'Sign in' }).waitFor({ timeout: WAIT });
      await other.close();
    });
  });
}
